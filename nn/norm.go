package nn

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// BatchNorm normalizes each channel (axis 1) over the batch and any
// spatial axes, as torch.nn.BatchNorm1d (inputs [N, C] or [N, C, L]) and
// BatchNorm2d ([N, C, H, W]):
//
//	y = (x − mean)/√(var + Eps)·weight + bias.
//
// In Train mode mean and var are the batch statistics (var biased), and the
// running statistics move towards them by Momentum, the running variance
// using the unbiased batch variance, as PyTorch does. In Eval mode the
// running statistics are used. Names: weight, bias (parameters);
// running_mean, running_var, num_batches_tracked (buffers).
type BatchNorm struct {
	Weight, Bias            *tensor.Tensor // [C]
	RunningMean, RunningVar *tensor.Tensor // [C]
	NumBatchesTracked       *tensor.Tensor // zero-dimensional
	Eps, Momentum           float64
	spatial                 bool // BatchNorm2d: [N, C, H, W] inputs
}

// NewBatchNorm1d returns batch normalization of c features (inputs [N, C]
// or [N, C, L]) with weight 1, bias 0, Eps 1e-5 and Momentum 0.1.
func NewBatchNorm1d(d tensor.DType, c int) *BatchNorm { return newBatchNorm(d, c, false) }

// NewBatchNorm2d returns batch normalization of c channels of [N, C, H, W]
// inputs.
func NewBatchNorm2d(d tensor.DType, c int) *BatchNorm { return newBatchNorm(d, c, true) }

func newBatchNorm(d tensor.DType, c int, spatial bool) *BatchNorm {
	return &BatchNorm{
		Weight: tensor.Ones(d, c), Bias: tensor.Zeros(d, c),
		RunningMean: tensor.Zeros(d, c), RunningVar: tensor.Ones(d, c),
		NumBatchesTracked: tensor.Scalar(d, 0),
		Eps:               1e-5, Momentum: 0.1, spatial: spatial,
	}
}

// broadcastShape checks input shape s and returns the broadcast shape of
// the per-channel values.
func (b *BatchNorm) broadcastShape(s []int) []int {
	c := b.Weight.Size()
	ok := len(s) >= 2 && s[1] == c && (b.spatial && len(s) == 4 || !b.spatial && (len(s) == 2 || len(s) == 3))
	if !ok {
		want := "[N, C] or [N, C, L]"
		if b.spatial {
			want = "[N, C, H, W]"
		}
		panic(fmt.Sprintf("nn.BatchNorm: input %v is not %s with C = %d", s, want, c))
	}
	switch len(s) {
	case 2:
		return []int{1, c}
	case 3:
		return []int{1, c, 1}
	}
	return []int{1, c, 1, 1}
}

// Forward normalizes x with batch statistics (Train) or running statistics
// (Eval). In Train mode it updates the running statistics; it panics if a
// channel has a single value to normalize.
func (b *BatchNorm) Forward(c *Ctx, x *ad.Var) *ad.Var {
	bs := b.broadcastShape(x.Shape())
	if !c.Training() {
		w := ad.Reshape(c.Param(b.Weight), bs...)
		bias := ad.Reshape(c.Param(b.Bias), bs...)
		// y = x·s + (bias − mean·s), s = weight/√(running_var + eps)
		inv := ad.Const(tensor.Rsqrt(tensor.AddScalar(b.RunningVar, b.Eps)).Reshape(bs...))
		s := ad.Mul(w, inv)
		shift := ad.Sub(bias, ad.Mul(ad.Const(b.RunningMean.Reshape(bs...)), s))
		return ad.Add(ad.Mul(x, s), shift)
	}
	n := x.Value().Size() / b.Weight.Size()
	if n < 2 {
		panic(fmt.Sprintf("nn.BatchNorm: training needs more than one value per channel, input %v", x.Shape()))
	}
	y, bm, bv := ad.BatchNorm(x, c.Param(b.Weight), c.Param(b.Bias), b.Eps)
	// running statistics, outside differentiation (bv is unbiased)
	m := b.Momentum
	b.RunningMean.CopyFrom(tensor.Add(tensor.Scale(b.RunningMean, 1-m), tensor.Scale(bm, m)))
	b.RunningVar.CopyFrom(tensor.Add(tensor.Scale(b.RunningVar, 1-m), tensor.Scale(bv, m)))
	b.NumBatchesTracked.SetFlat(0, b.NumBatchesTracked.Item()+1)
	return y
}

// Params lists weight and bias.
func (b *BatchNorm) Params() []Param { return []Param{{"weight", b.Weight}, {"bias", b.Bias}} }

// Buffers lists running_mean, running_var and num_batches_tracked.
func (b *BatchNorm) Buffers() []Param {
	return []Param{{"running_mean", b.RunningMean}, {"running_var", b.RunningVar}, {"num_batches_tracked", b.NumBatchesTracked}}
}

// LayerNorm normalizes over the last axis, as torch.nn.LayerNorm(dim):
// y = (x − mean)/√(var + Eps)·weight + bias with the biased variance.
// Names: weight, bias.
type LayerNorm struct {
	Weight, Bias *tensor.Tensor // [dim]
	Eps          float64
}

// NewLayerNorm returns layer normalization over dim features with weight
// 1, bias 0 and Eps 1e-5.
func NewLayerNorm(d tensor.DType, dim int) *LayerNorm {
	return &LayerNorm{Weight: tensor.Ones(d, dim), Bias: tensor.Zeros(d, dim), Eps: 1e-5}
}

// Forward normalizes x [..., dim].
func (l *LayerNorm) Forward(c *Ctx, x *ad.Var) *ad.Var {
	s := x.Shape()
	if len(s) == 0 || s[len(s)-1] != l.Weight.Size() {
		panic(fmt.Sprintf("nn.LayerNorm: input %v does not end in %d features", s, l.Weight.Size()))
	}
	return ad.LayerNorm(x, c.Param(l.Weight), c.Param(l.Bias), l.Eps)
}

// Params lists weight and bias.
func (l *LayerNorm) Params() []Param { return []Param{{"weight", l.Weight}, {"bias", l.Bias}} }
