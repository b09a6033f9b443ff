package train_test

import (
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
	"github.com/gradus-ml/gradus/train"
)

// stepCase is a model and a loss on a fixed batch.
type stepCase struct {
	name  string
	model func(g *tensor.RNG, d tensor.DType) nn.Module
	loss  func(m nn.Module, g *tensor.RNG, d tensor.DType) func(*nn.Ctx) *ad.Var
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func imageLoss(shape ...int) func(m nn.Module, g *tensor.RNG, d tensor.DType) func(*nn.Ctx) *ad.Var {
	return func(m nn.Module, g *tensor.RNG, d tensor.DType) func(*nn.Ctx) *ad.Var {
		x := g.Normal(d, shape...)
		y := make([]int, shape[0])
		for i := range y {
			y[i] = g.IntN(10)
		}
		return func(c *nn.Ctx) *ad.Var { return ad.CrossEntropy(m.Forward(c, ad.Const(x)), y) }
	}
}

func stepCases() []stepCase {
	return []stepCase{
		{"mlp", func(g *tensor.RNG, d tensor.DType) nn.Module {
			return must(nn.NewMLP(g, d, nn.MLPConfig{Sizes: []int{48, 64, 64, 10}}))
		}, imageLoss(16, 48)},
		{"cnn", func(g *tensor.RNG, d tensor.DType) nn.Module {
			return must(nn.NewCNN(g, d, nn.CNNConfig{Size: 14}))
		}, imageLoss(8, 1, 14, 14)},
		{"resnet18 batchnorm", func(g *tensor.RNG, d tensor.DType) nn.Module {
			return must(nn.NewResNet18(g, d, nn.CIFARConfig{BatchNorm: true, Width: 1.0 / 16}))
		}, imageLoss(4, 3, 16, 16)},
		{"gpt", func(g *tensor.RNG, d tensor.DType) nn.Module {
			return must(nn.NewGPT(g, d, nn.GPTConfig{Vocab: 11, Context: 8, Layers: 1, Heads: 2, Width: 16}))
		}, func(m nn.Module, g *tensor.RNG, d tensor.DType) func(*nn.Ctx) *ad.Var {
			ids, tgt := make([]int, 3*8), make([]int, 3*8)
			for i := range ids {
				ids[i], tgt[i] = g.IntN(11), g.IntN(11)
			}
			return func(c *nn.Ctx) *ad.Var { return m.(*nn.GPT).Loss(c, ids, tgt, 3, 8) }
		}},
	}
}

// The Stepper draws every step's tensors from an arena whose memory the
// next step reuses, unzeroed: the weights after a few steps must equal,
// bit for bit, those of the same steps on plain heap memory, in every
// dtype (a kernel that leaves an element unwritten would read the previous
// step's data here; the arenas lend NaN-filled memory to make sure).
func TestStepperArenaMatchesHeap(t *testing.T) {
	tensor.PoisonArenas(true)
	defer tensor.PoisonArenas(false)
	for _, c := range stepCases() {
		for _, d := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.BFloat16} {
			ma, mh := c.model(tensor.NewRNG(1), d), c.model(tensor.NewRNG(1), d)
			la, lh := c.loss(ma, tensor.NewRNG(2), d), c.loss(mh, tensor.NewRNG(2), d)
			opt := func() optim.Optimizer { return must(optim.NewAdamW(optim.AdamWConfig{LR: 1e-2})) }
			st := must(train.NewStepper(ma, opt(), train.StepOptions{}))
			oh := opt()
			ph := nn.Tensors(mh.Params())
			for step := 0; step < 4; step++ {
				lva, err := st.Step(tensor.NewRNG(3), la)
				if err != nil {
					t.Fatalf("%s %v: %v", c.name, d, err)
				}
				tp := must(ad.NewTape(nil))
				nc := nn.NewCtx(nn.Train, tensor.NewRNG(3))
				vars := nc.Watch(tp, mh)
				l := lh(nc)
				lvh := l.Value().Item()
				gs := must(tp.Backward(l, nil, vars...))
				if err := oh.Step(ph, nn.Values(gs)); err != nil {
					t.Fatal(err)
				}
				if lva != lvh {
					t.Fatalf("%s %v step %d: loss %v with the arena, %v without", c.name, d, step, lva, lvh)
				}
			}
			pa := nn.Tensors(ma.Params())
			for i := range pa {
				if !slices.Equal(pa[i].Data32(), ph[i].Data32()) || !slices.Equal(pa[i].Data64(), ph[i].Data64()) {
					t.Fatalf("%s %v: parameter %d differs after 4 steps with the arena", c.name, d, i)
				}
			}
		}
	}
}
