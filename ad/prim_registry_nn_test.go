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

	pool := ad.Pool2dOptions{Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 1}}
	px := []int{2, 2, 5, 4}
	py := []int{2, 2, 3, 5} // (5+2−3)/2+1, (4+2−2)/1+1
	maxPool := func(x *ad.Var) *ad.Var { return ad.MaxPool2d(x, pool) }
	primCases["max_pool2d"] = prElementwise(prNonsmooth, maxPool, func(g *tensor.RNG) *tensor.Tensor { return prDistinct(g, px...) })
	primCases["avg_pool2d"] = prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.AvgPool2d(x, pool) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, px...) })
	// the adjoint of avg_pool2d is its VJP; the routing primitives of
	// max_pool2d are its JVP (gather) and VJP (scatter) at a fixed point,
	// as functions of the tangent or cotangent
	primCases["avg_pool2d_adjoint"] = primCase{kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		x := prNormal(g, px...)
		return prUnary(func(u *ad.Var) *ad.Var {
			_, gs, err := ad.VJP(prUnary(func(x *ad.Var) *ad.Var { return ad.AvgPool2d(x, pool) }), []*ad.Var{ad.Const(x)}, u, nil)
			if err != nil {
				panic(err)
			}
			return gs[0]
		}), []*tensor.Tensor{prNormal(g, py...)}
	}}
	primCases["max_pool2d_gather"] = primCase{kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		x := prDistinct(g, px...)
		return prUnary(func(v *ad.Var) *ad.Var {
			_, t, err := ad.JVP(prUnary(maxPool), []*ad.Var{ad.Const(x)}, []*ad.Var{v}, nil)
			if err != nil {
				panic(err)
			}
			return t
		}), []*tensor.Tensor{prNormal(g, px...)}
	}}
	primCases["max_pool2d_scatter"] = primCase{kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		x := prDistinct(g, px...)
		return prUnary(func(u *ad.Var) *ad.Var {
			_, gs, err := ad.VJP(prUnary(maxPool), []*ad.Var{ad.Const(x)}, u, nil)
			if err != nil {
				panic(err)
			}
			return gs[0]
		}), []*tensor.Tensor{prNormal(g, py...)}
	}}
	primCases["layer_norm"] = primCase{kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		f := func(v ...*ad.Var) *ad.Var { return ad.LayerNorm(v[0], v[1], v[2], 1e-2) }
		return f, []*tensor.Tensor{prNormal(g, 3, 5), prNormal(g, 5), prNormal(g, 5)}
	}}
	primCases["batch_norm"] = primCase{kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		f := func(v ...*ad.Var) *ad.Var { y, _, _ := ad.BatchNorm(v[0], v[1], v[2], 1e-2); return y }
		return f, []*tensor.Tensor{prNormal(g, 3, 2, 4), prNormal(g, 2), prNormal(g, 2)}
	}}
}
