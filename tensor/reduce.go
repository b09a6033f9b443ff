package tensor

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/internal/kernels"
)

// reduction plans a reduction over axes: the input viewed as
// (outer, r, inner) with the reduced axes in the middle, after permuting
// when the reduced axes are not contiguous.
type reduction struct {
	src             *Tensor
	outer, r, inner int
	shape           []int // result shape (keepdims applied)
}

func planReduce(op string, a *Tensor, axes []int, keepdims bool) reduction {
	nd := len(a.shape)
	red := make([]bool, nd)
	if axes == nil {
		for i := range red {
			red[i] = true
		}
	}
	for _, ax := range axes {
		ax = axisOf(op, a, ax)
		if red[ax] {
			panic(fmt.Sprintf("tensor.%s: repeated axis %d for shape %v", op, ax, a.shape))
		}
		red[ax] = true
	}
	var shape []int
	for i, d := range a.shape {
		if !red[i] {
			shape = append(shape, d)
		} else if keepdims {
			shape = append(shape, 1)
		}
	}
	if shape == nil {
		shape = []int{}
	}
	first, last := -1, -1
	for i, r := range red {
		if r {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	contiguous := true
	for i := first; i >= 0 && i <= last; i++ {
		contiguous = contiguous && red[i]
	}
	src := a
	if first < 0 {
		return reduction{src: a, outer: a.Size(), r: 1, inner: 1, shape: shape}
	}
	if !contiguous {
		// move the reduced axes to the end, keeping their order
		var perm []int
		for i, r := range red {
			if !r {
				perm = append(perm, i)
			}
		}
		first = len(perm)
		for i, r := range red {
			if r {
				perm = append(perm, i)
			}
		}
		src = Permute(a, perm...)
		last = nd - 1
	}
	p := reduction{src: src, outer: 1, r: 1, inner: 1, shape: shape}
	for i, d := range src.shape {
		switch {
		case i < first:
			p.outer *= d
		case i <= last:
			p.r *= d
		default:
			p.inner *= d
		}
	}
	return p
}

type reduceKind int

const (
	redSum reduceKind = iota
	redMax
	redMin
)

func reduceKernel[T float32 | float64](kind reduceKind, src, dst []T, outer, r, inner int) {
	if inner == 1 {
		// reductions over the last axes: one contiguous row per output
		reduceRows(kind, src, dst, outer, r)
		return
	}
	for o := 0; o < outer; o++ {
		d := dst[o*inner : (o+1)*inner]
		base := o * r * inner
		switch kind {
		case redSum:
			if colSum32(d, src[base:], r, inner) {
				continue
			}
			clear(d)
			for k := 0; k < r; k++ {
				row := src[base+k*inner : base+(k+1)*inner]
				d := d[:len(row)]
				for i, v := range row {
					d[i] += v
				}
			}
		case redMax, redMin:
			copy(d, src[base:base+inner])
			for k := 1; k < r; k++ {
				row := src[base+k*inner : base+(k+1)*inner]
				for i, v := range row {
					if v != v || (kind == redMax && v > d[i]) || (kind == redMin && v < d[i]) {
						if d[i] == d[i] { // keep a NaN once seen
							d[i] = v
						}
					}
				}
			}
		}
	}
}

// reduceRows reduces each of the outer contiguous rows of length r of src
// to one element of dst, in the order and with the NaN rule of
// reduceKernel.
func reduceRows[T float32 | float64](kind reduceKind, src, dst []T, outer, r int) {
	for o := range dst[:outer] {
		row := src[o*r : (o+1)*r]
		switch kind {
		case redSum:
			var s T
			for _, v := range row {
				s += v
			}
			dst[o] = s
		case redMax:
			if len(row) == 0 {
				dst[o] = 0
				continue
			}
			m := row[0]
			for _, v := range row[1:] {
				if (v != v || v > m) && m == m {
					m = v
				}
			}
			dst[o] = m
		case redMin:
			if len(row) == 0 {
				dst[o] = 0
				continue
			}
			m := row[0]
			for _, v := range row[1:] {
				if (v != v || v < m) && m == m {
					m = v
				}
			}
			dst[o] = m
		}
	}
}

func reduce(op string, kind reduceKind, a *Tensor, axes []int, keepdims bool) *Tensor {
	p := planReduce(op, a, axes, keepdims)
	r := a.like(p.shape)
	if kind != redSum && p.r == 0 && r.Size() > 0 {
		panic(fmt.Sprintf("tensor.%s: reduction over an empty axis of shape %v (axes %v)", op, a.shape, axes))
	}
	if a.dtype.is64() {
		reducePar(kind, p.src.f64, r.f64, p.outer, p.r, p.inner)
	} else {
		reducePar(kind, p.src.f32, r.f32, p.outer, p.r, p.inner)
		roundSlice(r.dtype, r.f32)
	}
	return r
}

// reducePar runs reduceKernel split across goroutines when the input is
// large: by outer blocks, or, for a single outer block (a bias gradient:
// [B, N] summed over B), by ranges of the inner columns. Every output
// element is reduced by one goroutine in the serial order.
func reducePar[T float32 | float64](kind reduceKind, src, dst []T, outer, r, inner int) {
	if outer*r*inner < parMin {
		reduceKernel(kind, src, dst, outer, r, inner)
		return
	}
	if outer > 1 {
		parallelChunksMin(outer, max(1, parMin/max(1, r*inner)), func(lo, hi int) {
			reduceKernel(kind, src[lo*r*inner:hi*r*inner], dst[lo*inner:hi*inner], hi-lo, r, inner)
		})
		return
	}
	if inner < 2*16 {
		reduceKernel(kind, src, dst, outer, r, inner)
		return
	}
	parallelChunksMinAlign(inner, max(16, parMin/max(1, r)), 16, func(lo, hi int) {
		reduceColumns(kind, src, dst[lo:hi], r, inner, lo)
	})
}

// reduceColumns is reduceKernel for one outer block restricted to the
// columns c0..c0+len(d)−1 of the inner axis.
func reduceColumns[T float32 | float64](kind reduceKind, src, d []T, r, inner, c0 int) {
	n := len(d)
	switch kind {
	case redSum:
		if colSum32(d, src[c0:], r, inner) {
			return
		}
		clear(d)
		for k := 0; k < r; k++ {
			row := src[k*inner+c0 : k*inner+c0+n]
			d := d[:len(row)]
			for i, v := range row {
				d[i] += v
			}
		}
	case redMax, redMin:
		copy(d, src[c0:c0+n])
		for k := 1; k < r; k++ {
			row := src[k*inner+c0 : k*inner+c0+n]
			for i, v := range row {
				if v != v || (kind == redMax && v > d[i]) || (kind == redMin && v < d[i]) {
					if d[i] == d[i] {
						d[i] = v
					}
				}
			}
		}
	}
}

// colSum32 runs the column sums of reduceKernel and reduceColumns, d[i] =
// Σ_k src[k·inner+i] in the order of k, with the SIMD kernel when T is
// float32 (the same additions in the same order, so the same bits); it
// reports false for float64, which runs the loop.
func colSum32[T float32 | float64](d, src []T, r, inner int) bool {
	d32, ok := any(d).([]float32)
	if !ok {
		return false
	}
	kernels.ColSum32(d32, any(src).([]float32), r, inner)
	return true
}

// Sum sums a over axes (all axes when axes is nil). keepdims keeps reduced
// axes with size 1. Float32-stored dtypes accumulate in float32.
func Sum(a *Tensor, axes []int, keepdims bool) *Tensor {
	return reduce("Sum", redSum, a, axes, keepdims)
}

// in32 runs f, a composite of several primitives, in Float32 when a is a
// 16-bit tensor and rounds its result once to a's dtype, as hardware that
// accumulates in float32 does. Rounding every intermediate instead would
// overflow where the result is representable (the sum inside the mean of
// many float16 values, or the squares inside a float16 norm).
func in32(a *Tensor, f func(*Tensor) *Tensor) *Tensor {
	if a.dtype == Float16 || a.dtype == BFloat16 {
		return f(a.AsType(Float32)).AsType(a.dtype)
	}
	return f(a)
}

// Mean averages a over axes (all axes when axes is nil). 16-bit tensors are
// averaged in float32 and the result rounded once.
func Mean(a *Tensor, axes []int, keepdims bool) *Tensor {
	return in32(a, func(a *Tensor) *Tensor { return mean(a, axes, keepdims) })
}

func mean(a *Tensor, axes []int, keepdims bool) *Tensor {
	p := planReduce("Mean", a, axes, keepdims)
	s := Sum(a, axes, keepdims)
	if p.r == 0 {
		return AddScalar(s, math.NaN())
	}
	return Scale(s, 1/float64(p.r))
}

// Max returns the maximum of a over axes (NaN propagates).
func Max(a *Tensor, axes []int, keepdims bool) *Tensor {
	return reduce("Max", redMax, a, axes, keepdims)
}

// Min returns the minimum of a over axes (NaN propagates).
func Min(a *Tensor, axes []int, keepdims bool) *Tensor {
	return reduce("Min", redMin, a, axes, keepdims)
}

// LogSumExp returns log Σ exp(a) over axes, shifted by the maximum so it
// does not overflow. 16-bit tensors are computed in float32 and the result
// rounded once.
func LogSumExp(a *Tensor, axes []int, keepdims bool) *Tensor {
	return in32(a, func(a *Tensor) *Tensor { return logSumExp(a, axes, keepdims) })
}

func logSumExp(a *Tensor, axes []int, keepdims bool) *Tensor {
	m := Max(a, axes, true)
	// a row of −Inf (or +Inf) must not produce NaN through Inf − Inf
	m = Map(m, func(x float64) float64 {
		if math.IsInf(x, 0) {
			return 0
		}
		return x
	})
	s := Log(Sum(Exp(Sub(a, m)), axes, true))
	out := Add(s, m)
	p := planReduce("LogSumExp", a, axes, keepdims)
	return out.Reshape(p.shape...)
}

// Norm returns the Euclidean norm of a over axes (all axes when nil).
// 16-bit tensors are computed in float32 and the result rounded once. When
// the sum of squares overflows or underflows (float32 elements beyond about
// 1e19 or below 1e-19), the affected norms are recomputed with the elements
// scaled by their largest magnitude, so the result is not a spurious Inf
// or 0.
func Norm(a *Tensor, axes []int, keepdims bool) *Tensor {
	return in32(a, func(a *Tensor) *Tensor { return norm(a, axes, keepdims) })
}

func norm(a *Tensor, axes []int, keepdims bool) *Tensor {
	r := Sqrt(Sum(Square(a), axes, true))
	// sums of squares below tiny may have lost digits to underflow
	tiny := math.Sqrt(0x1p-126) * 0x1p12
	if a.dtype.is64() {
		tiny = math.Sqrt(0x1p-1022) * 0x1p26
	}
	rescue := false
	for i := 0; i < r.Size() && !rescue; i++ {
		v := r.AtFlat(i)
		rescue = math.IsInf(v, 1) || v < tiny
	}
	if rescue {
		m := Max(Abs(a), axes, true)
		scale := Map(m, func(v float64) float64 {
			if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				return 1
			}
			return v
		})
		scaled := Mul(Sqrt(Sum(Square(Div(a, scale)), axes, true)), scale)
		r = Where(Map(r, func(v float64) float64 { return b2f(math.IsInf(v, 1) || v < tiny) }), scaled, r)
	}
	return r.Reshape(planReduce("Norm", a, axes, keepdims).shape...)
}

// ArgMax returns, for every position of the other axes in row-major order,
// the index along axis of the largest element (the first one on ties; a
// NaN counts as largest).
func ArgMax(a *Tensor, axis int) []int { return argExt("ArgMax", a, axis, true) }

// ArgMin is ArgMax for the smallest element.
func ArgMin(a *Tensor, axis int) []int { return argExt("ArgMin", a, axis, false) }

func argExt(op string, a *Tensor, axis int, isMax bool) []int {
	axis = axisOf(op, a, axis)
	p := planReduce(op, a, []int{axis}, false)
	if p.r == 0 {
		panic(fmt.Sprintf("tensor.%s: empty axis %d of shape %v", op, axis, a.shape))
	}
	out := make([]int, p.outer*p.inner)
	for o := 0; o < p.outer; o++ {
		for i := 0; i < p.inner; i++ {
			best, bi := a.AtFlat(o*p.r*p.inner+i), 0
			for k := 1; k < p.r && best == best; k++ {
				v := a.AtFlat((o*p.r+k)*p.inner + i)
				if v != v || (isMax && v > best) || (!isMax && v < best) {
					best, bi = v, k
				}
			}
			out[o*p.inner+i] = bi
		}
	}
	return out
}

// Reshape returns t with a new shape of the same size, sharing storage
// (tensors are treated as immutable values). One dimension may be −1.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = cloneShape(shape)
	infer, n := -1, 1
	for i, d := range shape {
		if d == -1 {
			if infer >= 0 {
				panic(fmt.Sprintf("tensor.Reshape: more than one -1 in %v", shape))
			}
			infer = i
			continue
		}
		if d < 0 {
			panic(fmt.Sprintf("tensor.Reshape: negative dimension in %v", shape))
		}
		n *= d
	}
	if infer >= 0 {
		if n == 0 {
			panic(fmt.Sprintf("tensor.Reshape: cannot infer -1 in %v for shape %v (%d elements)", shape, t.shape, t.Size()))
		}
		shape[infer] = t.Size() / n
		n *= shape[infer]
	}
	if n != t.Size() {
		panic(fmt.Sprintf("tensor.Reshape: cannot reshape %v (%d elements) to %v", t.shape, t.Size(), shape))
	}
	return &Tensor{dtype: t.dtype, shape: shape, f64: t.f64, f32: t.f32, arena: t.arena}
}

// Permute returns t with its axes reordered: axis i of the result is axis
// perm[i] of t (a copy).
func Permute(t *Tensor, perm ...int) *Tensor {
	nd := len(t.shape)
	if len(perm) != nd {
		panic(fmt.Sprintf("tensor.Permute: permutation %v for shape %v", perm, t.shape))
	}
	seen := make([]bool, nd)
	shape := make([]int, nd)
	for i, p := range perm {
		if p < 0 || p >= nd || seen[p] {
			panic(fmt.Sprintf("tensor.Permute: invalid permutation %v for shape %v", perm, t.shape))
		}
		seen[p] = true
		shape[i] = t.shape[p]
	}
	r := t.like(shape)
	if nd == 0 || r.Size() == 0 {
		copy(r.f64, t.f64)
		copy(r.f32, t.f32)
		return r
	}
	// strides of t, permuted into the result's axis order
	st := make([]int, nd)
	acc := 1
	for i := nd - 1; i >= 0; i-- {
		st[i] = acc
		acc *= t.shape[i]
	}
	ps := make([]int, nd)
	for i, p := range perm {
		ps[i] = st[p]
	}
	inner := ps[nd-1]
	if r.dtype.is64() {
		forBroadcast(shape, ps, ps, func(o, ia, _, n int) { gatherRun(r.f64[o:o+n], t.f64[ia:], inner) })
	} else {
		forBroadcast(shape, ps, ps, func(o, ia, _, n int) { gatherRun(r.f32[o:o+n], t.f32[ia:], inner) })
	}
	return r
}

// Transpose swaps the last two axes of t (a copy). t must have at least two
// dimensions.
func Transpose(t *Tensor) *Tensor {
	nd := len(t.shape)
	if nd < 2 {
		panic(fmt.Sprintf("tensor.Transpose: need at least 2 dimensions, have shape %v", t.shape))
	}
	perm := make([]int, nd)
	for i := range perm {
		perm[i] = i
	}
	perm[nd-2], perm[nd-1] = nd-1, nd-2
	return Permute(t, perm...)
}

// gatherRun copies src[k·stride] to dst[k].
func gatherRun[T float32 | float64](dst, src []T, stride int) {
	if stride == 1 {
		copy(dst, src[:len(dst)])
		return
	}
	for k := range dst {
		dst[k] = src[k*stride]
	}
}
