//go:build !openblas || !cgo

package openblas

const notBuilt = "openblas: backend not built (build with -tags openblas, cgo and libopenblas-dev)"

// Available reports whether the OpenBLAS backend was built in.
func Available() bool { return false }

// Config describes the OpenBLAS library; empty without the backend.
func Config() string { return "" }

// SetThreads panics: the backend is not built in.
func SetThreads(n int) { panic(notBuilt) }

// Gemm64 panics: the backend is not built in.
func Gemm64(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	panic(notBuilt)
}

// Gemm32 panics: the backend is not built in.
func Gemm32(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic(notBuilt)
}
