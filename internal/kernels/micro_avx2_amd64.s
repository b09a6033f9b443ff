//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA micro-kernels. Accumulators Y0..Y11 hold a 6-row tile of C, two
// vectors per row; Y12, Y13 hold one row of the packed B micro-panel and
// Y14, Y15 alternate as broadcasts of the packed A column.
//
// Registers: AX = packed A, BX = packed B, CX = k counter, DX = C,
// R8 = ldc in bytes, R9..R13 = C row pointers, SI = scratch.

// One rank-1 update of the 6×8 float64 tile from A at ao(AX), B at bo(BX).
#define STEPD(ao, bo) \
	VMOVUPD bo+0(BX), Y12; \
	VMOVUPD bo+32(BX), Y13; \
	VBROADCASTSD ao+0(AX), Y14; \
	VFMADD231PD Y12, Y14, Y0; \
	VFMADD231PD Y13, Y14, Y1; \
	VBROADCASTSD ao+8(AX), Y15; \
	VFMADD231PD Y12, Y15, Y2; \
	VFMADD231PD Y13, Y15, Y3; \
	VBROADCASTSD ao+16(AX), Y14; \
	VFMADD231PD Y12, Y14, Y4; \
	VFMADD231PD Y13, Y14, Y5; \
	VBROADCASTSD ao+24(AX), Y15; \
	VFMADD231PD Y12, Y15, Y6; \
	VFMADD231PD Y13, Y15, Y7; \
	VBROADCASTSD ao+32(AX), Y14; \
	VFMADD231PD Y12, Y14, Y8; \
	VFMADD231PD Y13, Y14, Y9; \
	VBROADCASTSD ao+40(AX), Y15; \
	VFMADD231PD Y12, Y15, Y10; \
	VFMADD231PD Y13, Y15, Y11

// One rank-1 update of the 6×16 float32 tile.
#define STEPS(ao, bo) \
	VMOVUPS bo+0(BX), Y12; \
	VMOVUPS bo+32(BX), Y13; \
	VBROADCASTSS ao+0(AX), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS ao+4(AX), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS ao+8(AX), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VBROADCASTSS ao+12(AX), Y15; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS ao+16(AX), Y14; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VBROADCASTSS ao+20(AX), Y15; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11

#define ZERO12 \
	VXORPS Y0, Y0, Y0; VXORPS Y1, Y1, Y1; VXORPS Y2, Y2, Y2; VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; VXORPS Y5, Y5, Y5; VXORPS Y6, Y6, Y6; VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; VXORPS Y9, Y9, Y9; VXORPS Y10, Y10, Y10; VXORPS Y11, Y11, Y11

#define ROWPTRS \
	LEAQ (DX)(R8*1), R9; \
	LEAQ (DX)(R8*2), R10; \
	LEAQ (R10)(R8*1), R11; \
	LEAQ (R10)(R8*2), R12; \
	LEAQ (R12)(R8*1), R13

#define PREFETCHC \
	PREFETCHT0 (DX); PREFETCHT0 63(DX); \
	PREFETCHT0 (R9); PREFETCHT0 63(R9); \
	PREFETCHT0 (R10); PREFETCHT0 63(R10); \
	PREFETCHT0 (R11); PREFETCHT0 63(R11); \
	PREFETCHT0 (R12); PREFETCHT0 63(R12); \
	PREFETCHT0 (R13); PREFETCHT0 63(R13)

#define MUL12(op, s) \
	op s, Y0, Y0; op s, Y1, Y1; op s, Y2, Y2; op s, Y3, Y3; \
	op s, Y4, Y4; op s, Y5, Y5; op s, Y6, Y6; op s, Y7, Y7; \
	op s, Y8, Y8; op s, Y9, Y9; op s, Y10, Y10; op s, Y11, Y11

#define STORE12(mov) \
	mov Y0, (DX); mov Y1, 32(DX); \
	mov Y2, (R9); mov Y3, 32(R9); \
	mov Y4, (R10); mov Y5, 32(R10); \
	mov Y6, (R11); mov Y7, 32(R11); \
	mov Y8, (R12); mov Y9, 32(R12); \
	mov Y10, (R13); mov Y11, 32(R13)

#define FMAC12(fma, s) \
	fma (DX), s, Y0; fma 32(DX), s, Y1; \
	fma (R9), s, Y2; fma 32(R9), s, Y3; \
	fma (R10), s, Y4; fma 32(R10), s, Y5; \
	fma (R11), s, Y6; fma 32(R11), s, Y7; \
	fma (R12), s, Y8; fma 32(R12), s, Y9; \
	fma (R13), s, Y10; fma 32(R13), s, Y11

// func microAVX2F64(kc int, a, b, c *float64, ldc int, alpha, beta float64)
TEXT ·microAVX2F64(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	ROWPTRS
	PREFETCHC
	ZERO12
	MOVQ CX, SI
	SHRQ $2, SI
	JZ   d_tail

d_loop4:
	PREFETCHT0 384(AX)
	STEPD(0, 0)
	PREFETCHT0 448(AX)
	STEPD(48, 64)
	PREFETCHT0 512(AX)
	STEPD(96, 128)
	STEPD(144, 192)
	ADDQ $192, AX
	ADDQ $256, BX
	DECQ SI
	JNZ  d_loop4

d_tail:
	ANDQ $3, CX
	JZ   d_done

d_loop1:
	STEPD(0, 0)
	ADDQ $48, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  d_loop1

d_done:
	VBROADCASTSD alpha+40(FP), Y14
	MUL12(VMULPD, Y14)
	MOVQ beta+48(FP), SI
	SHLQ $1, SI
	JZ   d_store
	VBROADCASTSD beta+48(FP), Y15
	FMAC12(VFMADD231PD, Y15)

d_store:
	STORE12(VMOVUPD)
	VZEROUPPER
	RET

// func microAVX2F32(kc int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·microAVX2F32(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	ROWPTRS
	PREFETCHC
	ZERO12
	MOVQ CX, SI
	SHRQ $2, SI
	JZ   s_tail

s_loop4:
	PREFETCHT0 192(AX)
	STEPS(0, 0)
	PREFETCHT0 256(AX)
	STEPS(24, 64)
	STEPS(48, 128)
	STEPS(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	DECQ SI
	JNZ  s_loop4

s_tail:
	ANDQ $3, CX
	JZ   s_done

s_loop1:
	STEPS(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JNZ  s_loop1

s_done:
	VBROADCASTSS alpha+40(FP), Y14
	MUL12(VMULPS, Y14)
	MOVL beta+44(FP), SI
	SHLL $1, SI
	JZ   s_store
	VBROADCASTSS beta+44(FP), Y15
	FMAC12(VFMADD231PS, Y15)

s_store:
	STORE12(VMOVUPS)
	VZEROUPPER
	RET

// func copyRows64(dst, src *byte, rows, stride int)
// Copies rows 64-byte rows from src (rows stride bytes apart) to dst
// (rows contiguous): the packing of a B micro-panel.
TEXT ·copyRows64(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	TESTQ CX, CX
	JZ   cr_done

cr_loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ DX, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  cr_loop

cr_done:
	VZEROUPPER
	RET

// func copyRows128(dst, src *byte, rows, stride int)
// Copies rows 128-byte rows from src (rows stride bytes apart) to dst
// (rows contiguous): the packing of a 16×float64 or 32×float32 B panel.
TEXT ·copyRows128(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	TESTQ CX, CX
	JZ   cr128_done

cr128_loop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ DX, SI
	SUBQ $-128, DI
	DECQ CX
	JNZ  cr128_loop

cr128_done:
	VZEROUPPER
	RET

// Transposing copies for packing. Both read eight rows of the source,
// srcStride bytes apart, and write dst row p (dstStride bytes apart) as
// the eight values of column p: dst[p][j] = src[j][p].

// func interleave8x8F32(dst *float32, dstStride int, src *float32, srcStride, blocks int)
// Handles blocks·8 columns, eight at a time with an 8×8 register transpose.
TEXT ·interleave8x8F32(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R8
	MOVQ blocks+32(FP), CX
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R8*4), R11
	LEAQ (DX)(DX*2), R10
	LEAQ (DI)(DX*4), R12
	TESTQ CX, CX
	JZ   t32_done

t32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(R8*1), Y5
	VMOVUPS (R11)(R8*2), Y6
	VMOVUPS (R11)(R9*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(DX*1)
	VMOVUPS Y10, (DI)(DX*2)
	VMOVUPS Y11, (DI)(R10*1)
	VMOVUPS Y12, (R12)
	VMOVUPS Y13, (R12)(DX*1)
	VMOVUPS Y14, (R12)(DX*2)
	VMOVUPS Y15, (R12)(R10*1)
	ADDQ $32, SI
	ADDQ $32, R11
	LEAQ (DI)(DX*8), DI
	LEAQ (R12)(DX*8), R12
	DECQ CX
	JNZ  t32_loop

t32_done:
	VZEROUPPER
	RET

// func interleave8x4F64(dst *float64, dstStride int, src *float64, srcStride, blocks int)
// Handles blocks·4 columns, four at a time with two 4×4 register transposes.
TEXT ·interleave8x4F64(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R8
	MOVQ blocks+32(FP), CX
	LEAQ (R8)(R8*2), R9
	LEAQ (SI)(R8*4), R11
	LEAQ (DX)(DX*2), R10
	TESTQ CX, CX
	JZ   t64_done

t64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(R8*1), Y1
	VMOVUPD (SI)(R8*2), Y2
	VMOVUPD (SI)(R9*1), Y3
	VMOVUPD (R11), Y4
	VMOVUPD (R11)(R8*1), Y5
	VMOVUPD (R11)(R8*2), Y6
	VMOVUPD (R11)(R9*1), Y7
	VUNPCKLPD Y1, Y0, Y8
	VUNPCKHPD Y1, Y0, Y9
	VUNPCKLPD Y3, Y2, Y10
	VUNPCKHPD Y3, Y2, Y11
	VUNPCKLPD Y5, Y4, Y12
	VUNPCKHPD Y5, Y4, Y13
	VUNPCKLPD Y7, Y6, Y14
	VUNPCKHPD Y7, Y6, Y15
	VPERM2F128 $0x20, Y10, Y8, Y0
	VPERM2F128 $0x20, Y11, Y9, Y1
	VPERM2F128 $0x31, Y10, Y8, Y2
	VPERM2F128 $0x31, Y11, Y9, Y3
	VPERM2F128 $0x20, Y14, Y12, Y4
	VPERM2F128 $0x20, Y15, Y13, Y5
	VPERM2F128 $0x31, Y14, Y12, Y6
	VPERM2F128 $0x31, Y15, Y13, Y7
	VMOVUPD Y0, (DI)
	VMOVUPD Y4, 32(DI)
	VMOVUPD Y1, (DI)(DX*1)
	VMOVUPD Y5, 32(DI)(DX*1)
	VMOVUPD Y2, (DI)(DX*2)
	VMOVUPD Y6, 32(DI)(DX*2)
	VMOVUPD Y3, (DI)(R10*1)
	VMOVUPD Y7, 32(DI)(R10*1)
	ADDQ $32, SI
	ADDQ $32, R11
	LEAQ (DI)(DX*4), DI
	DECQ CX
	JNZ  t64_loop

t64_done:
	VZEROUPPER
	RET

// func interleave4x8F32(dst *float32, dstStride int, src *float32, srcStride, blocks int)
// Four rows: handles blocks·8 columns, eight at a time (4×8 transpose,
// 16-byte stores).
TEXT ·interleave4x8F32(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R8
	MOVQ blocks+32(FP), CX
	LEAQ (R8)(R8*2), R9
	LEAQ (DX)(DX*2), R10
	LEAQ (DI)(DX*4), R12
	TESTQ CX, CX
	JZ   q32_done

q32_loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VUNPCKLPS Y1, Y0, Y4
	VUNPCKHPS Y1, Y0, Y5
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VSHUFPS $0x44, Y6, Y4, Y0
	VSHUFPS $0xEE, Y6, Y4, Y1
	VSHUFPS $0x44, Y7, Y5, Y2
	VSHUFPS $0xEE, Y7, Y5, Y3
	VMOVUPS X0, (DI)
	VMOVUPS X1, (DI)(DX*1)
	VMOVUPS X2, (DI)(DX*2)
	VMOVUPS X3, (DI)(R10*1)
	VEXTRACTF128 $1, Y0, (R12)
	VEXTRACTF128 $1, Y1, (R12)(DX*1)
	VEXTRACTF128 $1, Y2, (R12)(DX*2)
	VEXTRACTF128 $1, Y3, (R12)(R10*1)
	ADDQ $32, SI
	LEAQ (DI)(DX*8), DI
	LEAQ (R12)(DX*8), R12
	DECQ CX
	JNZ  q32_loop

q32_done:
	VZEROUPPER
	RET

// func interleave4x4F64(dst *float64, dstStride int, src *float64, srcStride, blocks int)
// Four rows: handles blocks·4 columns, four at a time (4×4 transpose).
TEXT ·interleave4x4F64(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R8
	MOVQ blocks+32(FP), CX
	LEAQ (R8)(R8*2), R9
	LEAQ (DX)(DX*2), R10
	TESTQ CX, CX
	JZ   q64_done

q64_loop:
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(R8*1), Y1
	VMOVUPD (SI)(R8*2), Y2
	VMOVUPD (SI)(R9*1), Y3
	VUNPCKLPD Y1, Y0, Y4
	VUNPCKHPD Y1, Y0, Y5
	VUNPCKLPD Y3, Y2, Y6
	VUNPCKHPD Y3, Y2, Y7
	VPERM2F128 $0x20, Y6, Y4, Y0
	VPERM2F128 $0x20, Y7, Y5, Y1
	VPERM2F128 $0x31, Y6, Y4, Y2
	VPERM2F128 $0x31, Y7, Y5, Y3
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, (DI)(DX*1)
	VMOVUPD Y2, (DI)(DX*2)
	VMOVUPD Y3, (DI)(R10*1)
	ADDQ $32, SI
	LEAQ (DI)(DX*4), DI
	DECQ CX
	JNZ  q64_loop

q64_done:
	VZEROUPPER
	RET
