//go:build amd64 && !purego

#include "textflag.h"

// Lane i of poolEven is 2i: the even elements of a 32-float pair of
// registers for VPERMI2PS, and the column offset 2i of window i.
DATA poolEven<>+0(SB)/8, $0x0000000200000000
DATA poolEven<>+8(SB)/8, $0x0000000600000004
DATA poolEven<>+16(SB)/8, $0x0000000a00000008
DATA poolEven<>+24(SB)/8, $0x0000000e0000000c
DATA poolEven<>+32(SB)/8, $0x0000001200000010
DATA poolEven<>+40(SB)/8, $0x0000001600000014
DATA poolEven<>+48(SB)/8, $0x0000001a00000018
DATA poolEven<>+56(SB)/8, $0x0000001e0000001c
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

// Lane i of poolOdd is 2i+1.
DATA poolOdd<>+0(SB)/8, $0x0000000300000001
DATA poolOdd<>+8(SB)/8, $0x0000000700000005
DATA poolOdd<>+16(SB)/8, $0x0000000b00000009
DATA poolOdd<>+24(SB)/8, $0x0000000f0000000d
DATA poolOdd<>+32(SB)/8, $0x0000001300000011
DATA poolOdd<>+40(SB)/8, $0x0000001700000015
DATA poolOdd<>+48(SB)/8, $0x0000001b00000019
DATA poolOdd<>+56(SB)/8, $0x0000001f0000001d
GLOBL poolOdd<>(SB), RODATA|NOPTR, $64

// func maxPool2x2RowsF32(x, out *float32, idx *int32, rows, n, w, step, base int) (ties int)
//
// rows rows of n windows: row i reads the input rows at x + i·step and
// x + i·step + w, and writes out and idx from i·n. Per row, 16 windows per
// step: a, b, c, d are the four elements of each window (even and odd
// elements of the two input rows). Without NaN the winner is the first
// element equal to max(a, b, c, d), picked by masked moves in the order
// d, c, b, a; a tie is two or more equal. A step whose windows hold a NaN
// takes a side path that makes the first NaN the only "equal" element of
// its window. The last step of a row masks loads and stores to the
// windows left. The row pointers and base advance in the argument slots.
TEXT ·maxPool2x2RowsF32(SB), NOSPLIT, $0-72
	MOVQ $0, ties+64(FP)
	MOVQ w+40(FP), AX

	VMOVDQU32 poolEven<>(SB), Z20
	VMOVDQU32 poolOdd<>(SB), Z21
	VPBROADCASTD AX, Z23   // w
	INCQ AX
	VPBROADCASTD AX, Z22   // w+1
	MOVL $1, AX
	VPBROADCASTD AX, Z24   // 1
	VPXORD Z25, Z25, Z25   // 0
	MOVL $32, AX
	VPBROADCASTD AX, Z27   // the increment of Z26 per step

row:
	CMPQ rows+24(FP), $0
	JLE  done
	MOVQ x+0(FP), SI
	MOVQ w+40(FP), DI
	SHLQ $2, DI
	ADDQ SI, DI
	MOVQ out+8(FP), DX
	MOVQ idx+16(FP), R8
	MOVQ n+32(FP), CX
	MOVQ base+56(FP), BX
	VPBROADCASTD BX, Z26   // index of the current step's first element

loop:
	CMPQ CX, $0
	JLE  rowdone
	CMPQ CX, $16
	JGE  full

	// last, partial step of m = CX < 16 windows: R9 = output lanes, K1
	// and K2 the lanes of the first and second 16 input elements (2m)
	MOVL $1, R9
	SHLL CX, R9
	DECL R9
	MOVQ CX, BX
	SHLQ $1, BX
	CMPQ BX, $16
	JGE  tailwide
	MOVL $1, AX
	MOVQ BX, CX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	KXORW K2, K2, K2
	MOVQ $16, CX
	JMP  body

tailwide:
	MOVL $0xffff, AX
	KMOVW AX, K1
	SUBQ $16, BX
	MOVL $1, AX
	MOVQ BX, CX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2
	MOVQ $16, CX
	JMP  body

full:
	MOVL $0xffff, R9
	KMOVW R9, K1
	KMOVW R9, K2

body:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z 64(DI), K2, Z3
	VMOVDQA32 Z20, Z4
	VPERMI2PS Z1, Z0, Z4   // a
	VMOVDQA32 Z21, Z5
	VPERMI2PS Z1, Z0, Z5   // b
	VMOVDQA32 Z20, Z6
	VPERMI2PS Z3, Z2, Z6   // c
	VMOVDQA32 Z21, Z7
	VPERMI2PS Z3, Z2, Z7   // d
	VMAXPS Z5, Z4, Z8
	VMAXPS Z7, Z6, Z9
	VMAXPS Z9, Z8, Z8
	VCMPPS $0, Z8, Z4, K4  // a == max (false for NaN)
	VCMPPS $0, Z8, Z5, K5
	VCMPPS $0, Z8, Z6, K6
	VCMPPS $0, Z8, Z7, K7
	VCMPPS $3, Z5, Z4, K1  // a or b is NaN
	VCMPPS $3, Z7, Z6, K2  // c or d is NaN
	KORTESTW K1, K2
	JNZ  nan

sel:
	// ties: ea&(eb|ec|ed) | eb&(ec|ed) | ec&ed, on the output lanes
	KMOVW K4, R10
	KMOVW K5, R11
	KMOVW K6, R12
	KMOVW K7, R13
	MOVL R11, BX
	ORL  R12, BX
	ORL  R13, BX
	ANDL R10, BX
	MOVL R12, AX
	ORL  R13, AX
	ANDL R11, AX
	ORL  AX, BX
	ANDL R13, R12
	ORL  R12, BX
	ANDL R9, BX
	POPCNTL BX, BX
	ADDQ BX, ties+64(FP)

	// the first winner's value and offset
	VMOVAPS Z7, Z10
	VMOVAPS Z6, K6, Z10
	VMOVAPS Z5, K5, Z10
	VMOVAPS Z4, K4, Z10
	VMOVDQA32 Z22, Z11
	VMOVDQA32 Z23, K6, Z11
	VMOVDQA32 Z24, K5, Z11
	VMOVDQA32 Z25, K4, Z11
	VPADDD Z20, Z11, Z11
	VPADDD Z26, Z11, Z11
	KMOVW R9, K3
	VMOVUPS Z10, K3, (DX)
	VMOVDQU32 Z11, K3, (R8)

	ADDQ $128, SI
	ADDQ $128, DI
	ADDQ $64, DX
	ADDQ $64, R8
	VPADDD Z27, Z26, Z26
	SUBQ $16, CX
	JMP  loop

nan:
	// na, nb, nc, nd in R10..R13; the NaN lanes lose their equal
	// elements, and the first NaN becomes the only one
	VCMPPS $3, Z4, Z4, K1
	KMOVW K1, R10
	VCMPPS $3, Z5, Z5, K1
	KMOVW K1, R11
	VCMPPS $3, Z6, Z6, K1
	KMOVW K1, R12
	VCMPPS $3, Z7, Z7, K1
	KMOVW K1, R13
	MOVL R10, BX
	ORL  R11, BX
	ORL  R12, BX
	ORL  R13, BX
	KMOVW BX, K1
	KANDNW K4, K1, K4
	KANDNW K5, K1, K5
	KANDNW K6, K1, K6
	KANDNW K7, K1, K7
	MOVL R10, AX           // NaNs seen so far
	KMOVW R10, K1
	KORW K1, K4, K4
	MOVL AX, BX
	NOTL BX
	ANDL R11, BX
	KMOVW BX, K1
	KORW K1, K5, K5
	ORL  R11, AX
	MOVL AX, BX
	NOTL BX
	ANDL R12, BX
	KMOVW BX, K1
	KORW K1, K6, K6
	ORL  R12, AX
	MOVL AX, BX
	NOTL BX
	ANDL R13, BX
	KMOVW BX, K1
	KORW K1, K7, K7
	JMP  sel

rowdone:
	MOVQ step+48(FP), AX
	ADDQ AX, base+56(FP)
	SHLQ $2, AX
	ADDQ AX, x+0(FP)
	MOVQ n+32(FP), AX
	SHLQ $2, AX
	ADDQ AX, out+8(FP)
	ADDQ AX, idx+16(FP)
	DECQ rows+24(FP)
	JMP  row

done:
	VZEROUPPER
	RET

// Lanes of poolZipLo and poolZipHi interleave two registers a and b
// (VPERMI2PS): a0 b0 a1 b1 … a7 b7 and a8 b8 … a15 b15.
DATA poolZipLo<>+0(SB)/8, $0x0000001000000000
DATA poolZipLo<>+8(SB)/8, $0x0000001100000001
DATA poolZipLo<>+16(SB)/8, $0x0000001200000002
DATA poolZipLo<>+24(SB)/8, $0x0000001300000003
DATA poolZipLo<>+32(SB)/8, $0x0000001400000004
DATA poolZipLo<>+40(SB)/8, $0x0000001500000005
DATA poolZipLo<>+48(SB)/8, $0x0000001600000006
DATA poolZipLo<>+56(SB)/8, $0x0000001700000007
GLOBL poolZipLo<>(SB), RODATA|NOPTR, $64

DATA poolZipHi<>+0(SB)/8, $0x0000001800000008
DATA poolZipHi<>+8(SB)/8, $0x0000001900000009
DATA poolZipHi<>+16(SB)/8, $0x0000001a0000000a
DATA poolZipHi<>+24(SB)/8, $0x0000001b0000000b
DATA poolZipHi<>+32(SB)/8, $0x0000001c0000000c
DATA poolZipHi<>+40(SB)/8, $0x0000001d0000000d
DATA poolZipHi<>+48(SB)/8, $0x0000001e0000000e
DATA poolZipHi<>+56(SB)/8, $0x0000001f0000000f
GLOBL poolZipHi<>(SB), RODATA|NOPTR, $64

// func maxPoolScatter2x2RowsF32(gr *float32, idx *int32, dx *float32, rows, n, w, step, base int)
//
// The adjoint of maxPool2x2RowsF32: for each of rows rows of n windows it
// writes the first 2n elements of the window row's two input rows (at
// dx + i·step and dx + i·step + w): gr[o] + 0 (so −0 becomes +0, as an
// accumulation onto zero gives) at the element idx[o] names, 0 at the
// three others. 16 windows per step; the last step of a row is masked.
TEXT ·maxPoolScatter2x2RowsF32(SB), NOSPLIT, $0-64
	MOVQ w+40(FP), AX
	VMOVDQU32 poolEven<>(SB), Z20
	VMOVDQU32 poolZipLo<>(SB), Z28
	VMOVDQU32 poolZipHi<>(SB), Z29
	VPBROADCASTD AX, Z23   // w
	INCQ AX
	VPBROADCASTD AX, Z22   // w+1
	MOVL $1, AX
	VPBROADCASTD AX, Z24   // 1
	VPXORD Z25, Z25, Z25   // 0
	MOVL $32, AX
	VPBROADCASTD AX, Z27

srow:
	CMPQ rows+24(FP), $0
	JLE  sdone
	MOVQ gr+0(FP), SI
	MOVQ idx+8(FP), R8
	MOVQ dx+16(FP), DI
	MOVQ w+40(FP), DX
	SHLQ $2, DX
	ADDQ DI, DX
	MOVQ n+32(FP), CX
	MOVQ base+56(FP), BX
	VPBROADCASTD BX, Z26
	VPADDD Z20, Z26, Z26   // index of the first element of each window

sloop:
	CMPQ CX, $0
	JLE  srowdone
	CMPQ CX, $16
	JGE  sfull
	MOVL $1, R9
	SHLL CX, R9
	DECL R9
	MOVQ CX, BX
	SHLQ $1, BX
	CMPQ BX, $16
	JGE  stailwide
	MOVL $1, AX
	MOVQ BX, CX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	KXORW K2, K2, K2
	MOVQ $16, CX
	JMP  sbody

stailwide:
	MOVL $0xffff, AX
	KMOVW AX, K1
	SUBQ $16, BX
	MOVL $1, AX
	MOVQ BX, CX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2
	MOVQ $16, CX
	JMP  sbody

sfull:
	MOVL $0xffff, R9
	KMOVW R9, K1
	KMOVW R9, K2

sbody:
	KMOVW R9, K3
	VMOVUPS.Z (SI), K3, Z0
	VADDPS Z25, Z0, Z0     // −0 + 0 = +0
	VMOVDQU32.Z (R8), K3, Z1
	VPSUBD Z26, Z1, Z1     // offset in the window: 0, 1, w or w+1
	VPCMPEQD Z25, Z1, K4
	VPCMPEQD Z24, Z1, K5
	VPCMPEQD Z23, Z1, K6
	VPCMPEQD Z22, Z1, K7
	VMOVAPS.Z Z0, K4, Z4   // a
	VMOVAPS.Z Z0, K5, Z5   // b
	VMOVAPS.Z Z0, K6, Z6   // c
	VMOVAPS.Z Z0, K7, Z7   // d
	VMOVDQA32 Z28, Z8
	VPERMI2PS Z5, Z4, Z8
	VMOVDQA32 Z29, Z9
	VPERMI2PS Z5, Z4, Z9
	VMOVDQA32 Z28, Z10
	VPERMI2PS Z7, Z6, Z10
	VMOVDQA32 Z29, Z11
	VPERMI2PS Z7, Z6, Z11
	VMOVUPS Z8, K1, (DI)
	VMOVUPS Z9, K2, 64(DI)
	VMOVUPS Z10, K1, (DX)
	VMOVUPS Z11, K2, 64(DX)

	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $128, DI
	ADDQ $128, DX
	VPADDD Z27, Z26, Z26
	SUBQ $16, CX
	JMP  sloop

srowdone:
	MOVQ step+48(FP), AX
	ADDQ AX, base+56(FP)
	SHLQ $2, AX
	ADDQ AX, dx+16(FP)
	MOVQ n+32(FP), AX
	SHLQ $2, AX
	ADDQ AX, gr+0(FP)
	ADDQ AX, idx+8(FP)
	DECQ rows+24(FP)
	JMP  srow

sdone:
	VZEROUPPER
	RET
