package prox_test

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/prox"
	"github.com/gradus-ml/gradus/tensor"
)

// Projecting the rows of a matrix onto the probability simplex, and the
// derivative at a point where an entry sits exactly at the threshold:
// Policy.SortTie says whether that entry counts in the support.
func Example() {
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{
		0.2, 0.9, -0.4,
		2, 1, 0, // τ = 1: the entry 1 is exactly at the threshold
	}, 2, 3))
	fmt.Printf("%.4g\n", prox.ProjSimplex(x, 1).Value().Float64s())

	// derivative of the second row along e₁
	v := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0, 0, 0, 0, 1, 0}, 2, 3))
	f := func(xs ...*ad.Var) *ad.Var { return prox.ProjSimplex(xs[0], 1) }
	for _, tie := range []ad.TieRule{ad.TieFirst, ad.TieLast, ad.TieSplit} {
		st := &ad.Stats{}
		_, t, err := ad.JVP(f, []*ad.Var{x}, []*ad.Var{v}, &ad.Options{Policy: ad.Policy{SortTie: tie}, Stats: st})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-5v %v kinks %d\n", tie, t.Value().Float64s()[3:], st.Kinks["proj_simplex"])
	}
	// Output:
	// [0.15 0.85 0 1 0 0]
	// first [0 0 0] kinks 1
	// last  [-0.5 0.5 0] kinks 1
	// split [-0.25 0.25 0] kinks 1
}

// The Policy choice multiplies the derivative: an intermediate value gives
// the convex combination of the one-sided Jacobians (here Clamp = 0.25 on
// the l2 sphere).
func ExampleProjL2Ball() {
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{3, 4}))
	f := func(v *ad.Var) *ad.Var { return prox.ProjL2Ball(v, 5) }
	for _, c := range []float64{0, 1, 0.25} {
		j, err := ad.Jacobian(f, x, ad.Reverse, &ad.Options{Policy: ad.Policy{Clamp: c}})
		if err != nil {
			panic(err)
		}
		fmt.Printf("Clamp = %v: J = %.4f\n", c, j.Value().Float64s())
	}
	// Output:
	// Clamp = 0: J = [0.6400 -0.4800 -0.4800 0.3600]
	// Clamp = 1: J = [1.0000 0.0000 0.0000 1.0000]
	// Clamp = 0.25: J = [0.7300 -0.3600 -0.3600 0.5200]
}

// The gradient of a loss with respect to the threshold of soft-thresholding:
// ∂/∂λ soft(x, λ) = −sign(x) on the active set.
func ExampleL1Var() {
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{3, -2, 0.5}))
	lambda := ad.Scalar(tensor.Float64, 1)
	// loss = ½‖soft(x, λ)‖²
	loss := func(v ...*ad.Var) *ad.Var {
		z := prox.L1Var(v[0], v[1])
		return ad.Scale(ad.SumAll(ad.Mul(z, z)), 0.5)
	}
	g, err := ad.Grad(loss, []*ad.Var{x, lambda}, nil)
	if err != nil {
		panic(err)
	}
	// z = (2, −1, 0): ∂/∂x = z, ∂/∂λ = Σ zᵢ·(−sign xᵢ) = −2 − 1
	fmt.Println(g[0].Value().Float64s(), g[1].Item())
	// Output: [2 -1 0] -3
}

// Block soft-thresholding: the first group is shrunk toward 0, the second
// (norm below λ) is zeroed, the last position is in no group.
func ExampleGroupLasso() {
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{3, 4, 0.3, 0.4, 7}))
	z := prox.GroupLasso(x, 1, [][]int{{0, 1}, {2, 3}})
	fmt.Printf("%.4g\n", z.Value().Float64s())
	// Output: [2.4 3.2 0 0 7]
}

// The hinge prox moves points below the margin up by λ, puts those within
// λ of it on the margin and leaves the others.
func ExampleHinge() {
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{-2, 0.6, 1.5}))
	fmt.Println(prox.Hinge(x, 0.5).Value().Float64s())
	// Output: [-1.5 1 1.5]
}
