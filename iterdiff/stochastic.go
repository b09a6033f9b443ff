package iterdiff

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// StochasticGradient is the gradient in x of the i-th sample's loss
// f_i(x, θ), written with ad operations.
type StochasticGradient func(i int, x *ad.Var, theta []*ad.Var) *ad.Var

// SGD is stochastic gradient descent with an explicit sample sequence and
// step schedule: x_{k+1} = x_k − γ_k ∇ₓf_{i_k}(x_k, θ), i_k = samples[k mod
// len(samples)], on the state (x). The sequence makes the iteration a
// deterministic function of θ, so its derivatives (Piggyback: the forward
// recursion J_{k+1} = J_k − γ_k(∇²ₓₓf_{i_k}J_k + ∇²ₓθf_{i_k})) are
// well defined. Run it with Options.Tol < 0 to do exactly MaxIter steps.
func SGD(grad StochasticGradient, samples []int, gamma Schedule) Step {
	if len(samples) == 0 {
		panic("iterdiff.SGD: empty sample sequence")
	}
	return func(k int, x, th []*ad.Var) []*ad.Var {
		i := samples[k%len(samples)]
		return []*ad.Var{ad.Sub(x[0], ad.Scale(grad(i, x[0], th), gamma(k)))}
	}
}

// ErrorOracle returns the additive error e_k added to the (sub)gradient at
// iteration k and point x (values; the error carries no derivative).
type ErrorOracle func(k int, x []float64) []float64

// AdversarialError returns errors of norm ε pointing away from the origin,
// e = −ε·x/‖x‖ (so the step x − γ(g + e) is pushed away from a minimizer at
// 0); at x = 0 it is −ε along the first axis.
func AdversarialError(eps float64) ErrorOracle {
	return func(_ int, x []float64) []float64 {
		e := make([]float64, len(x))
		var s float64
		for _, v := range x {
			s += v * v
		}
		if s == 0 {
			e[0] = -eps
			return e
		}
		s = math.Sqrt(s)
		for i, v := range x {
			e[i] = -eps * v / s
		}
		return e
	}
}

// RandomError returns errors of norm ε in uniformly random directions drawn
// from rng.
func RandomError(eps float64, rng *tensor.RNG) ErrorOracle {
	return func(_ int, x []float64) []float64 {
		e := make([]float64, len(x))
		var s float64
		for s == 0 {
			for i := range e {
				e[i] = rng.NormFloat64()
				s += e[i] * e[i]
			}
		}
		s = math.Sqrt(s)
		for i := range e {
			e[i] *= eps / s
		}
		return e
	}
}

// InexactSubgradient is the subgradient method with additive errors,
// x⁺ = x − γ_k(g(x, θ) + e_k), with g an element of the (conservative)
// subdifferential and e_k = oracle(k, x), on the state (x).
func InexactSubgradient(sub Gradient, gamma Schedule, oracle ErrorOracle) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		g := sub(x[0], th)
		if oracle != nil {
			e := oracle(k, x[0].Value().Float64s())
			if len(e) != x[0].Value().Size() {
				panic(fmt.Sprintf("iterdiff.InexactSubgradient: the oracle returned %d values for a state of %d", len(e), x[0].Value().Size()))
			}
			g = ad.Add(g, ad.Const(tensor.FromFloat64s(x[0].DType(), e, x[0].Shape()...)))
		}
		return []*ad.Var{ad.Sub(x[0], ad.Scale(g, gamma(k)))}
	}
}
