package ad

import (
	"sync/atomic"

	"github.com/gradus-ml/gradus/tensor"
)

// trace is one level of differentiation: a Tape (reverse) or a Forward.
// Levels are ordered by creation, so a trace created inside the
// computation of another is nested inside it and takes precedence; the
// inner one evaluates its primitives one level down, where the outer one
// sees them. This ordering is what keeps nested perturbations apart.
type trace interface {
	order() uint64
	closed() bool
	kind() string
	apply(p *Prim, params any, in []*Var) *Var
}

// traceCounter hands out creation orders. It carries no state that affects
// results: it only orders traces that are alive together.
var traceCounter atomic.Uint64

func nextOrder() uint64 { return traceCounter.Add(1) }

// Options configures a trace. The zero value (or a nil *Options) uses the
// default Policy, no anomaly checks and private counters.
type Options struct {
	// Policy names the derivative choices at nonsmooth points.
	Policy Policy
	// Anomaly checks every primitive's output, and every tangent or
	// cotangent its rules produce, for NaN and Inf; the first offender is
	// reported as an *AnomalyError.
	Anomaly bool
	// Stats, if non-nil, receives the counts of the trace (kink hits, flops).
	Stats *Stats
	// Arena, if non-nil, lends the storage of what a tape computes: the
	// values of its Vars, the cotangents of Backward (the returned
	// gradients included) and whatever is computed from them. All of it
	// stays valid until the arena's Release, which must come after the
	// last use; keep a result beyond it with Clone. A training loop
	// releases the arena after each optimizer update, so the next step
	// reuses the memory instead of allocating it (see train.Stepper). The
	// tape's inputs are not copied, and the arena never reclaims them.
	// Nothing is freed before Release, so a step that iterates many times
	// on the tape's values (a solver inside a primitive) holds all of its
	// temporaries until then: run such loops on untagged tensors
	// (Tensor.In(nil)) or use no arena. Forward traces ignore it.
	Arena *tensor.Arena
}

func (o *Options) orDefault() *Options {
	if o == nil {
		return &Options{}
	}
	return o
}
