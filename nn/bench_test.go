package nn_test

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// benchStep times full training steps (forward, backward, SGD update) of m
// on a fixed synthetic batch x with labels y, in float32, drawing the
// step's tensors from an arena released after the update as
// train.Stepper does. The anchor is
// PyTorch CPU on the same machine (issue 4: 130-196 steps/s for the MLP,
// about 15 for the CNN, at batch 128 on 2 threads); `gradus bench mlp|cnn`
// runs the comparison.
func benchStep(b *testing.B, m nn.Module, x *tensor.Tensor, y []int) {
	params := nn.Tensors(m.Params())
	opt, err := optim.NewSGD(optim.SGDConfig{LR: 0.01})
	if err != nil {
		b.Fatal(err)
	}
	arena := tensor.NewArena()
	step := func() {
		defer arena.Release()
		tape, _ := ad.NewTape(&ad.Options{Arena: arena})
		ctx := nn.NewCtx(nn.Train, nil)
		vars := ctx.Watch(tape, m)
		loss := ad.CrossEntropy(m.Forward(ctx, ad.Const(x)), y)
		grads, err := tape.Backward(loss, nil, vars...)
		if err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(params, nn.Values(grads)); err != nil {
			b.Fatal(err)
		}
	}
	step() // warm the scratch pools
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	reportCPU(b, cpu0)
}

// reportCPU adds the CPU milliseconds per step (all threads, the garbage
// collector's included) since cpu0: on a shared machine it varies much
// less with the load than steps/s does.
func reportCPU(b *testing.B, cpu0 float64) {
	if c := cpuTime(); c > 0 {
		b.ReportMetric(1000*(c-cpu0)/float64(b.N), "cpu-ms/step")
	}
}

func syntheticBatch(g *tensor.RNG, classes int, shape ...int) (*tensor.Tensor, []int) {
	x := g.Normal(tensor.Float32, shape...)
	y := make([]int, shape[0])
	for i := range y {
		y[i] = g.IntN(classes)
	}
	return x, y
}

// BenchmarkMLPStep: MLP 784-512-512-10 with ReLU, batch 128, float32.
func BenchmarkMLPStep(b *testing.B) {
	g := tensor.NewRNG(1)
	m := mustMLP(g, tensor.Float32, nn.MLPConfig{Sizes: []int{784, 512, 512, 10}})
	x, y := syntheticBatch(g, 10, 128, 784)
	benchStep(b, m, x, y)
}

// BenchmarkCNNStep: conv(1→32, 3×3)-relu-maxpool2-conv(32→64, 3×3)-relu-
// maxpool2-linear(1600→10), batch 128 of 1×28×28, float32.
func BenchmarkCNNStep(b *testing.B) {
	g := tensor.NewRNG(1)
	m := must(nn.NewCNN(g, tensor.Float32, nn.CNNConfig{}))
	x, y := syntheticBatch(g, 10, 128, 1, 28, 28)
	benchStep(b, m, x, y)
}

// BenchmarkGPTStep: a character GPT of 4 layers, 4 heads, width 128,
// context 64, batch 32 (vocabulary 65), float32.
func BenchmarkGPTStep(b *testing.B) {
	g := tensor.NewRNG(1)
	cfg := nn.GPTConfig{Vocab: 65, Context: 64, Layers: 4, Heads: 4, Width: 128, InitStd: 0.02}
	m := must(nn.NewGPT(g, tensor.Float32, cfg))
	const B, T = 32, 64
	ids, tgt := make([]int, B*T), make([]int, B*T)
	for i := range ids {
		ids[i], tgt[i] = g.IntN(65), g.IntN(65)
	}
	params := nn.Tensors(m.Params())
	opt := must(optim.NewAdamW(optim.AdamWConfig{LR: 1e-3}))
	arena := tensor.NewArena()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		tape, _ := ad.NewTape(&ad.Options{Arena: arena})
		ctx := nn.NewCtx(nn.Train, nil)
		vars := ctx.Watch(tape, m)
		loss := m.Loss(ctx, ids, tgt, B, T)
		grads, err := tape.Backward(loss, nil, vars...)
		if err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(params, nn.Values(grads)); err != nil {
			b.Fatal(err)
		}
		arena.Release()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	reportCPU(b, cpu0)
}
