//go:build amd64 && !purego

package kernels

// hasPoolAsm reports whether maxPool2x2RowsAsm (AVX-512F) can run.
var hasPoolAsm = hasAVX512

//go:noescape
func maxPool2x2RowsF32(x, out *float32, idx *int32, rows, n, w, step, base int) (ties int)

// maxPool2x2RowsAsm is MaxPool2x2Rows32 on AVX-512, 16 windows per step;
// the caller has checked the lengths and that rows and n are positive.
func maxPool2x2RowsAsm(x, out []float32, idx []int32, rows, n, w, step, base int) int {
	return maxPool2x2RowsF32(&x[0], &out[0], &idx[0], rows, n, w, step, base)
}

//go:noescape
func maxPoolScatter2x2RowsF32(gr *float32, idx *int32, dx *float32, rows, n, w, step, base int)

func maxPoolScatter2x2RowsAsm(g []float32, idx []int32, dx []float32, rows, n, w, step, base int) {
	maxPoolScatter2x2RowsF32(&g[0], &idx[0], &dx[0], rows, n, w, step, base)
}
