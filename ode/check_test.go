package ode

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// TestGradientChecker runs the generic checker of package ad (finite
// differences, JVP against VJP, second order) on solutions with a smooth
// field, for each fixed-step method and both adjoints' exact variant.
func TestGradientChecker(t *testing.T) {
	rng := tensor.NewRNG(21)
	W := rng.Normal(tensor.Float64, 2, 2)
	f := func(tt float64, x *ad.Var, th []*ad.Var) *ad.Var {
		return ad.Tanh(ad.Add(ad.Reshape(ad.MatMul(th[0], ad.Reshape(x, -1, 1)), -1), ad.Scale(x, tt)))
	}
	x0 := tensor.FromFloat64s(tensor.Float64, []float64{0.3, -0.7}, 2)
	for _, o := range []Options{
		{Method: Euler, Step: 0.1, SaveAt: []float64{0.5, 1}},
		{Method: Heun, Step: 0.1, Adjoint: DiscreteAdjoint{Checkpoints: 3}},
		{Method: RK4, Step: 0.25, SaveAt: []float64{0.3, 1}},
	} {
		sol := func(xs ...*ad.Var) *ad.Var {
			s, err := Solve(f, xs[0], xs[1:], 0, 1, o)
			if err != nil {
				panic(err)
			}
			return s.X
		}
		if err := check.All(sol, []*tensor.Tensor{x0, W}, &check.Options{Name: "ode " + o.Method.String()}); err != nil {
			t.Error(err)
		}
	}
	// Dopri5: the accepted steps change with the inputs, so only the
	// modes are compared with each other
	sol := func(xs ...*ad.Var) *ad.Var {
		s, err := Solve(f, xs[0], xs[1:], 0, 1, Options{RTol: 1e-7, SaveAt: []float64{0.4, 1}, Adjoint: DiscreteAdjoint{Checkpoints: 2}})
		if err != nil {
			panic(err)
		}
		return s.X
	}
	if err := check.Consistency(sol, []*tensor.Tensor{x0, W}, &check.Options{Name: "ode dopri5"}); err != nil {
		t.Error(err)
	}
}
