package prox_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// vec returns a float64 tensor with the values v, shaped like shape (a
// vector when shape is empty).
func vec(v []float64, shape ...int) *tensor.Tensor {
	return tensor.FromFloat64s(tensor.Float64, v, shape...)
}

// val evaluates f at constant inputs.
func val(f ad.Func, xs ...*tensor.Tensor) []float64 {
	vs := make([]*ad.Var, len(xs))
	for i, x := range xs {
		vs[i] = ad.Const(x)
	}
	return f(vs...).Value().Float64s()
}

// maxDiff is max |a − b|.
func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		d := math.Abs(a[i] - b[i])
		if d != d {
			return math.Inf(1)
		}
		m = max(m, d)
	}
	return m
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// norm is the Euclidean norm.
func norm(v []float64) float64 { return math.Sqrt(dot(v, v)) }

// bisectTau finds τ with Σ max(aᵢ − τ, 0) = s by bisection, independently
// of the sort-based algorithm.
func bisectTau(a []float64, s float64) float64 {
	lo, hi := slices.Min(a)-s, slices.Max(a)
	for range 200 {
		mid := (lo + hi) / 2
		t := 0.0
		for _, v := range a {
			t += max(v-mid, 0)
		}
		if t > s {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// slowSimplex projects a onto {z ≥ 0, Σz = s} by bisection on τ.
func slowSimplex(a []float64, s float64) []float64 {
	tau := bisectTau(a, s)
	z := make([]float64, len(a))
	for i, v := range a {
		z[i] = max(v-tau, 0)
	}
	return z
}

// slowL1Ball projects a onto {‖z‖₁ ≤ r} through slowSimplex of |a|.
func slowL1Ball(a []float64, r float64) []float64 {
	l1 := 0.0
	abs := make([]float64, len(a))
	for i, v := range a {
		abs[i] = math.Abs(v)
		l1 += abs[i]
	}
	if l1 <= r {
		return slices.Clone(a)
	}
	z := slowSimplex(abs, r)
	for i, v := range a {
		if v < 0 {
			z[i] = -z[i]
		}
	}
	return z
}

// jvp returns the JVP of f at xs along vs under pol.
func jvp(t *testing.T, f ad.Func, xs, vs []*tensor.Tensor, pol ad.Policy, st *ad.Stats) []float64 {
	t.Helper()
	x := make([]*ad.Var, len(xs))
	v := make([]*ad.Var, len(vs))
	for i := range xs {
		x[i], v[i] = ad.Const(xs[i]), ad.Const(vs[i])
	}
	_, tan, err := ad.JVP(f, x, v, &ad.Options{Policy: pol, Stats: st})
	if err != nil {
		t.Fatal(err)
	}
	return tan.Value().Float64s()
}

// vjp returns Jᵀu for every input of f at xs under pol.
func vjp(t *testing.T, f ad.Func, xs []*tensor.Tensor, u *tensor.Tensor, pol ad.Policy) [][]float64 {
	t.Helper()
	x := make([]*ad.Var, len(xs))
	for i := range xs {
		x[i] = ad.Const(xs[i])
	}
	_, gs, err := ad.VJP(f, x, ad.Const(u), &ad.Options{Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(gs))
	for i, g := range gs {
		out[i] = g.Value().Float64s()
	}
	return out
}

// oneSided returns the one-sided derivative of f at xs along vs, from the
// right (side = +1: points xs + ε·vs) or from the left (side = −1), by the
// second-order one-sided difference (exact on affine pieces).
func oneSided(f ad.Func, xs, vs []*tensor.Tensor, side float64) []float64 {
	const eps = 1e-5
	at := func(t float64) []float64 {
		ys := make([]*tensor.Tensor, len(xs))
		for i := range xs {
			ys[i] = tensor.Add(xs[i], tensor.Scale(vs[i], t))
		}
		return val(f, ys...)
	}
	f0, f1, f2 := at(0), at(side*eps), at(2*side*eps)
	d := make([]float64, len(f0))
	for i := range d {
		d[i] = side * (-3*f0[i] + 4*f1[i] - f2[i]) / (2 * eps)
	}
	return d
}
