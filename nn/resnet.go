package nn

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// BasicBlock is ResNet's two-convolution residual block:
// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), where the shortcut
// is the identity or, when the stride or width changes, a 1×1 convolution
// with stride (and batch norm), named shortcut.0 (and shortcut.1).
type BasicBlock struct {
	Conv1, Conv2 *Conv2d
	BN1, BN2     *BatchNorm // nil without batch norm
	Shortcut     *Sequential
}

func newBasicBlock(rng *tensor.RNG, d tensor.DType, in, out, stride int, bn bool) *BasicBlock {
	s := [2]int{stride, stride}
	b := &BasicBlock{}
	b.Conv1 = NewConv2d(rng, d, in, out, 3, ad.Conv2dOptions{Stride: s, Padding: [2]int{1, 1}}, !bn)
	if bn {
		b.BN1 = NewBatchNorm2d(d, out)
	}
	b.Conv2 = NewConv2d(rng, d, out, out, 3, ad.Conv2dOptions{Padding: [2]int{1, 1}}, !bn)
	if bn {
		b.BN2 = NewBatchNorm2d(d, out)
	}
	if stride != 1 || in != out {
		b.Shortcut = NewSequential(NewConv2d(rng, d, in, out, 1, ad.Conv2dOptions{Stride: s}, !bn))
		if bn {
			b.Shortcut.Layers = append(b.Shortcut.Layers, NewBatchNorm2d(d, out))
		}
	}
	return b
}

// maybeBN applies bn unless it is nil.
func maybeBN(c *Ctx, bn *BatchNorm, x *ad.Var) *ad.Var {
	if bn == nil {
		return x
	}
	return bn.Forward(c, x)
}

// Forward applies the block.
func (b *BasicBlock) Forward(c *Ctx, x *ad.Var) *ad.Var {
	y := ad.Relu(maybeBN(c, b.BN1, b.Conv1.Forward(c, x)))
	y = maybeBN(c, b.BN2, b.Conv2.Forward(c, y))
	sc := x
	if b.Shortcut != nil {
		sc = b.Shortcut.Forward(c, x)
	}
	return ad.Relu(ad.Add(y, sc))
}

func (b *BasicBlock) children() []child {
	cs := []child{{"conv1", b.Conv1}}
	if b.BN1 != nil {
		cs = append(cs, child{"bn1", b.BN1})
	}
	cs = append(cs, child{"conv2", b.Conv2})
	if b.BN2 != nil {
		cs = append(cs, child{"bn2", b.BN2})
	}
	if b.Shortcut != nil {
		cs = append(cs, child{"shortcut", b.Shortcut})
	}
	return cs
}

// Params lists conv1, bn1, conv2, bn2 and shortcut parameters.
func (b *BasicBlock) Params() []Param { return childParams(b.children()...) }

// Buffers lists the batch-norm statistics.
func (b *BasicBlock) Buffers() []Param { return childBuffers(b.children()...) }

// ResNet is ResNet-18 for 32×32 inputs as in kuangliu/pytorch-cifar: a 3×3
// stem conv1 (64 channels, stride 1) with bn1, four stages layer1 … layer4
// of two BasicBlocks with 64, 128, 256, 512 channels (stride 2 at the start
// of stages 2-4), global average pooling and linear (512 → classes).
// Names: conv1.weight, bn1.*, layer1.0.conv1.weight, …,
// layer2.0.shortcut.0.weight, layer2.0.shortcut.1.*, …, linear.weight,
// linear.bias. With batch norm and 10 classes it has 11,173,962
// parameters.
type ResNet struct {
	Conv1  *Conv2d
	BN1    *BatchNorm // nil without batch norm
	Layers [4]*Sequential
	Linear *Linear
}

// NewResNet18 returns ResNet-18 for CIFAR-sized inputs.
func NewResNet18(rng *tensor.RNG, d tensor.DType, cfg CIFARConfig) (*ResNet, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	m := &ResNet{}
	w := cfg.ch(64)
	m.Conv1 = NewConv2d(rng, d, cfg.In, w, 3, ad.Conv2dOptions{Padding: [2]int{1, 1}}, !cfg.BatchNorm)
	if cfg.BatchNorm {
		m.BN1 = NewBatchNorm2d(d, w)
	}
	in := w
	for i, c := range []int{64, 128, 256, 512} {
		out, stride := cfg.ch(c), 2
		if i == 0 {
			stride = 1
		}
		m.Layers[i] = NewSequential(newBasicBlock(rng, d, in, out, stride, cfg.BatchNorm), newBasicBlock(rng, d, out, out, 1, cfg.BatchNorm))
		in = out
	}
	m.Linear = NewLinear(rng, d, in, cfg.Classes, true)
	return m, nil
}

// Forward maps images [N, In, H, W] to logits [N, Classes].
func (m *ResNet) Forward(c *Ctx, x *ad.Var) *ad.Var {
	y := ad.Relu(maybeBN(c, m.BN1, m.Conv1.Forward(c, x)))
	for _, l := range m.Layers {
		y = l.Forward(c, y)
	}
	return m.Linear.Forward(c, GlobalAvgPool{}.Forward(c, y))
}

func (m *ResNet) children() []child {
	cs := []child{{"conv1", m.Conv1}}
	if m.BN1 != nil {
		cs = append(cs, child{"bn1", m.BN1})
	}
	for i, l := range m.Layers {
		cs = append(cs, child{fmt.Sprintf("layer%d", i+1), l})
	}
	return append(cs, child{"linear", m.Linear})
}

// Params lists the parameters in construction order.
func (m *ResNet) Params() []Param { return childParams(m.children()...) }

// Buffers lists the batch-norm statistics.
func (m *ResNet) Buffers() []Param { return childBuffers(m.children()...) }
