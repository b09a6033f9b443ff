//go:build !amd64 || purego

package kernels

const hasPoolAsm = false

func maxPool2x2RowsAsm(x, out []float32, idx []int32, rows, n, w, step, base int) int {
	return maxPool2x2RowsGo(x, out, idx, rows, n, w, step, base)
}

func maxPoolScatter2x2RowsAsm(g []float32, idx []int32, dx []float32, rows, n, w, step, base int) {
	MaxPoolScatter2x2RowsGo(g, idx, dx, rows, n, w, step, base)
}
