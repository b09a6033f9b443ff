package prox

import (
	"fmt"
	"math"
	"slices"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// groupName is the primitive name of GroupLasso.
const groupName = "prox_group_lasso"

// groupParams hold the threshold λ_g of each group and, for each position
// of the last axis, its group (ng for the positions in no group).
type groupParams struct {
	lambda  []float64
	groupOf []int
	ng      int
}

// groupNorms returns the norm of every group of every row of x, laid out
// as [row][group] (the slot ng, for ungrouped positions, is left 0).
func (p groupParams) groupNorms(x *tensor.Tensor) []float64 {
	n, d := rows(groupName, x.Shape())
	v := x.Float64s()
	norms := make([]float64, n*(p.ng+1))
	buf := make([][]float64, p.ng)
	for i := range n {
		for g := range buf {
			buf[g] = buf[g][:0]
		}
		for k, g := range p.groupOf {
			if g < p.ng {
				buf[g] = append(buf[g], v[i*d+k])
			}
		}
		for g, b := range buf {
			norms[i*(p.ng+1)+g] = norm2(b)
		}
	}
	return norms
}

var groupPrim = &ad.Prim{
	Name: groupName,
	Eval: func(in []*tensor.Tensor, pa any) *tensor.Tensor {
		p := pa.(groupParams)
		x := in[0]
		n, d := rows(groupName, x.Shape())
		norms := p.groupNorms(x)
		v := x.Float64s()
		for i := range n {
			for k, g := range p.groupOf {
				if g == p.ng {
					continue
				}
				nr, l := norms[i*(p.ng+1)+g], p.lambda[g]
				switch {
				case nr > l:
					v[i*d+k] *= 1 - l/nr
				case nr <= l:
					v[i*d+k] = 0
				default: // NaN
					v[i*d+k] = nr
				}
			}
		}
		return tensor.FromFloat64s(x.DType(), v, x.Shape()...)
	},
	JVP: func(c *ad.Call, t []*ad.Var) *ad.Var { return groupRule(c, t[0]) },
	VJP: func(c *ad.Call, g *ad.Var) []*ad.Var { return []*ad.Var{groupRule(c, g)} },
	Kinks: func(in []*tensor.Tensor, pa any) int {
		p := pa.(groupParams)
		k := 0
		for j, nr := range p.groupNorms(in[0]) {
			// groups with λ_g = 0 have no members (they are ungrouped)
			if g := j % (p.ng + 1); g != p.ng && p.lambda[g] > 0 && nr == p.lambda[g] {
				k++
			}
		}
		return k
	},
	Flops: func(in []*tensor.Tensor, out *tensor.Tensor, _ any) ad.Cost {
		n := float64(out.Size())
		return ad.Cost{Fwd: 4 * n, JVP: 12 * n, VJP: 12 * n}
	},
}

// groupRule applies the (symmetric) Jacobian of GroupLasso at c.In[0] to
// t: per group, a·((1 − λ/‖x_g‖)t_g + λ x_g⟨x_g, t_g⟩/‖x_g‖³) with a = 1
// for ‖x_g‖ > λ, 0 for ‖x_g‖ < λ and Policy.SoftThreshold0 at ‖x_g‖ = λ;
// the identity on ungrouped positions. Written with Var operations of x.
func groupRule(c *ad.Call, t *ad.Var) *ad.Var {
	p := c.Params.(groupParams)
	x := c.In[0]
	xv := x.Value()
	shape := xv.Shape()
	dt := xv.DType()
	n, d := rows(groupName, shape)
	norms := p.groupNorms(xv)
	w := p.ng + 1
	act := make([]float64, n*w) // activity of each group, per row
	ae := make([]float64, n*d)  // activity of the group of each element
	ue := make([]float64, n*d)  // 1 on ungrouped elements
	le := make([]float64, n*d)  // λ of the group of each element
	anyAct, anyFree := false, false
	for i := range n {
		for g := range p.ng {
			nr, l := norms[i*w+g], p.lambda[g]
			var a float64
			switch {
			case l == 0: // no members (ungrouped)
				a = 0
			case nr > l:
				a = 1
			case nr < l:
				a = 0
			case nr == l:
				a = c.Policy.SoftThreshold0
			default:
				a = math.NaN()
			}
			act[i*w+g] = a
			anyAct = anyAct || a != 0
		}
		for k, g := range p.groupOf {
			if g == p.ng {
				ue[i*d+k] = 1
				anyFree = true
			} else {
				ae[i*d+k] = act[i*w+g]
				le[i*d+k] = p.lambda[g]
			}
		}
	}
	if direct(x, t) {
		return groupDirect(p, xv, t.Value(), act)
	}
	var free *ad.Var
	if anyFree {
		free = ad.Mul(t, constOf(dt, ue, shape))
	}
	if !anyAct {
		if free == nil {
			return nil
		}
		return free
	}
	axis := len(shape) - 1
	gshape := append([]int(nil), shape...)
	gshape[axis] = w
	zeros := ad.Const(tensor.Zeros(dt, gshape...))
	// squared group norms; inactive groups see 1 in their place, so no
	// derivative of the unused branch (1/‖x_g‖ at x_g = 0) reaches them
	sq := ad.ScatterAdd(zeros, axis, p.groupOf, ad.Square(x))
	sq = ad.Where(tensor.FromFloat64s(dt, act, gshape...), sq, ad.Const(tensor.Ones(dt, gshape...)))
	sqe := ad.IndexSelect(sq, axis, p.groupOf)
	inv := ad.Rsqrt(sqe) // 1/‖x_g‖ per element
	dot := ad.IndexSelect(ad.ScatterAdd(zeros, axis, p.groupOf, ad.Mul(x, t)), axis, p.groupOf)
	lam := constOf(dt, le, shape)
	shrink := ad.Sub(t, ad.Mul(ad.Mul(t, inv), lam))
	radial := ad.Mul(ad.Mul(ad.Mul(x, dot), ad.Div(inv, sqe)), lam)
	r := ad.Mul(ad.Add(shrink, radial), constOf(dt, ae, shape))
	if free != nil {
		r = ad.Add(r, free)
	}
	return r
}

// GroupLasso returns the proximal operator of λ·Σ_g ‖x_g‖₂ at x, block
// soft-thresholding of each group g of positions along the last axis
// (batched over the leading axes):
//
//	prox(x)_g = x_g·max(0, 1 − λ/‖x_g‖).
//
// Positions in no group are returned unchanged (they are not penalized).
// The groups must be disjoint sets of positions in [0, x.Shape()[-1]);
// WeightedGroupLasso takes one threshold per group (e.g. λ√|g|). The
// Jacobian is block diagonal: for ‖x_g‖ > λ the block is
//
//	(1 − λ/‖x_g‖)·I + λ·x_g x_gᵀ/‖x_g‖³,
//
// 0 for ‖x_g‖ < λ (including x_g = 0), and, at the kink ‖x_g‖ = λ (counted
// once per group and row under "prox_group_lasso"), Policy.SoftThreshold0
// (default 0) times the active block, which is x_g x_gᵀ/λ² there: 0 is the
// one-sided derivative from inside the threshold, 1 from outside. The
// identity on ungrouped positions. The block depends smoothly on x, so
// second derivatives are exact away from the kinks. λ ≥ 0 is a constant;
// λ = 0 returns x. It panics for a 0-d x, a position out of range or in two
// groups, or a λ that is negative, infinite or NaN.
func GroupLasso(x *ad.Var, lambda float64, groups [][]int) *ad.Var {
	checkParam("GroupLasso", "lambda", lambda, false)
	lambdas := make([]float64, len(groups))
	for g := range lambdas {
		lambdas[g] = lambda
	}
	return groupLasso("GroupLasso", x, lambdas, groups)
}

// WeightedGroupLasso is GroupLasso with the threshold lambdas[g] ≥ 0 for
// group g: the proximal operator of Σ_g λ_g‖x_g‖₂. A group with λ_g = 0
// is left unchanged.
func WeightedGroupLasso(x *ad.Var, lambdas []float64, groups [][]int) *ad.Var {
	if len(lambdas) != len(groups) {
		panic(fmt.Sprintf("prox.WeightedGroupLasso: %d thresholds for %d groups", len(lambdas), len(groups)))
	}
	return groupLasso("WeightedGroupLasso", x, lambdas, groups)
}

func groupLasso(op string, x *ad.Var, lambdas []float64, groups [][]int) *ad.Var {
	for g, l := range lambdas {
		checkParam(op, fmt.Sprintf("lambda of group %d", g), l, false)
	}
	_, d := rows(op, x.Shape())
	ng := len(groups)
	groupOf := make([]int, d)
	for k := range groupOf {
		groupOf[k] = ng
	}
	for g, idx := range groups {
		for _, k := range idx {
			if k < 0 || k >= d {
				panic(fmt.Sprintf("prox.%s: group %d has position %d outside [0, %d) for x of shape %v", op, g, k, d, x.Shape()))
			}
			if groupOf[k] != ng {
				panic(fmt.Sprintf("prox.%s: position %d is in groups %d and %d", op, k, groupOf[k], g))
			}
			groupOf[k] = g
		}
	}
	// groups with λ_g = 0 are the identity: treat them as ungrouped
	penalized := false
	for k, g := range groupOf {
		if g < ng && lambdas[g] == 0 {
			groupOf[k] = ng
		}
		penalized = penalized || groupOf[k] < ng
	}
	if !penalized {
		return x
	}
	return ad.Apply(groupPrim, groupParams{slices.Clone(lambdas), groupOf, ng}, x)
}

// groupDirect is groupRule by plain loops, at first order.
func groupDirect(p groupParams, xt, tt *tensor.Tensor, act []float64) *ad.Var {
	shape := xt.Shape()
	n, d := rows(groupName, shape)
	x, t := xt.Float64s(), tt.Float64s()
	w := p.ng + 1
	sq := make([]float64, w)
	dot := make([]float64, w)
	out := make([]float64, len(t))
	for i := range n {
		clear(sq)
		clear(dot)
		xr, tr := x[i*d:(i+1)*d], t[i*d:(i+1)*d]
		for k, g := range p.groupOf {
			sq[g] += xr[k] * xr[k]
			dot[g] += xr[k] * tr[k]
		}
		for k, g := range p.groupOf {
			if g == p.ng {
				out[i*d+k] = tr[k]
				continue
			}
			a := act[i*w+g]
			if a == 0 {
				continue
			}
			l := p.lambda[g]
			inv := 1 / math.Sqrt(sq[g])
			out[i*d+k] = a * ((1-l*inv)*tr[k] + l*xr[k]*dot[g]*inv/sq[g])
		}
	}
	return constOf(xt.DType(), out, shape)
}
