package iterdiff

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
)

// Algorithms as steps. Each constructor returns a Step usable with every
// Mode. Problems are given by differentiable functions of the state and of
// the parameters θ: an Objective, its Gradient (hand-written for speed, or
// GradientOf an Objective), proximal operators (Prox).

// Objective is a scalar function f(x, θ) written with ad operations.
type Objective func(x *ad.Var, theta []*ad.Var) *ad.Var

// Gradient is ∇ₓf(x, θ) written with ad operations.
type Gradient func(x *ad.Var, theta []*ad.Var) *ad.Var

// GradientOf returns the gradient of f in x computed by reverse mode on a
// nested tape (so it is differentiable again). o sets the Policy of that
// tape for nonsmooth f (nil for defaults).
func GradientOf(f Objective, o *ad.Options) Gradient {
	return func(x *ad.Var, th []*ad.Var) *ad.Var {
		gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return f(xs[0], th) }, []*ad.Var{x}, o)
		if err != nil {
			panic(fmt.Sprintf("iterdiff.GradientOf: %v", err))
		}
		return gs[0]
	}
}

// MatVec returns a·x for a matrix a and a vector x (aᵀ·x if trans).
func MatVec(a, x *ad.Var, trans bool) *ad.Var {
	n := x.Shape()[0]
	return ad.Reshape(ad.MatMulT(a, ad.Reshape(x, n, 1), trans, false), -1)
}

// Schedule is a step size (or momentum) per iteration k = 0, 1, ...
type Schedule func(k int) float64

// Constant is the schedule γ_k = γ.
func Constant(gamma float64) Schedule { return func(int) float64 { return gamma } }

// InverseK is the schedule γ_k = γ₀/(k + k₀).
func InverseK(gamma0, k0 float64) Schedule {
	return func(k int) float64 { return gamma0 / (float64(k) + k0) }
}

// PowerDecay is the schedule γ_k = γ₀/(1 + k/k₀)^a.
func PowerDecay(gamma0, k0, a float64) Schedule {
	return func(k int) float64 { return gamma0 / math.Pow(1+float64(k)/k0, a) }
}

// NesterovMomentum is the schedule β_k = k/(k + 3) of accelerated methods.
func NesterovMomentum() Schedule { return func(k int) float64 { return float64(k) / float64(k+3) } }

// GradientDescent is x ← x − γ_k ∇ₓf(x, θ), on the state (x).
func GradientDescent(grad Gradient, gamma Schedule) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		return []*ad.Var{ad.Sub(x[0], ad.Scale(grad(x[0], th), gamma(k)))}
	}
}

// HeavyBall is Polyak's method x⁺ = x − α∇ₓf(x, θ) + β(x − x₋), on the state
// (x, x₋); start it from (x0, x0).
func HeavyBall(grad Gradient, alpha, beta float64) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		xn := ad.Add(ad.Sub(x[0], ad.Scale(grad(x[0], th), alpha)), ad.Scale(ad.Sub(x[0], x[1]), beta))
		return []*ad.Var{xn, x[0]}
	}
}

// Nesterov is the accelerated gradient method y = x + β_k(x − x₋),
// x⁺ = y − α∇ₓf(y, θ), on the state (x, x₋); start it from (x0, x0). Use
// NesterovMomentum() for the convex schedule k/(k+3) or Constant(β) for
// the strongly convex one.
func Nesterov(grad Gradient, alpha float64, beta Schedule) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		y := ad.Add(x[0], ad.Scale(ad.Sub(x[0], x[1]), beta(k)))
		return []*ad.Var{ad.Sub(y, ad.Scale(grad(y, th), alpha)), x[0]}
	}
}

// MirrorDescent is entropic mirror descent on the probability simplex,
// x⁺ ∝ x·exp(−γ_k ∇ₓf(x, θ)), on the state (x) with x > 0 summing to 1
// (a one-dimensional vector).
func MirrorDescent(grad Gradient, gamma Schedule) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		z := ad.Sub(ad.Log(x[0]), ad.Scale(grad(x[0], th), gamma(k)))
		return []*ad.Var{ad.Softmax(z, 0)}
	}
}
