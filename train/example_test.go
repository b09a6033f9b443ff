package train_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/data"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
	"github.com/gradus-ml/gradus/train"
)

// blobs is a toy data set: 2 classes of 4×4 images, bright on the left or
// on the right half.
func blobs(n int, seed uint64) *data.Dataset {
	g := tensor.NewRNG(seed)
	d := &data.Dataset{Name: "blobs", Shape: []int{1, 4, 4}, Classes: 2}
	for i := 0; i < n; i++ {
		k := g.IntN(2)
		d.Labels = append(d.Labels, k)
		for p := 0; p < 16; p++ {
			v := 0.2 * g.NormFloat64()
			if (p%4 < 2) == (k == 0) {
				v++
			}
			d.X = append(d.X, float32(v))
		}
	}
	return d
}

// Train a small MLP with INNAprop, writing the run's files to a directory,
// and report through the progress callback.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "train")
	defer os.RemoveAll(dir)
	d, err := train.NewImageData("blobs", blobs(256, 1), blobs(64, 2))
	if err != nil {
		panic(err)
	}
	cfg := train.Config{Model: "mlp", Hidden: []int{16}, Epochs: 3, Batch: 32, Seed: 1,
		Optimizer: train.Optimizer{Name: "innaprop"}}
	evals := 0
	s, err := train.Run(context.Background(), cfg, train.Options{Out: dir, Data: d, Progress: func(p train.Progress) {
		if p.Event == train.EventEval {
			evals++
		}
	}})
	if err != nil {
		panic(err)
	}
	fmt.Println("steps:", s.Steps, "evaluations:", evals)
	fmt.Println("learned:", *s.TestAccuracy > 0.9)
	// Output:
	// steps: 24 evaluations: 3
	// learned: true
}

// A custom loop with a Stepper: forward, backward and the optimizer update
// in one call, with the ReLU'(0) choice of the Policy and its kink counts.
func ExampleStepper() {
	g := tensor.NewRNG(1)
	model, _ := nn.NewMLP(g, tensor.Float32, nn.MLPConfig{Sizes: []int{16, 8, 2}})
	opt, _ := optim.NewAdamW(optim.AdamWConfig{LR: 0.01})
	st, _ := train.NewStepper(model, opt, train.StepOptions{Policy: ad.Policy{ReLU0: 1}})
	d := blobs(64, 3)
	x := tensor.FromFloat32s(tensor.Float32, d.X, 64, 16)
	first, last := 0.0, 0.0
	for i := 0; i < 50; i++ {
		loss, err := st.Step(nil, func(c *nn.Ctx) *ad.Var {
			return ad.CrossEntropy(model.Forward(c, ad.Const(x)), d.Labels)
		})
		if err != nil {
			panic(err)
		}
		if i == 0 {
			first = loss
		}
		last = loss
	}
	fmt.Println("loss decreased:", last < first/4, "relu applications:", st.Stats().Calls["relu"])
	// Output:
	// loss decreased: true relu applications: 50
}
