package iterdiff

import "github.com/gradus-ml/gradus/ad"

// Prox is the proximal operator of γ·g(·, θ) at v, written with ad
// operations, e.g. for g = λ‖·‖₁: ad.SoftThreshold(v, γλ). Its derivative
// at a kink is the element chosen by the differentiating trace's Policy.
type Prox func(v *ad.Var, gamma float64, theta []*ad.Var) *ad.Var

// ProximalGradient is forward-backward splitting for f + g with f smooth:
// x⁺ = prox_{γ_k g}(x − γ_k ∇ₓf(x, θ)), on the state (x).
func ProximalGradient(grad Gradient, prox Prox, gamma Schedule) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		g := gamma(k)
		return []*ad.Var{prox(ad.Sub(x[0], ad.Scale(grad(x[0], th), g)), g, th)}
	}
}

// FISTA is accelerated forward-backward: y = x + β_k(x − x₋),
// x⁺ = prox_{γg}(y − γ∇ₓf(y, θ)) with β_k = k/(k+3), on the state (x, x₋);
// start it from (x0, x0).
func FISTA(grad Gradient, prox Prox, gamma float64) Step {
	beta := NesterovMomentum()
	return func(k int, x, th []*ad.Var) []*ad.Var {
		y := ad.Add(x[0], ad.Scale(ad.Sub(x[0], x[1]), beta(k)))
		return []*ad.Var{prox(ad.Sub(y, ad.Scale(grad(y, th), gamma)), gamma, th), x[0]}
	}
}

// DouglasRachford splits min f + g with proximal operators only:
// x = prox_{γf}(z), z⁺ = z + prox_{γg}(2x − z) − x, on the state (z). The
// solution is prox_{γf}(z*): apply proxF to the returned state (with ad
// operations, so it stays differentiable).
func DouglasRachford(proxF, proxG Prox, gamma float64) Step {
	return func(k int, z, th []*ad.Var) []*ad.Var {
		x := proxF(z[0], gamma, th)
		y := proxG(ad.Sub(ad.Scale(x, 2), z[0]), gamma, th)
		return []*ad.Var{ad.Add(z[0], ad.Sub(y, x))}
	}
}

// ADMM is the scaled alternating direction method of multipliers for
// min f(x) + g(z) subject to x = z, with penalty ρ:
// x = prox_{f/ρ}(z − u), z⁺ = prox_{g/ρ}(x + u), u⁺ = u + x − z⁺, on the
// state (z, u); start it from (z0, 0). At the solution x = z.
func ADMM(proxF, proxG Prox, rho float64) Step {
	return func(k int, s, th []*ad.Var) []*ad.Var {
		z, u := s[0], s[1]
		x := proxF(ad.Sub(z, u), 1/rho, th)
		zn := proxG(ad.Add(x, u), 1/rho, th)
		return []*ad.Var{zn, ad.Add(u, ad.Sub(x, zn))}
	}
}

// L1Prox is the proximal operator of λ‖·‖₁ with a fixed λ:
// soft-thresholding at γλ (ad.SoftThreshold, whose derivative at the
// threshold is Policy.SoftThreshold0).
func L1Prox(lambda float64) Prox {
	return func(v *ad.Var, gamma float64, _ []*ad.Var) *ad.Var { return ad.SoftThreshold(v, gamma*lambda) }
}
