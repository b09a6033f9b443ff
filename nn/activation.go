package nn

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// ReLU is max(x, 0); its derivative at 0 is the tape's Policy.ReLU0.
type ReLU struct{}

// Forward applies ad.Relu.
func (ReLU) Forward(_ *Ctx, x *ad.Var) *ad.Var { return ad.Relu(x) }

// Params is empty.
func (ReLU) Params() []Param { return nil }

// GELU is x·Φ(x) (the exact form, torch.nn.GELU()).
type GELU struct{}

// Forward applies ad.GELU.
func (GELU) Forward(_ *Ctx, x *ad.Var) *ad.Var { return ad.GELU(x) }

// Params is empty.
func (GELU) Params() []Param { return nil }

// Tanh is the hyperbolic tangent.
type Tanh struct{}

// Forward applies ad.Tanh.
func (Tanh) Forward(_ *Ctx, x *ad.Var) *ad.Var { return ad.Tanh(x) }

// Params is empty.
func (Tanh) Params() []Param { return nil }

// Sigmoid is the logistic function.
type Sigmoid struct{}

// Forward applies ad.Sigmoid.
func (Sigmoid) Forward(_ *Ctx, x *ad.Var) *ad.Var { return ad.Sigmoid(x) }

// Params is empty.
func (Sigmoid) Params() []Param { return nil }

// Identity returns its input.
type Identity struct{}

// Forward returns x.
func (Identity) Forward(_ *Ctx, x *ad.Var) *ad.Var { return x }

// Params is empty.
func (Identity) Params() []Param { return nil }

// Activation returns the activation module named name: "relu", "gelu",
// "tanh", "sigmoid" or "identity".
func Activation(name string) (Module, error) {
	switch name {
	case "relu", "":
		return ReLU{}, nil
	case "gelu":
		return GELU{}, nil
	case "tanh":
		return Tanh{}, nil
	case "sigmoid":
		return Sigmoid{}, nil
	case "identity", "none":
		return Identity{}, nil
	}
	return nil, fmt.Errorf("nn: unknown activation %q (want relu, gelu, tanh, sigmoid or identity)", name)
}

// Dropout zeroes each element with probability P in Train mode and scales
// the others by 1/(1 − P) (torch.nn.Dropout); in Eval mode it is the
// identity. The mask is drawn from the Ctx's RNG.
type Dropout struct{ P float64 }

// Forward applies dropout in Train mode. It panics in Train mode if the
// Ctx has no RNG, or if P is outside [0, 1].
func (l Dropout) Forward(c *Ctx, x *ad.Var) *ad.Var {
	if !(l.P >= 0 && l.P <= 1) {
		panic(fmt.Sprintf("nn.Dropout: probability %v is outside [0, 1]", l.P))
	}
	if !c.Training() || l.P == 0 {
		return x
	}
	if c.RNG == nil {
		panic("nn.Dropout: training without an RNG in the Ctx")
	}
	if l.P == 1 {
		return ad.Mul(x, ad.Const(tensor.ZerosLike(x.Value())))
	}
	m := tensor.New(x.DType(), x.Shape()...)
	keep := 1 / (1 - l.P)
	for i := 0; i < m.Size(); i++ {
		if c.RNG.Float64() >= l.P {
			m.SetFlat(i, keep)
		}
	}
	return ad.Mul(x, ad.Const(m))
}

// Params is empty.
func (Dropout) Params() []Param { return nil }
