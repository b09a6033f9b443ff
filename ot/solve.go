package ot

import (
	"errors"
	"math"
	"runtime"
)

// problem is one Sinkhorn problem on float64 values.
type problem struct {
	n, m       int
	c          []float64 // n×m, row-major
	ct         []float64 // m×n transpose (log domain), built on demand
	a, b       []float64
	loga, logb []float64
	tauA, tauB float64 // +Inf: balanced side
}

// solution is the value-level result of a solve.
type solution struct {
	f, g      []float64
	iters     int
	err       float64
	converged bool
	// numerical reports a kernel underflow or a NaN/Inf in the iterates.
	numerical error
	// schedule[s] = (first iteration, ε) of ε-scaling stage s
	schedule []stage
}

type stage struct {
	start int
	eps   float64
}

// ErrNumerical reports that the iterates stopped being finite: the kernel
// exp(−C/ε) underflowed (use the log-domain method), or the inputs hold
// NaN or Inf.
var ErrNumerical = errors.New("ot: the Sinkhorn iterates are not finite")

// lambda is τ/(τ+ε), the damping of an unbalanced side (1 when balanced).
func lambda(tau, eps float64) float64 {
	if math.IsInf(tau, 1) {
		return 1
	}
	return tau / (tau + eps)
}

func (pr *problem) balanced() bool { return math.IsInf(pr.tauA, 1) && math.IsInf(pr.tauB, 1) }

func (pr *problem) transposed() []float64 {
	if pr.ct == nil {
		n, m := pr.n, pr.m
		ct := make([]float64, n*m)
		const bs = 32
		for i0 := 0; i0 < n; i0 += bs {
			for j0 := 0; j0 < m; j0 += bs {
				for i := i0; i < min(i0+bs, n); i++ {
					for j := j0; j < min(j0+bs, m); j++ {
						ct[j*n+i] = pr.c[i*m+j]
					}
				}
			}
		}
		pr.ct = ct
	}
	return pr.ct
}

// epsStages returns the ε of each stage: ε₀, ε₀·decay, … down to eps.
func (o *Options) epsStages() []float64 {
	eps := o.Eps
	s := o.EpsScaling
	if s == nil || s.Init <= eps {
		return []float64{eps}
	}
	decay := s.Decay
	if decay <= 0 || decay >= 1 {
		decay = 0.5
	}
	var out []float64
	for e := s.Init; e > eps; e *= decay {
		out = append(out, e)
	}
	return append(out, eps)
}

func (o *Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return min(2, runtime.GOMAXPROCS(0))
}

// solveValues runs Sinkhorn on values from f = g = 0.
func solveValues(pr *problem, o *Options) *solution {
	if o.Method == Kernel {
		return solveKernel(pr, o)
	}
	return solveLog(pr, o)
}

// stageControl gives the tolerance and iteration budget of stage s.
func stageControl(o *Options, s, nStages int) (tol float64, maxIt int) {
	if s == nStages-1 {
		return o.tol(), o.maxIter()
	}
	tol, maxIt = 1e-3, 100
	if o.EpsScaling.StageTol > 0 {
		tol = o.EpsScaling.StageTol
	}
	if o.EpsScaling.StageIters > 0 {
		maxIt = o.EpsScaling.StageIters
	}
	return max(tol, o.tol()), maxIt
}

// rowError returns Σ_i a_i |exp((f_i − fNew_i)/ε) − 1|: for a balanced
// problem the L1 violation of the row marginal of the plan of (f, g) when
// fNew is the row update computed from g.
func rowError(a, f, fNew []float64, eps float64) float64 {
	var s float64
	for i := range f {
		if a[i] == 0 {
			continue
		}
		s += a[i] * math.Abs(math.Expm1((f[i]-fNew[i])/eps))
	}
	return s
}

func solveLog(pr *problem, o *Options) *solution {
	n, m := pr.n, pr.m
	ct := pr.transposed()
	w := o.workers()
	f := make([]float64, n)
	g := make([]float64, m)
	fNew := make([]float64, n)
	hA := make([]float64, n)
	hB := make([]float64, m)
	sol := &solution{err: math.Inf(1)}
	stages := o.epsStages()
	var rowsF, rowsG lseRows
	K := 0
	for s, eps := range stages {
		sol.schedule = append(sol.schedule, stage{K, eps})
		la, lb := lambda(pr.tauA, eps), lambda(pr.tauB, eps)
		tol, maxIt := stageControl(o, s, len(stages))
		rowUpdate := func(dst []float64) {
			for j := range hB {
				hB[j] = g[j] + eps*pr.logb[j]
			}
			rowsF.softmin(dst, pr.c, hB, eps, la, w)
		}
		colUpdate := func() {
			for i := range hA {
				hA[i] = f[i] + eps*pr.loga[i]
			}
			rowsG.softmin(g, ct, hA, eps, lb, w)
		}
		done := false
		for it := 0; it < maxIt; it++ {
			rowUpdate(fNew)
			if K > sol.schedule[s].start || (s > 0 && it == 0) {
				sol.err = rowError(pr.a, f, fNew, eps)
				if !finite(sol.err) {
					sol.numerical = ErrNumerical
					break
				}
				if sol.err <= tol {
					done = true
					break
				}
			}
			f, fNew = fNew, f
			colUpdate()
			K++
		}
		if sol.numerical != nil {
			break
		}
		if !done && s == len(stages)-1 {
			// the error of the final state
			rowUpdate(fNew)
			sol.err = rowError(pr.a, f, fNew, eps)
			if !finite(sol.err) {
				sol.numerical = ErrNumerical
			}
		}
	}
	sol.f, sol.g, sol.iters = f, g, K
	sol.converged = sol.numerical == nil && sol.err <= o.convTol()
	if pr.balanced() {
		gauge(f, g)
	}
	if !allFinite(f) || !allFinite(g) {
		sol.numerical, sol.converged = ErrNumerical, false
	}
	return sol
}

// gauge shifts balanced potentials (f + c, g − c) so that mean(g) = 0,
// which leaves the plan unchanged.
func gauge(f, g []float64) {
	var c float64
	for _, v := range g {
		c += v
	}
	c /= float64(len(g))
	for j := range g {
		g[j] -= c
	}
	for i := range f {
		f[i] += c
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func allFinite(xs []float64) bool {
	for _, v := range xs {
		if !finite(v) {
			return false
		}
	}
	return true
}

// solveKernel runs the scaling iterations u ← a⊙(Kv)^(−λa),
// v ← b⊙(Kᵀu)^(−λb) with K = exp(−C/ε) (u = a⊙e^(f/ε), v = b⊙e^(g/ε)).
func solveKernel(pr *problem, o *Options) *solution {
	n, m := pr.n, pr.m
	w := o.workers()
	sol := &solution{err: math.Inf(1)}
	f := make([]float64, n)
	g := make([]float64, m)
	kmat := make([]float64, n*m)
	u := make([]float64, n)
	v := make([]float64, m)
	kv := make([]float64, n)
	ktu := make([]float64, m)
	fNew := make([]float64, n)
	stages := o.epsStages()
	K := 0
	for s, eps := range stages {
		sol.schedule = append(sol.schedule, stage{K, eps})
		la, lb := lambda(pr.tauA, eps), lambda(pr.tauB, eps)
		tol, maxIt := stageControl(o, s, len(stages))
		parallelRows(n, w, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				for j := 0; j < m; j++ {
					kmat[i*m+j] = math.Exp(-pr.c[i*m+j] / eps)
				}
			}
		})
		for j := range v {
			v[j] = pr.b[j] * math.Exp(g[j]/eps)
		}
		// rowUpdate sets fNew = −λa·ε·log(Kv) and u; false on underflow
		rowUpdate := func() bool {
			ok := true
			parallelRows(n, w, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					row := kmat[i*m : (i+1)*m]
					var t float64
					for j, kij := range row {
						t += kij * v[j]
					}
					kv[i] = t
				}
			})
			for i, t := range kv {
				if !(t > 0) || math.IsInf(t, 1) {
					ok = false
				}
				fNew[i] = -la * eps * math.Log(t)
			}
			return ok
		}
		colUpdate := func() bool {
			for i := range u {
				u[i] = pr.a[i] * math.Exp(f[i]/eps)
			}
			parallelRows(m, w, func(lo, hi int) {
				for j := lo; j < hi; j++ {
					ktu[j] = 0
				}
				for i := 0; i < n; i++ {
					ui := u[i]
					row := kmat[i*m+lo : i*m+hi]
					dst := ktu[lo:hi]
					for j, kij := range row {
						dst[j] += kij * ui
					}
				}
			})
			ok := true
			for j, t := range ktu {
				if !(t > 0) || math.IsInf(t, 1) {
					ok = false
				}
				g[j] = -lb * eps * math.Log(t)
				v[j] = pr.b[j] * math.Pow(t, -lb)
			}
			return ok
		}
		done := false
		for it := 0; it < maxIt; it++ {
			if !rowUpdate() {
				sol.numerical = ErrNumerical
				break
			}
			if K > sol.schedule[s].start || (s > 0 && it == 0) {
				sol.err = rowError(pr.a, f, fNew, eps)
				if sol.err <= tol {
					done = true
					break
				}
			}
			f, fNew = fNew, f
			if !colUpdate() {
				sol.numerical = ErrNumerical
				K++
				break
			}
			K++
		}
		if sol.numerical != nil {
			break
		}
		if !done && s == len(stages)-1 {
			if !rowUpdate() {
				sol.numerical = ErrNumerical
			} else {
				sol.err = rowError(pr.a, f, fNew, eps)
			}
		}
	}
	sol.f, sol.g, sol.iters = f, g, K
	if sol.numerical != nil {
		sol.err = math.Inf(1)
	}
	sol.converged = sol.numerical == nil && sol.err <= o.convTol()
	if sol.numerical == nil && pr.balanced() {
		gauge(f, g)
	}
	if !allFinite(f) || !allFinite(g) {
		sol.numerical, sol.converged = ErrNumerical, false
	}
	return sol
}

func isInf(v float64) bool { return v > 1.7976931348623157e308 }

func expm1(x float64) float64 { return math.Expm1(x) }
