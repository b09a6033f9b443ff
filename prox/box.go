package prox

import (
	"fmt"
	"math"
	"slices"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// boxName is the primitive name of ProjBoxVar.
const boxName = "proj_box"

// boxBounds returns x's values and the bounds broadcast to x's shape.
func boxBounds(in []*tensor.Tensor) (x, lo, hi []float64) {
	s := in[0].Shape()
	return in[0].Float64s(), tensor.BroadcastTo(in[1], s...).Float64s(), tensor.BroadcastTo(in[2], s...).Float64s()
}

var boxPrim = &ad.Prim{
	Name: boxName,
	Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor {
		x, lo, hi := boxBounds(in)
		for i, v := range x {
			if math.IsNaN(lo[i]) || math.IsNaN(hi[i]) || lo[i] > hi[i] {
				panic(fmt.Sprintf("prox.ProjBoxVar: invalid bounds [%v, %v] at element %d", lo[i], hi[i], i))
			}
			switch {
			case v < lo[i]:
				x[i] = lo[i]
			case v > hi[i]:
				x[i] = hi[i]
			}
		}
		return tensor.FromFloat64s(in[0].DType(), x, in[0].Shape()...)
	},
	JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
		ms := boxMasks(c)
		var r *ad.Var
		for k, tk := range t {
			if tk == nil {
				continue
			}
			p := ad.Mul(tk, ms[k]) // broadcasts to x's shape
			if r == nil {
				r = p
			} else {
				r = ad.Add(r, p)
			}
		}
		return r
	},
	VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
		ms := boxMasks(c)
		out := make([]*ad.Var, 3)
		for k := range out {
			out[k] = ad.Mul(g, ms[k])
			if s := c.In[k].Shape(); !slices.Equal(s, out[k].Shape()) {
				out[k] = ad.SumTo(out[k], s...)
			}
		}
		return out
	},
	Kinks: func(in []*tensor.Tensor, _ any) int {
		x, lo, hi := boxBounds(in)
		k := 0
		for i, v := range x {
			if v == lo[i] || v == hi[i] {
				k++
			}
		}
		return k
	},
	Flops: func(in []*tensor.Tensor, out *tensor.Tensor, _ any) ad.Cost {
		n := float64(out.Size())
		return ad.Cost{Fwd: 2 * n, JVP: 6 * n, VJP: 6 * n}
	},
}

// boxMasks returns the derivatives of ProjBoxVar with respect to x, lo
// and hi, as constants shaped like x.
func boxMasks(c *ad.Call) [3]*ad.Var {
	xt := c.In[0].Value()
	x, lo, hi := boxBounds([]*tensor.Tensor{xt, c.In[1].Value(), c.In[2].Value()})
	cl := c.Policy.Clamp
	var m [3][]float64
	for k := range m {
		m[k] = make([]float64, len(x))
	}
	for i, v := range x {
		switch {
		case v == lo[i]: // on the lower bound (also when lo = hi)
			m[0][i], m[1][i] = cl, 1-cl
		case v == hi[i]:
			m[0][i], m[2][i] = cl, 1-cl
		case v > lo[i] && v < hi[i]:
			m[0][i] = 1
		case v < lo[i]:
			m[1][i] = 1
		case v > hi[i]:
			m[2][i] = 1
		default: // NaN
			m[0][i], m[1][i], m[2][i] = math.NaN(), math.NaN(), math.NaN()
		}
	}
	var out [3]*ad.Var
	for k := range out {
		out[k] = constOf(xt.DType(), m[k], xt.Shape())
	}
	return out
}

// ProjBoxVar is ProjBox with bounds that are Vars of x's dtype, with
// derivatives, each broadcasting to x's shape (scalars, one bound per
// element, per row or per column), lo ≤ hi elementwise:
//
//	P(x)ᵢ = min(max(xᵢ, loᵢ), hiᵢ).
//
// The derivative goes to x strictly inside, to lo below it and to hi above
// it (summed over broadcast axes). On a bound, a kink counted under
// "proj_box", x gets Policy.Clamp (default 0) and that bound 1 −
// Policy.Clamp: the convex combination of the two one-sided Jacobians,
// as ProjBox gives x. It panics if the shapes do not broadcast to x's,
// or (when evaluated) if a bound is NaN or lo > hi.
func ProjBoxVar(x, lo, hi *ad.Var) *ad.Var {
	for _, b := range []*ad.Var{lo, hi} {
		if b.DType() != x.DType() {
			panic(fmt.Sprintf("prox.ProjBoxVar: bound dtype %v differs from x's %v", b.DType(), x.DType()))
		}
		if s, err := tensor.BroadcastShapes(x.Shape(), b.Shape()); err != nil || !slices.Equal(s, x.Shape()) {
			panic(fmt.Sprintf("prox.ProjBoxVar: bound of shape %v does not broadcast to x's shape %v", b.Shape(), x.Shape()))
		}
	}
	return ad.Apply(boxPrim, nil, x, lo, hi)
}
