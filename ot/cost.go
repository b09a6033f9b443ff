package ot

import (
	"github.com/gradus-ml/gradus/ad"
)

// CostFunc returns the n×m cost matrix between the n points x (n×d) and
// the m points y (m×d), written with ad operations so that it is
// differentiable in the points.
type CostFunc func(x, y *ad.Var) *ad.Var

// SqEuclidean is the squared Euclidean cost ‖x_i − y_j‖², computed as
// ‖x_i‖² + ‖y_j‖² − 2⟨x_i, y_j⟩ and clamped at 0 against rounding.
func SqEuclidean(x, y *ad.Var) *ad.Var {
	xx := ad.Sum(ad.Mul(x, x), []int{1}, true)                     // n×1
	yy := ad.Reshape(ad.Sum(ad.Mul(y, y), []int{1}, false), 1, -1) // 1×m
	xy := ad.MatMulT(x, y, false, true)
	return ad.Relu(ad.Sub(ad.Add(xx, yy), ad.Scale(xy, 2)))
}
