package ot

import (
	"errors"
	"fmt"

	"github.com/gradus-ml/gradus/iterdiff"
)

// Method selects the Sinkhorn iteration.
type Method int

const (
	// LogDomain iterates on the potentials with stabilized log-sum-exp
	// reductions: f ← −λa·ε·log Σ_j b_j exp((g_j − C_ij)/ε), and the same
	// for g. It stays finite for any ε > 0. The default.
	LogDomain Method = iota
	// Kernel iterates on the scalings u = a⊙e^(f/ε), v = b⊙e^(g/ε) with
	// the kernel K = exp(−C/ε): u ← a⊙(Kv)^(−λa), v ← b⊙(Kᵀu)^(−λb). It
	// is cheaper per iteration but K underflows when C/ε exceeds about 745;
	// the solve then stops with ErrNumerical.
	Kernel
)

func (m Method) String() string {
	switch m {
	case LogDomain:
		return "log-domain"
	case Kernel:
		return "kernel"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// EpsScaling anneals ε: the solve runs stages with ε = Init, Init·Decay,
// Init·Decay², … down to Options.Eps, each warm-started from the previous
// potentials. Intermediate stages stop at StageTol (default 1e-3) or after
// StageIters iterations (default 100); the last stage uses Options.Tol and
// Options.MaxIter.
type EpsScaling struct {
	Init       float64
	Decay      float64 // in (0, 1); default 0.5
	StageTol   float64
	StageIters int
}

// Options configure Sinkhorn. Eps is required; the zero value of the other
// fields means defaults.
type Options struct {
	// Eps is the entropic regularization ε > 0.
	Eps float64
	// Method is the iteration; default LogDomain.
	Method Method
	// MaxIter limits the iterations (of the last ε stage). Default 1000.
	MaxIter int
	// Tol stops the iteration when the marginal error is at most Tol.
	// Default 1e-9. A negative Tol runs exactly MaxIter iterations; the
	// converged flag then compares the error with the default.
	Tol float64
	// TauA and TauB relax the marginal constraints into KL penalties
	// τ·KL(P1 | a) and τ·KL(Pᵀ1 | b) (unbalanced transport). Zero means a
	// hard constraint (τ = +∞).
	TauA, TauB float64
	// EpsScaling, if set, anneals ε from EpsScaling.Init down to Eps.
	EpsScaling *EpsScaling
	// Mode differentiates the plan, the potentials and (unless Envelope)
	// the costs. Default iterdiff.Implicit{}. See Sinkhorn.
	Mode iterdiff.Mode
	// Envelope differentiates the regularized cost by Danskin's theorem:
	// its gradient is (P, ∂D/∂a, ∂D/∂b) at the computed potentials,
	// whatever Mode says about the plan. It is a first-order rule: second
	// derivatives of the cost through it are not the true ones.
	Envelope bool
	// AllowUnconverged lets Implicit mode differentiate an unconverged
	// solve instead of returning ErrNotConverged.
	AllowUnconverged bool
	// DerivTol is the tolerance of the derivative recursions (Piggyback)
	// and of the implicit linear solve. Default 1e-12.
	DerivTol float64
	// Workers is the number of goroutines of the value-level iterations.
	// Default min(2, GOMAXPROCS).
	Workers int
}

const defaultTol = 1e-9

func (o *Options) tol() float64 {
	if o.Tol == 0 {
		return defaultTol
	}
	return o.Tol
}

func (o *Options) convTol() float64 {
	if o.Tol <= 0 {
		return defaultTol
	}
	return o.Tol
}

func (o *Options) maxIter() int {
	if o.MaxIter <= 0 {
		return 1000
	}
	return o.MaxIter
}

func (o *Options) derivTol() float64 {
	if o.DerivTol <= 0 {
		return 1e-12
	}
	return o.DerivTol
}

func (o *Options) validate() error {
	if !(o.Eps > 0) || !finite(o.Eps) {
		return fmt.Errorf("ot: Eps = %v, want a finite ε > 0", o.Eps)
	}
	if o.Method != LogDomain && o.Method != Kernel {
		return fmt.Errorf("ot: unknown method %d", int(o.Method))
	}
	if o.TauA < 0 || o.TauB < 0 {
		return fmt.Errorf("ot: negative TauA or TauB (%v, %v)", o.TauA, o.TauB)
	}
	if s := o.EpsScaling; s != nil && (!(s.Init > 0) || s.Decay < 0 || s.Decay >= 1) {
		return fmt.Errorf("ot: EpsScaling %+v: want Init > 0 and Decay in (0, 1)", *s)
	}
	return nil
}

// ErrNotConverged is returned by Implicit mode for an unconverged solve
// (unless Options.AllowUnconverged) and by Info.Err.
var ErrNotConverged = errors.New("ot: Sinkhorn did not converge")

// Info describes a solve.
type Info struct {
	// Method and Mode name the iteration and the differentiation mode.
	Method string
	Mode   string
	// Envelope says the costs are differentiated by Danskin's theorem.
	Envelope bool
	// Iterations is the number of full iterations (a row and a column
	// update each) of the value-level solve, all ε stages included.
	Iterations int
	// EpsStages is the number of ε stages (1 without ε-scaling).
	EpsStages int
	// MarginalError is Σ_i |(P1)_i − a_i| for the returned plan of a
	// balanced problem (its columns are exact); for an unbalanced problem,
	// the weighted relative change Σ_i a_i |e^((f_i − f'_i)/ε) − 1| of the
	// last row update.
	MarginalError float64
	// Converged reports MarginalError ≤ Tol and finite iterates.
	Converged bool
	// Numerical is true when the iterates stopped being finite (kernel
	// underflow); the solve then returns ErrNumerical.
	Numerical bool
	// Deriv describes the differentiation through iterdiff (nil for
	// Detach and for the envelope-only case); its derivative fields are
	// filled when a derivative is computed.
	Deriv *iterdiff.Info
}

// Err returns ErrNumerical or ErrNotConverged (with the error) when the
// solve failed or did not converge, and an error when a derivative
// computed so far was approximate: an unconverged implicit linear solve or
// piggyback recursion. It returns nil otherwise.
func (in *Info) Err() error {
	var errs []error
	switch {
	case in.Numerical:
		errs = append(errs, fmt.Errorf("%w (%s, after %d iterations)", ErrNumerical, in.Method, in.Iterations))
	case !in.Converged:
		errs = append(errs, fmt.Errorf("%w: marginal error %.3g after %d iterations", ErrNotConverged, in.MarginalError, in.Iterations))
	}
	if d := in.Deriv; d != nil {
		if d.LinearSolves > 0 && !d.LinearConverged {
			errs = append(errs, fmt.Errorf("ot: implicit derivative: linear solve (%s) not converged: residual %.3g after %d iterations", d.LinearMethod, d.LinearResidual, d.LinearIterations))
		}
		if d.Mode == iterdiff.ModeName(iterdiff.Piggyback{}) && d.DerivIterations > 0 && !d.DerivConverged {
			errs = append(errs, fmt.Errorf("ot: piggyback derivative not converged: residual %.3g after %d iterations", d.DerivResidual, d.DerivIterations))
		}
	}
	return errors.Join(errs...)
}
