package repro

import (
	"context"
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/report"
)

func inexactSubgradientExperiment() Experiment {
	return Experiment{
		ID:    "inexact-subgradient",
		Title: "Inexact subgradient methods: distance to critical points is O(ε^ρ)",
		Paper: "Bolte, Le, Moulines, Pauwels. Inexact subgradient methods for semialgebraic functions. Math. Program. 2025, arXiv 2404.19517.",
		Claim: "With persistent additive subgradient errors of size ε, the iterates eventually stay within O(ε^ρ) of the critical set, " +
			"ρ given by the function's geometry, for vanishing and small constant steps (constant steps enlarge the fluctuation region).",
		Setup: func(s Scale) string {
			return fmt.Sprintf("iterdiff.InexactSubgradient with an adversarial error e_k = −ε·sign(x_k) (iterdiff.AdversarialError). "+
				"f(x) = |x|^p/p, p ∈ {2, 4}, x₀ = 1, constant step 0.1 (until |x_{k+1} − x_k| ≤ 1e-15, at most %d iterations) and vanishing steps "+
				"0.1/(1 + k/10⁴)^0.75 from x₀ = 3ε^{1/(p−1)} (%d iterations), ε ∈ %s. Sharp case f = |x| with ε = 0.5: constant step 0.01 and "+
				"steps 1/(k+10). Nonconvex f(x, y) = (x² − 1)² + |y| from (1.5, 0.5), errors −ε·(sign(x − 1), sign(y)) pushing away from the "+
				"critical point (1, 0), steps 0.05/(1 + k/100), %d iterations.",
				pick(s, 100000, 1000000, 2000000), pick(s, 20000, 200000, 1000000), fmtList(subgradEps(s)), pick(s, 20000, 100000, 300000))
		},
		run: runInexactSubgradient,
	}
}

func subgradEps(s Scale) []float64 {
	return pick(s, []float64{1e-1, 1e-2, 1e-3}, []float64{1e-1, 1e-2, 1e-3, 1e-4}, []float64{1e-1, 1e-2, 1e-3, 1e-4, 1e-5})
}

func fmtList(v []float64) string {
	s := "{"
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%g", x)
	}
	return s + "}"
}

// powerSub is a subgradient of |x|^p/p: sign(x)|x|^{p−1}.
func powerSub(p float64) iterdiff.Gradient {
	return func(x *ad.Var, _ []*ad.Var) *ad.Var {
		if p == 2 {
			return x
		}
		return ad.Mul(ad.Sign(x), ad.PowScalar(ad.Abs(x), p-1))
	}
}

// runSub runs the inexact subgradient method and returns the final state
// and, if trace is set, |x_k| (first coordinate's norm of the state) at
// every iteration.
func runSub(ctx context.Context, sub iterdiff.Gradient, gamma iterdiff.Schedule, oracle iterdiff.ErrorOracle, x0 []float64, tol float64, maxIter int, trace func(k int, x []float64)) ([]float64, int, error) {
	T := iterdiff.InexactSubgradient(sub, gamma, oracle)
	step := T
	if trace != nil || ctx != nil {
		step = func(k int, x, th []*ad.Var) []*ad.Var {
			if trace != nil {
				trace(k, f64(x[0]))
			}
			if k%4096 == 0 && ctx.Err() != nil {
				return x // stops: the residual is 0
			}
			return T(k, x, th)
		}
	}
	x, info, err := iterdiff.FixedPoint(step, []*ad.Var{vec(x0)}, nil, iterdiff.Options{Mode: iterdiff.Detach{}, Tol: tol, MaxIter: maxIter})
	if err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	return f64(x[0]), info.Iterations, nil
}

func runInexactSubgradient(ctx context.Context, cfg *Config, r *Result) error {
	s := cfg.Scale
	epss := subgradEps(s)
	maxConst := pick(s, 100000, 1000000, 2000000)
	kVan := pick(s, 20000, 200000, 1000000)
	fig := &report.Figure{Name: "power", Title: "f = |x|^p/p, adversarial errors of size ε",
		XLabel: "error size ε", YLabel: "final distance |x_K|", LogX: true, LogY: true, LegendBottom: true,
		Caption: "Final distance against ε on log-log axes: slope 1 for p = 2 and 1/3 for p = 4 (the fixed point |x|^{p−1} = ε), for constant and vanishing steps alike."}
	total := float64(4*len(epss) + 3)
	done := 0.0
	for _, p := range []float64{2, 4} {
		want := 1 / (p - 1)
		tol := 0.05
		if p == 2 {
			tol = 0.1
		}
		var dc, dv, ref []float64
		for _, eps := range epss {
			cfg.progress(done/total, "p = %g, ε = %g, constant step", p, eps)
			x, _, err := runSub(ctx, powerSub(p), iterdiff.Constant(0.1), iterdiff.AdversarialError(eps), []float64{1}, 1e-15, maxConst, nil)
			if err != nil {
				return err
			}
			dc = append(dc, math.Abs(x[0]))
			done++
			cfg.progress(done/total, "p = %g, ε = %g, vanishing steps", p, eps)
			x, _, err = runSub(ctx, powerSub(p), iterdiff.PowerDecay(0.1, 1e4, 0.75), iterdiff.AdversarialError(eps), []float64{3 * math.Pow(eps, want)}, -1, kVan, nil)
			if err != nil {
				return err
			}
			dv = append(dv, math.Abs(x[0]))
			ref = append(ref, math.Pow(eps, want))
			done++
		}
		sc := logLogSlope(epss, dc, 0, math.Inf(1))
		sv := logLogSlope(epss, dv, 0, math.Inf(1))
		tgt := map[float64]string{2: "log-log slope of the final distance |x_k| against ε: 1.0 ± 0.1 (p=2)", 4: "log-log slope of the final distance |x_k| against ε: 0.33 ± 0.05 (p=4)"}[p]
		r.check(fmt.Sprintf("|x|^%g/%g, constant step 0.1", p, p), tgt, math.Abs(sc-want) <= tol, "slope %.4f (final distances %s)", sc, fmtG(dc))
		r.check(fmt.Sprintf("|x|^%g/%g, vanishing steps 0.1/(1+k/1e4)^0.75", p, p), tgt, math.Abs(sv-want) <= tol, "slope %.4f (final distances %s)", sv, fmtG(dv))
		fig.Lines = append(fig.Lines,
			report.Line{Label: fmt.Sprintf("p = %g, constant step", p), X: epss, Y: dc, Points: true},
			report.Line{Label: fmt.Sprintf("p = %g, vanishing steps", p), X: epss, Y: dv, NoLine: true},
			report.Line{Label: fmt.Sprintf("ε^{1/%g} (fixed point)", p-1), X: epss, Y: ref, Dashed: true})
	}
	r.figure(fig)

	// Sharp case |x|: constant step leaves a band γ(1 − ε), vanishing steps
	// go to 0.
	cfg.progress(done/total, "sharp case |x|")
	const eps, gamma = 0.5, 0.01
	kSharp := pick(s, 5000, 20000, 100000)
	sign := func(x *ad.Var, _ []*ad.Var) *ad.Var { return ad.Sign(x) }
	var ks, yc, yv []float64
	var band float64
	if _, _, err := runSub(ctx, sign, iterdiff.Constant(gamma), iterdiff.AdversarialError(eps), []float64{1}, -1, kSharp, func(k int, x []float64) {
		if k >= kSharp/2 {
			band = math.Max(band, math.Abs(x[0]))
		}
		yc = append(yc, math.Abs(x[0]))
	}); err != nil {
		return err
	}
	x, _, err := runSub(ctx, sign, iterdiff.InverseK(1, 10), iterdiff.AdversarialError(eps), []float64{1}, -1, kSharp, func(k int, x []float64) {
		yv = append(yv, math.Abs(x[0]))
	})
	if err != nil {
		return err
	}
	for k := range yc {
		ks = append(ks, float64(k+1))
	}
	done++
	r.check("|x|, ε = 0.5: constant step 0.01 oscillates in a band",
		"constant step γ → iterates oscillate in a band of width ≈ γ(1−ε)", band <= gamma*(1-eps)*(1+1e-9) && band >= 0.5*gamma*(1-eps),
		"max |x_k| over the second half: %.4g (γ(1−ε) = %.4g)", band, gamma*(1-eps))
	r.check("|x|, ε = 0.5: vanishing steps 1/(k+10)", "Sharp case f(x) = |x| with ε < 1: vanishing steps → distance → 0",

		math.Abs(x[0]) <= (1-eps)/float64(kSharp+9)*(1+1e-9), "|x_K| = %.3g after %d iterations (≤ γ_K(1−ε) = %.3g, vs the constant-step band %.3g)", math.Abs(x[0]), kSharp, (1-eps)/float64(kSharp+9), gamma*(1-eps))
	dec := func(y []float64) ([]float64, []float64) { // envelope: max over log-spaced windows
		var xs, ys []float64
		prev := 0
		for _, k := range logInts(1, len(y), 120) {
			m := 0.0
			for j := prev; j < k; j++ {
				m = math.Max(m, y[j])
			}
			prev = k
			xs, ys = append(xs, float64(k)), append(ys, m)
		}
		return xs, ys
	}
	kc, vc := dec(yc)
	kv, vv := dec(yv)
	band2 := []float64{gamma * (1 - eps), gamma * (1 - eps)}
	r.figure(&report.Figure{Name: "sharp", Title: "f = |x|, adversarial errors ε = 0.5", XLabel: "iteration k", YLabel: "|x_k| (window max)",
		LogX: true, LogY: true, LegendBottom: true, LegendLeft: true,
		Caption: "Constant steps stay in a band of width γ(1 − ε); vanishing steps drive the iterates to the minimizer.",
		Lines: []report.Line{{Label: "constant step 0.01", X: kc, Y: vc}, {Label: "steps 1/(k+10)", X: kv, Y: vv},
			{Label: "γ(1 − ε)", X: []float64{1, float64(kSharp)}, Y: band2, Dashed: true}}})

	// Nonconvex 2-D case.
	k2 := pick(s, 20000, 100000, 300000)
	eps2 := pick(s, []float64{0.3, 0.1, 0.03}, []float64{0.3, 0.1, 0.03, 0.01, 0.003}, []float64{0.3, 0.1, 0.03, 0.01, 0.003, 0.001})
	sub2 := func(v *ad.Var, _ []*ad.Var) *ad.Var {
		x, y := ad.SliceAxis(v, 0, 0, 1), ad.SliceAxis(v, 0, 1, 2)
		gx := ad.Scale(ad.Mul(x, ad.AddScalar(ad.Square(x), -1)), 4)
		return ad.Concat(0, gx, ad.Sign(y))
	}
	away := func(eps float64) iterdiff.ErrorOracle {
		return func(_ int, v []float64) []float64 {
			return []float64{-eps * sgn(v[0]-1), -eps * sgn(v[1])}
		}
	}
	var d2 []float64
	for _, e := range eps2 {
		cfg.progress(done/total, "2-D nonconvex, ε = %g", e)
		v, _, err := runSub(ctx, sub2, iterdiff.InverseK(5, 100), away(e), []float64{1.5, 0.5}, -1, k2, nil)
		if err != nil {
			return err
		}
		d2 = append(d2, distCrit(v))
	}
	done++
	s2 := logLogSlope(eps2, d2, 0, math.Inf(1))
	r.check("(x²−1)² + |y|: distance to the critical set against ε", "final distance to the critical set {(±1,0),(0,0)} shrinks with ε (slope ≈ 1 near the nondegenerate minima)",
		math.Abs(s2-1) <= 0.15 && decreasing(d2), "log-log slope %.3f (distances %s)", s2, fmtG(d2))
	cfg.progress(done/total, "2-D nonconvex, ε = 1.5")
	vBig, _, err := runSub(ctx, sub2, iterdiff.InverseK(5, 100), away(1.5), []float64{1.5, 0.5}, -1, k2/10, nil)
	if err != nil {
		return err
	}
	r.check("(x²−1)² + |y| with ε = 1.5 ≥ 1", "with ε ≥ 1 the |y| kink no longer pins y (boundary of the small-error regime)",
		math.Abs(vBig[1]) > 0.5, "|y_K| = %.3g after %d iterations from |y₀| = 0.5", math.Abs(vBig[1]), k2/10)
	r.figure(&report.Figure{Name: "nonconvex", Title: "f(x, y) = (x² − 1)² + |y|, errors of size ε", XLabel: "error size ε",
		YLabel: "final distance to crit f", LogX: true, LogY: true, LegendBottom: true,
		Caption: "Near the nondegenerate minimizer (1, 0) the final distance is about ε/8: slope 1.",
		Lines: []report.Line{{Label: "vanishing steps 5/(k+100)", X: eps2, Y: d2, Points: true},
			{Label: "ε/8", X: eps2, Y: scaleAll(eps2, 1.0/8), Dashed: true}}})
	return nil
}

func sgn(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// distCrit is the distance from v to {(±1, 0), (0, 0)}.
func distCrit(v []float64) float64 {
	d := math.Inf(1)
	for _, c := range [][2]float64{{1, 0}, {-1, 0}, {0, 0}} {
		d = math.Min(d, math.Hypot(v[0]-c[0], v[1]-c[1]))
	}
	return d
}

func decreasing(v []float64) bool {
	for i := 1; i < len(v); i++ {
		if !(v[i] < v[i-1]) {
			return false
		}
	}
	return true
}

func scaleAll(v []float64, s float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		out[i] = v[i] * s
	}
	return out
}

func fmtG(v []float64) string {
	s := "["
	for i, x := range v {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.3g", x)
	}
	return s + "]"
}
