package prox

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// ProjBox returns the projection of x onto the box [lo, hi]ⁿ, clamping
// each element. The bounds are constants and may be infinite. The Jacobian
// is diagonal: 1 strictly inside, 0 strictly outside, and Policy.Clamp
// (default 0, the projected side) on a bound, counted under "clamp". It is
// ad.Clamp and panics as it does (a NaN bound, lo > hi).
func ProjBox(x *ad.Var, lo, hi float64) *ad.Var {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		panic(fmt.Sprintf("prox.ProjBox: invalid bounds [%v, %v]", lo, hi))
	}
	return ad.Clamp(x, lo, hi)
}

// ProjNonNeg returns the projection of x onto the nonnegative orthant,
// max(x, 0) elementwise. It is the box [0, +∞): the derivative at xᵢ = 0
// is Policy.Clamp (default 0), not Policy.ReLU0, so that it agrees with
// ProjBox, and the kinks are counted under "clamp". (ad.Relu computes the
// same value with the ReLU0 choice.)
func ProjNonNeg(x *ad.Var) *ad.Var { return ad.Clamp(x, 0, math.Inf(1)) }

// l2BallName is the primitive name of ProjL2Ball.
const l2BallName = "proj_l2_ball"

var l2BallPrim = &ad.Prim{
	Name: l2BallName,
	Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
		r := p.(float64)
		x := in[0]
		n, d := rows(l2BallName, x.Shape())
		v := x.Float64s()
		for i := range n {
			row := v[i*d : (i+1)*d]
			if nr := norm2(row); nr > r {
				s := r / nr
				for k := range row {
					row[k] *= s
				}
			}
		}
		return tensor.FromFloat64s(x.DType(), v, x.Shape()...)
	},
	JVP: func(c *ad.Call, t []*ad.Var) *ad.Var { return l2BallRule(c, t[0]) },
	VJP: func(c *ad.Call, g *ad.Var) []*ad.Var { return []*ad.Var{l2BallRule(c, g)} },
	Kinks: func(in []*tensor.Tensor, p any) int {
		r := p.(float64)
		n, d := rows(l2BallName, in[0].Shape())
		v := in[0].Float64s()
		k := 0
		for i := range n {
			if norm2(v[i*d:(i+1)*d]) == r {
				k++
			}
		}
		return k
	},
	Flops: func(in []*tensor.Tensor, out *tensor.Tensor, _ any) ad.Cost {
		n := float64(out.Size())
		return ad.Cost{Fwd: 3 * n, JVP: 8 * n, VJP: 8 * n}
	},
}

// l2BallRule applies the (symmetric) Jacobian of ProjL2Ball at c.In[0] to
// t: per row, m·t + (1 − m)·(r/‖x‖)(t − x⟨x, t⟩/‖x‖²), with m = 1 inside
// the ball, 0 outside and Policy.Clamp on the sphere. The outside part is
// written with Var operations of x, so it has second derivatives.
func l2BallRule(c *ad.Call, t *ad.Var) *ad.Var {
	r := c.Params.(float64)
	x := c.In[0]
	xv := x.Value()
	shape := xv.Shape()
	n, d := rows(l2BallName, shape)
	v := xv.Float64s()
	m := make([]float64, n)     // weight of the identity, per row
	out := make([]float64, n*d) // 1 on the rows with an outside part
	inside, outside := true, true
	for i := range n {
		nr := norm2(v[i*d : (i+1)*d])
		switch {
		case nr < r:
			m[i] = 1
		case nr > r:
			m[i] = 0
		case nr == r:
			m[i] = c.Policy.Clamp
		default:
			m[i] = math.NaN()
		}
		if m[i] != 1 {
			inside = false
			for k := range d {
				out[i*d+k] = 1
			}
		}
		if m[i] != 0 {
			outside = false
		}
	}
	if inside {
		return t
	}
	dt := xv.DType()
	if direct(x, t) {
		tv := t.Value().Float64s()
		for i := range n {
			if m[i] == 1 {
				continue
			}
			xr, tr := v[i*d:(i+1)*d], tv[i*d:(i+1)*d]
			sq, dot := 0.0, 0.0
			for k := range xr {
				sq += xr[k] * xr[k]
				dot += xr[k] * tr[k]
			}
			s := r / math.Sqrt(sq)
			for k := range tr {
				o := s * (tr[k] - xr[k]*(dot/sq))
				tr[k] = m[i]*tr[k] + (1-m[i])*o
			}
		}
		return constOf(dt, tv, shape)
	}
	rs := rowShape(shape)
	// the rows inside the ball see a constant in place of x, so that no
	// derivative of the unused branch (a 1/‖x‖ at x = 0) reaches them
	xo := ad.Where(tensor.FromFloat64s(dt, out, shape...), x, ad.Const(tensor.Ones(dt, shape...)))
	sq := sumLast(ad.Square(xo))
	inv := ad.Rsqrt(sq) // 1/‖x‖
	proj := ad.Sub(t, ad.Mul(xo, ad.Div(sumLast(ad.Mul(xo, t)), sq)))
	o := ad.Scale(ad.Mul(proj, inv), r)
	if outside {
		return o
	}
	w := constOf(dt, m, rs)
	one := make([]float64, n)
	for i := range one {
		one[i] = 1 - m[i]
	}
	return ad.Add(ad.Mul(t, w), ad.Mul(o, constOf(dt, one, rs)))
}

// ProjL2Ball returns the projection of each row of x (each slice along the
// last axis) onto the Euclidean ball of radius r ≥ 0 centred at 0:
//
//	P(x) = x·min(1, r/‖x‖).
//
// Its Jacobian is I inside the ball (‖x‖ < r) and (r/‖x‖)(I − x xᵀ/‖x‖²)
// outside (‖x‖ > r). On the sphere ‖x‖ = r, a kink counted once per row
// under "proj_l2_ball", it is c·I + (1 − c)(I − x xᵀ/r²) with c =
// Policy.Clamp: the default 0 takes the projection's Jacobian (the
// one-sided derivative from outside), 1 the identity (from inside),
// as for a box, where Clamp = 1 is the inside derivative too. The
// Jacobian is symmetric, and its outside part depends smoothly on x, so
// second derivatives are exact away from the sphere. It panics for a 0-d
// x or a radius that is negative, infinite or NaN; r = 0 gives zeros, with
// derivative 0.
func ProjL2Ball(x *ad.Var, r float64) *ad.Var {
	checkParam("ProjL2Ball", "radius", r, false)
	rows("ProjL2Ball", x.Shape())
	if r == 0 {
		return ad.Scale(x, 0)
	}
	return ad.Apply(l2BallPrim, r, x)
}
