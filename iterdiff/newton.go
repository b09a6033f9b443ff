package iterdiff

import (
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
)

// NewtonOptions configure Newton. The zero value means defaults.
type NewtonOptions struct {
	// Gradient of the objective; default GradientOf(f, nil).
	Gradient Gradient
	// Solver of the Newton system H·d = ∇f. Default Cholesky (the Hessian
	// is materialized by n Hessian-vector products); CG keeps it
	// matrix-free.
	Solver linsolve.Method
	// LineSearch enables backtracking (Armijo) on the step length t of
	// x⁺ = x − t·d: t is halved until f(x − t·d) ≤ f(x) − c·t·∇fᵀd (up to
	// the rounding of f, so that t = 1 is kept near the minimizer), at most
	// MaxBacktracks times. The step length is chosen on values: its
	// derivative is zero (it is locally constant), and it is 1 near a
	// nondegenerate minimizer, where one-step differentiation is exact.
	LineSearch bool
	// Armijo is c (default 1e-4); Backtrack the factor (default 0.5);
	// MaxBacktracks the limit (default 40).
	Armijo, Backtrack float64
	MaxBacktracks     int
}

// Newton is Newton's method x⁺ = x − t·∇²ₓf(x, θ)⁻¹∇ₓf(x, θ) on the state
// (x), a one-dimensional Float64 vector, with an optional backtracking
// line search, for a twice-differentiable, locally strongly convex f (the
// Hessian-vector products use the default Policy). The Newton system is solved by LinearSolve, so the step is
// differentiable in x and θ to any order (one-step differentiation of
// Newton is exact at convergence).
func Newton(f Objective, o NewtonOptions) Step {
	grad := o.Gradient
	if grad == nil {
		grad = GradientOf(f, nil)
	}
	if o.Solver == "" {
		o.Solver = linsolve.MethodCholesky
	}
	if o.Armijo == 0 {
		o.Armijo = 1e-4
	}
	if o.Backtrack == 0 {
		o.Backtrack = 0.5
	}
	if o.MaxBacktracks == 0 {
		o.MaxBacktracks = 40
	}
	// hess applies ∇²ₓf(p₀, p[1:]) to v by forward over the gradient
	hess := func(v *ad.Var, p []*ad.Var) *ad.Var {
		fw, err := ad.NewForward(nil)
		if err != nil {
			panic(err)
		}
		defer fw.Close()
		xs, err := fw.Seed(p[0], v)
		if err != nil {
			panic(err)
		}
		_, hv := fw.Tangent(grad(xs, p[1:]))
		return hv
	}
	lo := &LinearOptions{Method: o.Solver, Symmetric: true, Solve: linsolve.Options{Tol: 1e-14}}
	return func(k int, x, th []*ad.Var) []*ad.Var {
		g := grad(x[0], th)
		d := LinearSolve(hess, g, append([]*ad.Var{x[0]}, th...), lo)
		t := 1.0
		if o.LineSearch {
			t = backtrack(f, x[0], th, g, d, o)
		}
		if t == 1 {
			return []*ad.Var{ad.Sub(x[0], d)}
		}
		return []*ad.Var{ad.Sub(x[0], ad.Scale(d, t))}
	}
}

// backtrack returns the Armijo step length, on values.
func backtrack(f Objective, x *ad.Var, th []*ad.Var, g, d *ad.Var, o NewtonOptions) float64 {
	xv := ad.Const(x.Value())
	thv := make([]*ad.Var, len(th))
	for i, v := range th {
		thv[i] = ad.Const(v.Value())
	}
	f0 := f(xv, thv).Item()
	slope := 0.0
	gv, dv := g.Value(), d.Value()
	for i := 0; i < gv.Size(); i++ {
		slope += gv.AtFlat(i) * dv.AtFlat(i)
	}
	if !(slope > 0) || math.IsNaN(f0) {
		return 1 // not a descent direction: plain Newton step
	}
	// values of f that differ by rounding only do not reject a step: near
	// the minimizer the decrease is below the resolution of f
	slack := 8 * 0x1p-52 * math.Abs(f0)
	t := 1.0
	for i := 0; i < o.MaxBacktracks; i++ {
		xt := ad.Const(tensor.Sub(xv.Value(), tensor.Scale(dv, t)))
		if ft := f(xt, thv).Item(); ft <= f0-o.Armijo*t*slope+slack {
			return t
		}
		t *= o.Backtrack
	}
	return t
}
