package tensor

import (
	"fmt"

	"github.com/gradus-ml/gradus/internal/kernels"
)

// MatMul returns op(a)·op(b), where op transposes the last two axes when the
// matching flag is set. Both operands have at least two dimensions; leading
// (batch) dimensions broadcast as in NumPy. Float32-stored dtypes accumulate
// in float32 and 16-bit results are rounded once at the end.
func MatMul(a, b *Tensor, transA, transB bool) *Tensor {
	mustSameDType("MatMul", a, b)
	if len(a.shape) < 2 || len(b.shape) < 2 {
		panic(fmt.Sprintf("tensor.MatMul: need at least 2 dimensions, have shapes %v and %v", a.shape, b.shape))
	}
	ra, ca := a.shape[len(a.shape)-2], a.shape[len(a.shape)-1]
	rb, cb := b.shape[len(b.shape)-2], b.shape[len(b.shape)-1]
	m, k := ra, ca
	if transA {
		m, k = ca, ra
	}
	k2, n := rb, cb
	if transB {
		k2, n = cb, rb
	}
	if k != k2 {
		panic(fmt.Sprintf("tensor.MatMul: inner dimensions differ: shapes %v and %v (transA=%v, transB=%v)", a.shape, b.shape, transA, transB))
	}
	ba, bb := a.shape[:len(a.shape)-2], b.shape[:len(b.shape)-2]
	batch, err := BroadcastShapes(ba, bb)
	if err != nil {
		panic(fmt.Sprintf("tensor.MatMul: batch dimensions of shapes %v and %v do not broadcast", a.shape, b.shape))
	}
	shape := append(append([]int{}, batch...), m, n)
	r := emptyOf(shape, a, b)
	if k == 0 {
		clear(r.f64)
		clear(r.f32)
	}
	nb := 1
	for _, d := range batch {
		nb *= d
	}
	if nb == 0 || m == 0 || n == 0 {
		return r
	}
	// batch offsets of a and b in units of whole matrices
	sa, sb := bstrides(ba, batch), bstrides(bb, batch)
	offA, offB := batchOffsets(batch, sa), batchOffsets(batch, sb)
	sizeA, sizeB, sizeC := ra*ca, rb*cb, m*n
	for i := 0; i < nb; i++ {
		if a.dtype.is64() {
			kernels.Gemm64(transA, transB, m, n, k, 1, a.f64[offA[i]*sizeA:], ca, b.f64[offB[i]*sizeB:], cb, 0, r.f64[i*sizeC:], n)
		} else {
			kernels.Gemm32(transA, transB, m, n, k, 1, a.f32[offA[i]*sizeA:], ca, b.f32[offB[i]*sizeB:], cb, 0, r.f32[i*sizeC:], n)
		}
	}
	roundSlice(r.dtype, r.f32)
	return r
}

// batchOffsets lists, for every batch index in row-major order, the matrix
// offset given per-dimension strides (0 for broadcast dimensions).
func batchOffsets(batch, strides []int) []int {
	n := 1
	for _, d := range batch {
		n *= d
	}
	out := make([]int, n)
	idx := make([]int, len(batch))
	off := 0
	for i := 0; i < n; i++ {
		out[i] = off
		for d := len(batch) - 1; d >= 0; d-- {
			idx[d]++
			off += strides[d]
			if idx[d] < batch[d] {
				break
			}
			off -= strides[d] * batch[d]
			idx[d] = 0
		}
	}
	return out
}
