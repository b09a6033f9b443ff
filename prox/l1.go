package prox

import (
	"fmt"
	"math"
	"slices"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// L1 returns the proximal operator of λ‖·‖₁ at x, soft-thresholding:
//
//	prox(x)ᵢ = sign(xᵢ)·max(|xᵢ| − λ, 0).
//
// Its Jacobian is diagonal: 1 where |xᵢ| > λ, 0 where |xᵢ| < λ, and
// Policy.SoftThreshold0 (default 0) at the kinks |xᵢ| = λ, counted under
// "soft_threshold". It is ad.SoftThreshold; λ is a constant ≥ 0 (L1Var
// differentiates with respect to λ).
func L1(x *ad.Var, lambda float64) *ad.Var {
	checkParam("L1", "lambda", lambda, false)
	return ad.SoftThreshold(x, lambda)
}

// ElasticNet returns the proximal operator of λ‖·‖₁ + (μ/2)‖·‖² at x:
//
//	prox(x) = soft(x, λ)/(1 + μ),
//
// with Jacobian diag(1{|xᵢ| > λ})/(1 + μ), the kinks |xᵢ| = λ taking
// Policy.SoftThreshold0/(1 + μ). λ ≥ 0 and μ ≥ 0 are constants.
func ElasticNet(x *ad.Var, lambda, mu float64) *ad.Var {
	checkParam("ElasticNet", "lambda", lambda, false)
	checkParam("ElasticNet", "mu", mu, false)
	return ad.Scale(ad.SoftThreshold(x, lambda), 1/(1+mu))
}

// l1Name is the primitive name of L1Var, under which its kinks are counted.
const l1Name = "prox_l1"

var l1Prim = &ad.Prim{
	Name: l1Name,
	Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor {
		x, lam := in[0], tensor.BroadcastTo(in[1], in[0].Shape()...)
		l := lam.Float64s()
		for _, v := range l {
			if !(v >= 0) {
				panic(fmt.Sprintf("prox.L1Var: threshold %v is not ≥ 0", v))
			}
		}
		xs := x.Float64s()
		for i, v := range xs {
			switch {
			case v > l[i]:
				xs[i] = v - l[i]
			case v < -l[i]:
				xs[i] = v + l[i]
			case v == v:
				xs[i] = 0
			}
		}
		return tensor.FromFloat64s(x.DType(), xs, x.Shape()...)
	},
	JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
		dx, dl := l1Masks(c)
		var r *ad.Var
		if t[0] != nil {
			r = ad.Mul(t[0], dx)
		}
		if t[1] != nil {
			rl := ad.Mul(t[1], dl) // broadcasts to x's shape
			if r == nil {
				return rl
			}
			r = ad.Add(r, rl)
		}
		return r
	},
	VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
		dx, dl := l1Masks(c)
		gl := ad.Mul(g, dl)
		if !slices.Equal(c.In[1].Shape(), gl.Shape()) {
			gl = ad.SumTo(gl, c.In[1].Shape()...)
		}
		return []*ad.Var{ad.Mul(g, dx), gl}
	},
	Kinks: func(in []*tensor.Tensor, _ any) int {
		x := in[0].Float64s()
		l := tensor.BroadcastTo(in[1], in[0].Shape()...).Float64s()
		n := 0
		for i, v := range x {
			if math.Abs(v) == l[i] {
				n++
			}
		}
		return n
	},
	Flops: func(in []*tensor.Tensor, out *tensor.Tensor, _ any) ad.Cost {
		n := float64(out.Size())
		return ad.Cost{Fwd: 2 * n, JVP: 4 * n, VJP: 4 * n}
	},
}

// l1Masks returns the derivative of L1Var with respect to x, D, and with
// respect to λ, −sign(x)·D, as constants shaped like x. D is 1 where
// |x| > λ, 0 where |x| < λ and Policy.SoftThreshold0 where |x| = λ.
func l1Masks(c *ad.Call) (dx, dl *ad.Var) {
	xt := c.In[0].Value()
	x := xt.Float64s()
	l := tensor.BroadcastTo(c.In[1].Value(), xt.Shape()...).Float64s()
	s0 := c.Policy.SoftThreshold0
	d := make([]float64, len(x))
	e := make([]float64, len(x))
	for i, v := range x {
		a := math.Abs(v)
		switch {
		case a > l[i]:
			d[i] = 1
		case a < l[i]:
			d[i] = 0
		case a == l[i]:
			d[i] = s0
		default:
			d[i] = math.NaN()
		}
		switch {
		case v > 0:
			e[i] = -d[i]
		case v < 0:
			e[i] = d[i]
		case v != v:
			e[i] = math.NaN()
		}
	}
	return constOf(xt.DType(), d, xt.Shape()), constOf(xt.DType(), e, xt.Shape())
}

// L1Var is L1 with a differentiable threshold λ, a Var of x's dtype whose
// shape broadcasts to x's (a scalar, or one threshold per element, row or
// column); the result has x's shape. The Jacobian is
//
//	∂prox/∂x = diag(D),   ∂prox/∂λ = −sign(x)·D (summed over broadcast axes),
//
// where D is 1 where |xᵢ| > λᵢ, 0 where |xᵢ| < λᵢ, and
// Policy.SoftThreshold0 (default 0) at the kinks |xᵢ| = λᵢ, which are
// counted under "prox_l1". At a kink the pair (∂x, ∂λ) is the convex
// combination, with weight SoftThreshold0, of the two one-sided Jacobians
// (1, −sign x) and (0, 0). It panics if the shapes do not broadcast to x's
// shape or if an element of λ is negative or NaN.
func L1Var(x, lambda *ad.Var) *ad.Var {
	if x.DType() != lambda.DType() {
		panic(fmt.Sprintf("prox.L1Var: dtypes %v (x) and %v (lambda) differ", x.DType(), lambda.DType()))
	}
	if s, err := tensor.BroadcastShapes(x.Shape(), lambda.Shape()); err != nil || !slices.Equal(s, x.Shape()) {
		panic(fmt.Sprintf("prox.L1Var: lambda of shape %v does not broadcast to x's shape %v", lambda.Shape(), x.Shape()))
	}
	return ad.Apply(l1Prim, nil, x, lambda)
}

// ElasticNetVar is ElasticNet with differentiable λ and μ (Vars of x's
// dtype whose shapes broadcast to x's; μ ≥ 0): soft(x, λ)/(1 + μ),
// composed of L1Var and a division, with ∂/∂μ = −soft(x, λ)/(1 + μ)². The
// kinks are those of L1Var.
func ElasticNetVar(x, lambda, mu *ad.Var) *ad.Var {
	for _, m := range mu.Value().Float64s() {
		if !(m >= 0) {
			panic(fmt.Sprintf("prox.ElasticNetVar: mu %v is not ≥ 0", m))
		}
	}
	return ad.Div(L1Var(x, lambda), ad.AddScalar(mu, 1))
}
