package ot

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// Result is the outcome of Sinkhorn: Vars differentiable with respect to
// the cost matrix and the marginals according to Options.Mode.
type Result struct {
	// Plan is the n×m transport plan P_ij = a_i b_j e^((f_i+g_j−C_ij)/ε).
	Plan *ad.Var
	// F and G are the dual potentials (for a balanced problem, fixed up to
	// (F + c, G − c); the returned ones have mean(G) = 0).
	F, G *ad.Var
	// Cost is the regularized transport cost
	// min_P ⟨P, C⟩ + ε·KL(P | a⊗b) + τa·KL(P1 | a) + τb·KL(Pᵀ1 | b),
	// computed as the dual objective at (F, G).
	Cost *ad.Var
	// TransportCost is ⟨P, C⟩ (what POT's sinkhorn2 returns).
	TransportCost *ad.Var
	// Info describes the solve.
	Info *Info
}

// Sinkhorn solves the entropic optimal transport problem between the
// histograms a (length n) and b (length m) for the n×m cost matrix C:
//
//	min_P ⟨P, C⟩ + ε·KL(P | a⊗b) + τa·KL(P1 | a) + τb·KL(Pᵀ1 | b)
//
// with hard marginal constraints on the sides whose τ is 0 (the default).
// a or b may be nil for uniform weights. All must be Float64; for a
// balanced problem a and b must have the same mass.
//
// The iterations run on values (LogDomain or Kernel, with optional
// ε-scaling). The results are differentiable in C, a and b, through
// iterdiff, according to o.Mode:
//
//   - iterdiff.Implicit (default): the implicit function theorem at the
//     computed potentials, with a matrix-free linear solve on JVPs or
//     VJPs of the log-domain step (gauge-fixed so that the fixed point is
//     isolated); nothing larger than the n×m plan is formed. An
//     unconverged solve returns ErrNotConverged unless AllowUnconverged.
//   - iterdiff.Unroll and iterdiff.Piggyback: through all the iterations
//     from the initial potentials (the iterations are re-run with ad
//     operations, with the same ε schedule); Unroll's Checkpoints bound the
//     memory of reverse mode, Piggyback carries forward derivatives along.
//   - iterdiff.OneStep and iterdiff.KStep: the last one or K iterations
//     at the computed solution (POT's "last_step").
//   - iterdiff.Detach: constants.
//
// With o.Envelope the costs are differentiated by Danskin's theorem
// instead (cheap, first order only), whatever the mode.
//
// Errors: bad shapes, dtypes, options or marginals; ErrNumerical (the
// iterates stopped being finite: kernel underflow), with Result.Info
// set and no Vars; ErrNotConverged as above; iterdiff errors. An
// unconverged solve in the other modes is reported by Info.Converged and
// Info.Err, not as an error.
func Sinkhorn(C, a, b *ad.Var, o Options) (*Result, error) {
	pr, a, b, err := newProblem(C, a, b, &o)
	if err != nil {
		return nil, err
	}
	sol := solveValues(pr, &o)
	return finish(pr, sol, C, a, b, &o)
}

// newProblem checks the inputs and builds the value-level problem.
func newProblem(C, a, b *ad.Var, o *Options) (*problem, *ad.Var, *ad.Var, error) {
	if err := o.validate(); err != nil {
		return nil, nil, nil, err
	}
	if C == nil {
		return nil, nil, nil, fmt.Errorf("ot: nil cost matrix")
	}
	if C.DType() != tensor.Float64 || len(C.Shape()) != 2 {
		return nil, nil, nil, fmt.Errorf("ot: cost matrix is %v %v, want a Float64 matrix", C.DType(), C.Shape())
	}
	n, m := C.Shape()[0], C.Shape()[1]
	if n == 0 || m == 0 {
		return nil, nil, nil, fmt.Errorf("ot: empty cost matrix %v", C.Shape())
	}
	if a == nil {
		a = ad.Const(tensor.Full(tensor.Float64, 1/float64(n), n))
	}
	if b == nil {
		b = ad.Const(tensor.Full(tensor.Float64, 1/float64(m), m))
	}
	for _, w := range []struct {
		name string
		v    *ad.Var
		n    int
	}{{"a", a, n}, {"b", b, m}} {
		if w.v.DType() != tensor.Float64 || len(w.v.Shape()) != 1 || w.v.Shape()[0] != w.n {
			return nil, nil, nil, fmt.Errorf("ot: marginal %s is %v %v, want Float64 [%d] for cost %v", w.name, w.v.DType(), w.v.Shape(), w.n, C.Shape())
		}
	}
	pr := &problem{n: n, m: m, c: C.Value().Data64(), a: a.Value().Data64(), b: b.Value().Data64(), tauA: tauOf(o.TauA), tauB: tauOf(o.TauB)}
	for i, v := range pr.c {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, nil, fmt.Errorf("ot: cost matrix entry %d is %v", i, v)
		}
	}
	var sa, sb float64
	var err error
	if pr.loga, sa, err = logWeights("a", pr.a); err != nil {
		return nil, nil, nil, err
	}
	if pr.logb, sb, err = logWeights("b", pr.b); err != nil {
		return nil, nil, nil, err
	}
	if pr.balanced() && math.Abs(sa-sb) > 1e-9*max(sa, sb) {
		return nil, nil, nil, fmt.Errorf("ot: balanced problem with masses %v and %v (normalize them or set TauA/TauB)", sa, sb)
	}
	return pr, a, b, nil
}

func tauOf(t float64) float64 {
	if t == 0 {
		return math.Inf(1)
	}
	return t
}

func logWeights(name string, w []float64) ([]float64, float64, error) {
	lw := make([]float64, len(w))
	var s float64
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 1) {
			return nil, 0, fmt.Errorf("ot: marginal %s[%d] = %v, want finite and ≥ 0", name, i, v)
		}
		lw[i] = math.Log(v)
		s += v
	}
	if !(s > 0) {
		return nil, 0, fmt.Errorf("ot: marginal %s has zero mass", name)
	}
	return lw, s, nil
}

// finish wraps a value-level solution into differentiable results.
func finish(pr *problem, sol *solution, C, a, b *ad.Var, o *Options) (*Result, error) {
	info := &Info{
		Method:        o.Method.String(),
		Mode:          iterdiff.ModeName(o.Mode),
		Envelope:      o.Envelope,
		Iterations:    sol.iters,
		EpsStages:     len(sol.schedule),
		MarginalError: sol.err,
		Converged:     sol.converged,
		Numerical:     sol.numerical != nil,
	}
	res := &Result{Info: info}
	if sol.numerical != nil {
		return res, info.Err()
	}
	if _, ok := o.Mode.(iterdiff.Implicit); (ok || o.Mode == nil) && !sol.converged && !o.AllowUnconverged {
		return res, fmt.Errorf("%w: marginal error %.3g after %d iterations (Implicit mode; set AllowUnconverged to differentiate anyway)", ErrNotConverged, sol.err, sol.iters)
	}
	eps := o.Eps
	theta := []*ad.Var{C, a, b}
	f0 := ad.Const(tensor.Wrap64(sol.f, pr.n))
	g0 := ad.Const(tensor.Wrap64(sol.g, pr.m))
	spec := &stepSpec{method: o.Method, schedule: sol.schedule, tauA: pr.tauA, tauB: pr.tauB}
	final := &stepSpec{method: LogDomain, schedule: []stage{{0, eps}}, tauA: pr.tauA, tauB: pr.tauB}
	var f, g *ad.Var
	switch m := o.Mode.(type) {
	case iterdiff.Detach:
		f, g = f0, g0
	case nil, iterdiff.Implicit:
		if m == nil {
			m = iterdiff.Implicit{}
		}
		im := m.(iterdiff.Implicit)
		if im.Tol == 0 {
			im.Tol = o.derivTol()
		}
		x, dinfo, err := iterdiff.FixedPoint(final.step(), []*ad.Var{f0, g0}, theta,
			iterdiff.Options{MaxIter: 1, Tol: -1, Mode: im, AllowUnconverged: true})
		if err != nil {
			return res, err
		}
		info.Deriv = dinfo
		f, g = x[0], x[1]
	case iterdiff.OneStep, iterdiff.KStep:
		k := 1
		if ks, ok := m.(iterdiff.KStep); ok {
			k = ks.K
		}
		final.method = o.Method
		x0 := []*ad.Var{f0, g0}
		if o.Method == Kernel {
			x0 = scalings(sol, pr, eps)
		}
		x, dinfo, err := iterdiff.FixedPoint(final.step(), x0, theta,
			iterdiff.Options{MaxIter: k, Tol: -1, Mode: m})
		if err != nil {
			return res, err
		}
		info.Deriv = dinfo
		f, g = final.potentials(x, C, a, b, eps)
	case iterdiff.Unroll, iterdiff.Piggyback:
		x0 := []*ad.Var{
			ad.Const(tensor.Zeros(tensor.Float64, pr.n)),
			ad.Const(tensor.Zeros(tensor.Float64, pr.m)),
		}
		if o.Method == Kernel {
			// u is recomputed from v by the first step; v = b⊙e^(g/ε) = b
			// at g = 0, a function of b that Unroll differentiates
			x0[0] = ad.Const(tensor.Ones(tensor.Float64, pr.n))
			x0[1] = b
		}
		io := iterdiff.Options{MaxIter: sol.iters, Tol: -1, Mode: m}
		if _, ok := m.(iterdiff.Piggyback); ok {
			io = iterdiff.Options{MaxIter: max(2*sol.iters, o.maxIter()), Tol: o.derivTol(), Mode: m}
		}
		if sol.iters == 0 {
			f, g = f0, g0
			break
		}
		x, dinfo, err := iterdiff.FixedPoint(spec.step(), x0, theta, io)
		if err != nil {
			return res, err
		}
		info.Deriv = dinfo
		f, g = spec.potentials(x, C, a, b, eps)
	default:
		return res, fmt.Errorf("ot: unsupported mode %T", o.Mode)
	}
	res.F, res.G = f, g
	Cv, av, bv := C, a, b
	if _, ok := o.Mode.(iterdiff.Detach); ok {
		// no derivative at all: not even the partial one of the plan
		// formula with the potentials held fixed
		Cv, av, bv = ad.StopGradient(C), ad.StopGradient(a), ad.StopGradient(b)
	}
	res.Plan = plan(f, g, Cv, av, bv, eps)
	res.TransportCost = ad.SumAll(ad.Mul(res.Plan, Cv))
	if o.Envelope {
		v := dualCost(ad.StopGradient(f), ad.StopGradient(g), ad.StopGradient(C), ad.StopGradient(a), ad.StopGradient(b), ad.StopGradient(res.Plan), eps, pr.tauA, pr.tauB)
		_, mk := envelopeCost(v.Item(), f.Value(), g.Value(), C.Value(), a.Value(), b.Value(), eps, pr.tauA, pr.tauB)
		res.Cost = mk(C, a, b)
	} else {
		res.Cost = dualCost(f, g, Cv, av, bv, res.Plan, eps, pr.tauA, pr.tauB)
	}
	return res, nil
}

// scalings returns the kernel state (u, v) = (a⊙e^(f/ε), b⊙e^(g/ε)).
func scalings(sol *solution, pr *problem, eps float64) []*ad.Var {
	u := make([]float64, pr.n)
	v := make([]float64, pr.m)
	for i := range u {
		u[i] = pr.a[i] * math.Exp(sol.f[i]/eps)
	}
	for j := range v {
		v[j] = pr.b[j] * math.Exp(sol.g[j]/eps)
	}
	return []*ad.Var{ad.Const(tensor.Wrap64(u, pr.n)), ad.Const(tensor.Wrap64(v, pr.m))}
}
