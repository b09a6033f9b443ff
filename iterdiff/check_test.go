package iterdiff

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
)

// TestPrimitivesWithCheck runs ad/check (finite differences, JVP against
// VJP, and second order: HVP against finite differences of gradients and
// reverse-over-reverse, reverse-over-forward, forward-over-forward) on the
// solution maps of FixedPoint in the modes exact at convergence, on Root
// and on LinearSolve, for a smooth nonlinear problem.
func TestPrimitivesWithCheck(t *testing.T) {
	rng := newRNG(30)
	m, n := 5, 3
	A := randMat(rng, m, n)
	Av := matVar(A)
	// x*(θ) = argmin ½‖Ax − θ₀‖² + Σ softplus(θ₁ ⊙ x)  (θ₁ small, strongly convex)
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		g := MatVec(Av, ad.Sub(MatVec(Av, x, false), th[0]), true)
		return ad.Add(g, ad.Mul(th[1], ad.Sigmoid(ad.Mul(th[1], x))))
	}
	_, L := extremeEig(A, 1)
	T := GradientDescent(grad, Constant(1/L))
	x0 := vecVar(make([]float64, n))
	th0 := tensor.FromFloat64s(tensor.Float64, randVec(rng, m))
	th1 := tensor.FromFloat64s(tensor.Float64, []float64{0.3, -0.2, 0.4})
	for _, mode := range []Mode{Implicit{}, Piggyback{}, Unroll{Checkpoints: 3}} {
		f := func(xs ...*ad.Var) *ad.Var {
			x, _, err := FixedPoint(T, []*ad.Var{x0}, xs, Options{Mode: mode, Tol: 1e-15, MaxIter: 20000})
			if err != nil {
				panic(err)
			}
			return x[0]
		}
		if err := check.All(f, []*tensor.Tensor{th0, th1}, &check.Options{Name: "FixedPoint/" + ModeName(mode), Seed: 1}); err != nil {
			t.Errorf("%v", err)
		}
	}
	// Root of ∇f = 0 with a GD solver on values
	root := func(xs ...*ad.Var) *ad.Var {
		solve := func(th []*tensor.Tensor) ([]*tensor.Tensor, error) {
			x, _, err := FixedPoint(T, []*ad.Var{x0}, consts(th), Options{Mode: Detach{}, Tol: 1e-15, MaxIter: 20000})
			if err != nil {
				return nil, err
			}
			return []*tensor.Tensor{x[0].Value()}, nil
		}
		F := func(x, th []*ad.Var) []*ad.Var { return []*ad.Var{grad(x[0], th)} }
		x, _, err := Root(F, solve, xs, Options{Mode: Implicit{Solver: linsolve.MethodMINRES}})
		if err != nil {
			panic(err)
		}
		return x[0]
	}
	if err := check.All(root, []*tensor.Tensor{th0, th1}, &check.Options{Name: "Root", Seed: 2}); err != nil {
		t.Errorf("%v", err)
	}
	// LinearSolve with an operator A(p) = AᵀA + diag(p²) + I, both b and p
	// differentiated, by a Krylov and a dense method
	for _, method := range []linsolve.Method{linsolve.MethodGMRES, linsolve.MethodLU} {
		op := func(v *ad.Var, p []*ad.Var) *ad.Var {
			return ad.Add(ad.Add(MatVec(Av, MatVec(Av, v, false), true), ad.Mul(ad.Square(p[0]), v)), v)
		}
		f := func(xs ...*ad.Var) *ad.Var {
			return LinearSolve(op, xs[0], xs[1:], &LinearOptions{Method: method, Solve: linsolve.Options{Tol: 1e-14}})
		}
		b := tensor.FromFloat64s(tensor.Float64, randVec(rng, n))
		p := tensor.FromFloat64s(tensor.Float64, randVec(rng, n))
		if err := check.All(f, []*tensor.Tensor{b, p}, &check.Options{Name: "LinearSolve/" + string(method), Seed: 3}); err != nil {
			t.Errorf("%v", err)
		}
	}
}
