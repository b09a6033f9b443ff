package ad

import (
	"fmt"
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Shape primitives: reshape, permute, slicing and padding, concatenation,
// gathers and scatters. All are linear, so each rule applies the primitive
// or its adjoint to the tangent or cotangent.

var reshapePrim *Prim

func init() {
	reshapePrim = register(&Prim{
		Name: "reshape",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return in[0].Reshape(p.([]int)...) },
		JVP:  func(c *Call, t []*Var) *Var { return Reshape(t[0], c.Out.Shape()...) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{Reshape(g, c.In[0].Shape()...)} },
	})
}

// Reshape returns x with a new shape of the same size (one dimension may be
// −1).
func Reshape(x *Var, shape ...int) *Var {
	if slices.Equal(x.Shape(), shape) {
		return x
	}
	return Apply(reshapePrim, slices.Clone(shape), x)
}

var permutePrim *Prim

func init() {
	permutePrim = register(&Prim{
		Name: "permute",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return tensor.Permute(in[0], p.([]int)...) },
		JVP:  func(c *Call, t []*Var) *Var { return Permute(t[0], c.Params.([]int)...) },
		VJP: func(c *Call, g *Var) []*Var {
			perm := c.Params.([]int)
			inv := make([]int, len(perm))
			for i, p := range perm {
				inv[p] = i
			}
			return []*Var{Permute(g, inv...)}
		},
	})
}

// Permute reorders the axes of x: axis i of the result is axis perm[i].
func Permute(x *Var, perm ...int) *Var { return Apply(permutePrim, slices.Clone(perm), x) }

// Transpose swaps the last two axes of x.
func Transpose(x *Var) *Var {
	nd := len(x.Shape())
	if nd < 2 {
		panic(fmt.Sprintf("ad.Transpose: need at least 2 dimensions, have shape %v", x.Shape()))
	}
	perm := make([]int, nd)
	for i := range perm {
		perm[i] = i
	}
	perm[nd-2], perm[nd-1] = nd-1, nd-2
	return Permute(x, perm...)
}

// sliceParams select [start, end) along axis.
type sliceParams struct{ axis, start, end int }

var slicePrim *Prim

func init() {
	slicePrim = register(&Prim{
		Name: "slice",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			s := p.(sliceParams)
			return tensor.Slice(in[0], s.axis, s.start, s.end)
		},
		JVP: func(c *Call, t []*Var) *Var {
			s := c.Params.(sliceParams)
			return SliceAxis(t[0], s.axis, s.start, s.end)
		},
		VJP: func(c *Call, g *Var) []*Var {
			s := c.Params.(sliceParams)
			ax := s.axis
			if ax < 0 {
				ax += len(c.In[0].Shape())
			}
			return []*Var{PadAxis(g, ax, s.start, c.In[0].Shape()[ax]-s.end)}
		},
	})
}

// SliceAxis returns x[..., start:end, ...] along axis.
func SliceAxis(x *Var, axis, start, end int) *Var {
	return Apply(slicePrim, sliceParams{axis, start, end}, x)
}

// padParams pad with zeros along axis.
type padParams struct{ axis, before, after int }

var padPrim *Prim

func init() {
	padPrim = register(&Prim{
		Name: "pad",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			s := p.(padParams)
			return tensor.PadAxis(in[0], s.axis, s.before, s.after)
		},
		JVP: func(c *Call, t []*Var) *Var {
			s := c.Params.(padParams)
			return PadAxis(t[0], s.axis, s.before, s.after)
		},
		VJP: func(c *Call, g *Var) []*Var {
			s := c.Params.(padParams)
			ax := s.axis
			if ax < 0 {
				ax += len(c.In[0].Shape())
			}
			return []*Var{SliceAxis(g, ax, s.before, s.before+c.In[0].Shape()[ax])}
		},
	})
}

// PadAxis pads x with zeros along axis: before entries in front, after at
// the end.
func PadAxis(x *Var, axis, before, after int) *Var {
	return Apply(padPrim, padParams{axis, before, after}, x)
}

var concatPrim *Prim

func init() {
	concatPrim = register(&Prim{
		Name: "concat",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return tensor.Concat(p.(int), in...) },
		JVP: func(c *Call, t []*Var) *Var {
			parts := make([]*Var, len(t))
			for i, ti := range t {
				if ti == nil {
					ti = constLike(c.In[i], 0)
				}
				parts[i] = ti
			}
			return Concat(c.Params.(int), parts...)
		},
		VJP: func(c *Call, g *Var) []*Var {
			ax := c.Params.(int)
			if ax < 0 {
				ax += len(c.Out.Shape())
			}
			out := make([]*Var, len(c.In))
			off := 0
			for i, x := range c.In {
				n := x.Shape()[ax]
				out[i] = SliceAxis(g, ax, off, off+n)
				off += n
			}
			return out
		},
	})
}

// Concat joins xs along an existing axis.
func Concat(axis int, xs ...*Var) *Var {
	if len(xs) == 1 {
		return xs[0]
	}
	return Apply(concatPrim, axis, xs...)
}

// Stack joins xs, all of one shape, along a new axis.
func Stack(axis int, xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("ad.Stack: no inputs")
	}
	shape := xs[0].Shape()
	nd := len(shape) + 1
	if axis < 0 {
		axis += nd
	}
	if axis < 0 || axis >= nd {
		panic(fmt.Sprintf("ad.Stack: axis %d out of range for shape %v", axis, shape))
	}
	ns := slices.Insert(slices.Clone(shape), axis, 1)
	parts := make([]*Var, len(xs))
	for i, x := range xs {
		if !slices.Equal(x.Shape(), shape) {
			panic(fmt.Sprintf("ad.Stack: shape mismatch %v and %v", shape, x.Shape()))
		}
		parts[i] = Reshape(x, ns...)
	}
	return Concat(axis, parts...)
}

// indexParams select entries idx along axis.
type indexParams struct {
	axis int
	idx  []int
}

var indexSelectPrim *Prim

func init() {
	indexSelectPrim = register(&Prim{
		Name: "index_select",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			s := p.(indexParams)
			return tensor.IndexSelect(in[0], s.axis, s.idx)
		},
		JVP: func(c *Call, t []*Var) *Var {
			s := c.Params.(indexParams)
			return IndexSelect(t[0], s.axis, s.idx)
		},
		VJP: func(c *Call, g *Var) []*Var {
			s := c.Params.(indexParams)
			return []*Var{ScatterAdd(constLike(c.In[0], 0), s.axis, s.idx, g)}
		},
	})
}

// IndexSelect picks the entries idx of x along axis (repeats allowed), as
// torch.index_select. Embedding lookups are IndexSelect on axis 0.
func IndexSelect(x *Var, axis int, idx []int) *Var {
	return Apply(indexSelectPrim, indexParams{axis, slices.Clone(idx)}, x)
}

var scatterAddPrim *Prim

func init() {
	scatterAddPrim = register(&Prim{
		Name: "scatter_add",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			s := p.(indexParams)
			return tensor.ScatterAdd(in[0], s.axis, s.idx, in[1])
		},
		JVP: func(c *Call, t []*Var) *Var {
			s := c.Params.(indexParams)
			base, src := t[0], t[1]
			if base == nil {
				base = constLike(c.In[0], 0)
			}
			if src == nil {
				return base
			}
			return ScatterAdd(base, s.axis, s.idx, src)
		},
		VJP: func(c *Call, g *Var) []*Var {
			s := c.Params.(indexParams)
			return []*Var{g, IndexSelect(g, s.axis, s.idx)}
		},
	})
}

// ScatterAdd returns x with the slices of src added at positions idx along
// axis (repeated indices accumulate): the adjoint of IndexSelect.
func ScatterAdd(x *Var, axis int, idx []int, src *Var) *Var {
	return Apply(scatterAddPrim, indexParams{axis, slices.Clone(idx)}, x, src)
}

var takeAlongPrim *Prim

func init() {
	takeAlongPrim = register(&Prim{
		Name: "take_along",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			s := p.(indexParams)
			return tensor.TakeAlong(in[0], s.axis, s.idx)
		},
		JVP: func(c *Call, t []*Var) *Var {
			s := c.Params.(indexParams)
			return TakeAlong(t[0], s.axis, s.idx)
		},
		VJP: func(c *Call, g *Var) []*Var {
			s := c.Params.(indexParams)
			return []*Var{PutAlong(c.In[0].Shape(), s.axis, s.idx, g)}
		},
	})
}

// TakeAlong picks one entry along axis for every position of the other
// axes (torch.gather with one index per row): for x of shape [B, C] and
// axis 1 the result has shape [B].
func TakeAlong(x *Var, axis int, idx []int) *Var {
	return Apply(takeAlongPrim, indexParams{axis, slices.Clone(idx)}, x)
}

// putParams describe PutAlong's output.
type putParams struct {
	indexParams
	shape []int
}

var putAlongPrim *Prim

func init() {
	putAlongPrim = register(&Prim{
		Name: "put_along",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			s := p.(putParams)
			return tensor.PutAlong(s.shape, in[0].DType(), s.axis, s.idx, in[0])
		},
		JVP: func(c *Call, t []*Var) *Var {
			s := c.Params.(putParams)
			return PutAlong(s.shape, s.axis, s.idx, t[0])
		},
		VJP: func(c *Call, g *Var) []*Var {
			s := c.Params.(putParams)
			return []*Var{TakeAlong(g, s.axis, s.idx)}
		},
	})
}

// PutAlong returns zeros of shape with src placed at one index along axis
// per position of the other axes: the adjoint of TakeAlong.
func PutAlong(shape []int, axis int, idx []int, src *Var) *Var {
	return Apply(putAlongPrim, putParams{indexParams{axis, slices.Clone(idx)}, slices.Clone(shape)}, src)
}
