package ode

import (
	"errors"
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
)

// Func is a vector field f(t, x, θ), written with ad operations so that it
// is differentiable in x and θ (nonsmooth operations follow the Policy of
// the trace that differentiates the solution). Its result has x's shape.
type Func func(t float64, x *ad.Var, theta []*ad.Var) *ad.Var

// Adjoint says how reverse mode (VJP) differentiates a solution. Forward
// mode (JVP) always uses forward sensitivities: the tangent equations of
// the discrete scheme, propagated with the steps (memory O(1)).
type Adjoint interface{ adjoint() string }

// DiscreteAdjoint is the exact gradient of the discretized solution
// (discretize-then-optimize): the steps taken by the forward solve (step
// sizes held fixed) are differentiated in reverse, one step at a time on a
// tape. The forward solve keeps some states (checkpoints) and the backward
// pass recomputes the states in between, segment by segment:
//
//   - Checkpoints = c > 0 keeps every c-th state: memory about N/c + c
//     states for N steps, one extra forward pass;
//   - Checkpoints = 0 (the default) bounds the memory without knowing N:
//     at most 64 checkpoints are held, the stride doubling (every other
//     one dropped) when they are full, so memory is at most 64 + 2N/64
//     states, with one extra forward pass;
//   - Checkpoints = CheckpointAll keeps every state (no recomputation).
//
// The gradient is the same in every case (the same operations are
// replayed). Stats.StoredStates and Stats.Recomputed report the cost. The
// default adjoint.
type DiscreteAdjoint struct {
	Checkpoints int
}

// CheckpointAll, as DiscreteAdjoint.Checkpoints, keeps every state.
const CheckpointAll = -1

// defaultCheckpoints is the checkpoint budget of DiscreteAdjoint{}.
const defaultCheckpoints = 64

// Backsolve is the continuous adjoint method: the adjoint ODE
// λ' = −(∂f/∂x)ᵀλ, θ̄' = −(∂f/∂θ)ᵀλ is integrated backward in time
// together with x itself, from x(t1), with memory O(1) in the number of
// steps. Its gradient agrees with the true one only up to the solver
// tolerance (re-integrating x backward is itself approximate), so
// Stats.Approximate is set. RTol and ATol default to the forward
// solve's; Method is the forward one.
type Backsolve struct {
	RTol, ATol float64
}

func (DiscreteAdjoint) adjoint() string { return "discrete-adjoint" }
func (Backsolve) adjoint() string       { return "backsolve" }

// Options configure Solve. The zero value means Dopri5 with default
// tolerances and the discrete adjoint.
type Options struct {
	// Method is the scheme. Default Dopri5.
	Method Method
	// Step is the step size of the fixed-step methods (required for them;
	// each interval between output times is divided into equal steps of at
	// most Step), or Dopri5's first step (0: chosen automatically).
	Step float64
	// MaxStep bounds Dopri5's step size (0: no bound). The error control
	// acts on the state only, so a sensitivity or adjoint can need smaller
	// steps than the state (e.g. a state resting at an equilibrium).
	MaxStep float64
	// RTol and ATol are Dopri5's relative and absolute tolerances on the
	// local error (RMS norm over the state). Defaults 1e-6 and 1e-9.
	RTol, ATol float64
	// MaxSteps limits the attempted steps. Default 100000.
	MaxSteps int
	// SaveAt are the times (strictly monotone in the direction of
	// integration, in (t0, t1]) at which the solution is returned; t1 is
	// appended if missing. Dopri5 uses its dense output between steps;
	// the fixed-step methods step exactly onto them.
	SaveAt []float64
	// Adjoint is the reverse-mode method. Default DiscreteAdjoint{}.
	Adjoint Adjoint
}

func (o *Options) rtol() float64 {
	if o.RTol <= 0 {
		return 1e-6
	}
	return o.RTol
}

func (o *Options) atol() float64 {
	if o.ATol <= 0 {
		return 1e-9
	}
	return o.ATol
}

func (o *Options) maxSteps() int {
	if o.MaxSteps <= 0 {
		return 100000
	}
	return o.MaxSteps
}

// ErrMaxSteps: the solve needed more than Options.MaxSteps steps.
var ErrMaxSteps = errors.New("ode: too many steps")

// ErrStepSize: the adaptive step size underflowed, or the state stopped
// being finite.
var ErrStepSize = errors.New("ode: step size underflow or non-finite state")

// saveTimes validates and completes the output times.
func (o *Options) saveTimes(t0, t1 float64) ([]float64, error) {
	if math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0) || t0 == t1 {
		return nil, fmt.Errorf("ode: bad interval [%v, %v]", t0, t1)
	}
	dir := math.Copysign(1, t1-t0)
	var ts []float64
	prev := t0
	for i, s := range o.SaveAt {
		if !((s-prev)*dir > 0) || (s-t1)*dir > 0 {
			return nil, fmt.Errorf("ode: SaveAt[%d] = %v is not strictly monotone within (%v, %v]", i, s, t0, t1)
		}
		ts = append(ts, s)
		prev = s
	}
	if len(ts) == 0 || ts[len(ts)-1] != t1 {
		ts = append(ts, t1)
	}
	return ts, nil
}

func (o *Options) validate() error {
	if _, ok := tableaus[o.Method]; !ok {
		return fmt.Errorf("ode: unknown method %d", int(o.Method))
	}
	if o.Method != Dopri5 && !(o.Step > 0) {
		return fmt.Errorf("ode: %v needs Options.Step > 0", o.Method)
	}
	if o.Step < 0 || math.IsNaN(o.Step) || o.MaxStep < 0 || math.IsNaN(o.MaxStep) {
		return fmt.Errorf("ode: Step = %v, MaxStep = %v", o.Step, o.MaxStep)
	}
	switch a := o.Adjoint.(type) {
	case nil:
	case DiscreteAdjoint:
		if a.Checkpoints < CheckpointAll {
			return fmt.Errorf("ode: DiscreteAdjoint.Checkpoints = %d", a.Checkpoints)
		}
	case Backsolve:
		if a.RTol < 0 || a.ATol < 0 {
			return fmt.Errorf("ode: Backsolve tolerances %+v", a)
		}
	default:
		return fmt.Errorf("ode: unknown adjoint %T", o.Adjoint)
	}
	return nil
}

// Stats describes a solve and the derivatives computed through it. The
// forward fields are set when Solve returns; the derivative fields each
// time a derivative rule runs (during a backward pass or a forward-mode
// evaluation), describing the most recent one.
type Stats struct {
	Method string
	// Steps is the number of steps attempted, Accepted and Rejected
	// their split; FEvals counts evaluations of f.
	Steps, Accepted, Rejected, FEvals int

	// Sensitivity names the last derivative computation: "forward",
	// "discrete-adjoint" or "backsolve".
	Sensitivity string
	// Approximate is set by the backsolve adjoint, whose gradient is exact
	// only up to the solver tolerance.
	Approximate bool
	// DerivSteps and DerivFEvals count the steps and evaluations of f (or
	// of its JVP/VJP) done by the last derivative computation; for
	// backsolve, DerivRejected counts its rejected steps.
	DerivSteps, DerivRejected, DerivFEvals int
	// StoredStates is the peak number of states held by the last
	// derivative computation (checkpoints and a recomputed segment for the
	// discrete adjoint, 1 for forward sensitivities and backsolve);
	// Recomputed counts the steps re-run to rebuild states.
	StoredStates, Recomputed int
	// AD accumulates the counters (kink hits, flops) of the traces the
	// derivative rules run.
	AD ad.Stats
}
