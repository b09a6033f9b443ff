//go:build amd64 && !purego

package kernels

// hasPoolAsm reports whether maxPool2x2RowAsm (AVX-512F) can run.
var hasPoolAsm = hasAVX512

//go:noescape
func maxPool2x2RowF32(r0, r1, out *float32, idx *int32, n, w, base int) (ties int)

// maxPool2x2RowAsm is MaxPool2x2Row32 on AVX-512, 16 windows per step; the
// caller has checked the lengths.
func maxPool2x2RowAsm(r0, r1, out []float32, idx []int32, base, w int) int {
	return maxPool2x2RowF32(&r0[0], &r1[0], &out[0], &idx[0], len(out), w, base)
}
