//go:build !amd64 || purego

package kernels

const hasPoolAsm = false

func maxPool2x2RowAsm(r0, r1, out []float32, idx []int32, base, w int) int {
	return MaxPool2x2RowGo(r0, r1, out, idx, base, w)
}
