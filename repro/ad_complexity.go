package repro

import (
	"context"
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/report"
	"github.com/gradus-ml/gradus/tensor"
)

func adComplexityExperiment() Experiment {
	return Experiment{
		ID:    "ad-complexity",
		Title: "Complexity of nonsmooth AD: cheap conservative gradients, costly forward mode",
		Paper: "Bolte, Boustany, Pauwels, Pesquet-Popescu. On the complexity of nonsmooth automatic differentiation. ICLR 2023, arXiv 2206.01730.",
		Claim: "The backward-mode cost of a conservative gradient is a dimension-independent multiple of the cost of evaluating the program " +
			"(a nonsmooth Baur-Strassen theorem), while forward mode needs p directional derivatives; and AD returns one conservative gradient " +
			"in linear time, which need not be a Clarke subgradient (finding two distinct Clarke subgradients is NP-hard).",
		Setup: func(s Scale) string {
			return fmt.Sprintf("Program f(x) = Σ hinge(W₃·|maxpool₂(relu(W₂ relu(W₁x)))|) with x ∈ R^p, hidden width 256 (wide enough for arithmetic, not per-operation bookkeeping, to dominate the time at p = 10; relu, pairwise max, abs, hinge "+
				"nodes), p ∈ %v. Operation counts from ad.Stats (ForwardFlops, BackwardFlops, TangentFlops) for ad.Grad (reverse) and for the full "+
				"gradient by p forward-mode passes (ad.Jacobian with ad.ForwardMode); CPU time of the process, as the median over %d interleaved rounds of the time ratio to one evaluation in the same round. Conservative versus "+
				"Clarke: AD of relu(x) − relu(−x) at 0 with ad.Policy.ReLU0 ∈ [0, 1], and a linear ReLU network F(x) = M₃relu(M₂relu(M₁x)) with "+
				"entries in {−1, 0, 1} at x = 0.", complexityDims(s), pick(s, 3, 11, 15))
		},
		run: runADComplexity,
	}
}

func complexityDims(s Scale) []int {
	return pick(s, []int{10, 100, 300}, []int{10, 30, 100, 300, 1000}, []int{10, 30, 100, 300, 1000, 3000, 10000})
}

// nonsmoothNet is the program of the cost experiment.
type nonsmoothNet struct {
	w1, w2, w3 *ad.Var
	p, h       int
}

func newNonsmoothNet(rng *tensor.RNG, p int) *nonsmoothNet {
	const h = 256
	sc := func(fan int) float64 { return 1 / math.Sqrt(float64(fan)) }
	return &nonsmoothNet{
		w1: matVar(scaleAll(normals(rng, h*p), sc(p)), h, p),
		w2: matVar(scaleAll(normals(rng, h*h), sc(h)), h, h),
		w3: matVar(scaleAll(normals(rng, 10*h/2), sc(h/2)), 10, h/2),
		h:  h,
		p:  p,
	}
}

func (nt *nonsmoothNet) f(xs ...*ad.Var) *ad.Var {
	x := ad.Reshape(xs[0], nt.p, 1)
	h := ad.Relu(ad.MatMul(nt.w1, x))
	h = ad.Relu(ad.MatMul(nt.w2, h))
	h = ad.Max(ad.Reshape(h, nt.h/2, 2), []int{1}, false)
	h = ad.Abs(h)
	o := ad.MatMul(nt.w3, ad.Reshape(h, nt.h/2, 1))
	return ad.SumAll(ad.Hinge(o))
}

func runADComplexity(ctx context.Context, cfg *Config, r *Result) error {
	s := cfg.Scale
	rng := tensor.NewRNG(cfg.Seed*7919 + 7)
	reps := pick(s, 3, 11, 15)
	dims := complexityDims(s)
	var ps, revFlop, revTime, fwdFlop, fwdTime []float64
	for i, p := range dims {
		if err := ctx.Err(); err != nil {
			return err
		}
		cfg.progress(0.8*float64(i)/float64(len(dims)), "dimension p = %d", p)
		nt := newNonsmoothNet(rng, p)
		x := vec(normals(rng, p))
		var st, stF ad.Stats
		if _, err := ad.Grad(nt.f, []*ad.Var{x}, &ad.Options{Stats: &st}); err != nil {
			return err
		}
		if _, err := ad.Jacobian(func(x *ad.Var) *ad.Var { return nt.f(x) }, x, ad.ForwardMode, &ad.Options{Stats: &stF}); err != nil {
			return err
		}
		// ForwardFlops counts the primal evaluation recorded with the
		// gradient; the forward-mode passes each re-evaluate the primal.
		revFlop = append(revFlop, st.BackwardFlops/st.ForwardFlops)
		fwdFlop = append(fwdFlop, (stF.TangentFlops+stF.ForwardFlops)/st.ForwardFlops)
		_, ratio, err := cpuRatios(reps,
			func() error { nt.f(x); return nil },
			func() error { _, err := ad.Grad(nt.f, []*ad.Var{x}, nil); return err },
			func() error {
				_, err := ad.Jacobian(func(x *ad.Var) *ad.Var { return nt.f(x) }, x, ad.ForwardMode, nil)
				return err
			})
		if err != nil {
			return err
		}
		ps = append(ps, float64(p))
		revTime = append(revTime, ratio[1])
		fwdTime = append(fwdTime, ratio[2])
	}
	minMax := func(v []float64) (float64, float64) {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range v {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		return lo, hi
	}
	flo, fhi := minMax(revFlop)
	tlo, thi := minMax(revTime)
	r.check("reverse mode: operation-count ratio (backward/forward) across p",
		"ratio (operation count of reverse pass)/(forward) is bounded by a constant independent of p (a small constant by op counting — Baur–Strassen's is 5, the paper's own constant was not retrieved)",
		fhi <= 5 && fhi/flo <= 1.5, "backward/forward flops in [%.3f, %.3f] for p ∈ [%d, %d]", flo, fhi, dims[0], dims[len(dims)-1])
	r.check("reverse mode: CPU-time ratio (gradient/function) across p",
		"wall-clock ratio flat within 2× across p", thi/tlo <= 2 || s == Smoke, "CPU time(gradient)/time(f) in [%.2f, %.2f] (max/min %.2f): %s for p = %v", tlo, thi, thi/tlo, fmtG(revTime), dims)
	// Forward mode: slope of the cost ratio against p.
	sl := logLogSlope(ps, fwdTime, 99, math.Inf(1))
	slF := logLogSlope(ps, fwdFlop, 0, math.Inf(1))
	r.check("forward mode: cost of the full gradient by p tangent passes",
		"Forward mode: obtaining the full gradient with p tangent passes costs ∝ p: log-log slope of (forward-mode time / function time) vs p ≈ 1 (0.9-1.1)",
		within(sl, 0.9, 1.1) || (s == Smoke && within(slF, 0.9, 1.1)), "log-log slope %.3f for p ≥ 100 (operation counts: slope %.3f)", sl, slF)
	if s == Smoke {
		r.note("At smoke scale (the test suite, often on a loaded machine) the time-based checks accept the operation counts; quick and full check the CPU times.")
	}
	r.figure(&report.Figure{Name: "cost", Title: "Cost of the full gradient relative to one evaluation", XLabel: "input dimension p",
		YLabel: "cost of the gradient / cost of f", LogX: true, LogY: true, LegendLeft: true,
		Caption: "Reverse mode (conservative gradient, relu/max/abs/hinge nodes) costs a constant multiple of f whatever p; forward mode needs p passes.",
		Lines: []report.Line{{Label: "forward mode, CPU time", X: ps, Y: fwdTime, Points: true}, {Label: "forward mode, operation count", X: ps, Y: fwdFlop, Dashed: true},
			{Label: "reverse mode, CPU time", X: ps, Y: revTime, Points: true}, {Label: "reverse mode, operation count", X: ps, Y: revFlop, Dashed: true}}})

	// Conservative vs Clarke.
	cfg.progress(0.85, "conservative vs Clarke")
	g := func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Sub(ad.Relu(xs[0]), ad.Relu(ad.Neg(xs[0])))) }
	var r0s, ds []float64
	ok := true
	for _, r0 := range []float64{0, 0.25, 0.5, 0.75, 1} {
		gr, err := ad.Grad(g, []*ad.Var{vec([]float64{0})}, &ad.Options{Policy: ad.Policy{ReLU0: r0}})
		if err != nil {
			return err
		}
		d := f64(gr[0])[0]
		ok = ok && d == 2*r0
		r0s, ds = append(r0s, r0), append(ds, d)
	}
	r.check("relu(x) − relu(−x) at 0", "AD of relu(x) − relu(−x) at x=0 returns 2·ReLU'(0) ∈ {0,1,2} for ReLU'(0) ∈ {0,0.5,1}; Clarke derivative is 1",
		ok && ds[0] == 0 && ds[2] == 1 && ds[4] == 2, "returned %s for ReLU'(0) = %s (the function is x: Clarke derivative 1)", fmtG(ds), fmtG(r0s))
	// Linear ReLU network with entries in {−1, 0, 1} at x = 0.
	const d = 6
	M := func(r, c int) *ad.Var {
		v := make([]float64, r*c)
		for i := range v {
			v[i] = float64(rng.IntN(3) - 1)
		}
		return matVar(v, r, c)
	}
	var grads [][]float64
	for try := 0; try < 50; try++ {
		M1, M2, M3 := M(d, d), M(d, d), M(1, d)
		F := func(xs ...*ad.Var) *ad.Var {
			x := ad.Reshape(xs[0], d, 1)
			return ad.SumAll(ad.MatMul(M3, ad.Relu(ad.MatMul(M2, ad.Relu(ad.MatMul(M1, x))))))
		}
		grads = grads[:0]
		for _, r0 := range []float64{0, 0.5, 1} {
			gr, err := ad.Grad(F, []*ad.Var{vec(make([]float64, d))}, &ad.Options{Policy: ad.Policy{ReLU0: r0}})
			if err != nil {
				return err
			}
			grads = append(grads, f64(gr[0]))
		}
		if maxAbsDiff(grads[0], grads[2]) > 0 {
			break
		}
	}
	diff := maxAbsDiff(grads[0], grads[2]) > 0 && maxAbsDiff(grads[0], grads[1]) > 0
	r.check("linear ReLU network at x = 0", "For the linear ReLU network at x=0, changing the tie values D_i changes the returned vector (the paper's set D^a_F(0))",
		diff, "gradients at 0 for ReLU'(0) = 0, 0.5, 1: %v, %v, %v", fmtG(grads[0]), fmtG(grads[1]), fmtG(grads[2]))
	r.figure(&report.Figure{Name: "clarke", Title: "AD of relu(x) − relu(−x) = x at x = 0", XLabel: "ReLU'(0) chosen in the Policy",
		YLabel: "derivative returned at 0", LegendLeft: true,
		Caption: "The conservative derivative returned by AD is 2·ReLU'(0): any value in [0, 2], while the function is the identity (Clarke derivative 1).",
		Lines: []report.Line{{Label: "automatic differentiation", X: r0s, Y: ds, Points: true},
			{Label: "Clarke derivative (= 1)", X: []float64{0, 1}, Y: []float64{1, 1}, Dashed: true}}})
	return nil
}
