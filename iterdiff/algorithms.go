package iterdiff

import "github.com/gradus-ml/gradus/ad"

// MatVec returns a·x for a matrix a and a vector x (aᵀ·x if trans).
func MatVec(a, x *ad.Var, trans bool) *ad.Var {
	n := x.Shape()[0]
	y := ad.MatMulT(a, ad.Reshape(x, n, 1), trans, false)
	return ad.Reshape(y, -1)
}

// Gradient is ∇ₓf(x, θ) written with ad operations.
type Gradient func(x *ad.Var, theta []*ad.Var) *ad.Var

// Schedule is a step size per iteration.
type Schedule func(k int) float64

// Constant is the constant schedule γ.
func Constant(gamma float64) Schedule { return func(int) float64 { return gamma } }

// GradientDescent is the step x ← x − γ_k ∇ₓf(x, θ) on a one-part state.
func GradientDescent(grad Gradient, gamma Schedule) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		return []*ad.Var{ad.Sub(x[0], ad.Scale(grad(x[0], th), gamma(k)))}
	}
}
