package nn

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// CIFARConfig configures the CIFAR-style VGG11 and ResNet-18. Zero fields
// mean 3 input channels, 10 classes and width multiplier 1.
type CIFARConfig struct {
	In, Classes int
	// BatchNorm inserts batch normalization after every convolution (the
	// standard models). Without it, convolutions that PyTorch builds
	// without bias (ResNet's) get one.
	BatchNorm bool
	// Width multiplies every channel count (rounded, at least 1).
	Width float64
}

func (c CIFARConfig) resolved() (CIFARConfig, error) {
	if c.In == 0 {
		c.In = 3
	}
	if c.Classes == 0 {
		c.Classes = 10
	}
	if c.Width == 0 {
		c.Width = 1
	}
	if c.In < 1 || c.Classes < 1 || !(c.Width > 0) || math.IsInf(c.Width, 0) {
		return c, fmt.Errorf("nn: invalid model config %+v", c)
	}
	return c, nil
}

// ch scales a channel count by the width multiplier.
func (c CIFARConfig) ch(n int) int { return max(1, int(math.Round(float64(n)*c.Width))) }

// VGG is VGG11 for 32×32 inputs as in kuangliu/pytorch-cifar: Features is
// a Sequential of 3×3 convolutions (padding 1, with bias), each followed by
// BatchNorm2d (optional) and ReLU, with 2×2 max-pools after the stages of
// 64 | 128 | 256 256 | 512 512 | 512 512 channels and a final 1×1
// average pool; Classifier is Linear(512 → classes) on the flattened
// 1×1×512 features. Names: features.<i>.weight, … (with batch norm, conv
// i is followed by bn i+1 and relu i+2), classifier.weight, classifier.bias.
type VGG struct {
	Features   *Sequential
	Classifier *Linear
}

// vgg11Stages is the VGG11 configuration; 0 is a max-pool.
var vgg11Stages = []int{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}

// NewVGG11 returns VGG11 for CIFAR-sized inputs.
func NewVGG11(rng *tensor.RNG, d tensor.DType, cfg CIFARConfig) (*VGG, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	f := &Sequential{}
	in := cfg.In
	for _, v := range vgg11Stages {
		if v == 0 {
			f.Layers = append(f.Layers, NewMaxPool2d(2))
			continue
		}
		out := cfg.ch(v)
		f.Layers = append(f.Layers, NewConv2d(rng, d, in, out, 3, ad.Conv2dOptions{Padding: [2]int{1, 1}}, true))
		if cfg.BatchNorm {
			f.Layers = append(f.Layers, NewBatchNorm2d(d, out))
		}
		f.Layers = append(f.Layers, ReLU{})
		in = out
	}
	f.Layers = append(f.Layers, &AvgPool2d{ad.Pool2dOptions{Kernel: [2]int{1, 1}, Stride: [2]int{1, 1}}})
	return &VGG{Features: f, Classifier: NewLinear(rng, d, in, cfg.Classes, true)}, nil
}

// Forward maps images [N, In, 32, 32] to logits [N, Classes].
func (m *VGG) Forward(c *Ctx, x *ad.Var) *ad.Var {
	return m.Classifier.Forward(c, Flatten{}.Forward(c, m.Features.Forward(c, x)))
}

func (m *VGG) children() []child {
	return []child{{"features", m.Features}, {"classifier", m.Classifier}}
}

// Params lists features.* and classifier.*.
func (m *VGG) Params() []Param { return childParams(m.children()...) }

// Buffers lists the batch-norm statistics.
func (m *VGG) Buffers() []Param { return childBuffers(m.children()...) }
