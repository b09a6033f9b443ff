package prox

import (
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// hingeName is the primitive name of Hinge.
const hingeName = "prox_hinge"

// hingeDeriv is the derivative of the hinge prox with threshold l, with
// the value h at the two breakpoints.
func hingeDeriv(l, h float64) func(float64) float64 {
	return func(v float64) float64 {
		switch {
		case v < 1-l || v > 1:
			return 1
		case v > 1-l && v < 1:
			return 0
		case v == 1-l || v == 1:
			return h
		}
		return math.NaN()
	}
}

var hingePrim = &ad.Prim{
	Name: hingeName,
	Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
		l := p.(float64)
		return tensor.Map(in[0], func(v float64) float64 {
			switch {
			case v < 1-l:
				return v + l
			case v <= 1:
				return 1
			}
			return v // x > 1, or NaN
		})
	},
	JVP: func(c *ad.Call, t []*ad.Var) *ad.Var { return hingeRule(c, t[0]) },
	VJP: func(c *ad.Call, g *ad.Var) []*ad.Var { return []*ad.Var{hingeRule(c, g)} },
	Kinks: func(in []*tensor.Tensor, p any) int {
		l := p.(float64)
		k := 0
		for _, v := range in[0].Float64s() {
			if v == 1-l || v == 1 {
				k++
			}
		}
		return k
	},
	Flops: func(in []*tensor.Tensor, out *tensor.Tensor, _ any) ad.Cost {
		n := float64(out.Size())
		return ad.Cost{Fwd: 2 * n, JVP: 2 * n, VJP: 2 * n}
	},
}

func hingeRule(c *ad.Call, g *ad.Var) *ad.Var {
	f := hingeDeriv(c.Params.(float64), c.Policy.Hinge0)
	return ad.Mul(g, ad.Const(tensor.Map(c.In[0].Value(), f)))
}

// Hinge returns the proximal operator of λ·max(0, 1 − ·) (the hinge loss)
// at each element of x, λ ≥ 0 a constant:
//
//	prox(x) = x + λ for x < 1 − λ,  1 for 1 − λ ≤ x ≤ 1,  x for x > 1.
//
// Its derivative is 1 on the two outer pieces and 0 on the middle one. At
// the breakpoints x = 1 − λ and x = 1 (kinks, counted under "prox_hinge")
// it is Policy.Hinge0 (default 0), the weight of the sloped piece, as
// Hinge0 weighs the sloped branch of the hinge itself: 0 is the one-sided
// derivative from inside [1 − λ, 1], 1 that from outside. λ = 0 returns x.
func Hinge(x *ad.Var, lambda float64) *ad.Var {
	checkParam("Hinge", "lambda", lambda, false)
	if lambda == 0 {
		return x
	}
	return ad.Apply(hingePrim, lambda, x)
}
