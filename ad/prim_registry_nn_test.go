package ad_test

import (
	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Registry cases for the neural-network primitives (convolution, pooling),
// added to primCases.
func init() {
	conv := ad.Conv2dOptions{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 2}}
	xs, ws := []int{2, 2, 5, 6}, []int{3, 2, 2, 3}
	ys := []int{2, 3, 3, 4} // (5+2−2)/2+1, (6+2−5)/1+1
	primCases["conv2d"] = primCase{kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(func(x, w *ad.Var) *ad.Var { return ad.Conv2d(x, w, conv) }), []*tensor.Tensor{prNormal(g, xs...), prNormal(g, ws...)}
	}}
	primCases["conv2d_input_grad"] = primCase{kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(func(y, w *ad.Var) *ad.Var { return ad.Conv2dInputGrad(y, w, xs, conv) }), []*tensor.Tensor{prNormal(g, ys...), prNormal(g, ws...)}
	}}
	primCases["conv2d_weight_grad"] = primCase{kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(func(x, y *ad.Var) *ad.Var { return ad.Conv2dWeightGrad(x, y, ws, conv) }), []*tensor.Tensor{prNormal(g, xs...), prNormal(g, ys...)}
	}}
}
