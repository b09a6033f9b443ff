package ad

import (
	"fmt"
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Forward is a forward-mode trace: Vars seeded on it carry a tangent that
// every primitive propagates with its JVP rule. A Forward belongs to one
// goroutine at a time.
type Forward struct {
	ord    uint64
	opts   Options
	stats  *Stats
	err    error
	done   bool
	policy Policy
}

// NewForward returns a forward-mode trace with the given options (nil for
// defaults). It returns an error if the Policy is invalid.
func NewForward(o *Options) (*Forward, error) {
	o = o.orDefault()
	if err := o.Policy.Validate(); err != nil {
		return nil, err
	}
	f := &Forward{ord: nextOrder(), opts: *o, stats: o.Stats, policy: o.Policy}
	if f.stats == nil {
		f.stats = &Stats{}
	}
	f.stats.init()
	return f, nil
}

func (f *Forward) order() uint64 { return f.ord }
func (f *Forward) closed() bool  { return f.done }
func (f *Forward) kind() string  { return "forward" }

// Stats returns the trace's counters.
func (f *Forward) Stats() *Stats { return f.stats }

// Err returns the first anomaly found (anomaly mode), or nil.
func (f *Forward) Err() error { return f.err }

// Close finishes the trace: its Vars then act as their values.
func (f *Forward) Close() { f.done = true }

// Seed returns x carrying the tangent v on this trace. v must have x's
// shape and dtype.
func (f *Forward) Seed(x, v *Var) (*Var, error) {
	if !slices.Equal(x.Shape(), v.Shape()) || x.DType() != v.DType() {
		return nil, fmt.Errorf("ad: Seed: tangent %v %v does not match input %v %v", v.DType(), v.Shape(), x.DType(), x.Shape())
	}
	return &Var{val: x.val, tr: f, below: x, tan: v}, nil
}

// Tangent returns the tangent of y on this trace (zeros if y does not
// depend on a seeded Var), and y one level down. y may also be traced by
// levels created after this one (nested or sibling traces): its tangent
// here is then the one of its value at this level.
func (f *Forward) Tangent(y *Var) (primal, tangent *Var) {
	for y.tr != nil && y.tr != f && (y.tr.closed() || y.tr.order() > f.order()) {
		y = y.below
	}
	if y.tr != f {
		return y, Const(tensor.ZerosLike(y.val))
	}
	if y.tan == nil {
		return y.below, Const(tensor.ZerosLike(y.val))
	}
	return y.below, y.tan
}

func (f *Forward) apply(p *Prim, params any, in []*Var) *Var {
	below, mine := split(f, in)
	out := Apply(p, params, below...)
	tans := make([]*Var, len(in))
	seeded := false
	for i, m := range mine {
		if m {
			tans[i] = in[i].tan
			seeded = seeded || in[i].tan != nil
		}
	}
	if !seeded {
		return out
	}
	cost := f.stats.record(p, params, values(below), out.val)
	f.stats.ForwardFlops += cost.Fwd
	t := p.JVP(&Call{Prim: p, Params: params, In: below, Out: out, Policy: &f.policy, stats: f.stats}, tans)
	f.stats.TangentFlops += cost.JVP
	if t == nil {
		return out
	}
	if !slices.Equal(t.Shape(), out.Shape()) || t.DType() != out.DType() {
		// a wrong rule (typically a custom Prim) would otherwise broadcast
		// silently into a wrong derivative
		panic(fmt.Sprintf("ad: the JVP rule of %s returned a tangent %v %v for an output %v %v", p.Name, t.DType(), t.Shape(), out.DType(), out.Shape()))
	}
	if f.opts.Anomaly && f.err == nil && (out.val.HasNaNInf() || t.val.HasNaNInf()) {
		phase := "tangent"
		if out.val.HasNaNInf() {
			phase = "forward"
		}
		f.err = &AnomalyError{Prim: p.Name, Phase: phase, InputShapes: shapesOf(below), Input: -1}
	}
	return &Var{val: out.val, tr: f, below: out, tan: t}
}
