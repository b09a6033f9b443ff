package ad

import (
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Reductions: sum, mean, max, min, log-sum-exp, norm.

// reduceParams are the parameters of a reduction.
type reduceParams struct {
	axes []int // nil: all axes
	keep bool
}

// keptShape is the output shape with reduced axes kept as size 1.
func keptShape(in []int, axes []int) []int {
	s := slices.Clone(in)
	if axes == nil {
		for i := range s {
			s[i] = 1
		}
		return s
	}
	for _, a := range axes {
		if a < 0 {
			a += len(in)
		}
		s[a] = 1
	}
	return s
}

// expandReduced reshapes a reduction's output (or its cotangent) to the
// kept-dims shape and broadcasts it back to the input shape.
func expandReduced(g *Var, in []int, axes []int) *Var {
	return BroadcastTo(Reshape(g, keptShape(in, axes)...), in...)
}

var sumPrim *Prim

func init() {
	sumPrim = register(&Prim{
		Name: "sum",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			r := p.(reduceParams)
			return tensor.Sum(in[0], r.axes, r.keep)
		},
		JVP: func(c *Call, t []*Var) *Var {
			r := c.Params.(reduceParams)
			return Sum(t[0], r.axes, r.keep)
		},
		VJP: func(c *Call, g *Var) []*Var {
			r := c.Params.(reduceParams)
			return []*Var{expandReduced(g, c.In[0].Shape(), r.axes)}
		},
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(in[0].Size())
			return Cost{Fwd: n, JVP: n}
		},
	})
}

// Sum sums x over axes (all axes when nil); keepdims keeps them as size 1.
func Sum(x *Var, axes []int, keepdims bool) *Var {
	return Apply(sumPrim, reduceParams{slices.Clone(axes), keepdims}, x)
}

// SumAll sums every element of x to a scalar.
func SumAll(x *Var) *Var { return Sum(x, nil, false) }

// Mean averages x over axes (all axes when nil).
func Mean(x *Var, axes []int, keepdims bool) *Var {
	n := x.val.Size()
	if axes != nil {
		n = 1
		for _, a := range axes {
			if a < 0 {
				a += len(x.Shape())
			}
			n *= x.Shape()[a]
		}
	}
	return Scale(Sum(x, axes, keepdims), 1/float64(n))
}

// extremeParams parameterize max and min reductions.
type extremeParams struct {
	reduceParams
	isMax bool
}

// extremeMask returns the constant weights with which the derivative of a
// max/min reduction reaches each input element: 1 at the unique extreme,
// and at ties the Policy's MaxTie rule (default: split evenly).
func extremeMask(x, out *tensor.Tensor, r reduceParams, tie TieRule) *tensor.Tensor {
	shape := x.Shape()
	ext := tensor.BroadcastTo(out.Reshape(keptShape(shape, r.axes)...), shape...)
	hit := tensor.Equal(x, ext)
	switch tie.resolve(TieSplit) {
	case TieSplit:
		cnt := tensor.BroadcastTo(tensor.Sum(hit, r.axes, true), shape...)
		return tensor.Div(hit, cnt)
	default:
		// keep only the first (or last) hit of each group: walk the group's
		// elements in row-major order by permuting reduced axes to the end
		m := tensor.ZerosLike(hit)
		first := tie.resolve(TieSplit) == TieFirst
		groups := groupIndex(shape, r.axes)
		seen := map[int]int{}
		for i := 0; i < hit.Size(); i++ {
			if hit.AtFlat(i) == 0 {
				continue
			}
			g := groups[i]
			if j, ok := seen[g]; ok {
				if first {
					continue
				}
				m.SetFlat(j, 0)
			}
			seen[g] = i
			m.SetFlat(i, 1)
		}
		return m
	}
}

// groupIndex returns, for each element of a tensor of shape, the flat index
// of its reduction group (its position among the kept axes).
func groupIndex(shape []int, axes []int) []int {
	red := make([]bool, len(shape))
	for i := range red {
		red[i] = axes == nil
	}
	for _, a := range axes {
		if a < 0 {
			a += len(shape)
		}
		red[a] = true
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	out := make([]int, n)
	idx := make([]int, len(shape))
	for i := 0; i < n; i++ {
		g := 0
		for d, v := range idx {
			if !red[d] {
				g = g*shape[d] + v
			}
		}
		out[i] = g
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}

var extremePrim *Prim

func init() {
	extremePrim = register(&Prim{
		Name: "max_reduce",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			e := p.(extremeParams)
			if e.isMax {
				return tensor.Max(in[0], e.axes, e.keep)
			}
			return tensor.Min(in[0], e.axes, e.keep)
		},
		JVP: func(c *Call, t []*Var) *Var {
			e := c.Params.(extremeParams)
			m := Const(extremeMask(c.In[0].val, c.Out.val, e.reduceParams, c.Policy.MaxTie))
			return Sum(Mul(t[0], m), e.axes, e.keep)
		},
		VJP: func(c *Call, g *Var) []*Var {
			e := c.Params.(extremeParams)
			m := Const(extremeMask(c.In[0].val, c.Out.val, e.reduceParams, c.Policy.MaxTie))
			return []*Var{Mul(expandReduced(g, c.In[0].Shape(), e.axes), m)}
		},
		Kinks: func(in []*tensor.Tensor, p any) int {
			// groups whose extreme is attained more than once
			e := p.(extremeParams)
			var out *tensor.Tensor
			if e.isMax {
				out = tensor.Max(in[0], e.axes, true)
			} else {
				out = tensor.Min(in[0], e.axes, true)
			}
			hit := tensor.Equal(in[0], tensor.BroadcastTo(out, in[0].Shape()...))
			cnt := tensor.Sum(hit, e.axes, false)
			return countWhere(cnt, func(v float64) bool { return v > 1 })
		},
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(in[0].Size())
			return Cost{Fwd: n, JVP: 2 * n, VJP: 2 * n}
		},
	})
}

// Max returns the maximum of x over axes (all when nil). The derivative
// reaches the maximal elements; ties follow Policy.MaxTie.
func Max(x *Var, axes []int, keepdims bool) *Var {
	return Apply(extremePrim, extremeParams{reduceParams{slices.Clone(axes), keepdims}, true}, x)
}

// Min returns the minimum of x over axes (all when nil); ties follow
// Policy.MaxTie.
func Min(x *Var, axes []int, keepdims bool) *Var {
	return Apply(extremePrim, extremeParams{reduceParams{slices.Clone(axes), keepdims}, false}, x)
}

var logSumExpPrim *Prim

func init() {
	logSumExpPrim = register(&Prim{
		Name: "logsumexp",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			r := p.(reduceParams)
			return tensor.LogSumExp(in[0], r.axes, r.keep)
		},
		JVP: func(c *Call, t []*Var) *Var {
			r := c.Params.(reduceParams)
			return Sum(Mul(t[0], lseWeights(c, r)), r.axes, r.keep)
		},
		VJP: func(c *Call, g *Var) []*Var {
			r := c.Params.(reduceParams)
			return []*Var{Mul(expandReduced(g, c.In[0].Shape(), r.axes), lseWeights(c, r))}
		},
		Flops: elementwise(12, 14, 14),
	})
}

// lseWeights is softmax of the input over the reduced axes, exp(x − lse),
// written with differentiable operations.
func lseWeights(c *Call, r reduceParams) *Var {
	return Exp(Sub(c.In[0], expandReduced(c.Out, c.In[0].Shape(), r.axes)))
}

// LogSumExp returns log Σ exp(x) over axes (all when nil), computed
// stably.
func LogSumExp(x *Var, axes []int, keepdims bool) *Var {
	return Apply(logSumExpPrim, reduceParams{slices.Clone(axes), keepdims}, x)
}

// Norm returns the Euclidean norm of x over axes (all when nil). At the
// zero vector its derivative uses Policy.Sqrt0 times zero, that is 0.
func Norm(x *Var, axes []int, keepdims bool) *Var {
	return Sqrt(Sum(Square(x), axes, keepdims))
}
