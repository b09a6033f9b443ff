#include "textflag.h"

// AVX2+FMA kernels of the log-domain Sinkhorn iteration (see sumexp_amd64.go).
// exp(x) = 2^k · e^r with k = round(x·log2 e) (the shifter trick: the low
// bits of x·log2 e + 1.5·2^52 hold k), r = x − k·ln2 (two-part ln2, fused
// multiply-adds), e^r by a degree-11 polynomial in Horner form (Chebyshev
// fit on |r| ≤ ln2/2 computed with mpmath at 50 digits, coefficients
// rounded to float64: relative error below 2e−17), and 2^k built in the
// exponent field: (bits(x·log2 e + shifter) << 52) + (1023 << 52).
// Arguments below −708 are raised to −708 (keeping NaN), so 2^k stays normal.

DATA exp_log2e<>+0(SB)/8, $0x3ff71547652b82fe
DATA exp_log2e<>+8(SB)/8, $0x3ff71547652b82fe
DATA exp_log2e<>+16(SB)/8, $0x3ff71547652b82fe
DATA exp_log2e<>+24(SB)/8, $0x3ff71547652b82fe
GLOBL exp_log2e<>(SB), RODATA|NOPTR, $32

DATA exp_shifter<>+0(SB)/8, $0x4338000000000000
DATA exp_shifter<>+8(SB)/8, $0x4338000000000000
DATA exp_shifter<>+16(SB)/8, $0x4338000000000000
DATA exp_shifter<>+24(SB)/8, $0x4338000000000000
GLOBL exp_shifter<>(SB), RODATA|NOPTR, $32

DATA exp_ln2hi<>+0(SB)/8, $0x3fe62e42fee00000
DATA exp_ln2hi<>+8(SB)/8, $0x3fe62e42fee00000
DATA exp_ln2hi<>+16(SB)/8, $0x3fe62e42fee00000
DATA exp_ln2hi<>+24(SB)/8, $0x3fe62e42fee00000
GLOBL exp_ln2hi<>(SB), RODATA|NOPTR, $32

DATA exp_ln2lo<>+0(SB)/8, $0x3dea39ef35793c76
DATA exp_ln2lo<>+8(SB)/8, $0x3dea39ef35793c76
DATA exp_ln2lo<>+16(SB)/8, $0x3dea39ef35793c76
DATA exp_ln2lo<>+24(SB)/8, $0x3dea39ef35793c76
GLOBL exp_ln2lo<>(SB), RODATA|NOPTR, $32

DATA exp_lo<>+0(SB)/8, $0xc086200000000000
DATA exp_lo<>+8(SB)/8, $0xc086200000000000
DATA exp_lo<>+16(SB)/8, $0xc086200000000000
DATA exp_lo<>+24(SB)/8, $0xc086200000000000
GLOBL exp_lo<>(SB), RODATA|NOPTR, $32

DATA exp_bias<>+0(SB)/8, $0x3ff0000000000000
DATA exp_bias<>+8(SB)/8, $0x3ff0000000000000
DATA exp_bias<>+16(SB)/8, $0x3ff0000000000000
DATA exp_bias<>+24(SB)/8, $0x3ff0000000000000
GLOBL exp_bias<>(SB), RODATA|NOPTR, $32

DATA exp_c0<>+0(SB)/8, $0x3ff0000000000000
DATA exp_c0<>+8(SB)/8, $0x3ff0000000000000
DATA exp_c0<>+16(SB)/8, $0x3ff0000000000000
DATA exp_c0<>+24(SB)/8, $0x3ff0000000000000
GLOBL exp_c0<>(SB), RODATA|NOPTR, $32

DATA exp_c1<>+0(SB)/8, $0x3ff0000000000000
DATA exp_c1<>+8(SB)/8, $0x3ff0000000000000
DATA exp_c1<>+16(SB)/8, $0x3ff0000000000000
DATA exp_c1<>+24(SB)/8, $0x3ff0000000000000
GLOBL exp_c1<>(SB), RODATA|NOPTR, $32

DATA exp_c2<>+0(SB)/8, $0x3fe0000000000011
DATA exp_c2<>+8(SB)/8, $0x3fe0000000000011
DATA exp_c2<>+16(SB)/8, $0x3fe0000000000011
DATA exp_c2<>+24(SB)/8, $0x3fe0000000000011
GLOBL exp_c2<>(SB), RODATA|NOPTR, $32

DATA exp_c3<>+0(SB)/8, $0x3fc555555555555a
DATA exp_c3<>+8(SB)/8, $0x3fc555555555555a
DATA exp_c3<>+16(SB)/8, $0x3fc555555555555a
DATA exp_c3<>+24(SB)/8, $0x3fc555555555555a
GLOBL exp_c3<>(SB), RODATA|NOPTR, $32

DATA exp_c4<>+0(SB)/8, $0x3fa555555554f0cf
DATA exp_c4<>+8(SB)/8, $0x3fa555555554f0cf
DATA exp_c4<>+16(SB)/8, $0x3fa555555554f0cf
DATA exp_c4<>+24(SB)/8, $0x3fa555555554f0cf
GLOBL exp_c4<>(SB), RODATA|NOPTR, $32

DATA exp_c5<>+0(SB)/8, $0x3f8111111110f225
DATA exp_c5<>+8(SB)/8, $0x3f8111111110f225
DATA exp_c5<>+16(SB)/8, $0x3f8111111110f225
DATA exp_c5<>+24(SB)/8, $0x3f8111111110f225
GLOBL exp_c5<>(SB), RODATA|NOPTR, $32

DATA exp_c6<>+0(SB)/8, $0x3f56c16c187fbe02
DATA exp_c6<>+8(SB)/8, $0x3f56c16c187fbe02
DATA exp_c6<>+16(SB)/8, $0x3f56c16c187fbe02
DATA exp_c6<>+24(SB)/8, $0x3f56c16c187fbe02
GLOBL exp_c6<>(SB), RODATA|NOPTR, $32

DATA exp_c7<>+0(SB)/8, $0x3f2a01a01b14378f
DATA exp_c7<>+8(SB)/8, $0x3f2a01a01b14378f
DATA exp_c7<>+16(SB)/8, $0x3f2a01a01b14378f
DATA exp_c7<>+24(SB)/8, $0x3f2a01a01b14378f
GLOBL exp_c7<>(SB), RODATA|NOPTR, $32

DATA exp_c8<>+0(SB)/8, $0x3efa01991ac8730a
DATA exp_c8<>+8(SB)/8, $0x3efa01991ac8730a
DATA exp_c8<>+16(SB)/8, $0x3efa01991ac8730a
DATA exp_c8<>+24(SB)/8, $0x3efa01991ac8730a
GLOBL exp_c8<>(SB), RODATA|NOPTR, $32

DATA exp_c9<>+0(SB)/8, $0x3ec71ddf5749d126
DATA exp_c9<>+8(SB)/8, $0x3ec71ddf5749d126
DATA exp_c9<>+16(SB)/8, $0x3ec71ddf5749d126
DATA exp_c9<>+24(SB)/8, $0x3ec71ddf5749d126
GLOBL exp_c9<>(SB), RODATA|NOPTR, $32

DATA exp_c10<>+0(SB)/8, $0x3e928b4057f44145
DATA exp_c10<>+8(SB)/8, $0x3e928b4057f44145
DATA exp_c10<>+16(SB)/8, $0x3e928b4057f44145
DATA exp_c10<>+24(SB)/8, $0x3e928b4057f44145
GLOBL exp_c10<>(SB), RODATA|NOPTR, $32

DATA exp_c11<>+0(SB)/8, $0x3e5af631d0059bec
DATA exp_c11<>+8(SB)/8, $0x3e5af631d0059bec
DATA exp_c11<>+16(SB)/8, $0x3e5af631d0059bec
DATA exp_c11<>+24(SB)/8, $0x3e5af631d0059bec
GLOBL exp_c11<>(SB), RODATA|NOPTR, $32

// func maxDiffAVX2(c, h *float64, n int) float64
TEXT ·maxDiffAVX2(SB), NOSPLIT, $0-32
	MOVQ c+0(FP), SI
	MOVQ h+8(FP), DI
	MOVQ n+16(FP), CX
	VMOVUPD (DI), Y0
	VSUBPD (SI), Y0, Y0
	VMOVUPD 32(DI), Y1
	VSUBPD 32(SI), Y1, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JZ maxdone
maxloop:
	VMOVUPD (DI), Y2
	VSUBPD (SI), Y2, Y2
	VMOVUPD 32(DI), Y3
	VSUBPD 32(SI), Y3, Y3
	VMAXPD Y2, Y0, Y0
	VMAXPD Y3, Y1, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JNZ maxloop
maxdone:
	VMAXPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VMAXSD X1, X0, X0
	VZEROUPPER
	MOVSD X0, ret+24(FP)
	RET

// EXPSTEP computes Yacc += exp(max((Yx − m)·invEps, −708)) for the vector
// Yx = h − c, using Yt and Yp as temporaries.
#define EXPSTEP(Yx, Yt, Yp, Yacc) \
	VSUBPD Y15, Yx, Yx \
	VMULPD Y14, Yx, Yx \
	VMAXPD Yx, Y13, Yx \
	VMOVAPD Y11, Yt \
	VFMADD231PD exp_log2e<>(SB), Yx, Yt \
	VSUBPD Y11, Yt, Yp \
	VFNMADD231PD exp_ln2hi<>(SB), Yp, Yx \
	VFNMADD231PD exp_ln2lo<>(SB), Yp, Yx \
	VMOVUPD exp_c11<>(SB), Yp \
	VFMADD213PD exp_c10<>(SB), Yx, Yp \
	VFMADD213PD exp_c9<>(SB), Yx, Yp \
	VFMADD213PD exp_c8<>(SB), Yx, Yp \
	VFMADD213PD exp_c7<>(SB), Yx, Yp \
	VFMADD213PD exp_c6<>(SB), Yx, Yp \
	VFMADD213PD exp_c5<>(SB), Yx, Yp \
	VFMADD213PD exp_c4<>(SB), Yx, Yp \
	VFMADD213PD exp_c3<>(SB), Yx, Yp \
	VFMADD213PD exp_c2<>(SB), Yx, Yp \
	VFMADD213PD exp_c1<>(SB), Yx, Yp \
	VFMADD213PD exp_c0<>(SB), Yx, Yp \
	VPSLLQ $52, Yt, Yt \
	VPADDQ exp_bias<>(SB), Yt, Yt \
	VFMADD231PD Yt, Yp, Yacc

// func sumExpAVX2(c, h *float64, n int, m, invEps float64) float64
TEXT ·sumExpAVX2(SB), NOSPLIT, $0-48
	MOVQ c+0(FP), SI
	MOVQ h+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSD m+24(FP), Y15
	VBROADCASTSD invEps+32(FP), Y14
	VMOVUPD exp_lo<>(SB), Y13
	VMOVUPD exp_shifter<>(SB), Y11
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
sumloop:
	VMOVUPD (DI), Y2
	VSUBPD (SI), Y2, Y2
	VMOVUPD 32(DI), Y5
	VSUBPD 32(SI), Y5, Y5
	EXPSTEP(Y2, Y3, Y4, Y0)
	EXPSTEP(Y5, Y6, Y7, Y1)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	JNZ sumloop
	VADDPD Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD X1, X0, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VZEROUPPER
	MOVSD X0, ret+40(FP)
	RET
