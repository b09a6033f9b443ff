package ad

import (
	"fmt"
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Tape records primitive applications for reverse-mode differentiation.
// Create one with NewTape, mark inputs with Watch, compute, then call
// Backward. A Tape belongs to one goroutine at a time.
type Tape struct {
	ord    uint64
	opts   Options
	stats  *Stats
	nodes  []node
	err    error
	done   bool
	policy Policy
}

// node is one recorded application (or a watched leaf when prim is nil).
type node struct {
	call Call // call.ids are the tape ids of the inputs
	cost Cost
}

// NewTape returns an empty tape with the given options (nil for defaults).
// It returns an error if the Policy is invalid.
func NewTape(o *Options) (*Tape, error) {
	o = o.orDefault()
	if err := o.Policy.Validate(); err != nil {
		return nil, err
	}
	t := &Tape{ord: nextOrder(), opts: *o, stats: o.Stats, policy: o.Policy}
	if t.stats == nil {
		t.stats = &Stats{}
	}
	t.stats.init()
	return t, nil
}

func (t *Tape) order() uint64 { return t.ord }
func (t *Tape) closed() bool  { return t.done }
func (t *Tape) kind() string  { return "reverse" }

// Stats returns the tape's counters.
func (t *Tape) Stats() *Stats { return t.stats }

// Policy returns the tape's policy.
func (t *Tape) Policy() Policy { return t.policy }

// Err returns the first anomaly found so far (anomaly mode), or nil.
func (t *Tape) Err() error { return t.err }

// Len returns the number of recorded nodes, watched inputs included.
func (t *Tape) Len() int { return len(t.nodes) }

// Watch returns x as an input of the tape: Backward can return the
// gradient with respect to it. x may itself be traced by outer levels.
func (t *Tape) Watch(x *Var) *Var {
	t.nodes = append(t.nodes, node{})
	x = t.tag(x)
	return &Var{val: x.val, tr: t, below: x, id: len(t.nodes) - 1}
}

// tag returns a constant x tagged with the tape's arena, so that what is
// computed from it draws on the arena; other Vars are returned as they are.
func (t *Tape) tag(x *Var) *Var {
	if a := t.opts.Arena; a != nil && x.tr == nil && x.val.Arena() != a {
		return Const(x.val.In(a))
	}
	return x
}

// WatchTensor is Watch(Const(x)).
func (t *Tape) WatchTensor(x *tensor.Tensor) *Var { return t.Watch(Const(x)) }

// Close finishes the tape: its Vars then act as plain values (one level
// down) in later computations, and nothing more is recorded.
func (t *Tape) Close() { t.done = true }

func (t *Tape) apply(p *Prim, params any, in []*Var) *Var {
	// the inputs one level down (tagged with the arena), and their ids on
	// this tape (−1 for inputs not on it)
	below := make([]*Var, len(in))
	vals := make([]*tensor.Tensor, len(in))
	ids := make([]int, len(in))
	traced := false
	for i, x := range in {
		ids[i] = -1
		if x.tr == t {
			ids[i] = x.id
			x = x.below
		}
		below[i] = t.tag(x)
		vals[i] = below[i].val
		traced = traced || below[i].tr != nil
	}
	var out *Var
	if traced {
		out = Apply(p, params, below...)
	} else {
		out = &Var{val: p.Eval(vals, params)}
	}
	cost := t.stats.record(p, params, vals, out.val)
	t.stats.ForwardFlops += cost.Fwd
	if t.opts.Anomaly && t.err == nil && out.val.HasNaNInf() {
		t.err = &AnomalyError{Prim: p.Name, Phase: "forward", InputShapes: shapesOf(below), Input: -1}
	}
	t.nodes = append(t.nodes, node{call: Call{Prim: p, Params: params, In: below, Out: out, Policy: &t.policy, stats: t.stats, ids: ids}, cost: cost})
	return &Var{val: out.val, tr: t, below: out, id: len(t.nodes) - 1}
}

// Backward propagates the cotangent seed of y (ones when seed is nil; y's
// shape otherwise) back through the tape and returns the cotangents of xs,
// which must be Vars returned by Watch on this tape (or computed on it).
// Entries for Vars y does not depend on are zeros. The results live one
// level below the tape, so an outer trace can differentiate them again.
//
// It returns an error if seed's shape or dtype differs from y's, if an x
// is not on this tape, or (anomaly mode) if a NaN or Inf appeared in the
// forward pass or appears in a cotangent.
func (t *Tape) Backward(y *Var, seed *Var, xs ...*Var) ([]*Var, error) {
	if t.err != nil {
		return nil, t.err
	}
	for i, x := range xs {
		if x.tr != t {
			return nil, fmt.Errorf("ad: Backward: input %d (shape %v) is not on this tape", i, x.Shape())
		}
	}
	if seed == nil {
		seed = Const(tensor.OnesLike(y.val))
	} else if !slices.Equal(seed.Shape(), y.Shape()) || seed.DType() != y.DType() {
		return nil, fmt.Errorf("ad: Backward: seed %v %v does not match output %v %v", seed.DType(), seed.Shape(), y.DType(), y.Shape())
	}
	seed = t.tag(seed)
	// y may be traced by levels created after this tape (nested inside it,
	// or siblings still open): its dependence on this tape's inputs is
	// recorded at this tape's level, below theirs.
	for y.tr != nil && y.tr != t && y.tr.order() > t.order() {
		y = y.below
	}
	out := make([]*Var, len(xs))
	if y.tr != t {
		// y does not depend on the tape's inputs.
		for i, x := range xs {
			out[i] = Const(tensor.ZerosLike(x.val))
		}
		return out, nil
	}
	ct := make([]*Var, len(t.nodes))
	ct[y.id] = seed
	need := make([]bool, len(t.nodes)) // keep leaves' cotangents
	for _, x := range xs {
		need[x.id] = true
	}
	for i := y.id; i >= 0; i-- {
		g := ct[i]
		n := &t.nodes[i]
		if g == nil || n.call.Prim == nil {
			continue
		}
		if !need[i] {
			ct[i] = nil // release memory as we go
		}
		gs := n.call.Prim.VJP(&n.call, g)
		t.stats.BackwardFlops += n.cost.VJP
		if len(gs) != len(n.call.ids) {
			panic(fmt.Sprintf("ad: the VJP rule of %s returned %d cotangents for %d inputs", n.call.Prim.Name, len(gs), len(n.call.ids)))
		}
		for j, gj := range gs {
			if gj == nil || n.call.ids[j] < 0 {
				continue
			}
			if in := n.call.In[j]; !slices.Equal(gj.Shape(), in.Shape()) || gj.DType() != in.DType() {
				// a wrong rule (typically a custom Prim) would otherwise
				// broadcast silently into a wrong gradient
				panic(fmt.Sprintf("ad: the VJP rule of %s returned a cotangent %v %v for input %d, which is %v %v", n.call.Prim.Name, gj.DType(), gj.Shape(), j, in.DType(), in.Shape()))
			}
			if t.opts.Anomaly && t.err == nil && gj.val.HasNaNInf() {
				t.err = &AnomalyError{Prim: n.call.Prim.Name, Phase: "backward", InputShapes: shapesOf(n.call.In), Input: j}
				return nil, t.err
			}
			k := n.call.ids[j]
			if ct[k] == nil {
				ct[k] = gj
			} else {
				ct[k] = Add(ct[k], gj)
			}
		}
	}
	for i, x := range xs {
		if ct[x.id] != nil {
			out[i] = ct[x.id]
		} else {
			out[i] = Const(tensor.ZerosLike(x.val))
		}
	}
	return out, nil
}
