package tensor

import (
	"fmt"
	"slices"
)

// This file holds the indexing operations: slicing and padding, joining and
// splitting, gathering and scattering, and the reshape helpers. Every
// operation that moves data along one axis views its operand as
// (outer, dim, inner): the product of the dimensions before the axis, the
// axis itself, and the product of the dimensions after it.

// axisOf normalizes a possibly negative axis of t, panicking with the op
// name and t's shape when it is out of range.
func axisOf(op string, t *Tensor, axis int) int {
	nd := len(t.shape)
	ax := axis
	if ax < 0 {
		ax += nd
	}
	if ax < 0 || ax >= nd {
		panic(fmt.Sprintf("tensor.%s: axis %d out of range for shape %v", op, axis, t.shape))
	}
	return ax
}

// split3 returns the (outer, dim, inner) view of shape around axis ax.
func split3(shape []int, ax int) (outer, dim, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:ax] {
		outer *= d
	}
	for _, d := range shape[ax+1:] {
		inner *= d
	}
	return outer, shape[ax], inner
}

// withDim returns a copy of shape with dimension ax set to n.
func withDim(shape []int, ax, n int) []int {
	s := cloneShape(shape)
	s[ax] = n
	return s
}

// withoutDim returns a copy of shape with dimension ax removed.
func withoutDim(shape []int, ax int) []int {
	return append(cloneShape(shape[:ax]), shape[ax+1:]...)
}

// copyRows copies, for every o < outer, n·inner contiguous elements from
// src at (o·sdim + soff)·inner to dst at (o·ddim + doff)·inner.
func copyRows[T float32 | float64](dst, src []T, outer, inner, ddim, doff, sdim, soff, n int) {
	w := n * inner
	for o := 0; o < outer; o++ {
		d := (o*ddim + doff) * inner
		s := (o*sdim + soff) * inner
		copy(dst[d:d+w], src[s:s+w])
	}
}

// copyRowsT dispatches copyRows on the storage of dst and src.
func copyRowsT(dst, src *Tensor, outer, inner, ddim, doff, sdim, soff, n int) {
	if dst.dtype.is64() {
		copyRows(dst.f64, src.f64, outer, inner, ddim, doff, sdim, soff, n)
	} else {
		copyRows(dst.f32, src.f32, outer, inner, ddim, doff, sdim, soff, n)
	}
}

// Slice returns a copy of t[..., start:end, ...], the elements with index
// start ≤ i < end along axis (negative axis counts from the end). It panics
// unless 0 ≤ start ≤ end ≤ t.Dim(axis).
func Slice(t *Tensor, axis, start, end int) *Tensor {
	ax := axisOf("Slice", t, axis)
	outer, dim, inner := split3(t.shape, ax)
	if start < 0 || start > end || end > dim {
		panic(fmt.Sprintf("tensor.Slice: range [%d:%d] out of bounds for axis %d of shape %v", start, end, axis, t.shape))
	}
	n := end - start
	r := t.like(withDim(t.shape, ax, n))
	copyRowsT(r, t, outer, inner, n, 0, dim, start, n)
	return r
}

// PadAxis returns t with before zeros prepended and after zeros appended
// along axis: the adjoint of Slice.
func PadAxis(t *Tensor, axis, before, after int) *Tensor {
	ax := axisOf("PadAxis", t, axis)
	if before < 0 || after < 0 {
		panic(fmt.Sprintf("tensor.PadAxis: negative padding (%d, %d) for axis %d of shape %v", before, after, axis, t.shape))
	}
	outer, dim, inner := split3(t.shape, ax)
	n := before + dim + after
	r := t.like(withDim(t.shape, ax, n))
	copyRowsT(r, t, outer, inner, n, before, dim, 0, dim)
	return r
}

// Concat joins tensors of the same dtype along an existing axis (negative
// counts from the end). Their shapes must agree except along axis.
func Concat(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor.Concat: no tensors")
	}
	t0 := ts[0]
	ax := axisOf("Concat", t0, axis)
	total := 0
	for _, t := range ts {
		mustSameDType("Concat", t0, t)
		if len(t.shape) != len(t0.shape) {
			panic(fmt.Sprintf("tensor.Concat: shape mismatch %v and %v on axis %d", t0.shape, t.shape, axis))
		}
		for i := range t.shape {
			if i != ax && t.shape[i] != t0.shape[i] {
				panic(fmt.Sprintf("tensor.Concat: shape mismatch %v and %v on axis %d", t0.shape, t.shape, axis))
			}
		}
		total += t.shape[ax]
	}
	r := t0.like(withDim(t0.shape, ax, total))
	off := 0
	for _, t := range ts {
		outer, dim, inner := split3(t.shape, ax)
		copyRowsT(r, t, outer, inner, total, off, dim, 0, dim)
		off += dim
	}
	return r
}

// Stack joins tensors of equal shape and dtype along a new axis, which has
// index axis in the result (negative counts from the end of the result's
// dimensions).
func Stack(axis int, ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor.Stack: no tensors")
	}
	nd := len(ts[0].shape) + 1
	ax := axis
	if ax < 0 {
		ax += nd
	}
	if ax < 0 || ax >= nd {
		panic(fmt.Sprintf("tensor.Stack: axis %d out of range for stacking shape %v", axis, ts[0].shape))
	}
	us := make([]*Tensor, len(ts))
	for i, t := range ts {
		if !SameShape(ts[0], t) {
			panic(fmt.Sprintf("tensor.Stack: shape mismatch %v and %v", ts[0].shape, t.shape))
		}
		mustSameDType("Stack", ts[0], t)
		us[i] = Unsqueeze(t, ax)
	}
	return Concat(ax, us...)
}

// Split cuts t along axis into pieces of the given sizes, which must add
// up to t.Dim(axis). The pieces are copies: the inverse of Concat.
func Split(t *Tensor, axis int, sizes ...int) []*Tensor {
	ax := axisOf("Split", t, axis)
	sum := 0
	for _, s := range sizes {
		if s < 0 {
			panic(fmt.Sprintf("tensor.Split: negative size in %v for shape %v", sizes, t.shape))
		}
		sum += s
	}
	if sum != t.shape[ax] {
		panic(fmt.Sprintf("tensor.Split: sizes %v add up to %d, not to dimension %d of shape %v on axis %d", sizes, sum, t.shape[ax], t.shape, axis))
	}
	out := make([]*Tensor, len(sizes))
	off := 0
	for i, s := range sizes {
		out[i] = Slice(t, ax, off, off+s)
		off += s
	}
	return out
}

// checkIndices panics unless every index is in [0, dim).
func checkIndices(op string, idx []int, dim, axis int, shape []int) {
	for i, k := range idx {
		if k < 0 || k >= dim {
			panic(fmt.Sprintf("tensor.%s: index %d (position %d) out of range [0, %d) for axis %d of shape %v", op, k, i, dim, axis, shape))
		}
	}
}

// IndexSelect returns the slices of t at the positions idx along axis, in
// that order (torch.index_select): the result has len(idx) in place of
// t.Dim(axis). Indices may repeat; each must be in [0, t.Dim(axis)).
func IndexSelect(t *Tensor, axis int, idx []int) *Tensor {
	ax := axisOf("IndexSelect", t, axis)
	outer, dim, inner := split3(t.shape, ax)
	checkIndices("IndexSelect", idx, dim, axis, t.shape)
	n := len(idx)
	r := t.like(withDim(t.shape, ax, n))
	for j, k := range idx {
		copyRowsT(r, t, outer, inner, n, j, dim, k, 1)
	}
	return r
}

// ScatterAdd returns a copy of t with the slices of src added at the
// positions idx along axis; repeated indices accumulate. src has t's shape
// with len(idx) in place of t.Dim(axis). It is the adjoint of IndexSelect.
// 16-bit tensors accumulate in float32 and are rounded once at the end.
func ScatterAdd(t *Tensor, axis int, idx []int, src *Tensor) *Tensor {
	ax := axisOf("ScatterAdd", t, axis)
	mustSameDType("ScatterAdd", t, src)
	outer, dim, inner := split3(t.shape, ax)
	if want := withDim(t.shape, ax, len(idx)); !slices.Equal(src.shape, want) {
		panic(fmt.Sprintf("tensor.ScatterAdd: shape mismatch %v and %v: src must have shape %v for %d indices on axis %d", t.shape, src.shape, want, len(idx), axis))
	}
	checkIndices("ScatterAdd", idx, dim, axis, t.shape)
	r := t.Clone()
	if r.dtype.is64() {
		scatterAdd(r.f64, src.f64, idx, outer, dim, inner)
	} else {
		scatterAdd(r.f32, src.f32, idx, outer, dim, inner)
		roundSlice(r.dtype, r.f32)
	}
	return r
}

func scatterAdd[T float32 | float64](dst, src []T, idx []int, outer, dim, inner int) {
	n := len(idx)
	for o := 0; o < outer; o++ {
		for j, k := range idx {
			d := dst[(o*dim+k)*inner : (o*dim+k+1)*inner]
			s := src[(o*n+j)*inner : (o*n+j+1)*inner]
			for i, v := range s {
				d[i] += v
			}
		}
	}
}

// TakeAlong picks one element along axis for every position of the other
// axes (torch.gather with a size-1 index axis, squeezed): for t of shape
// [B, C] and axis 1, idx has B entries and the result, of shape [B], holds
// t[b, idx[b]]. In general idx lists, in row-major order of t's shape
// without axis, an index in [0, t.Dim(axis)).
func TakeAlong(t *Tensor, axis int, idx []int) *Tensor {
	ax := axisOf("TakeAlong", t, axis)
	outer, dim, inner := split3(t.shape, ax)
	shape := withoutDim(t.shape, ax)
	if len(idx) != outer*inner {
		panic(fmt.Sprintf("tensor.TakeAlong: %d indices for shape %v on axis %d, want %d (one per element of %v)", len(idx), t.shape, axis, outer*inner, shape))
	}
	checkIndices("TakeAlong", idx, dim, axis, t.shape)
	r := t.like(shape)
	if r.dtype.is64() {
		along(r.f64, t.f64, idx, outer, dim, inner, false)
	} else {
		along(r.f32, t.f32, idx, outer, dim, inner, false)
	}
	return r
}

// along moves one element per position p of the other axes between the
// compact array c (indexed by p) and the full array f (at index idx[p]
// along the axis): f to c when put is false, c to f when it is true.
func along[T float32 | float64](c, f []T, idx []int, outer, dim, inner int, put bool) {
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			p := o*inner + i
			q := (o*dim+idx[p])*inner + i
			if put {
				f[q] = c[p]
			} else {
				c[p] = f[q]
			}
		}
	}
}

// PutAlong is the adjoint of TakeAlong: it returns zeros of the given shape
// and dtype with src[p] placed at the position p of the other axes and
// index idx[p] along axis. src has dtype d and shape without axis.
func PutAlong(shape []int, d DType, axis int, idx []int, src *Tensor) *Tensor {
	r := New(d, shape...)
	ax := axisOf("PutAlong", r, axis)
	outer, dim, inner := split3(r.shape, ax)
	if want := withoutDim(r.shape, ax); !slices.Equal(src.shape, want) {
		panic(fmt.Sprintf("tensor.PutAlong: shape mismatch %v and %v: src must have shape %v on axis %d", shape, src.shape, want, axis))
	}
	if src.dtype != d {
		panic(fmt.Sprintf("tensor.PutAlong: dtype mismatch %v and %v (shapes %v and %v)", d, src.dtype, shape, src.shape))
	}
	if len(idx) != outer*inner {
		panic(fmt.Sprintf("tensor.PutAlong: %d indices for shape %v on axis %d, want %d", len(idx), shape, axis, outer*inner))
	}
	checkIndices("PutAlong", idx, dim, axis, shape)
	if r.dtype.is64() {
		along(src.f64, r.f64, idx, outer, dim, inner, true)
	} else {
		along(src.f32, r.f32, idx, outer, dim, inner, true)
	}
	return r
}

// Squeeze removes axis, which must have size 1. Like Reshape, the result
// shares t's storage.
func Squeeze(t *Tensor, axis int) *Tensor {
	ax := axisOf("Squeeze", t, axis)
	if t.shape[ax] != 1 {
		panic(fmt.Sprintf("tensor.Squeeze: axis %d of shape %v has size %d, not 1", axis, t.shape, t.shape[ax]))
	}
	return t.Reshape(withoutDim(t.shape, ax)...)
}

// Unsqueeze inserts an axis of size 1 so that it has index axis in the
// result (negative counts from the end of the result's dimensions). The
// result shares t's storage.
func Unsqueeze(t *Tensor, axis int) *Tensor {
	nd := len(t.shape) + 1
	ax := axis
	if ax < 0 {
		ax += nd
	}
	if ax < 0 || ax >= nd {
		panic(fmt.Sprintf("tensor.Unsqueeze: axis %d out of range for shape %v", axis, t.shape))
	}
	s := make([]int, 0, nd)
	s = append(append(append(s, t.shape[:ax]...), 1), t.shape[ax:]...)
	return t.Reshape(s...)
}

// Flatten returns t as a one-dimensional tensor sharing its storage.
func Flatten(t *Tensor) *Tensor { return t.Reshape(t.Size()) }
