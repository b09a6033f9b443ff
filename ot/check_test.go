package ot

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// TestGradientChecker runs the generic checker of package ad on the plan
// (implicit and unrolled modes: finite differences, JVP against VJP, and
// second order for implicit) and on the envelope cost (first order only:
// the envelope rule is not differentiable again by design).
func TestGradientChecker(t *testing.T) {
	C, a, b := smallProblem(4, 3, 8)
	for _, mode := range []iterdiff.Mode{iterdiff.Implicit{}, iterdiff.Unroll{}} {
		o := Options{Eps: 0.3, Tol: 1e-14, MaxIter: 100000, Mode: mode}
		plan := func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], ad.Const(a), ad.Const(b), o)
			if err != nil {
				panic(err)
			}
			return res.Plan
		}
		copt := &check.Options{Name: "sinkhorn plan " + iterdiff.ModeName(mode), Atol: 1e-7, Rtol: 1e-6}
		var err error
		if _, ok := mode.(iterdiff.Implicit); ok {
			err = check.All(plan, []*tensor.Tensor{C}, copt)
		} else {
			if err = check.Gradient(plan, []*tensor.Tensor{C}, copt); err == nil {
				err = check.JVPvsVJP(plan, []*tensor.Tensor{C}, copt)
			}
		}
		if err != nil {
			t.Error(err)
		}
	}
	o := Options{Eps: 0.3, Tol: 1e-14, MaxIter: 100000, Envelope: true, Mode: iterdiff.Detach{}, TauA: 0.5, TauB: 0.5}
	cost := func(xs ...*ad.Var) *ad.Var {
		res, err := Sinkhorn(xs[0], xs[1], xs[2], o)
		if err != nil {
			panic(err)
		}
		return res.Cost
	}
	copt := &check.Options{Name: "envelope cost", Atol: 1e-7, Rtol: 1e-6}
	xs := []*tensor.Tensor{C, a, b}
	for _, f := range []func(ad.Func, []*tensor.Tensor, *check.Options) error{check.Gradient, check.Forward, check.JVPvsVJP} {
		if err := f(cost, xs, copt); err != nil {
			t.Error(err)
		}
	}
}
