package ot

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
)

// SinkhornPoints solves the transport problem between the point clouds x
// (n×d) with weights a and y (m×d) with weights b (nil for uniform) for
// the cost matrix cost(x, y) (SqEuclidean when cost is nil). The results
// are differentiable in the points and the weights.
func SinkhornPoints(x, y *ad.Var, cost CostFunc, a, b *ad.Var, o Options) (*Result, error) {
	if x == nil || y == nil || len(x.Shape()) != 2 || len(y.Shape()) != 2 || x.Shape()[1] != y.Shape()[1] {
		return nil, fmt.Errorf("ot: SinkhornPoints: points must be n×d and m×d, got %v and %v", shapeOf(x), shapeOf(y))
	}
	if cost == nil {
		cost = SqEuclidean
	}
	C := cost(x, y)
	if C == nil || len(C.Shape()) != 2 || C.Shape()[0] != x.Shape()[0] || C.Shape()[1] != y.Shape()[0] {
		return nil, fmt.Errorf("ot: SinkhornPoints: the cost function returned shape %v for %d and %d points", shapeOf(C), x.Shape()[0], y.Shape()[0])
	}
	return Sinkhorn(C, a, b, o)
}

// Divergence returns the Sinkhorn divergence between the weighted point
// clouds (x, a) and (y, b) (nil weights are uniform):
//
//	S(α, β) = OT_ε(α, β) − ½·OT_ε(α, α) − ½·OT_ε(β, β)
//
// with OT_ε the regularized cost of Sinkhorn (entropy relative to a⊗b),
// which is nonnegative, zero for α = β, and interpolates between OT (ε → 0)
// and an MMD (ε → ∞) (Feydy et al., 2019). It is differentiable in the
// points and weights according to o (o.Envelope makes it cheap). Only
// balanced problems are supported. The three solves' Infos are returned.
func Divergence(x, y *ad.Var, cost CostFunc, a, b *ad.Var, o Options) (*ad.Var, [3]*Info, error) {
	var infos [3]*Info
	if o.TauA != 0 || o.TauB != 0 {
		return nil, infos, fmt.Errorf("ot: Divergence: only balanced problems (TauA = TauB = 0)")
	}
	pairs := [3][4]*ad.Var{{x, y, a, b}, {x, x, a, a}, {y, y, b, b}}
	var costs [3]*ad.Var
	for k, p := range pairs {
		res, err := SinkhornPoints(p[0], p[1], cost, p[2], p[3], o)
		if res != nil {
			infos[k] = res.Info
		}
		if err != nil {
			return nil, infos, err
		}
		costs[k] = res.Cost
	}
	s := ad.Sub(costs[0], ad.Scale(ad.Add(costs[1], costs[2]), 0.5))
	return s, infos, nil
}
