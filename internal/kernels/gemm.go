package kernels

import "fmt"

// Gemm64 computes C = alpha·op(A)·op(B) + beta·C in float64, where op(A) is
// m×k and op(B) is k×n, all row-major with leading dimensions lda, ldb, ldc.
// op(X) is X, or Xᵀ when the matching trans flag is set (then A is stored
// k×m and B is stored n×k).
//
// With beta == 0 the old contents of C are never read, so NaN or Inf in C
// does not leak into the result. With alpha == 0 (or k == 0) the product is
// not formed and C is only scaled by beta, as in reference BLAS; otherwise
// every product is computed, so NaN and Inf in A or B propagate as IEEE
// arithmetic says (zeros of A are never skipped).
//
// Gemm64 panics if a slice is too short for its dimensions and leading
// dimension. It is safe for concurrent use; large products run on the
// shared worker pool (see SetThreads).
func Gemm64(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkGemm("Gemm64", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(kernels64(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Gemm32 is Gemm64 for float32 (accumulation in float32).
func Gemm32(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("Gemm32", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	gemm(kernels32(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// checkGemm panics with a message naming the routine if dimensions, leading
// dimensions or slice lengths are inconsistent.
func checkGemm(name string, transA, transB bool, m, n, k, na, lda, nb, ldb, nc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels.%s: negative dimension m=%d n=%d k=%d", name, m, n, k))
	}
	check := func(what string, rows, cols, ld, have int) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols {
			panic(fmt.Sprintf("kernels.%s: leading dimension of %s is %d, less than its %d columns", name, what, ld, cols))
		}
		if need := (rows-1)*ld + cols; have < need {
			panic(fmt.Sprintf("kernels.%s: %s has %d elements, need %d for %d×%d with leading dimension %d", name, what, have, need, rows, cols, ld))
		}
	}
	if m == 0 || n == 0 {
		return
	}
	check("C", m, n, ldc, nc)
	if k == 0 {
		return
	}
	if transA {
		check("A", k, m, lda, na)
	} else {
		check("A", m, k, lda, na)
	}
	if transB {
		check("B", n, k, ldb, nb)
	} else {
		check("B", k, n, ldb, nb)
	}
}

// scaleC sets C = beta·C for an m×n block, writing zeros without reading C
// when beta == 0.
func scaleC[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// gemm dispatches one product: trivial cases, the small unpacked path, or
// the packed blocked path, threaded when the product is large enough.
func gemm[T float32 | float64](ks *kernelSet[T], transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	if m*n*k <= smallGemmVolume {
		gemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmPacked(ks, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// smallGemmVolume is the m·n·k below which packing does not pay: the
// product is computed directly from the operands on the calling goroutine.
const smallGemmVolume = 5 * 5 * 5

// gemmSmall is the unpacked path for tiny products: a plain loop with the
// k-sum innermost over contiguous memory where possible. It never reads C
// when beta == 0 and never skips terms.
func gemmSmall[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
