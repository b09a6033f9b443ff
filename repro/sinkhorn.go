package repro

import (
	"context"
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/ot"
	"github.com/gradus-ml/gradus/report"
	"github.com/gradus-ml/gradus/tensor"
)

func sinkhornExperiment() Experiment {
	return Experiment{
		ID:    "sinkhorn",
		Title: "The derivatives of Sinkhorn-Knopp converge linearly",
		Paper: "Pauwels, Vaiter. The derivatives of Sinkhorn-Knopp converge. arXiv 2207.12717.",
		Claim: "The iterates of Sinkhorn-Knopp and their derivatives with respect to the cost converge, with a locally uniform linear rate, to the " +
			"entropic optimal transport plan and to its derivative (their Figure 1: linear convergence of P_k(θ) and of dP_k/dθ).",
		Setup: func(s Scale) string {
			return fmt.Sprintf("n = m = %d random points in [0,1]², uniform marginals, cost C(θ)_ij = ‖x_i − y_j − θd_j‖² at θ = 0 with random directions "+
				"d_j ~ N(0, I₂) (ot.SqEuclidean on the moved points; a common translation θe₁ would change C by row and column terms only and "+
				"leave the plan unchanged, dP/dθ = 0), ε ∈ {0.1, 0.05}. ot.Sinkhorn with the scaling iteration (ot.Kernel: u ← a/(Kv), v ← b/(Kᵀu)) run for exactly k "+
				"iterations, differentiated forward in θ (iterdiff.Piggyback through ad.JVP) for %d values of k; reference P*, dP*/dθ from 10⁴ "+
				"iterations, cross-checked with a central difference (h = 1e-6).", pick(s, 20, 50, 50), pick(s, 15, 40, 80))
		},
		run: runSinkhorn,
	}
}

type otProblem struct {
	X, Y, D *ad.Var // points x_i, y_j and the directions d_j of motion of the y_j
	n       int
}

// plan returns P_k(θ) and dP_k/dθ (flattened) after k iterations (k < 0:
// the reference run of 10⁴ iterations).
func (p *otProblem) plan(theta, eps float64, k int) ([]float64, []float64, error) {
	var ferr error
	f := func(xs ...*ad.Var) *ad.Var {
		yt := ad.Add(p.Y, ad.Mul(p.D, xs[0]))
		C := ot.SqEuclidean(p.X, yt)
		res, err := ot.Sinkhorn(C, nil, nil, ot.Options{Eps: eps, Method: ot.Kernel, MaxIter: k, Tol: -1, Mode: iterdiff.Piggyback{}})
		if err != nil {
			ferr = err
			return xs[0]
		}
		return res.Plan
	}
	y, t, err := ad.JVP(f, []*ad.Var{scalar(theta)}, []*ad.Var{scalar(1)}, nil)
	if ferr != nil {
		return nil, nil, ferr
	}
	if err != nil {
		return nil, nil, err
	}
	return f64(y), f64(t), nil
}

func runSinkhorn(ctx context.Context, cfg *Config, r *Result) error {
	s := cfg.Scale
	rng := tensor.NewRNG(cfg.Seed*7919 + 6)
	n := pick(s, 20, 50, 50)
	p := &otProblem{X: matVar(uniforms(rng, 2*n), n, 2), Y: matVar(uniforms(rng, 2*n), n, 2), D: matVar(normals(rng, 2*n), n, 2), n: n}
	npts := pick(s, 15, 40, 80)
	type curve struct {
		k, ep, ed  []float64
		sp, sd     float64
		rowS, colS float64
	}
	curves := map[float64]*curve{}
	epss := []float64{0.1, 0.05}
	fdErr := 0.0
	for ei, eps := range epss {
		cfg.progress(float64(ei)/2, "ε = %g: reference", eps)
		Ps, dPs, err := p.plan(0, eps, 10000)
		if err != nil {
			return err
		}
		// Cross-check dP* with a central difference.
		const h = 1e-6
		Pp, _, err := p.plan(h, eps, 10000)
		if err != nil {
			return err
		}
		Pm, _, err := p.plan(-h, eps, 10000)
		if err != nil {
			return err
		}
		fd := make([]float64, len(Pp))
		for i := range fd {
			fd[i] = (Pp[i] - Pm[i]) / (2 * h)
		}
		fdErr = math.Max(fdErr, diffNorm(fd, dPs)/norm2(dPs))
		// Find where the plan error reaches 1e-13 (doubling), then sample
		// k evenly up to a little beyond.
		kmax := 16
		for ; kmax < 10000; kmax *= 2 {
			P, _, err := p.plan(0, eps, kmax)
			if err != nil {
				return err
			}
			if diffNorm(P, Ps)/norm2(Ps) < 1e-13 {
				break
			}
		}
		c := &curve{}
		for i := 1; i <= npts; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			cfg.progress((float64(ei)+float64(i)/float64(npts))/2, "ε = %g: k-step solves", eps)
			k := int(math.Round(float64(kmax) * float64(i) / float64(npts)))
			P, dP, err := p.plan(0, eps, k)
			if err != nil {
				return err
			}
			c.k = append(c.k, float64(k))
			c.ep = append(c.ep, diffNorm(P, Ps)/norm2(Ps))
			c.ed = append(c.ed, diffNorm(dP, dPs)/norm2(dPs))
			if i == npts {
				for a := 0; a < n; a++ {
					var rs, cs float64
					for b := 0; b < n; b++ {
						rs += dP[a*n+b]
						cs += dP[b*n+a]
					}
					c.rowS, c.colS = math.Max(c.rowS, math.Abs(rs)), math.Max(c.colS, math.Abs(cs))
				}
			}
		}
		// Slopes over the last decades before 1e-13.
		c.sp = semiLogSlopeRange(c.k, c.ep, 1e-12, 1e-5)
		c.sd = semiLogSlopeRange(c.k, c.ed, 1e-12, 1e-5)
		curves[eps] = c
	}
	okSlopes := true
	var ms []string
	for _, eps := range epss {
		c := curves[eps]
		ratio := c.sd / c.sp
		okSlopes = okSlopes && within(ratio, 0.8, 1.2)
		ms = append(ms, fmt.Sprintf("ε = %g: plan %.4g, derivative %.4g per iteration (ratio %.3f)", eps, c.sp, c.sd, ratio))
	}
	final := func(v []float64) float64 { return v[len(v)-1] }
	c1, c2 := curves[0.1], curves[0.05]
	r.check("linear convergence of P_k and dP_k/dθ at the same rate",
		"Both ‖P_k − P*‖ and ‖dP_k/dθ − dP*/dθ‖ decrease linearly; fitted semi-log slopes (over the last decades before 1e-13) agree within 20% (a k·ρᵏ prefactor on the derivative is allowed)",
		okSlopes && final(c1.ed) < 1e-10 && final(c2.ed) < 1e-10,
		"%s; %s; final relative derivative errors %.1e and %.1e; reference dP*/dθ vs central difference: %.1e relative", ms[0], ms[1], final(c1.ed), final(c2.ed), fdErr)
	r.check("smaller ε converges more slowly", "Smaller ε gives a slower rate (slope magnitude at ε=0.05 < at ε=0.1) for both",
		math.Abs(c2.sp) < math.Abs(c1.sp) && math.Abs(c2.sd) < math.Abs(c1.sd),
		"|slope| plan: %.4g (ε = 0.05) < %.4g (ε = 0.1); derivative: %.4g < %.4g", math.Abs(c2.sp), math.Abs(c1.sp), math.Abs(c2.sd), math.Abs(c1.sd))
	r.check("derivative of the marginal constraints", "Derivative of the marginal constraints: Σ_j dP_ij/dθ → 0 and Σ_i dP_ij/dθ → 0",
		math.Max(c1.rowS, c1.colS) < 1e-10 && math.Max(c2.rowS, c2.colS) < 1e-10,
		"at the last k: max_i |Σ_j dP_ij/dθ| = %.1e, %.1e and max_j |Σ_i dP_ij/dθ| = %.1e, %.1e (ε = 0.1, 0.05)", c1.rowS, c2.rowS, c1.colS, c2.colS)
	var lines []report.Line
	for _, eps := range epss {
		c := curves[eps]
		lines = append(lines, report.Line{Label: fmt.Sprintf("ε = %g: ‖P_k − P*‖", eps), X: c.k, Y: c.ep, Dashed: true},
			report.Line{Label: fmt.Sprintf("ε = %g: ‖dP_k/dθ − dP*/dθ‖", eps), X: c.k, Y: c.ed})
	}
	r.figure(&report.Figure{Name: "rates", Title: fmt.Sprintf("Sinkhorn-Knopp, n = m = %d: plans and their derivatives", n),
		XLabel: "iteration k", YLabel: "relative error", LogY: true, LegendDrop: 0.02,
		Caption: "Iterates (dashed) and forward-mode derivatives (solid) converge linearly at the same rate; the rate is slower for smaller ε. (Errors that reach exactly 0 are not drawn.)",
		Lines:   lines})
	return nil
}

func uniforms(rng *tensor.RNG, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.Float64()
	}
	return out
}

// semiLogSlopeRange fits ln y against x over the points with y in (lo, hi).
func semiLogSlopeRange(x, y []float64, lo, hi float64) float64 {
	var xs, ys []float64
	for i := range x {
		if y[i] > lo && y[i] < hi {
			xs, ys = append(xs, x[i]), append(ys, math.Log(y[i]))
		}
	}
	return fitSlope(xs, ys)
}
