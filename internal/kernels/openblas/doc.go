// Package openblas is the optional cgo backend over OpenBLAS's cblas_sgemm
// and cblas_dgemm, the speed anchor of `gradus bench gemm` and of the
// kernels benchmarks. It is built only with `-tags openblas` (and cgo;
// Debian: apt-get install libopenblas-dev); otherwise Available reports
// false and the other functions panic. gradus itself never calls it.
//
// It lives apart from package kernels because Go does not allow cgo and Go
// assembly in one package.
package openblas

import "fmt"

// check panics if the dimensions do not fit the slices, like kernels.Gemm64.
func check(name string, transA, transB bool, m, n, k, na, lda, nb, ldb, nc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("openblas.%s: negative dimension m=%d n=%d k=%d", name, m, n, k))
	}
	need := func(what string, rows, cols, ld, have int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols || have < (rows-1)*ld+cols {
			panic(fmt.Sprintf("openblas.%s: %s is too short or its leading dimension %d too small for %d×%d", name, what, ld, rows, cols))
		}
	}
	ra, ca, rb, cb := m, k, k, n
	if transA {
		ra, ca = k, m
	}
	if transB {
		rb, cb = n, k
	}
	need("A", ra, ca, lda, na)
	need("B", rb, cb, ldb, nb)
	need("C", m, n, ldc, nc)
}

// scale sets C = beta·C without reading C when beta == 0 (the k == 0 case,
// which cblas rejects through its leading-dimension checks).
func scale[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}
