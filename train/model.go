package train

import (
	"fmt"

	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/tensor"
)

// NewModel builds the model of c for the data d, drawing the initial
// values from rng. For image models the input shape and the number of
// classes come from d; MLPs see the images flattened.
func NewModel(c Config, d *Data, rng *tensor.RNG) (nn.Module, error) {
	dt := c.dtype()
	if c.Model == "gpt" {
		if d.Text == nil {
			return nil, fmt.Errorf("train: the gpt model needs text data")
		}
		g := c.GPT
		return nn.NewGPT(rng, dt, nn.GPTConfig{
			Vocab: d.Text.Vocab.Size(), Context: g.Context, Layers: g.Layers,
			Heads: g.Heads, Width: g.Width, InitStd: 0.02,
		})
	}
	if d.Train == nil {
		return nil, fmt.Errorf("train: the %s model needs an image or table data set", c.Model)
	}
	shape, classes := d.Train.Shape, d.Train.Classes
	if classes < 2 {
		return nil, fmt.Errorf("train: data set %q has %d classes, want at least 2", d.Name, classes)
	}
	image := len(shape) == 3
	switch c.Model {
	case "mlp":
		sizes := append(append([]int{d.Train.Features()}, c.Hidden...), classes)
		return nn.NewMLP(rng, dt, nn.MLPConfig{Sizes: sizes})
	case "cnn":
		if !image || shape[1] != shape[2] || shape[1] < 10 {
			return nil, fmt.Errorf("train: the cnn model needs square images of at least 10×10, data %q has examples of shape %v", d.Name, shape)
		}
		return nn.NewCNN(rng, dt, nn.CNNConfig{In: shape[0], Size: shape[1], Classes: classes})
	case "vgg11":
		if !image || shape[1] != 32 || shape[2] != 32 {
			return nil, fmt.Errorf("train: the vgg11 model needs 32×32 images, data %q has examples of shape %v", d.Name, shape)
		}
		return nn.NewVGG11(rng, dt, nn.CIFARConfig{In: shape[0], Classes: classes, BatchNorm: true, Width: c.Width})
	case "resnet18":
		if !image || shape[1] < 8 || shape[2] < 8 {
			return nil, fmt.Errorf("train: the resnet18 model needs images of at least 8×8, data %q has examples of shape %v", d.Name, shape)
		}
		return nn.NewResNet18(rng, dt, nn.CIFARConfig{In: shape[0], Classes: classes, BatchNorm: true, Width: c.Width})
	}
	return nil, fmt.Errorf("train: unknown model %q", c.Model)
}
