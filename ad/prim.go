package ad

import (
	"fmt"
	"slices"
	"sort"

	"github.com/gradus-ml/gradus/tensor"
)

// Prim is a differentiable primitive: its forward kernel, derivative rules,
// kink count and cost, defined together. The built-in primitives live in
// the ops_*.go files, one family per file; users define their own Prims
// (custom rules) and call them with Apply.
type Prim struct {
	// Name identifies the primitive in counters and error messages.
	Name string
	// Eval computes the output from the input values and the parameters.
	Eval func(in []*tensor.Tensor, params any) *tensor.Tensor
	// JVP returns the tangent of the output given the tangents of the
	// inputs (tan[i] == nil means a zero tangent; at least one is non-nil).
	// It returns nil for a zero tangent. It must use Var operations only.
	JVP func(c *Call, tan []*Var) *Var
	// VJP returns the cotangent of each input given the cotangent g of the
	// output (nil entries mean zero). It must use Var operations only.
	VJP func(c *Call, g *Var) []*Var
	// Kinks, if set, returns how many elements of the evaluation sit exactly
	// at a nonsmooth point, where the Policy's choice is used.
	Kinks func(in []*tensor.Tensor, params any) int
	// Flops, if set, returns the floating-point operation counts of the
	// forward evaluation, of one JVP and of one VJP.
	Flops func(in []*tensor.Tensor, out *tensor.Tensor, params any) Cost
}

// Cost is the flop count of a primitive's forward evaluation and of its
// forward-mode (JVP) and reverse-mode (VJP) derivative rules.
type Cost struct {
	Fwd, JVP, VJP float64
}

// Call is one application of a primitive, as seen by its derivative rules.
// In and Out are one trace level below the level applying the rule.
type Call struct {
	Prim   *Prim
	Params any
	In     []*Var
	Out    *Var
	Policy *Policy
	// stats are the counters of the trace applying the rule; rules that
	// run inner traces (Checkpoint) add to them.
	stats *Stats
	// ids are the tape ids of the inputs, −1 for an input not on the tape,
	// whose cotangent is therefore not needed (nil: all are needed).
	ids []int
}

// Stats returns the counters of the trace applying the rule, so a rule that
// runs inner traces (a solver, a recomputed segment) can add its kink hits
// and costs to them.
func (c *Call) Stats() *Stats { return c.stats }

// NeedsGrad reports whether the cotangent of input i will be used. A VJP
// rule may return nil for inputs that are not needed, skipping their work
// (the first layer's input gradient of a network, for instance).
func (c *Call) NeedsGrad(i int) bool { return c.ids == nil || c.ids[i] >= 0 }

// registry lists the built-in primitives by name.
var registry = map[string]*Prim{}

// register adds a built-in primitive; it runs at package initialization.
func register(p *Prim) *Prim {
	if _, dup := registry[p.Name]; dup {
		panic("ad: primitive registered twice: " + p.Name)
	}
	registry[p.Name] = p
	return p
}

// Primitives returns the names of the built-in primitives, sorted.
func Primitives() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Apply applies p with params to the inputs. It dispatches to the innermost
// trace among the inputs' traces (the one created last), which records the
// application (reverse mode) or propagates tangents (forward mode) and
// evaluates p one level down. With no traced input it just evaluates p.
func Apply(p *Prim, params any, in ...*Var) *Var {
	var top trace
	cloned := false
	for i, x := range in {
		if x == nil {
			panic(fmt.Sprintf("ad.%s: nil input %d", p.Name, i))
		}
		if x.tr != nil && x.tr.closed() {
			// a finished trace: its Vars act as their values one level down
			if !cloned {
				in, cloned = slices.Clone(in), true
			}
			for x.tr != nil && x.tr.closed() {
				x = x.below
			}
			in[i] = x
		}
		if x.tr != nil && (top == nil || x.tr.order() > top.order()) {
			top = x.tr
		}
	}
	if top == nil {
		vals := make([]*tensor.Tensor, len(in))
		for i, x := range in {
			vals[i] = x.val
		}
		return &Var{val: p.Eval(vals, params)}
	}
	return top.apply(p, params, in)
}

// split returns, for a trace tr, the inputs one level below tr and a flag
// per input saying whether it belongs to tr.
func split(tr trace, in []*Var) (below []*Var, mine []bool) {
	below = make([]*Var, len(in))
	mine = make([]bool, len(in))
	for i, x := range in {
		if x.tr == tr {
			below[i], mine[i] = x.below, true
		} else {
			below[i] = x
		}
	}
	return below, mine
}

func values(vs []*Var) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		out[i] = v.val
	}
	return out
}

func shapesOf(vs []*Var) [][]int {
	out := make([][]int, len(vs))
	for i, v := range vs {
		out[i] = v.val.Shape()
	}
	return out
}
