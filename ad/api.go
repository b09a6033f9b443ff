package ad

import (
	"fmt"
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Func is a differentiable function of one or more Vars.
type Func = func(xs ...*Var) *Var

// ValueAndGrad returns f(xs) and its gradient with respect to each x, for a
// function with a one-element output. The results are one level below the
// internal tape, so ValueAndGrad nests inside other differentiation.
//
// Errors: an invalid Policy in o; an output with more than one element; an
// anomaly (o.Anomaly) with the offending primitive. Shape mismatches inside
// f panic, as tensor misuse does everywhere.
func ValueAndGrad(f Func, xs []*Var, o *Options) (*Var, []*Var, error) {
	y, gs, err := vjp(f, xs, nil, o, true)
	return y, gs, err
}

// Grad returns the gradient of a function with a one-element output with
// respect to each x. See ValueAndGrad for the errors.
func Grad(f Func, xs []*Var, o *Options) ([]*Var, error) {
	_, gs, err := vjp(f, xs, nil, o, true)
	return gs, err
}

// VJP returns y = f(xs) and uᵀ·∂f/∂x for each x. u must have y's shape
// and dtype (an error otherwise).
func VJP(f Func, xs []*Var, u *Var, o *Options) (*Var, []*Var, error) {
	if u == nil {
		return nil, nil, fmt.Errorf("ad: VJP: nil cotangent")
	}
	return vjp(f, xs, u, o, false)
}

func vjp(f Func, xs []*Var, u *Var, o *Options, scalar bool) (*Var, []*Var, error) {
	t, err := NewTape(o)
	if err != nil {
		return nil, nil, err
	}
	defer t.Close()
	ws := make([]*Var, len(xs))
	for i, x := range xs {
		if x == nil {
			return nil, nil, fmt.Errorf("ad: input %d is nil", i)
		}
		ws[i] = t.Watch(x)
	}
	y := f(ws...)
	if y == nil {
		return nil, nil, fmt.Errorf("ad: the function returned a nil Var")
	}
	if scalar && y.val.Size() != 1 {
		return nil, nil, fmt.Errorf("ad: Grad needs a one-element output, got shape %v (use VJP)", y.Shape())
	}
	gs, err := t.Backward(y, u, ws...)
	if err != nil {
		return nil, nil, err
	}
	return lower(y, t), gs, nil
}

// lower returns y one level below trace tr.
func lower(y *Var, tr trace) *Var {
	if y.tr == tr {
		return y.below
	}
	return y
}

// JVP returns y = f(xs) and the directional derivative ∂f/∂x · v, with one
// tangent per input (same shape and dtype as it). Errors: mismatched
// tangents, an invalid Policy, an anomaly.
func JVP(f Func, xs, vs []*Var, o *Options) (*Var, *Var, error) {
	if len(xs) != len(vs) {
		return nil, nil, fmt.Errorf("ad: JVP: %d inputs but %d tangents", len(xs), len(vs))
	}
	fw, err := NewForward(o)
	if err != nil {
		return nil, nil, err
	}
	defer fw.Close()
	ss := make([]*Var, len(xs))
	for i := range xs {
		if xs[i] == nil || vs[i] == nil {
			return nil, nil, fmt.Errorf("ad: JVP: input or tangent %d is nil", i)
		}
		if ss[i], err = fw.Seed(xs[i], vs[i]); err != nil {
			return nil, nil, fmt.Errorf("ad: JVP: input %d: %w", i, err)
		}
	}
	y := f(ss...)
	if y == nil {
		return nil, nil, fmt.Errorf("ad: the function returned a nil Var")
	}
	if fw.err != nil {
		return nil, nil, fw.err
	}
	p, t := fw.Tangent(y)
	return p, t, nil
}

// HVP returns the Hessian of a one-element function applied to v: the
// directional derivative of the gradient (forward over reverse).
func HVP(f Func, xs, vs []*Var, o *Options) ([]*Var, error) {
	if len(xs) != len(vs) {
		return nil, fmt.Errorf("ad: HVP: %d inputs but %d directions", len(xs), len(vs))
	}
	// the gradient, stacked into one Var so a single JVP carries all parts
	var inner error
	g := func(zs ...*Var) *Var {
		gs, err := Grad(f, zs, o)
		if err != nil {
			inner = err
			return Const(tensor.Zeros(zs[0].DType(), 0))
		}
		return flatConcat(gs)
	}
	// the counters see each primitive once, on the inner (reverse) trace
	var outer *Options
	if o != nil {
		oc := *o
		oc.Stats = nil
		outer = &oc
	}
	_, hv, err := JVP(g, xs, vs, outer)
	if inner != nil {
		return nil, inner
	}
	if err != nil {
		return nil, err
	}
	return unflatten(hv, xs), nil
}

// flatConcat concatenates the flattened Vars. Vars of mixed dtypes are
// cast exactly to a common one: Float64 if one of them is, else Float32.
func flatConcat(vs []*Var) *Var {
	if len(vs) == 1 {
		return Reshape(vs[0], -1)
	}
	d := vs[0].DType()
	for _, v := range vs {
		if v.DType() != d {
			d = tensor.Float32
			for _, w := range vs {
				if w.DType() == tensor.Float64 {
					d = tensor.Float64
				}
			}
			break
		}
	}
	flat := make([]*Var, len(vs))
	for i, v := range vs {
		flat[i] = Reshape(Cast(v, d), -1)
	}
	return Concat(0, flat...)
}

// unflatten splits a flat Var into pieces shaped and typed like xs.
func unflatten(v *Var, xs []*Var) []*Var {
	out := make([]*Var, len(xs))
	off := 0
	for i, x := range xs {
		n := x.val.Size()
		out[i] = Cast(Reshape(SliceAxis(v, 0, off, off+n), x.Shape()...), x.DType())
		off += n
	}
	return out
}

// JacobianMode chooses how Jacobian is computed.
type JacobianMode int

// Jacobian modes: reverse uses one VJP per output element, forward one JVP
// per input element.
const (
	Reverse JacobianMode = iota
	ForwardMode
)

// Jacobian returns ∂f/∂x with shape f(x).Shape() ++ x.Shape(), built row by
// row with VJPs (Reverse) or column by column with JVPs (ForwardMode).
func Jacobian(f func(x *Var) *Var, x *Var, mode JacobianMode, o *Options) (*Var, error) {
	ff := func(xs ...*Var) *Var { return f(xs[0]) }
	n := x.val.Size()
	switch mode {
	case Reverse:
		y := f(StopGradient(x))
		m := y.val.Size()
		rows := make([]*Var, m)
		for i := 0; i < m; i++ {
			u := tensor.ZerosLike(y.val)
			u.SetFlat(i, 1)
			_, g, err := VJP(ff, []*Var{x}, Const(u), o)
			if err != nil {
				return nil, err
			}
			rows[i] = Reshape(g[0], -1)
		}
		shape := append(slices.Clone(y.Shape()), x.Shape()...)
		if m == 0 {
			return Const(tensor.Zeros(x.DType(), shape...)), nil
		}
		return Reshape(Stack(0, rows...), shape...), nil
	case ForwardMode:
		cols := make([]*Var, n)
		var yshape []int
		for j := 0; j < n; j++ {
			v := tensor.ZerosLike(x.val)
			v.SetFlat(j, 1)
			y, t, err := JVP(ff, []*Var{x}, []*Var{Const(v)}, o)
			if err != nil {
				return nil, err
			}
			yshape = y.Shape()
			cols[j] = Reshape(t, -1)
		}
		if n == 0 {
			y := f(StopGradient(x))
			return Const(tensor.Zeros(x.DType(), append(slices.Clone(y.Shape()), x.Shape()...)...)), nil
		}
		// columns stacked on the last axis: [m, n]
		return Reshape(Stack(1, cols...), append(slices.Clone(yshape), x.Shape()...)...), nil
	}
	return nil, fmt.Errorf("ad: Jacobian: unknown mode %d", mode)
}
