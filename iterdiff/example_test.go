package iterdiff_test

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
)

// Differentiate the ridge solution x*(λ) = argmin ½‖Ax − y‖² + λ/2‖x‖²,
// computed by gradient descent, with respect to λ: implicitly (one linear
// solve at the solution) and by piggyback (forward derivative recursion).
// The closed forms, x* = (AᵀA + λI)⁻¹Aᵀy = [5, 23.5]/12.75 and
// dx*/dλ = −(AᵀA + λI)⁻¹x*, agree to the digits printed.
func ExampleFixedPoint() {
	A := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{2, 0, 1, 1, 0, 1}, 3, 2))
	y := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3}))
	grad := func(x *ad.Var, theta []*ad.Var) *ad.Var {
		r := ad.Sub(iterdiff.MatVec(A, x, false), y)
		return ad.Add(iterdiff.MatVec(A, r, true), ad.Mul(theta[0], x))
	}
	step := iterdiff.GradientDescent(grad, iterdiff.Constant(0.15))
	x0 := ad.Const(tensor.Zeros(tensor.Float64, 2))
	lambda := ad.Scalar(tensor.Float64, 0.5)

	for _, mode := range []iterdiff.Mode{iterdiff.Implicit{Solver: linsolve.MethodCG}, iterdiff.Piggyback{}} {
		var info *iterdiff.Info
		x, dx, err := ad.JVP(func(th ...*ad.Var) *ad.Var {
			sol, in, err := iterdiff.FixedPoint(step, []*ad.Var{x0}, th, iterdiff.Options{Mode: mode, Tol: 1e-14})
			if err != nil {
				panic(err)
			}
			info = in
			return sol[0]
		}, []*ad.Var{lambda}, []*ad.Var{ad.Scalar(tensor.Float64, 1)}, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-9s x* = [%.6f %.6f]  dx*/dλ = [%.6f %.6f]  (%d iterations, converged %v)\n",
			info.Mode, x.Value().AtFlat(0), x.Value().AtFlat(1), dx.Value().AtFlat(0), dx.Value().AtFlat(1), info.Iterations, info.Converged)
	}
	// Output:
	// implicit  x* = [0.392157 1.843137]  dx*/dλ = [0.067666 -0.764321]  (81 iterations, converged true)
	// piggyback x* = [0.392157 1.843137]  dx*/dλ = [0.067666 -0.764321]  (81 iterations, converged true)
}

// Root differentiates the solution of an optimality condition found by any
// solver: here the square root x = √θ as the root of F(x, θ) = x² − θ,
// found by Newton's method on plain floats; dx/dθ = 1/(2√θ).
func ExampleRoot() {
	F := func(x, theta []*ad.Var) []*ad.Var {
		return []*ad.Var{ad.Sub(ad.Square(x[0]), theta[0])}
	}
	solve := func(theta []*tensor.Tensor) ([]*tensor.Tensor, error) {
		t, x := theta[0].Item(), 1.0
		for i := 0; i < 60; i++ {
			x -= (x*x - t) / (2 * x)
		}
		return []*tensor.Tensor{tensor.Scalar(tensor.Float64, x)}, nil
	}
	theta := ad.Scalar(tensor.Float64, 4)
	g, err := ad.Grad(func(th ...*ad.Var) *ad.Var {
		x, _, err := iterdiff.Root(F, solve, th, iterdiff.Options{})
		if err != nil {
			panic(err)
		}
		return x[0]
	}, []*ad.Var{theta}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("d√θ/dθ at θ = 4: %.6f\n", g[0].Item())
	// Output: d√θ/dθ at θ = 4: 0.250000
}

// LinearSolve is a differentiable x = A(p)⁻¹b for an operator given as a
// function of its parameters: here A(s) = [[2, s], [s, 3]] and b fixed;
// dx/ds = −A⁻¹(∂A/∂s)x.
func ExampleLinearSolve() {
	op := func(v *ad.Var, p []*ad.Var) *ad.Var {
		v0 := ad.SliceAxis(v, 0, 0, 1)
		v1 := ad.SliceAxis(v, 0, 1, 2)
		return ad.Concat(0, ad.Add(ad.Scale(v0, 2), ad.Mul(p[0], v1)), ad.Add(ad.Mul(p[0], v0), ad.Scale(v1, 3)))
	}
	b := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1, 1}))
	s := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1}))
	x, dx, err := ad.JVP(func(p ...*ad.Var) *ad.Var {
		return iterdiff.LinearSolve(op, b, p, &iterdiff.LinearOptions{Method: linsolve.MethodCG, Symmetric: true})
	}, []*ad.Var{s}, []*ad.Var{ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1}))}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("x = [%.4f %.4f], dx/ds = [%.4f %.4f]\n", x.Value().AtFlat(0), x.Value().AtFlat(1), dx.Value().AtFlat(0), dx.Value().AtFlat(1))
	// Output: x = [0.4000 0.2000], dx/ds = [-0.0400 -0.1200]
}

// Reverse mode through 10,000 iterations with bounded memory: recursive
// checkpointing keeps O(log K) states with Checkpoints: 2 and about 2√K by
// default, instead of K+1, for the same gradient. Here x_{k+1} =
// 0.9·x_k + θ, so x_K = 0.9^K·x₀ + 10(1 − 0.9^K)·θ.
func ExampleUnroll() {
	step := func(k int, x, theta []*ad.Var) []*ad.Var {
		return []*ad.Var{ad.Add(ad.Scale(x[0], 0.9), theta[0])}
	}
	x0 := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1}))
	theta := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0.5}))
	for _, c := range []int{iterdiff.CheckpointNone, iterdiff.CheckpointSqrt, 2} {
		var info *iterdiff.Info
		g, err := ad.Grad(func(th ...*ad.Var) *ad.Var {
			x, in, err := iterdiff.FixedPoint(step, []*ad.Var{x0}, th, iterdiff.Options{
				Mode: iterdiff.Unroll{Checkpoints: c}, Tol: -1, MaxIter: 10000})
			if err != nil {
				panic(err)
			}
			info = in
			return ad.SumAll(x[0])
		}, []*ad.Var{theta}, nil)
		if err != nil {
			panic(err)
		}
		fmt.Printf("Checkpoints %2d: dx_K/dθ = %.6f, %5d stored states, %6d steps replayed\n", c, g[0].Value().AtFlat(0), info.StoredStates, info.Recomputed)
	}
	// Output:
	// Checkpoints -1: dx_K/dθ = 10.000000, 10001 stored states,  10000 steps replayed
	// Checkpoints  0: dx_K/dθ = 10.000000,   200 stored states,  19900 steps replayed
	// Checkpoints  2: dx_K/dθ = 10.000000,    15 stored states,  74912 steps replayed
}
