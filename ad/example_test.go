package ad_test

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// The gradient of a nonsmooth program at its kinks depends on the chosen
// element of the generalized derivative: here relu'(0), for two Policies.
// The Stats report how many elements hit a kink.
func ExampleGrad() {
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{-1, 0, 2, 0}))
	// f(x) = Σ relu(x)² + relu(x): smooth except at 0
	f := func(xs ...*ad.Var) *ad.Var {
		r := ad.Relu(xs[0])
		return ad.SumAll(ad.Add(ad.Square(r), r))
	}
	for _, r0 := range []float64{0, 1} {
		st := &ad.Stats{}
		g, err := ad.Grad(f, []*ad.Var{x}, &ad.Options{Policy: ad.Policy{ReLU0: r0}, Stats: st})
		if err != nil {
			panic(err)
		}
		fmt.Printf("ReLU'(0) = %v: gradient %v, kinks %d\n", r0, g[0].Value().Float64s(), st.Kinks["relu"])
	}
	// Output:
	// ReLU'(0) = 0: gradient [0 0 5 0], kinks 2
	// ReLU'(0) = 1: gradient [0 1 5 1], kinks 2
}

// JVP gives the directional derivative in one forward pass.
func ExampleJVP() {
	// f(x, y) = x·sin(y) at (2, 0) along (1, 1): sin(0) + 2·cos(0) = 2
	f := func(xs ...*ad.Var) *ad.Var { return ad.Mul(xs[0], ad.Sin(xs[1])) }
	x, y := ad.Scalar(tensor.Float64, 2), ad.Scalar(tensor.Float64, 0)
	one := ad.Scalar(tensor.Float64, 1)
	val, tan, err := ad.JVP(f, []*ad.Var{x, y}, []*ad.Var{one, one}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(val.Item(), tan.Item())
	// Output: 0 2
}

// HVP computes a Hessian-vector product by forward mode over reverse mode,
// without forming the Hessian.
func ExampleHVP() {
	// f(x) = x₀²·x₁ + x₁³; H = [[2x₁, 2x₀], [2x₀, 6x₁]]; at (1, 2), H·(1, 0) = (4, 2)
	f := func(xs ...*ad.Var) *ad.Var {
		x0 := ad.SliceAxis(xs[0], 0, 0, 1)
		x1 := ad.SliceAxis(xs[0], 0, 1, 2)
		return ad.SumAll(ad.Add(ad.Mul(ad.Square(x0), x1), ad.PowScalar(x1, 3)))
	}
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1, 2}))
	v := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1, 0}))
	hv, err := ad.HVP(f, []*ad.Var{x}, []*ad.Var{v}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(hv[0].Value().Float64s())
	// Output: [4 2]
}

// A custom primitive: its forward kernel and its JVP and VJP rules, given
// by the user. The rules are written with Var operations, so the
// primitive also has second derivatives; ad/check verifies all of them.
func ExamplePrim() {
	// softsign(x) = x / (1 + |x|), with derivative 1 / (1 + |x|)²
	softsign := &ad.Prim{
		Name: "softsign",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor {
			return tensor.Map(in[0], func(x float64) float64 {
				if x < 0 {
					return x / (1 - x)
				}
				return x / (1 + x)
			})
		},
		JVP: func(c *ad.Call, t []*ad.Var) *ad.Var {
			return ad.Mul(t[0], softsignDeriv(c.In[0]))
		},
		VJP: func(c *ad.Call, g *ad.Var) []*ad.Var {
			return []*ad.Var{ad.Mul(g, softsignDeriv(c.In[0]))}
		},
	}
	f := func(xs ...*ad.Var) *ad.Var { return ad.Apply(softsign, nil, xs[0]) }

	x := tensor.FromFloat64s(tensor.Float64, []float64{-3, -0.5, 1, 4})
	y := f(ad.Const(x))
	g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.SumAll(f(xs...)) }, []*ad.Var{ad.Const(x)}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f\n", y.Value().Float64s())
	fmt.Printf("%.4f\n", g[0].Value().Float64s())
	fmt.Println(check.All(f, []*tensor.Tensor{x}, &check.Options{Name: "softsign"}))
	// Output:
	// [-0.7500 -0.3333 0.5000 0.8000]
	// [0.0625 0.4444 0.2500 0.0400]
	// <nil>
}

// softsignDeriv is 1/(1 + |x|)², with differentiable operations (smooth
// at 0, where the derivatives from both sides agree).
func softsignDeriv(x *ad.Var) *ad.Var {
	return ad.PowScalar(ad.AddScalar(ad.Abs(x), 1), -2)
}

// Checkpoint keeps only a segment's inputs and recomputes its
// intermediate values during the backward pass: the gradient is the same.
// The tape records one "checkpoint" node per segment; the segment's own
// primitives (the tanh) are recorded when the backward pass recomputes it.
func ExampleCheckpoint() {
	block := func(xs ...*ad.Var) *ad.Var { return ad.Tanh(ad.Mul(xs[0], xs[1])) }
	loss := func(ckpt bool) ad.Func {
		return func(xs ...*ad.Var) *ad.Var {
			h := xs[0]
			for range 3 {
				if ckpt {
					h = ad.Checkpoint(block, h, xs[1])
				} else {
					h = block(h, xs[1])
				}
			}
			return ad.SumAll(h)
		}
	}
	xs := []*ad.Var{
		ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{0.5, -1})),
		ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{2, 0.25})),
	}
	for _, ckpt := range []bool{false, true} {
		st := &ad.Stats{}
		g, err := ad.Grad(loss(ckpt), xs, &ad.Options{Stats: st})
		if err != nil {
			panic(err)
		}
		fmt.Printf("checkpoint %v: gradient in w %.6f, recorded tanh %d, checkpoint %d\n", ckpt, g[1].Value().Float64s(), st.Calls["tanh"], st.Calls["checkpoint"])
	}
	// Output:
	// checkpoint false: gradient in w [0.131855 -0.180643], recorded tanh 3, checkpoint 0
	// checkpoint true: gradient in w [0.131855 -0.180643], recorded tanh 3, checkpoint 3
}
