//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// elemAVX2 selects the AVX2 assembly of the elementwise kernels
// (elementwise_amd64.s); the tests switch it off to run the Go loops.
var elemAVX2 = cpu.X86.HasAVX2

// The assembly processes n elements, a multiple of 8 (ColSum32: of 8
// columns); the wrappers pass the leading multiple of 8 and return it,
// the Go loops doing the rest.

//go:noescape
func reluCount32AVX2(z, x *float32, n int) int

//go:noescape
func stepMul32AVX2(z, grad, x *float32, n int, k float32, tbl *[4]float32)

//go:noescape
func colSum32AVX2(dst, src *float32, rows, stride, cols int)

//go:noescape
func sgd32AVX2(p, grad *float32, n int, k *SGDCoef32, flags int)

//go:noescape
func sgdMomentum32AVX2(p, grad, buf *float32, n int, k *SGDCoef32, flags int)

//go:noescape
func adam32AVX2(p, grad, m, v *float32, n int, k *AdamCoef32, flags int)

// flag bits of the update kernels
const (
	flagL2       = 1
	flagFirst    = 2
	flagNesterov = 4
)

func sgdFlags(k *SGDCoef32) int {
	f := 0
	if k.L2 != 0 {
		f |= flagL2
	}
	if k.First {
		f |= flagFirst
	}
	if k.Nesterov {
		f |= flagNesterov
	}
	return f
}

// bulk returns the elements of an n-element kernel the assembly runs.
func bulk(n int) int {
	if !elemAVX2 {
		return 0
	}
	return n &^ 7
}

func reluCount32Asm(z, x []float32) (done, zeros int) {
	n := bulk(len(z))
	if n == 0 {
		return 0, 0
	}
	_ = x[n-1]
	return n, reluCount32AVX2(&z[0], &x[0], n)
}

func stepMul32Asm(z, g, x []float32, k float32, tbl *[4]float32) int {
	n := bulk(len(z))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], x[n-1]
	stepMul32AVX2(&z[0], &g[0], &x[0], n, k, tbl)
	return n
}

func colSum32Asm(dst, src []float32, rows, stride int) int {
	n := bulk(len(dst))
	if n == 0 {
		return 0
	}
	_ = src[(rows-1)*stride+n-1]
	colSum32AVX2(&dst[0], &src[0], rows, stride, n)
	return n
}

func sgd32Asm(p, g []float32, k *SGDCoef32) int {
	n := bulk(len(p))
	if n == 0 {
		return 0
	}
	_ = g[n-1]
	sgd32AVX2(&p[0], &g[0], n, k, sgdFlags(k))
	return n
}

func sgdMomentum32Asm(p, g, buf []float32, k *SGDCoef32) int {
	n := bulk(len(p))
	if n == 0 {
		return 0
	}
	_, _ = g[n-1], buf[n-1]
	sgdMomentum32AVX2(&p[0], &g[0], &buf[0], n, k, sgdFlags(k))
	return n
}

func adam32Asm(p, g, m, v []float32, k *AdamCoef32) int {
	n := bulk(len(p))
	if n == 0 {
		return 0
	}
	_, _, _ = g[n-1], m[n-1], v[n-1]
	f := 0
	if k.L2 != 0 {
		f = flagL2
	}
	adam32AVX2(&p[0], &g[0], &m[0], &v[0], n, k, f)
	return n
}

// setElemAsm switches the assembly of the elementwise kernels on or off
// (off: the Go loops alone) and returns the previous setting; for tests.
func setElemAsm(on bool) bool {
	prev := elemAVX2
	elemAVX2 = on && cpu.X86.HasAVX2
	return prev
}
