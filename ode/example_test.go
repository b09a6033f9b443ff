package ode_test

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ode"
	"github.com/gradus-ml/gradus/tensor"
)

// Exponential decay x' = −kx: the solution, its step statistics, and the
// derivative of x(1) with respect to k, −e^(−k), by the discrete adjoint.
func ExampleSolve() {
	decay := func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.Neg(ad.Mul(th[0], x)) }
	x0 := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1}, 1))
	k := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1}, 1))
	o := ode.Options{RTol: 1e-10, ATol: 1e-12, SaveAt: []float64{0.5, 1}}
	var st *ode.Stats
	g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
		sol, err := ode.Solve(decay, x0, xs, 0, 1, o)
		if err != nil {
			panic(err)
		}
		st = sol.Stats
		fmt.Printf("x(0.5) = %.8f, x(1) = %.8f\n", sol.At(0).Item(), sol.Final().Item())
		return ad.SumAll(sol.Final())
	}, []*ad.Var{k}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("dx(1)/dk = %.8f (exact %.8f)\n", g[0].Item(), -math.Exp(-1))
	fmt.Println("rejected steps:", st.Rejected, "adjoint:", st.Sensitivity)
	// Output:
	// x(0.5) = 0.60653066, x(1) = 0.36787944
	// dx(1)/dk = -0.36787944 (exact -0.36787944)
	// rejected steps: 0 adjoint: discrete-adjoint
}

// The sensitivity of x' = −|x| at x(0) = 0 is e^(−sT) for abs'(0) = s:
// the Policy names the element of the generalized derivative.
func ExampleSolve_nonsmooth() {
	f := func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.Neg(ad.Abs(x)) }
	for _, s := range []float64{-1, 0, 1} {
		_, tan, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
			sol, err := ode.Solve(f, xs[0], nil, 0, 1, ode.Options{Method: ode.RK4, Step: 0.01})
			if err != nil {
				panic(err)
			}
			return sol.Final()
		}, []*ad.Var{ad.Const(tensor.Zeros(tensor.Float64, 1))}, []*ad.Var{ad.Const(tensor.Ones(tensor.Float64, 1))},
			&ad.Options{Policy: ad.Policy{Abs0: s}})
		if err != nil {
			panic(err)
		}
		fmt.Printf("abs'(0) = %+.0f: dx(1)/dθ = %.6f, e^(−s) = %.6f\n", s, tan.Item(), math.Exp(-s))
	}
	// Output:
	// abs'(0) = -1: dx(1)/dθ = 2.718282, e^(−s) = 2.718282
	// abs'(0) = +0: dx(1)/dθ = 1.000000, e^(−s) = 1.000000
	// abs'(0) = +1: dx(1)/dθ = 0.367879, e^(−s) = 0.367879
}

// An integral cost J(θ) = ∫₀¹ x(t)² dt for x' = θ, x(0) = 0, so
// J = θ²/3 and dJ/dθ = 2θ/3, by the continuous backsolve adjoint.
func ExampleObjective() {
	drift := func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return th[0] }
	cost := ode.Cost{Running: func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.SumAll(ad.Mul(x, x)) }}
	theta := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1.5}, 1))
	var st *ode.Stats
	g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
		J, s, err := ode.Objective(drift, cost, ad.Const(tensor.Zeros(tensor.Float64, 1)), xs, 0, 1,
			ode.Options{RTol: 1e-10, ATol: 1e-12, Adjoint: ode.Backsolve{}})
		if err != nil {
			panic(err)
		}
		st = s
		fmt.Printf("J = %.8f (exact %.8f)\n", J.Item(), 1.5*1.5/3)
		return J
	}, []*ad.Var{theta}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("dJ/dθ = %.8f (exact %.8f), approximate: %v\n", g[0].Item(), 2*1.5/3, st.Approximate)
	// Output:
	// J = 0.75000000 (exact 0.75000000)
	// dJ/dθ = 1.00000000 (exact 1.00000000), approximate: true
}
