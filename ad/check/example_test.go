package check_test

import (
	"errors"
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// Checking a function of two inputs in every mode, then a custom primitive
// whose VJP rule is wrong by a factor of 2.
func Example() {
	g := tensor.NewRNG(1)
	a, b := g.Normal(tensor.Float64, 3, 4), g.Normal(tensor.Float64, 4, 2)
	f := func(xs ...*ad.Var) *ad.Var { return ad.Tanh(ad.MatMul(xs[0], xs[1])) }
	fmt.Println(check.All(f, []*tensor.Tensor{a, b}, &check.Options{Name: "tanh(a·b)"}))

	square := &ad.Prim{
		Name: "square",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Mul(in[0], in[0]) },
		JVP:  func(c *ad.Call, t []*ad.Var) *ad.Var { return ad.Mul(t[0], ad.Scale(c.In[0], 2)) },
		VJP:  func(c *ad.Call, u *ad.Var) []*ad.Var { return []*ad.Var{ad.Mul(u, ad.Scale(c.In[0], 4))} }, // wrong
	}
	sq := func(xs ...*ad.Var) *ad.Var { return ad.Apply(square, nil, xs[0]) }
	x := tensor.FromFloat64s(tensor.Float64, []float64{1, -2, 3})
	err := check.Gradient(sq, []*tensor.Tensor{x}, &check.Options{Name: "square", Directions: -1})
	var ce *check.Error
	if errors.As(err, &ce) {
		fmt.Printf("%s mode, input %d, element %v: VJP / finite differences = %.6f\n", ce.Check, ce.Input, ce.MultiIndex, ce.Got/ce.Want)
	}
	fmt.Println(check.Forward(sq, []*tensor.Tensor{x}, nil))
	// Output:
	// <nil>
	// reverse mode, input 0, element [1]: VJP / finite differences = 2.000000
	// <nil>
}
