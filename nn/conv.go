package nn

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Conv2d is a 2-D convolution of NCHW inputs, as torch.nn.Conv2d without
// groups: Weight [out, in, kh, kw], Bias [out] (nil without bias). Names:
// weight, bias.
type Conv2d struct {
	Weight, Bias *tensor.Tensor
	Opt          ad.Conv2dOptions
}

// NewConv2d returns a convolution from in to out channels with a k×k kernel
// and PyTorch's default initialization (uniform in ±1/√(in·k·k)).
func NewConv2d(rng *tensor.RNG, d tensor.DType, in, out, k int, opt ad.Conv2dOptions, bias bool) *Conv2d {
	b := kaimingBound(in * k * k)
	l := &Conv2d{Weight: uniformInit(rng, d, b, out, in, k, k), Opt: opt}
	if bias {
		l.Bias = uniformInit(rng, d, b, out)
	}
	return l
}

// Forward maps x [N, in, H, W] to [N, out, OH, OW].
func (l *Conv2d) Forward(c *Ctx, x *ad.Var) *ad.Var {
	if l.Bias != nil {
		return ad.Conv2dBias(x, c.Param(l.Weight), c.Param(l.Bias), l.Opt)
	}
	return ad.Conv2d(x, c.Param(l.Weight), l.Opt)
}

// Params lists weight and bias.
func (l *Conv2d) Params() []Param {
	ps := []Param{{"weight", l.Weight}}
	if l.Bias != nil {
		ps = append(ps, Param{"bias", l.Bias})
	}
	return ps
}

// MaxPool2d is max pooling (torch.nn.MaxPool2d); ties follow the tape's
// Policy.PoolTie.
type MaxPool2d struct{ Opt ad.Pool2dOptions }

// NewMaxPool2d pools k×k windows with stride k.
func NewMaxPool2d(k int) *MaxPool2d { return &MaxPool2d{ad.Pool2dOptions{Kernel: [2]int{k, k}}} }

// Forward pools x [N, C, H, W].
func (l *MaxPool2d) Forward(_ *Ctx, x *ad.Var) *ad.Var { return ad.MaxPool2d(x, l.Opt) }

// Params is empty.
func (l *MaxPool2d) Params() []Param { return nil }

// AvgPool2d is average pooling with the padding counted
// (torch.nn.AvgPool2d).
type AvgPool2d struct{ Opt ad.Pool2dOptions }

// NewAvgPool2d averages k×k windows with stride k.
func NewAvgPool2d(k int) *AvgPool2d { return &AvgPool2d{ad.Pool2dOptions{Kernel: [2]int{k, k}}} }

// Forward pools x [N, C, H, W].
func (l *AvgPool2d) Forward(_ *Ctx, x *ad.Var) *ad.Var { return ad.AvgPool2d(x, l.Opt) }

// Params is empty.
func (l *AvgPool2d) Params() []Param { return nil }

// GlobalAvgPool averages over the spatial axes: [N, C, H, W] to [N, C]
// (torch.nn.AdaptiveAvgPool2d(1) followed by flattening).
type GlobalAvgPool struct{}

// Forward averages x over its last two axes.
func (GlobalAvgPool) Forward(_ *Ctx, x *ad.Var) *ad.Var {
	if len(x.Shape()) != 4 {
		panic(fmt.Sprintf("nn.GlobalAvgPool: input %v is not [N, C, H, W]", x.Shape()))
	}
	return ad.Mean(x, []int{2, 3}, false)
}

// Params is empty.
func (GlobalAvgPool) Params() []Param { return nil }

// Flatten reshapes [N, ...] to [N, rest] (torch.nn.Flatten).
type Flatten struct{}

// Forward flattens all axes after the first.
func (Flatten) Forward(_ *Ctx, x *ad.Var) *ad.Var { return ad.Reshape(x, x.Shape()[0], -1) }

// Params is empty.
func (Flatten) Params() []Param { return nil }
