// Package prox provides proximal operators and Euclidean projections as
// differentiable operations on ad.Vars: soft-thresholding (l1), elastic
// net, group lasso, the hinge loss, and projections onto a box, the
// nonnegative orthant, an l2 ball, the simplex and an l1 ball.
//
// Each operator is Lipschitz and piecewise smooth. Its derivative, in
// forward mode (JVP) and reverse mode (VJP) and at any order, is an element
// of its Clarke Jacobian, which is a conservative Jacobian: away from the
// kinks it is the ordinary Jacobian, and at a kink it is the element named
// by a field of the ad.Policy of the differentiation (Clamp, SoftThreshold0,
// Hinge0 or SortTie, as each operator documents). The number of elements
// evaluated exactly at a kink is reported in ad.Stats.Kinks under the
// operator's primitive name.
//
// The vector operators (ProjL2Ball, ProjSimplex, ProjL1Ball, GroupLasso)
// act on the last axis and are batched over the leading ones: a matrix is
// projected row by row. Reshape a tensor to [1, n] to project it as one
// vector.
//
// Parameters (thresholds, radii, bounds) are constants given as float64,
// except in L1Var, ElasticNetVar and ProjBoxVar, whose parameters are Vars
// with derivatives (for hyperparameter gradients). For a differentiable
// radius r of a projection onto a set C scaled by r (the l2 and l1 balls,
// the simplex with sum r), compose the scaling identity
// P_{rC}(x) = r·P_C(x/r) with ad operations, e.g.
//
//	ad.Mul(r, prox.ProjL2Ball(ad.Div(x, r), 1))
//
// (and likewise λ·prox_g(x/λ) for prox_{λg} with g positively homogeneous:
// the group lasso); its derivative is the chain rule of conservative
// Jacobians, with the kinks of the unit-size operator (which may differ by
// a rounding from those of the direct computation). Invalid parameters
// (negative thresholds, a bound that is NaN) panic with a message naming
// the operator, as shape misuse does everywhere in gradus.
package prox
