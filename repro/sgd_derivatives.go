package repro

import (
	"context"
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/internal/problems"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/report"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

func sgdDerivativesExperiment() Experiment {
	return Experiment{
		ID:    "sgd-derivatives",
		Title: "Derivatives of SGD: noise ball, O(log²k/k) and interpolation",
		Paper: "Iutzeler, Pauwels, Vaiter. Derivatives of stochastic gradient descent in parametric optimization. NeurIPS 2024, arXiv 2405.15894.",
		Claim: "The derivatives of SGD iterates with respect to a parameter follow an inexact SGD recursion: with a constant step they stabilise " +
			"in a noise ball around ∂θx*, with vanishing steps their mean-squared error decays as O(log(k)²/k), and under interpolation " +
			"they converge exponentially.",
		Setup: func(s Scale) string {
			c := sgdScale(s)
			return fmt.Sprintf("Least squares y_i(θ) = ⟨a_i, w⟩ + θ·z_i + s·e_i, a_i ~ N(0, I_d), d = %d, n = %d, f_i = ½(⟨a_i, x⟩ − y_i(θ))², "+
				"single-sample SGD from x₀ = 0 by iterdiff.SGD with the derivative J_k = ∂θx_k carried forward (iterdiff.Piggyback, tangent 1 on θ); "+
				"reference J* = (AᵀA)⁻¹Aᵀz. Constant step η = 0.5/max‖a_i‖² and η/2 (%d iterations, %d seeds); η_k = η₀/(k + k₀) with η₀ = 2/μ "+
				"(%d iterations, %d seeds, slope fitted over k ∈ [%d, %d]); double interpolation (s = 0, z_i = ⟨a_i, u⟩) and simple "+
				"interpolation (s = 0, z random) with step η (%d iterations).", c.d, c.n, c.kConst, c.seeds, c.kDec, c.seeds, c.lo, c.kDec, c.kInterp)
		},
		run: runSGDDerivatives,
	}
}

type sgdCfg struct{ n, d, seeds, kConst, kDec, lo, kInterp int }

func sgdScale(s Scale) sgdCfg {
	return pick(s, sgdCfg{200, 5, 4, 1500, 3000, 100, 2500},
		sgdCfg{1000, 10, 12, 3000, 20000, 200, 4000},
		sgdCfg{1000, 10, 20, 5000, 100000, 1000, 6000})
}

// sgdLS is the least-squares problem of paper 2.
type sgdLS struct {
	n, d        int
	rows        []*ad.Var
	base, z     []float64
	xstar, jst  []float64
	maxA2, mu   float64
	grad        iterdiff.StochasticGradient
	x0, theta0  *ad.Var
	interpolate bool
}

func newSGDLS(rng *tensor.RNG, n, d int, s float64, interpDeriv bool) *sgdLS {
	ls := problems.NewLeastSquares(rng, n, d, s, interpDeriv)
	A := ls.A
	p := &sgdLS{n: n, d: d, base: ls.Base, z: ls.Z, maxA2: ls.MaxA2}
	for i := 0; i < n; i++ {
		p.rows = append(p.rows, vec(append([]float64(nil), A.RawRowView(i)...)))
	}
	var g mat.SymDense
	g.SymOuterK(1, A.T())
	var chol mat.Cholesky
	if !chol.Factorize(&g) {
		panic("repro: AᵀA is singular")
	}
	var atb, atz, xs, js mat.VecDense
	atb.MulVec(A.T(), mat.NewVecDense(n, p.base))
	atz.MulVec(A.T(), mat.NewVecDense(n, p.z))
	if err := chol.SolveVecTo(&xs, &atb); err != nil {
		panic(err)
	}
	if err := chol.SolveVecTo(&js, &atz); err != nil {
		panic(err)
	}
	p.xstar, p.jst = xs.RawVector().Data, js.RawVector().Data
	var eig mat.EigenSym
	eig.Factorize(&g, false)
	p.mu = eig.Values(nil)[0] / float64(n)
	p.grad = func(i int, x *ad.Var, th []*ad.Var) *ad.Var {
		yi := ad.AddScalar(ad.Scale(th[0], p.z[i]), p.base[i])
		return ad.Mul(p.rows[i], ad.Sub(ad.SumAll(ad.Mul(p.rows[i], x)), yi))
	}
	p.x0 = vec(make([]float64, d))
	p.theta0 = scalar(0)
	return p
}

// run does K SGD steps (samples from rng) with the schedule in piggyback
// mode and calls rec(k, ‖x_k − x*‖², ‖J_k − J*‖²) at every iteration.
func (p *sgdLS) run(ctx context.Context, rng *tensor.RNG, K int, gamma iterdiff.Schedule, rec func(k int, ex, ej float64)) error {
	samples := make([]int, K)
	for i := range samples {
		samples[i] = rng.IntN(p.n)
	}
	o := iterdiff.Options{Mode: iterdiff.Piggyback{}, Tol: -1, MaxIter: K}
	o.TangentCallback = func(k int, x, dx *tensor.Tensor) {
		ex := diffNorm(x.Float64s(), p.xstar)
		ej := diffNorm(dx.Float64s(), p.jst)
		rec(k, ex*ex, ej*ej)
	}
	step := iterdiff.SGD(p.grad, samples, gamma)
	stepCtx := func(k int, x, th []*ad.Var) []*ad.Var {
		if k%1024 == 0 && ctx.Err() != nil {
			panic(ctx.Err())
		}
		return step(k, x, th)
	}
	var ferr error
	_, _, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
		x, _, err := iterdiff.FixedPoint(stepCtx, []*ad.Var{p.x0}, xs, o)
		if err != nil {
			ferr = err
			return ad.StopGradient(xs[0])
		}
		return x[0]
	}, []*ad.Var{p.theta0}, []*ad.Var{scalar(1)}, nil)
	if ferr != nil {
		return ferr
	}
	return err
}

// runCtx turns a cancellation panic from a step back into an error.
func runCtx(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && (e == context.Canceled || e == context.DeadlineExceeded) {
				err = e
				return
			}
			panic(r)
		}
	}()
	return f()
}

func runSGDDerivatives(ctx context.Context, cfg *Config, r *Result) error {
	c := sgdScale(cfg.Scale)
	rng := tensor.NewRNG(cfg.Seed*7919 + 2)
	total := float64(2*c.seeds*c.kConst + c.seeds*c.kDec + 2*c.kInterp)
	done := 0.0

	// 1. Constant steps: plateau, halving the step halves it.
	p := newSGDLS(rng, c.n, c.d, 1, false)
	eta := 0.5 / p.maxA2
	curves := map[float64][]float64{}
	itc := map[float64][]float64{}
	plateau := map[float64]float64{}
	for _, step := range []float64{eta, eta / 2} {
		mse := make([]float64, c.kConst)
		ite := make([]float64, c.kConst)
		var sum float64
		var cnt int
		for s := 0; s < c.seeds; s++ {
			cfg.progress(done/total, "constant step %.3g, seed %d", step, s)
			err := runCtx(func() error {
				return p.run(ctx, rng.Split(), c.kConst, iterdiff.Constant(step), func(k int, ex, ej float64) {
					if k >= 1 && k <= c.kConst {
						mse[k-1] += ej / float64(c.seeds)
						ite[k-1] += ex / float64(c.seeds)
					}
					if k > c.kConst/2 {
						sum += ej
						cnt++
					}
				})
			})
			if err != nil {
				return err
			}
			done += float64(c.kConst)
		}
		curves[step], itc[step] = mse, ite
		plateau[step] = sum / float64(cnt)
	}
	ratio := plateau[eta] / plateau[eta/2]
	r.check("constant step: plateau of the derivative MSE, η vs η/2",
		"Constant step η = 0.5/max‖a_i‖²: derivative MSE plateaus; halving η lowers the plateau (ratio ≈ 2 expected from standard noise-ball scaling, accept 1.5-3)",
		within(ratio, 1.5, 3), "plateaus %.4g (η = %.3g) and %.4g (η/2): ratio %.3f", plateau[eta], eta, plateau[eta/2], ratio)
	ks := make([]float64, c.kConst)
	for i := range ks {
		ks[i] = float64(i + 1)
	}
	xs, y1 := thin(ks, curves[eta], 300)
	_, y2 := thin(ks, curves[eta/2], 300)
	_, i1 := thin(ks, itc[eta], 300)
	_, i2 := thin(ks, itc[eta/2], 300)
	r.figure(&report.Figure{Name: "constant", Title: "Constant step: derivatives stabilise in a noise ball", XLabel: "iteration k",
		YLabel: "mean squared error", LogX: true, LogY: true, LegendDrop: 0.3,
		Caption: fmt.Sprintf("Mean over %d seeds of ‖J_k − J*‖² (derivatives) and ‖x_k − x*‖² (iterates). Halving the step halves the plateau.", c.seeds),
		Lines: []report.Line{{Label: fmt.Sprintf("‖∂θx_k − ∂θx*‖², η = %.3g", eta), X: xs, Y: y1}, {Label: "‖∂θx_k − ∂θx*‖², η/2", X: xs, Y: y2},
			{Label: "‖x_k − x*‖², η", X: xs, Y: i1, Dashed: true}, {Label: "‖x_k − x*‖², η/2", X: xs, Y: i2, Dashed: true}}})

	// 2. Decreasing steps η₀/(k + k₀), η₀μ > 1.
	p2 := newSGDLS(rng, c.n, c.d, 1, false)
	eta0 := 2 / p2.mu
	k0 := eta0 / (0.5 / p2.maxA2)
	mse := make([]float64, c.kDec)
	for s := 0; s < c.seeds; s++ {
		cfg.progress(done/total, "decreasing steps, seed %d", s)
		err := runCtx(func() error {
			return p2.run(ctx, rng.Split(), c.kDec, iterdiff.InverseK(eta0, k0), func(k int, _, ej float64) {
				if k >= 1 && k <= c.kDec {
					mse[k-1] += ej / float64(c.seeds)
				}
			})
		})
		if err != nil {
			return err
		}
		done += float64(c.kDec)
	}
	kd := make([]float64, c.kDec)
	for i := range kd {
		kd[i] = float64(i + 1)
	}
	// Fit on log-spaced points so that every decade weighs the same.
	var fx, fy []float64
	for _, k := range logInts(c.lo, c.kDec, 40) {
		fx, fy = append(fx, float64(k)), append(fy, mse[k-1])
	}
	sl := logLogSlope(fx, fy, float64(c.lo), float64(c.kDec))
	r.check("vanishing steps η₀/(k + k₀), η₀μ = 2: log-log slope of the derivative MSE",
		fmt.Sprintf("η_k = η₀/(k+k₀) with η₀μ > 1 (μ = λ_min(AᵀA/n)): log-log slope of derivative MSE over k ∈ [10³, 10⁵] between -1.1 and -0.8 (log² factor makes it slightly shallower than -1)"),
		within(sl, -1.1, -0.8), "slope %.3f over k ∈ [%d, %d] (η₀ = %.3g, k₀ = %.3g, %d seeds)", sl, c.lo, c.kDec, eta0, k0, c.seeds)
	dx, dy := thin(kd, mse, 300)
	ref := []float64{float64(c.lo), float64(c.kDec)}
	refY := []float64{mse[c.lo-1], mse[c.lo-1] * float64(c.lo) / float64(c.kDec)}
	r.figure(&report.Figure{Name: "decreasing", Title: "Vanishing steps η₀/(k + k₀): MSE ≈ log²k / k", XLabel: "iteration k",
		YLabel: "E‖∂θx_k − ∂θx*‖²", LogX: true, LogY: true, LegendBottom: true, LegendLeft: true,
		Caption: fmt.Sprintf("Fitted log-log slope %.2f over k ∈ [%d, %d]; the dashed line has slope −1.", sl, c.lo, c.kDec),
		Lines:   []report.Line{{Label: "derivative MSE", X: dx, Y: dy}, {Label: "slope −1", X: ref, Y: refY, Dashed: true}}})

	// 3. Interpolation.
	type run struct{ ex, ej []float64 }
	runs := map[bool]run{}
	for _, double := range []bool{true, false} {
		cfg.progress(done/total, "interpolation (double %v)", double)
		pi := newSGDLS(rng, c.n, c.d, 0, double)
		var ru run
		err := runCtx(func() error {
			return pi.run(ctx, rng.Split(), c.kInterp, iterdiff.Constant(0.5/pi.maxA2), func(k int, ex, ej float64) {
				if k >= 1 && k <= c.kInterp {
					ru.ex, ru.ej = append(ru.ex, ex), append(ru.ej, ej)
				}
			})
		})
		if err != nil {
			return err
		}
		runs[double] = ru
		done += float64(c.kInterp)
	}
	ki := make([]float64, c.kInterp)
	for i := range ki {
		ki[i] = float64(i + 1)
	}
	d, sI := runs[true], runs[false]
	last := func(v []float64) float64 { return v[len(v)-1] }
	lo := float64(c.kInterp) / 10
	sx := semiLogSlope(ki, d.ex, lo, float64(c.kInterp)/2)
	sj := semiLogSlope(ki, d.ej, lo, float64(c.kInterp)/2)
	r.check("double interpolation (s = 0, z_i = ⟨a_i, u⟩), constant step",
		"Double interpolation (s=0, z_i = ⟨a_i,u⟩): both errors decay linearly on a semi-log plot to ≤1e-12 with constant step",
		last(d.ex) <= 1e-12 && last(d.ej) <= 1e-12 && sx < 0 && sj < 0,
		"final ‖x − x*‖² = %.2g, ‖J − J*‖² = %.2g; semi-log slopes %.4f and %.4f per iteration", last(d.ex), last(d.ej), sx, sj)
	sjS := semiLogSlope(ki, sI.ej, float64(c.kInterp)/2, float64(c.kInterp))
	r.check("simple interpolation (s = 0, z random), constant step",
		"Simple interpolation (s=0, z_i random): iterate error still exponential, derivative error plateaus (constant step)",
		last(sI.ex) <= 1e-12 && last(sI.ej) > 1e-6 && math.Abs(sjS) < 1e-3,
		"final ‖x − x*‖² = %.2g; ‖J − J*‖² = %.3g with semi-log slope %.1e over the second half", last(sI.ex), last(sI.ej), sjS)
	tx, a1 := thinLin(ki, d.ex, 300)
	_, a2 := thinLin(ki, d.ej, 300)
	_, b1 := thinLin(ki, sI.ex, 300)
	_, b2 := thinLin(ki, sI.ej, 300)
	r.figure(&report.Figure{Name: "interpolation", Title: "Interpolation, constant step", XLabel: "iteration k",
		YLabel: "squared error", LogY: true, LegendBottom: true, LegendLeft: true,
		Caption: "Double interpolation: iterates and derivatives converge exponentially. Simple interpolation: only the iterates do.",
		Lines: []report.Line{{Label: "double: ‖x_k − x*‖²", X: tx, Y: a1, Dashed: true}, {Label: "double: ‖∂θx_k − ∂θx*‖²", X: tx, Y: a2},
			{Label: "simple: ‖x_k − x*‖²", X: tx, Y: b1, Dashed: true}, {Label: "simple: ‖∂θx_k − ∂θx*‖²", X: tx, Y: b2}}})
	return nil
}

// thin keeps about n points of (x, y), log-spaced in the index, for
// plotting.
func thin(x, y []float64, n int) ([]float64, []float64) {
	if len(x) <= n {
		return x, y
	}
	var ox, oy []float64
	for _, i := range logInts(1, len(x), n) {
		ox, oy = append(ox, x[i-1]), append(oy, y[i-1])
	}
	return ox, oy
}

// thinLin keeps about n evenly spaced points of (x, y).
func thinLin(x, y []float64, n int) ([]float64, []float64) {
	if len(x) <= n {
		return x, y
	}
	var ox, oy []float64
	step := (len(x) + n - 1) / n
	for i := 0; i < len(x); i += step {
		ox, oy = append(ox, x[i]), append(oy, y[i])
	}
	return ox, oy
}
