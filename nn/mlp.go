package nn

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// MLPConfig describes a multilayer perceptron: Linear layers with an
// activation between consecutive ones (none after the last).
type MLPConfig struct {
	// Sizes are the widths from the input to the output, e.g.
	// {784, 512, 512, 10}. When nil, they are In, then Depth hidden layers
	// of Width, then Out.
	Sizes                 []int
	In, Width, Depth, Out int
	// Activation names the activation (see Activation); default "relu".
	Activation string
}

// sizes resolves the layer widths.
func (c MLPConfig) sizes() ([]int, error) {
	s := c.Sizes
	if s == nil {
		s = []int{c.In}
		for i := 0; i < c.Depth; i++ {
			s = append(s, c.Width)
		}
		s = append(s, c.Out)
	}
	if len(s) < 2 {
		return nil, fmt.Errorf("nn: MLP needs at least an input and an output width, have %v", s)
	}
	for _, w := range s {
		if w < 1 {
			return nil, fmt.Errorf("nn: MLP widths %v must be positive", s)
		}
	}
	return s, nil
}

// NewMLP returns the MLP as a Sequential: Linear layers at the even
// indices 0, 2, 4, … and activations between them, so its names are
// 0.weight, 0.bias, 2.weight, … as torch.nn.Sequential(Linear, ReLU, …).
func NewMLP(rng *tensor.RNG, d tensor.DType, cfg MLPConfig) (*Sequential, error) {
	s, err := cfg.sizes()
	if err != nil {
		return nil, err
	}
	if _, err := Activation(cfg.Activation); err != nil {
		return nil, err
	}
	seq := &Sequential{}
	for i := 0; i+1 < len(s); i++ {
		if i > 0 {
			act, _ := Activation(cfg.Activation)
			seq.Layers = append(seq.Layers, act)
		}
		seq.Layers = append(seq.Layers, NewLinear(rng, d, s[i], s[i+1], true))
	}
	return seq, nil
}

// CNNConfig describes the small convolutional network of the benchmarks:
// conv(In→32, 3×3) – ReLU – max-pool 2 – conv(32→64, 3×3) – ReLU –
// max-pool 2 – flatten – linear(64·s·s → Classes), for Size×Size inputs
// (s = ((Size − 2)/2 − 2)/2; 1600 inputs to the linear layer for 28×28).
// Zero fields mean In 1, Size 28, Classes 10.
type CNNConfig struct {
	In, Size, Classes int
}

// NewCNN returns the small CNN as a Sequential with names 0.weight,
// 0.bias, 3.weight, 3.bias, 7.weight, 7.bias (layers 1, 4 are ReLUs, 2, 5
// max-pools and 6 the flatten).
func NewCNN(rng *tensor.RNG, d tensor.DType, cfg CNNConfig) (*Sequential, error) {
	if cfg.In == 0 {
		cfg.In = 1
	}
	if cfg.Size == 0 {
		cfg.Size = 28
	}
	if cfg.Classes == 0 {
		cfg.Classes = 10
	}
	s := ((cfg.Size-2)/2 - 2) / 2
	if cfg.In < 1 || cfg.Classes < 1 || s < 1 {
		return nil, fmt.Errorf("nn: CNN config %+v is invalid (images of at least 10×10)", cfg)
	}
	return NewSequential(
		NewConv2d(rng, d, cfg.In, 32, 3, ad.Conv2dOptions{}, true),
		ReLU{},
		NewMaxPool2d(2),
		NewConv2d(rng, d, 32, 64, 3, ad.Conv2dOptions{}, true),
		ReLU{},
		NewMaxPool2d(2),
		Flatten{},
		NewLinear(rng, d, 64*s*s, cfg.Classes, true),
	), nil
}
