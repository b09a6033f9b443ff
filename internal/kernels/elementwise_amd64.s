//go:build amd64 && !purego

#include "textflag.h"

// AVX2 bodies of the elementwise kernels of elementwise.go. Each processes
// n elements, n a positive multiple of 8, with unaligned loads and stores;
// the Go wrappers run the tails. Operands keep the order of the Go loops
// (the left operand of a Go product or sum is the first source), so a NaN
// meeting a NaN propagates the same payload; nothing is fused.

// func reluCount32AVX2(z, x *float32, n int) int
TEXT ·reluCount32AVX2(SB), NOSPLIT, $0-32
	MOVQ z+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VPXOR  Y8, Y8, Y8
	VPXOR  Y9, Y9, Y9

relu16:
	CMPQ CX, $16
	JLT  relu8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VCMPPS  $0x11, Y0, Y1, Y3 // x < 0 (ordered, quiet)
	VCMPPS  $0x11, Y0, Y2, Y4
	VANDNPS Y1, Y3, Y3        // x &^ mask
	VANDNPS Y2, Y4, Y4
	VMOVUPS Y3, (DI)
	VMOVUPS Y4, 32(DI)
	VCMPPS  $0, Y0, Y1, Y1    // x == 0: all ones
	VCMPPS  $0, Y0, Y2, Y2
	VPSUBD  Y1, Y8, Y8
	VPSUBD  Y2, Y9, Y9
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     relu16

relu8:
	CMPQ CX, $8
	JLT  reludone
	VMOVUPS (SI), Y1
	VCMPPS  $0x11, Y0, Y1, Y3
	VANDNPS Y1, Y3, Y3
	VMOVUPS Y3, (DI)
	VCMPPS  $0, Y0, Y1, Y1
	VPSUBD  Y1, Y8, Y8

reludone:
	VPADDD       Y9, Y8, Y8
	VEXTRACTI128 $1, Y8, X1
	VPADDD       X1, X8, X8
	VPSHUFD      $0x4e, X8, X1
	VPADDD       X1, X8, X8
	VPSHUFD      $0xb1, X8, X1
	VPADDD       X1, X8, X8
	VMOVD        X8, AX
	MOVQ         AX, ret+24(FP)
	VZEROUPPER
	RET

// z = g·tbl[class(x)] for 8 elements at offset off: x in Y1, class table
// built by blends from lo Y12, hi Y13, at Y14, nan Y15; k in Y0.
#define STEPMUL8(off) \
	VMOVUPS      off(SI), Y1; \
	VCMPPS       $0x1e, Y0, Y1, Y2; \
	VBLENDVPS    Y2, Y13, Y12, Y3; \
	VCMPPS       $0, Y0, Y1, Y2; \
	VBLENDVPS    Y2, Y14, Y3, Y3; \
	VCMPPS       $3, Y1, Y1, Y2; \
	VBLENDVPS    Y2, Y15, Y3, Y3; \
	VMOVUPS      off(BX), Y4; \
	VMULPS       Y3, Y4, Y4; \
	VMOVUPS      Y4, off(DI)

// func stepMul32AVX2(z, grad, x *float32, n int, k float32, tbl *[4]float32)
TEXT ·stepMul32AVX2(SB), NOSPLIT, $0-48
	MOVQ z+0(FP), DI
	MOVQ grad+8(FP), BX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS k+32(FP), Y0
	MOVQ tbl+40(FP), AX
	VBROADCASTSS (AX), Y12
	VBROADCASTSS 4(AX), Y13
	VBROADCASTSS 8(AX), Y14
	VBROADCASTSS 12(AX), Y15

step16:
	CMPQ CX, $16
	JLT  step8
	STEPMUL8(0)
	STEPMUL8(32)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  step16

step8:
	CMPQ CX, $8
	JLT  stepdone
	STEPMUL8(0)

stepdone:
	VZEROUPPER
	RET

// func colSum32AVX2(dst, src *float32, rows, stride, cols int)
TEXT ·colSum32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), R8
	SHLQ $2, R8
	MOVQ cols+32(FP), DX

col64:
	CMPQ   DX, $64
	JLT    col8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   SI, R10
	MOVQ   CX, R11

col64row:
	VADDPS (R10), Y0, Y0
	VADDPS 32(R10), Y1, Y1
	VADDPS 64(R10), Y2, Y2
	VADDPS 96(R10), Y3, Y3
	VADDPS 128(R10), Y4, Y4
	VADDPS 160(R10), Y5, Y5
	VADDPS 192(R10), Y6, Y6
	VADDPS 224(R10), Y7, Y7
	ADDQ   R8, R10
	DECQ   R11
	JNZ    col64row
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, DX
	JMP     col64

col8:
	CMPQ   DX, $8
	JLT    coldone
	VXORPS Y0, Y0, Y0
	MOVQ   SI, R10
	MOVQ   CX, R11

col8row:
	VADDPS (R10), Y0, Y0
	ADDQ   R8, R10
	DECQ   R11
	JNZ    col8row
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, DX
	JMP     col8

coldone:
	VZEROUPPER
	RET

// The SGD coefficients, SGDCoef32 from offset 0: GSign, L2, Decay, NegLR,
// Mu, OneMinusDamp; flags: 1 L2, 2 First, 4 Nesterov.
#define SGDCOEF \
	VBROADCASTSS (AX), Y8; \
	VBROADCASTSS 4(AX), Y9; \
	VBROADCASTSS 8(AX), Y10; \
	VBROADCASTSS 12(AX), Y11; \
	VBROADCASTSS 16(AX), Y12; \
	VBROADCASTSS 20(AX), Y13

// func sgd32AVX2(p, grad *float32, n int, k *SGDCoef32, flags int)
TEXT ·sgd32AVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ k+24(FP), AX
	MOVQ flags+32(FP), R9
	SGDCOEF
	TESTQ $1, R9
	JNZ   sgdl2

sgdloop:
	VMOVUPS (DI), Y0          // th
	VMOVUPS (SI), Y1
	VMULPS  Y8, Y1, Y1        // d = g·gsign
	VMULPS  Y10, Y0, Y0       // th·decay
	VMULPS  Y1, Y11, Y1       // negLR·d
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     sgdloop
	VZEROUPPER
	RET

sgdl2:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VMULPS  Y8, Y1, Y1
	VMULPS  Y0, Y9, Y2        // l2·th
	VADDPS  Y2, Y1, Y1        // d += l2·th
	VMULPS  Y10, Y0, Y0
	VMULPS  Y1, Y11, Y1
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     sgdl2
	VZEROUPPER
	RET

// func sgdMomentum32AVX2(p, grad, buf *float32, n int, k *SGDCoef32, flags int)
TEXT ·sgdMomentum32AVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ buf+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), AX
	MOVQ flags+40(FP), R9
	SGDCOEF

momloop:
	VMOVUPS (DI), Y0          // th
	VMOVUPS (SI), Y1
	VMULPS  Y8, Y1, Y1        // d = g·gsign
	TESTQ   $1, R9
	JZ      momnol2
	VMULPS  Y0, Y9, Y2
	VADDPS  Y2, Y1, Y1        // d += l2·th

momnol2:
	VMOVAPS Y1, Y2            // b = d
	TESTQ   $2, R9
	JNZ     momfirst
	VMULPS  (BX), Y12, Y2     // mu·buf
	VMULPS  Y1, Y13, Y3       // (1−damp)·d
	VADDPS  Y3, Y2, Y2

momfirst:
	VMOVUPS Y2, (BX)
	TESTQ   $4, R9
	JZ      momplain
	VMULPS  Y2, Y12, Y3       // mu·b
	VADDPS  Y3, Y1, Y2        // d + mu·b

momplain:
	VMULPS  Y10, Y0, Y0       // th·decay
	VMULPS  Y2, Y11, Y2       // negLR·d
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, BX
	SUBQ    $8, CX
	JNZ     momloop
	VZEROUPPER
	RET

// func adam32AVX2(p, grad, m, v *float32, n int, k *AdamCoef32, flags int)
TEXT ·adam32AVX2(SB), NOSPLIT, $0-56
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), BX
	MOVQ v+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	MOVQ flags+48(FP), R9
	VBROADCASTSS (AX), Y6     // gsign
	VBROADCASTSS 4(AX), Y7    // l2
	VBROADCASTSS 8(AX), Y8    // decay
	VBROADCASTSS 12(AX), Y9   // beta1
	VBROADCASTSS 16(AX), Y10  // 1−beta1
	VBROADCASTSS 20(AX), Y11  // beta2
	VBROADCASTSS 24(AX), Y12  // 1−beta2
	VBROADCASTSS 28(AX), Y13  // sqrt(bc2)
	VBROADCASTSS 32(AX), Y14  // eps
	VBROADCASTSS 36(AX), Y15  // negStep

adamloop:
	VMOVUPS (DI), Y0          // th
	VMOVUPS (SI), Y1
	VMULPS  Y6, Y1, Y1        // gi = g·gsign
	TESTQ   $1, R9
	JZ      adamnol2
	VMULPS  Y0, Y7, Y2
	VADDPS  Y2, Y1, Y1        // gi += l2·th

adamnol2:
	VMULPS  Y8, Y0, Y0        // th·decay
	VMOVUPS (BX), Y2
	VMULPS  Y9, Y2, Y2        // m·beta1
	VMULPS  Y1, Y10, Y3       // (1−beta1)·gi
	VADDPS  Y3, Y2, Y2        // ms
	VMOVUPS Y2, (BX)
	VMOVUPS (DX), Y3
	VMULPS  Y11, Y3, Y3       // v·beta2
	VMULPS  Y1, Y12, Y4       // (1−beta2)·gi
	VMULPS  Y1, Y4, Y4        // ·gi
	VADDPS  Y4, Y3, Y3        // vs
	VMOVUPS Y3, (DX)
	VSQRTPS Y3, Y4
	VDIVPS  Y13, Y4, Y4       // sqrt(vs)/sqrt(bc2)
	VADDPS  Y14, Y4, Y4       // + eps
	VMULPS  Y2, Y15, Y5       // negStep·ms
	VDIVPS  Y4, Y5, Y5
	VADDPS  Y5, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, BX
	ADDQ    $32, DX
	SUBQ    $8, CX
	JNZ     adamloop
	VZEROUPPER
	RET
