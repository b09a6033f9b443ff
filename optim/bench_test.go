package optim

import (
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// mlpParams returns the parameters and gradients of the MLP 784-512-512-10
// (669,706 values) in dtype d.
func mlpParams(d tensor.DType) (params, grads []*tensor.Tensor, n int) {
	rng := tensor.NewRNG(1)
	for _, s := range [][]int{{784, 512}, {512}, {512, 512}, {512}, {512, 10}, {10}} {
		p := rng.Normal(d, s...)
		params = append(params, p)
		grads = append(grads, rng.Normal(d, s...))
		n += p.Size()
	}
	return params, grads, n
}

// Reported: wall-clock ns per parameter per step, and the CPU time of the
// process (all threads) per parameter (cpu-ns/param), which stays
// meaningful when other processes load the machine. Anchor: PyTorch CPU AdamW (foreach
// implementation) on the same machine, run outside this benchmark.
func benchStep(b *testing.B, o Optimizer, d tensor.DType) {
	params, grads, n := mlpParams(d)
	if err := o.Step(params, grads); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		if err := o.Step(params, grads); err != nil {
			b.Fatal(err)
		}
	}
	if cpu0 >= 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/float64(n), "cpu-ns/param")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/param")
}

func BenchmarkStepMLP(b *testing.B) {
	b.Run("AdamW/f32", func(b *testing.B) { benchStep(b, must(NewAdamW(AdamWConfig{})), tensor.Float32) })
	b.Run("INNAprop/f32", func(b *testing.B) { benchStep(b, must(NewINNAprop(INNApropConfig{})), tensor.Float32) })
	b.Run("SGD-momentum/f32", func(b *testing.B) { benchStep(b, must(NewSGD(SGDConfig{Momentum: 0.9})), tensor.Float32) })
	b.Run("AdamW/f64", func(b *testing.B) { benchStep(b, must(NewAdamW(AdamWConfig{State: State64})), tensor.Float64) })
	b.Run("INNAprop/f64", func(b *testing.B) { benchStep(b, must(NewINNAprop(INNApropConfig{State: State64})), tensor.Float64) })
	b.Run("INNAprop/bf16", func(b *testing.B) { benchStep(b, must(NewINNAprop(INNApropConfig{})), tensor.BFloat16) })
}
