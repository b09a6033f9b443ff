package ode

import (
	"fmt"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// negAbs is x' = −|x| (paper 9 of reference/paper-targets.md).
func negAbs(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.Neg(ad.Abs(x)) }

// sensitivity returns d x(T)/dθ for x(0) = θ by forward sensitivities and
// by the discrete adjoint, with Policy.Abs0 = s.
func sensitivity(t *testing.T, theta, s, T float64, o Options) (fwd, rev float64) {
	pol := &ad.Options{Policy: ad.Policy{Abs0: s}}
	final := func(xs ...*ad.Var) *ad.Var {
		sol, err := Solve(negAbs, xs[0], nil, 0, T, o)
		if err != nil {
			t.Fatal(err)
		}
		return ad.SumAll(sol.Final())
	}
	x0 := vec(theta)
	_, tan, err := ad.JVP(final, []*ad.Var{x0}, []*ad.Var{vec(1)}, pol)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ad.Grad(final, []*ad.Var{x0}, pol)
	if err != nil {
		t.Fatal(err)
	}
	return tan.Item(), g[0].Value().AtFlat(0)
}

// TestPaper9Abs: for x' = −|x|, x(0) = θ, the AD sensitivity of x(T) at
// θ = 0 is e^(−sT) for abs'(0) = s ∈ [−1, 1] (the flow stays at 0 and each
// step multiplies the tangent by the scheme's amplification factor for
// x' = −s·x), an element of [e^(−T), e^T]; away from 0 it is the classical
// derivative e^(∓T) to O(h) for explicit Euler.
func TestPaper9Abs(t *testing.T) {
	T := 1.0
	h := 1e-4
	for _, s := range []float64{-1, -0.5, 0, 0.5, 1} {
		want := math.Exp(-s * T)
		// Dopri5 gets a MaxStep: the state rests at 0, so the error control
		// would let the steps grow without bound while the tangent is not
		// controlled
		for _, o := range []Options{{Method: Euler, Step: h}, {Method: RK4, Step: 0.01}, {RTol: 1e-10, ATol: 1e-12, MaxStep: 0.02}} {
			fwd, rev := sensitivity(t, 0, s, T, o)
			tol := 1e-9
			if o.Method == Euler {
				tol = T * h * s * s * math.Exp(math.Abs(s)*T) / 2 * 1.01 // (1 − sh)^(T/h) = e^(−sT)(1 − s²Th/2 + …)
			}
			t.Logf("θ=0, abs'(0)=%+.1f, %-6v: forward %.10f, adjoint %.10f, e^(−sT) = %.10f", s, o.Method, fwd, rev, want)
			if math.Abs(fwd-want) > tol+1e-12 || math.Abs(rev-fwd) > 1e-12 {
				t.Errorf("s=%g %v: forward %v, adjoint %v, want %v", s, o.Method, fwd, rev, want)
			}
			if fwd < math.Exp(-T)-tol || fwd > math.Exp(T)+tol {
				t.Errorf("s=%g: %v outside [e^−T, e^T]", s, fwd)
			}
		}
	}
	for _, theta := range []float64{0.5, -0.5} {
		want := math.Exp(-T)
		if theta < 0 {
			want = math.Exp(T)
		}
		fwd, rev := sensitivity(t, theta, 0, T, Options{Method: Euler, Step: h})
		t.Logf("θ=%+.1f: Euler h=%g: forward %.8f, adjoint %.8f, classical %.8f, |error|/h = %.3f", theta, h, fwd, rev, want, math.Abs(fwd-want)/h)
		if math.Abs(fwd-want) > T*h*want || math.Abs(rev-fwd) > 1e-12 {
			t.Errorf("θ=%g: %v, %v, want %v to O(h)", theta, fwd, rev, want)
		}
	}
}

// reluField is x' = W₂ ReLU(W₁ x + θ) with a 2-D state and 8 hidden units.
func reluField(W1, W2 *tensor.Tensor) Func {
	return func(t float64, x *ad.Var, th []*ad.Var) *ad.Var {
		hdn := ad.Relu(ad.Add(ad.Reshape(ad.MatMul(ad.Const(W1), ad.Reshape(x, -1, 1)), -1), th[0]))
		return ad.Reshape(ad.MatMul(ad.Const(W2), ad.Reshape(hdn, -1, 1)), -1)
	}
}

// TestPaper9ReLU: for J(θ) = ∫₀ᵀ ½‖x‖² dt + ½‖x(T) − x*‖² with a ReLU
// vector field, the discrete-adjoint gradient equals the forward-sensitivity
// gradient to 1e-10 (same discretization) and finite differences of the
// discrete J; the Euler gradient converges at O(h) to the exact one; the
// backsolve adjoint agrees to the solver tolerance.
func TestPaper9ReLU(t *testing.T) {
	rng := tensor.NewRNG(9)
	W1 := rng.Normal(tensor.Float64, 8, 2)
	W2 := tensor.Scale(rng.Normal(tensor.Float64, 2, 8), 0.5)
	f := reluField(W1, W2)
	theta := rng.Normal(tensor.Float64, 8)
	x0 := vec(1, -0.5)
	target := tensor.FromFloat64s(tensor.Float64, []float64{0.2, 0.3}, 2)
	cost := Cost{
		Running: func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.Scale(ad.SumAll(ad.Mul(x, x)), 0.5) },
		Terminal: func(x *ad.Var, th []*ad.Var) *ad.Var {
			d := ad.Sub(x, ad.Const(target))
			return ad.Scale(ad.SumAll(ad.Mul(d, d)), 0.5)
		},
	}
	T := 2.0
	J := func(th *tensor.Tensor, o Options) float64 {
		v, _, err := Objective(f, cost, x0, []*ad.Var{ad.Const(th)}, 0, T, o)
		if err != nil {
			t.Fatal(err)
		}
		return v.Item()
	}
	grad := func(o Options) (*tensor.Tensor, *Stats) {
		var st *Stats
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			v, s, err := Objective(f, cost, x0, xs, 0, T, o)
			if err != nil {
				t.Fatal(err)
			}
			st = s
			return v
		}, []*ad.Var{ad.Const(theta)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g[0].Value(), st
	}
	fwdGrad := func(o Options) *tensor.Tensor {
		jac, err := ad.Jacobian(func(th *ad.Var) *ad.Var {
			v, _, err := Objective(f, cost, x0, []*ad.Var{th}, 0, T, o)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}, ad.Const(theta), ad.ForwardMode, nil)
		if err != nil {
			t.Fatal(err)
		}
		return jac.Value()
	}
	for _, o := range []Options{
		{Method: Euler, Step: 1e-2},
		{Method: Heun, Step: 0.02, Adjoint: DiscreteAdjoint{Checkpoints: 10}},
		{Method: RK4, Step: 0.05},
		{RTol: 1e-8, ATol: 1e-10},
		{RTol: 1e-8, ATol: 1e-10, Adjoint: DiscreteAdjoint{Checkpoints: 7}},
	} {
		ga, st := grad(o)
		gf := fwdGrad(o)
		d := maxDiff(ga, gf)
		// central differences of the discrete J (fixed-step methods: with
		// Dopri5 the accepted steps change with θ, so J is only piecewise
		// smooth at the scale of the tolerance)
		worst := 0.0
		hfd := 1e-6
		for i := 0; i < theta.Size() && o.Method != Dopri5; i++ {
			tp, tm := theta.Clone(), theta.Clone()
			tp.SetFlat(i, theta.AtFlat(i)+hfd)
			tm.SetFlat(i, theta.AtFlat(i)-hfd)
			worst = math.Max(worst, math.Abs((J(tp, o)-J(tm, o))/(2*hfd)-ga.AtFlat(i)))
		}
		fdMsg := fmt.Sprintf("%.1e", worst)
		if o.Method == Dopri5 {
			fdMsg = "n/a (adaptive)"
		}
		t.Logf("%-6v adjoint %v: |adjoint − forward| %.1e, |adjoint − FD(discrete J)| %s; %d steps, adjoint stored %d states, recomputed %d", o.Method, o.Adjoint, d, fdMsg, st.Accepted, st.StoredStates, st.Recomputed)
		if d > 1e-10 {
			t.Errorf("%v: discrete adjoint and forward sensitivities differ by %.3g", o.Method, d)
		}
		if worst > 1e-6 {
			t.Errorf("%v: gradient differs from finite differences of the discrete J by %.3g", o.Method, worst)
		}
	}
	// O(h) convergence of the Euler gradient to the exact gradient
	exact, _ := grad(Options{RTol: 1e-12, ATol: 1e-14})
	var errs []float64
	for _, h := range []float64{0.02, 0.01, 0.005} {
		g, _ := grad(Options{Method: Euler, Step: h})
		errs = append(errs, maxDiff(g, exact))
	}
	t.Logf("Euler gradient error vs exact (|g| = %.3g): %.2e (h=0.02), %.2e (h=0.01), %.2e (h=0.005): ratios %.2f, %.2f", maxAbs(exact), errs[0], errs[1], errs[2], errs[0]/errs[1], errs[1]/errs[2])
	if r := errs[1] / errs[2]; r < 1.7 || r > 2.3 {
		t.Errorf("Euler gradient error ratio %.2f, want ≈ 2 (O(h))", r)
	}
	// The backsolve adjoint. With the ReLU field, every adaptive step that
	// straddles a switch of a unit carries an O(h) error in its derivative
	// (the discrete map is only piecewise smooth there), so the discrete
	// adjoint, exact for the discrete map, approaches the true gradient like
	// √tol; the backsolve adjoint converges like tol. Both reach the same
	// limit. With a smooth (tanh) field the two agree to the tolerance.
	for _, smooth := range []bool{false, true} {
		ff := f
		if smooth {
			ff = func(t float64, x *ad.Var, th []*ad.Var) *ad.Var {
				hdn := ad.Tanh(ad.Add(ad.Reshape(ad.MatMul(ad.Const(W1), ad.Reshape(x, -1, 1)), -1), th[0]))
				return ad.Reshape(ad.MatMul(ad.Const(W2), ad.Reshape(hdn, -1, 1)), -1)
			}
		}
		g := func(o Options) (*tensor.Tensor, *Stats) {
			var st *Stats
			gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
				v, s, err := Objective(ff, cost, x0, xs, 0, T, o)
				if err != nil {
					t.Fatal(err)
				}
				st = s
				return v
			}, []*ad.Var{ad.Const(theta)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return gs[0].Value(), st
		}
		tight := Options{RTol: 1e-13, ATol: 1e-13}
		dRef, _ := g(tight)
		tight.Adjoint = Backsolve{}
		bRef, _ := g(tight)
		scale := math.Max(1, maxAbs(dRef))
		limits := maxDiff(dRef, bRef) / scale
		t.Logf("tanh %-5v: |g| %.3g; at tol 1e-13 discrete adjoint and backsolve differ by %.1e (relative)", smooth, maxAbs(dRef), limits)
		if limits > 1e-6 {
			t.Errorf("tanh %v: the two adjoints have different limits: %.3g", smooth, limits)
		}
		for _, tol := range []float64{1e-6, 1e-8, 1e-10} {
			o := Options{RTol: tol, ATol: tol}
			gd, _ := g(o)
			o.Adjoint = Backsolve{}
			gb, st := g(o)
			dd, bb, db := maxDiff(gd, dRef)/scale, maxDiff(gb, bRef)/scale, maxDiff(gd, gb)/scale
			t.Logf("tanh %-5v tol %.0e: discrete adjoint vs its limit %.1e, backsolve vs its limit %.1e, backsolve vs discrete %.1e; backsolve %d steps (%d rejected), %d evaluations, approximate=%v",
				smooth, tol, dd, bb, db, st.DerivSteps, st.DerivRejected, st.DerivFEvals, st.Approximate)
			if bb > 50*tol || !st.Approximate || st.Sensitivity != "backsolve" {
				t.Errorf("tanh %v tol %g: backsolve is %.3g from its limit", smooth, tol, bb)
			}
			if smooth && db > 20*tol {
				t.Errorf("tol %g: backsolve and discrete adjoint differ by %.3g on a smooth field", tol, db)
			}
			if !smooth && dd > 10*math.Sqrt(tol) {
				t.Errorf("tol %g: discrete adjoint is %.3g from its limit", tol, dd)
			}
		}
	}
}

func maxDiff(a, b *tensor.Tensor) float64 {
	d := 0.0
	for i := 0; i < a.Size(); i++ {
		d = math.Max(d, math.Abs(a.AtFlat(i)-b.AtFlat(i)))
	}
	return d
}

func maxAbs(a *tensor.Tensor) float64 {
	d := 0.0
	for i := 0; i < a.Size(); i++ {
		d = math.Max(d, math.Abs(a.AtFlat(i)))
	}
	return d
}

// TestPaper9Descent: gradient descent with a small constant step on J(θ),
// with the discrete-adjoint gradient, decreases J monotonically and
// shrinks the gradient (target 3 of paper 9).
func TestPaper9Descent(t *testing.T) {
	rng := tensor.NewRNG(12)
	W1 := rng.Normal(tensor.Float64, 8, 2)
	W2 := tensor.Scale(rng.Normal(tensor.Float64, 2, 8), 0.5)
	f := reluField(W1, W2)
	x0 := vec(1, -0.5)
	target := tensor.FromFloat64s(tensor.Float64, []float64{0.2, 0.3}, 2)
	cost := Cost{Terminal: func(x *ad.Var, th []*ad.Var) *ad.Var {
		d := ad.Sub(x, ad.Const(target))
		return ad.Scale(ad.SumAll(ad.Mul(d, d)), 0.5)
	}}
	theta := rng.Normal(tensor.Float64, 8)
	o := Options{Method: RK4, Step: 0.05}
	var Js, gn []float64
	for it := 0; it < 60; it++ {
		var J float64
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			v, _, err := Objective(f, cost, x0, xs, 0, 1, o)
			if err != nil {
				t.Fatal(err)
			}
			J = v.Item()
			return v
		}, []*ad.Var{ad.Const(theta)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		Js, gn = append(Js, J), append(gn, norm2(g[0].Value()))
		theta = tensor.Sub(theta, tensor.Scale(g[0].Value(), 0.2))
	}
	for k := 1; k < len(Js); k++ {
		if Js[k] > Js[k-1]+1e-12 {
			t.Fatalf("J increased at iteration %d: %v → %v", k, Js[k-1], Js[k])
		}
	}
	t.Logf("gradient descent: J %.4e → %.4e, ‖∇J‖ %.3e → %.3e in %d steps", Js[0], Js[len(Js)-1], gn[0], gn[len(gn)-1], len(Js))
	if !(gn[len(gn)-1] < 0.1*gn[0]) {
		t.Errorf("gradient did not shrink: %v → %v", gn[0], gn[len(gn)-1])
	}
}

func norm2(x *tensor.Tensor) float64 {
	s := 0.0
	for i := 0; i < x.Size(); i++ {
		s += x.AtFlat(i) * x.AtFlat(i)
	}
	return math.Sqrt(s)
}
