package ad

import (
	"math"
	"slices"
	"sync/atomic"

	"github.com/gradus-ml/gradus/internal/kernels"

	"github.com/gradus-ml/gradus/tensor"
)

// Helpers shared by the derivative rules of the primitives.

// plus returns a + b where either may be nil (zero); nil if both are.
func plus(a, b *Var) *Var {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return Add(a, b)
}

// bilinearJVP is the tangent of a bilinear primitive f(a, b) of its first
// two inputs: f(ȧ, b) + f(a, ḃ), skipping zero tangents.
func bilinearJVP(c *Call, t []*Var, f func(a, b *Var) *Var) *Var {
	var r *Var
	if t[0] != nil {
		r = f(t[0], c.In[1])
	}
	if t[1] != nil {
		r = plus(r, f(c.In[0], t[1]))
	}
	return r
}

// fit broadcasts v to shape when its shape differs (a tangent of a
// broadcast input must have the output's shape).
func fit(v *Var, shape []int) *Var {
	if v == nil || slices.Equal(v.Shape(), shape) {
		return v
	}
	return BroadcastTo(v, shape...)
}

// unbroadcast sums g down to shape when they differ (the cotangent of a
// broadcast input).
func unbroadcast(g *Var, shape []int) *Var {
	if g == nil || slices.Equal(g.Shape(), shape) {
		return g
	}
	return SumTo(g, shape...)
}

// constLike returns a constant tensor of v with value c everywhere.
func constLike(v *Var, c float64) *Var { return Const(tensor.FullLike(v.val, c)) }

// mask returns a constant Var, shaped like x, from f applied to x's values.
func mask(x *Var, f func(float64) float64) *Var { return Const(tensor.Map(x.val, f)) }

// countWhere counts the elements of t where f holds.
func countWhere(t *tensor.Tensor, f func(float64) bool) int {
	n := 0
	if t.DType() == tensor.Float64 {
		for _, v := range t.Data64() {
			if f(v) {
				n++
			}
		}
		return n
	}
	for _, v := range t.Data32() {
		if f(float64(v)) {
			n++
		}
	}
	return n
}

// countEq counts the elements of t equal to a or to b (a NaN matches
// nothing; pass a == b for one value). With nan set, NaN elements count
// too. It is countWhere for the kink sets of the piecewise primitives, as
// a typed loop.
func countEq(t *tensor.Tensor, a, b float64, nan bool) int {
	if t.DType() == tensor.Float64 {
		return countEqPar(t.Data64(), a, b, nan)
	}
	a32, b32 := float32(a), float32(b)
	if float64(a32) != a && float64(b32) != b {
		// neither value is a float32: only NaNs can count
		if !nan {
			return 0
		}
		return countEqPar(t.Data32(), float32(math.NaN()), float32(math.NaN()), true)
	}
	if float64(a32) != a {
		a32 = b32
	}
	if float64(b32) != b {
		b32 = a32
	}
	return countEqPar(t.Data32(), a32, b32, nan)
}

// countEqPar splits countEqLoop over goroutines for large slices.
func countEqPar[T float32 | float64](s []T, a, b T, nan bool) int {
	var total atomic.Int64
	parallelRange(len(s), func(lo, hi int) { total.Add(int64(countEqLoop(s[lo:hi], a, b, nan))) })
	return int(total.Load())
}

func countEqLoop[T float32 | float64](s []T, a, b T, nan bool) int {
	n := 0
	switch {
	case a == b && !nan:
		for _, v := range s {
			if v == a {
				n++
			}
		}
	case !nan:
		for _, v := range s {
			if v == a || v == b {
				n++
			}
		}
	default:
		for _, v := range s {
			if v == a || v == b || v != v {
				n++
			}
		}
	}
	return n
}

// parMin is the number of elements below which an elementwise rule runs
// on the calling goroutine alone.
const parMin = 1 << 15

// parallelRange calls f on disjoint ranges [lo, hi) covering [0, n), on up
// to kernels.Threads() goroutines when n is large; range bounds are
// multiples of 16 elements, so goroutines writing a float32 or float64
// slice do not share cache lines.
func parallelRange(n int, f func(lo, hi int)) { kernels.ParallelFor(n, parMin, 16, f) }

// parallelRows calls f on disjoint row ranges [r0, r1) covering [0, rows)
// of rows of n elements, on up to kernels.Threads() goroutines when there
// are at least parMin elements per goroutine.
func parallelRows(rows, n int, f func(r0, r1 int)) {
	kernels.ParallelFor(rows, max(1, parMin/max(n, 1)), 1, f)
}

// elementwise returns a Flops function for an elementwise primitive whose
// forward costs fwd flops per output element, its JVP jvp and its VJP vjp.
func elementwise(fwd, jvp, vjp float64) func([]*tensor.Tensor, *tensor.Tensor, any) Cost {
	return func(_ []*tensor.Tensor, out *tensor.Tensor, _ any) Cost {
		n := float64(out.Size())
		return Cost{Fwd: fwd * n, JVP: jvp * n, VJP: vjp * n}
	}
}
