package ot

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// TestBatch: a batch gives the same plans, costs and gradients as the
// problems solved one by one.
func TestBatch(t *testing.T) {
	var Cs, as []*tensor.Tensor
	for s := uint64(0); s < 3; s++ {
		C, a, _ := smallProblem(6, 5, 20+s)
		Cs, as = append(Cs, C), append(as, a)
	}
	C, a := tensor.Stack(0, Cs...), tensor.Stack(0, as...)
	o := Options{Eps: 0.1, Tol: 1e-13}
	var br *BatchResult
	g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
		var err error
		br, err = SinkhornBatch(xs[0], xs[1], nil, o)
		if err != nil {
			t.Fatal(err)
		}
		return ad.SumAll(br.Cost)
	}, []*ad.Var{ad.Const(C), ad.Const(a)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range Cs {
		gi, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], ad.Const(as[i]), nil, o)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(res.Plan.Value(), tensor.Slice(br.Plan.Value(), 0, i, i+1)); d > 1e-15 {
				t.Errorf("problem %d: plans differ by %.3g", i, d)
			}
			return res.Cost
		}, []*ad.Var{ad.Const(Cs[i])}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(gi[0].Value(), tensor.Slice(g[0].Value(), 0, i, i+1)); d > 1e-14 {
			t.Errorf("problem %d: gradients differ by %.3g", i, d)
		}
		if !br.Infos[i].Converged {
			t.Errorf("problem %d not converged", i)
		}
	}
}

// TestDivergence: S(α, α) = 0, S(α, β) > 0, and its gradient in the points
// matches finite differences (envelope and implicit).
func TestDivergence(t *testing.T) {
	rng := tensor.NewRNG(5)
	x := rng.Uniform(tensor.Float64, 0, 1, 8, 2)
	y := rng.Uniform(tensor.Float64, 0.3, 1.3, 6, 2)
	self, _, err := Divergence(ad.Const(x), ad.Const(x), nil, nil, nil, Options{Eps: 0.1, Tol: 1e-13, Mode: iterdiff.Detach{}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(self.Item()) > 1e-12 {
		t.Errorf("S(α, α) = %g", self.Item())
	}
	for _, env := range []bool{true, false} {
		o := Options{Eps: 0.1, Tol: 1e-13, Envelope: env}
		div := func(x *tensor.Tensor) float64 {
			s, _, err := Divergence(ad.Const(x), ad.Const(y), nil, nil, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			return s.Item()
		}
		if s := div(x); !(s > 0) {
			t.Errorf("S(α, β) = %g", s)
		}
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			s, _, err := Divergence(xs[0], ad.Const(y), nil, nil, nil, o)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, []*ad.Var{ad.Const(x)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		h := 1e-6
		for i := 0; i < x.Size(); i++ {
			xp, xm := x.Clone(), x.Clone()
			xp.SetFlat(i, x.AtFlat(i)+h)
			xm.SetFlat(i, x.AtFlat(i)-h)
			worst = math.Max(worst, math.Abs((div(xp)-div(xm))/(2*h)-g[0].Value().AtFlat(i)))
		}
		t.Logf("envelope %v: gradient in the points vs FD: %.2e", env, worst)
		if worst > 1e-7 {
			t.Errorf("envelope %v: divergence gradient off by %.3g", env, worst)
		}
	}
}
