package kernels

// Gemm64 computes C = alpha·op(A)·op(B) + beta·C in float64, where op(A) is
// m×k and op(B) is k×n, all row-major with leading dimensions lda, ldb, ldc.
// With beta == 0 the old contents of C are never read.
func Gemm64(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemmRef(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Gemm32 is Gemm64 for float32 (accumulation in float32).
func Gemm32(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmRef(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmRef is a simple loop-ordered reference implementation.
func gemmRef[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var av T
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			if av == 0 {
				continue
			}
			if transB {
				for j := range row {
					row[j] += av * b[j*ldb+p]
				}
			} else {
				br := b[p*ldb : p*ldb+n]
				for j := range row {
					row[j] += av * br[j]
				}
			}
		}
	}
}
