package ot

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// TestTruncatedModes: one-step and k-step derivatives of the plan differ
// from the implicit one by an error that does not vanish for one step and
// decreases with K (Sinkhorn converges linearly, so the one-step
// derivative is not the implicit one).
func TestTruncatedModes(t *testing.T) {
	C, a, b := smallProblem(7, 5, 1)
	dC := tensor.NewRNG(10).Normal(tensor.Float64, 7, 5)
	tangent := func(mode iterdiff.Mode) *tensor.Tensor {
		_, tan, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], ad.Const(a), ad.Const(b), Options{Eps: 0.05, Tol: 1e-14, MaxIter: 100000, Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			return res.Plan
		}, []*ad.Var{ad.Const(C)}, []*ad.Var{ad.Const(dC)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tan.Value()
	}
	ref := tangent(iterdiff.Implicit{})
	scale := norm(ref)
	prev := math.Inf(1)
	for _, m := range []iterdiff.Mode{iterdiff.OneStep{}, iterdiff.KStep{K: 5}, iterdiff.KStep{K: 20}, iterdiff.KStep{K: 80}} {
		e := norm(tensor.Sub(tangent(m), ref)) / scale
		t.Logf("%-8s %v: relative error vs implicit %.2e", iterdiff.ModeName(m), m, e)
		if !(e < prev) {
			t.Errorf("%v: error %.3g does not decrease", m, e)
		}
		prev = e
	}
}

// TestSecondOrder: a Hessian-vector product of the regularized cost in C
// through the implicit mode matches central differences of gradients.
func TestSecondOrder(t *testing.T) {
	C, a, b := smallProblem(5, 4, 7)
	V := tensor.NewRNG(3).Normal(tensor.Float64, 5, 4)
	o := Options{Eps: 0.2, Tol: 1e-14, MaxIter: 100000}
	cost := func(xs ...*ad.Var) *ad.Var {
		res, err := Sinkhorn(xs[0], ad.Const(a), ad.Const(b), o)
		if err != nil {
			t.Fatal(err)
		}
		return res.Cost
	}
	hv, err := ad.HVP(cost, []*ad.Var{ad.Const(C)}, []*ad.Var{ad.Const(V)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	grad := func(C *tensor.Tensor) *tensor.Tensor {
		g, err := ad.Grad(cost, []*ad.Var{ad.Const(C)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g[0].Value()
	}
	h := 1e-5
	fd := tensor.Scale(tensor.Sub(grad(tensor.Add(C, tensor.Scale(V, h))), grad(tensor.Sub(C, tensor.Scale(V, h)))), 1/(2*h))
	d := maxAbsDiff(hv[0].Value(), fd)
	t.Logf("HVP through implicit Sinkhorn vs FD of gradients: max diff %.2e (|HVP| %.2e)", d, norm(fd))
	if d > 1e-7 {
		t.Errorf("HVP off by %.3g", d)
	}
}
