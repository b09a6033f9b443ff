//go:build amd64 && !purego

#include "textflag.h"

// AVX2 bodies of the optimizer updates of optim_update.go. Each processes
// n elements, n a positive multiple of 8, with unaligned loads and stores;
// the Go wrappers run the tails. Every operation is rounded to float32 and
// nothing is fused; VSQRTPS and VDIVPS are the correctly rounded
// instructions. The first source of each sum whose operands can both be
// NaN, which decides the surviving payload, is the one go1.26 picks for
// the loops of optim (innapropLoop, innaLoop, rmspropLoop) on amd64, so
// the results there match to the bit, NaN payloads included; the order is
// a compiler choice, not part of Go's semantics, and is not guaranteed.

// func innaprop32AVX2(p, grad, v, psi *float32, n int, k *INNApropCoef32)
TEXT ·innaprop32AVX2(SB), NOSPLIT, $0-48
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ psi+24(FP), BX
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS (AX), Y5     // gsign
	VBROADCASTSS 4(AX), Y6    // decay
	VBROADCASTSS 8(AX), Y7    // sigma
	VBROADCASTSS 12(AX), Y8   // 1−sigma
	VBROADCASTSS 16(AX), Y9   // sqrt(bc)
	VBROADCASTSS 20(AX), Y10  // eps
	VBROADCASTSS 24(AX), Y11  // psiKeep
	VBROADCASTSS 28(AX), Y12  // psiTheta
	VBROADCASTSS 32(AX), Y13  // thetaKeep
	VBROADCASTSS 36(AX), Y14  // s2
	VBROADCASTSS 40(AX), Y15  // gScale

innaproploop:
	VMOVUPS (SI), Y0
	VMULPS  Y5, Y0, Y0        // gi = g·gsign
	VMOVUPS (DI), Y1
	VMULPS  Y6, Y1, Y1        // th = p·decay
	VMOVUPS (DX), Y2
	VMULPS  Y7, Y2, Y2        // v·sigma
	VMULPS  Y0, Y8, Y3        // (1−sigma)·gi
	VMULPS  Y0, Y3, Y3        // ·gi
	VADDPS  Y3, Y2, Y2        // vs
	VMOVUPS Y2, (DX)
	VMOVUPS (BX), Y3
	VMULPS  Y11, Y3, Y3       // psi·psiKeep
	VMULPS  Y1, Y12, Y4       // psiTheta·th
	VADDPS  Y4, Y3, Y3        // ps
	VMOVUPS Y3, (BX)
	VSQRTPS Y2, Y2
	VDIVPS  Y9, Y2, Y2        // sqrt(vs)/sqrt(bc)
	VADDPS  Y10, Y2, Y2       // denom = · + eps
	VMULPS  Y13, Y1, Y1       // th·thetaKeep
	VMULPS  Y3, Y14, Y3       // s2·ps
	VSUBPS  Y3, Y1, Y1        // th·thetaKeep − s2·ps
	VMULPS  Y0, Y15, Y0       // gScale·gi
	VDIVPS  Y2, Y0, Y0        // /denom
	VADDPS  Y1, Y0, Y0        // gradient term + θ terms
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	ADDQ    $32, BX
	SUBQ    $8, CX
	JNZ     innaproploop
	VZEROUPPER
	RET

// func inna32AVX2(p, grad, psi *float32, n int, k *INNACoef32)
TEXT ·inna32AVX2(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ psi+16(FP), BX
	MOVQ n+24(FP), CX
	MOVQ k+32(FP), AX
	VBROADCASTSS (AX), Y10    // gsign
	VBROADCASTSS 4(AX), Y11   // decay
	VBROADCASTSS 8(AX), Y12   // thetaCoef
	VBROADCASTSS 12(AX), Y13  // psiCoef
	VBROADCASTSS 16(AX), Y14  // negLR
	VBROADCASTSS 20(AX), Y15  // beta

innaloop:
	VMOVUPS (DI), Y0
	VMULPS  Y11, Y0, Y0       // th = p·decay
	VMOVUPS (BX), Y1          // ps
	VMULPS  Y0, Y12, Y2       // thetaCoef·th
	VMULPS  Y1, Y13, Y3       // psiCoef·ps
	VADDPS  Y2, Y3, Y2        // phase = psiCoef·ps + thetaCoef·th
	VMULPS  Y2, Y14, Y3       // negLR·phase
	VADDPS  Y1, Y3, Y1        // negLR·phase + ps
	VMOVUPS Y1, (BX)
	VMOVUPS (SI), Y3
	VMULPS  Y10, Y3, Y3       // g·gsign
	VMULPS  Y3, Y15, Y3       // beta·(g·gsign)
	VADDPS  Y3, Y2, Y2        // phase + beta·g
	VMULPS  Y2, Y14, Y2       // negLR·(…)
	VADDPS  Y2, Y0, Y0        // th + negLR·(…)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, BX
	SUBQ    $8, CX
	JNZ     innaloop
	VZEROUPPER
	RET

// func rmsprop32AVX2(p, grad, v, mom, avg *float32, n int, k *RMSpropCoef32, flags int)
// flags: 1 L2, 2 centered (avg used), 4 momentum (mom used).
TEXT ·rmsprop32AVX2(SB), NOSPLIT, $0-64
	MOVQ p+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ mom+24(FP), BX
	MOVQ avg+32(FP), R8
	MOVQ n+40(FP), CX
	MOVQ k+48(FP), AX
	MOVQ flags+56(FP), R9
	VBROADCASTSS (AX), Y8     // gsign
	VBROADCASTSS 4(AX), Y9    // l2
	VBROADCASTSS 8(AX), Y10   // decay
	VBROADCASTSS 12(AX), Y11  // alpha
	VBROADCASTSS 16(AX), Y12  // 1−alpha
	VBROADCASTSS 20(AX), Y13  // eps
	VBROADCASTSS 24(AX), Y14  // mu
	VBROADCASTSS 28(AX), Y15  // negLR

rmsloop:
	VMOVUPS (DI), Y0          // th
	VMOVUPS (SI), Y1
	VMULPS  Y8, Y1, Y1        // gi = g·gsign
	TESTQ   $1, R9
	JZ      rmsnol2
	VMULPS  Y0, Y9, Y2        // l2·th
	VADDPS  Y2, Y1, Y1        // gi += l2·th

rmsnol2:
	VMULPS  Y10, Y0, Y0       // th·decay
	VMOVUPS (DX), Y2
	VMULPS  Y11, Y2, Y2       // v·alpha
	VMULPS  Y1, Y12, Y3       // (1−alpha)·gi
	VMULPS  Y1, Y3, Y3        // ·gi
	VADDPS  Y2, Y3, Y2        // vs = (1−alpha)·gi·gi + v·alpha
	VMOVUPS Y2, (DX)
	TESTQ   $2, R9
	JZ      rmsplain
	VMOVUPS (R8), Y3
	VMULPS  Y11, Y3, Y3       // avg·alpha
	VMULPS  Y1, Y12, Y4       // (1−alpha)·gi
	VADDPS  Y3, Y4, Y3        // as = (1−alpha)·gi + avg·alpha
	VMOVUPS Y3, (R8)
	VMULPS  Y3, Y3, Y3        // as·as
	VSUBPS  Y3, Y2, Y2        // vs − as·as
	ADDQ    $32, R8

rmsplain:
	VSQRTPS Y2, Y2
	VADDPS  Y13, Y2, Y2       // den = sqrt(·) + eps
	VDIVPS  Y2, Y1, Y1        // gi/den
	TESTQ   $4, R9
	JZ      rmsnomom
	VMOVUPS (BX), Y3
	VMULPS  Y3, Y14, Y3       // mu·mom
	VADDPS  Y3, Y1, Y1        // gi/den + mu·mom
	VMOVUPS Y1, (BX)
	ADDQ    $32, BX
	VMULPS  Y1, Y15, Y1       // negLR·bs
	VADDPS  Y1, Y0, Y0        // th + negLR·bs
	VMOVUPS Y0, (DI)
	JMP     rmsnext

rmsnomom:
	VMULPS  Y1, Y15, Y1       // negLR·(gi/den)
	VADDPS  Y0, Y1, Y0        // negLR·(gi/den) + th
	VMOVUPS Y0, (DI)

rmsnext:
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JNZ     rmsloop
	VZEROUPPER
	RET
