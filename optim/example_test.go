package optim_test

import (
	"bytes"
	"fmt"

	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// grad writes the gradient of f(w) = Σ (wᵢ − i)² into g.
func grad(w, g *tensor.Tensor) {
	for i := range w.Size() {
		g.SetFlat(i, 2*(w.AtFlat(i)-float64(i)))
	}
}

func ExampleNewAdamW() {
	w := tensor.Zeros(tensor.Float32, 3)
	g := tensor.ZerosLike(w)
	opt, err := optim.NewAdamW(optim.AdamWConfig{LR: 0.1, WeightDecay: optim.Zero})
	if err != nil {
		panic(err)
	}
	for range 500 {
		grad(w, g)
		if err := opt.Step([]*tensor.Tensor{w}, []*tensor.Tensor{g}); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%.2f\n", w.Float64s())
	// Output: [0.00 1.00 2.00]
}

func ExampleNewINNAprop() {
	w := tensor.Zeros(tensor.Float64, 3)
	g := tensor.ZerosLike(w)
	// The GPT-2 setting of the INNAprop repository: α = β = 2, σ = 0.99,
	// linear warmup then cosine decay, gradient clipping at norm 1.
	opt, err := optim.NewINNAprop(optim.INNApropConfig{Alpha: 2, Beta: 2, Sigma: 0.99, WeightDecay: optim.Zero})
	if err != nil {
		panic(err)
	}
	sched, err := optim.WarmupCosine(0.1, 0.01, 20, 400)
	if err != nil {
		panic(err)
	}
	for range 400 {
		grad(w, g)
		if _, err := optim.ClipGradNorm([]*tensor.Tensor{g}, 1); err != nil {
			panic(err)
		}
		opt.SetLR(sched.LR(opt.Steps()))
		if err := opt.Step([]*tensor.Tensor{w}, []*tensor.Tensor{g}); err != nil {
			panic(err)
		}
	}
	fmt.Printf("%.2f\n", w.Float64s())

	// INNAprop needs lr < β.
	_, err = optim.NewINNAprop(optim.INNApropConfig{LR: 1, Beta: 0.9})
	fmt.Println(err)
	// Output:
	// [0.00 1.00 2.00]
	// optim: INNAprop: LR = 1, want a value < Beta = 0.9 (the update divides by Beta−LR)
}

// Optimizer state goes into the same safetensors file as the weights, and
// a run resumed from it continues exactly as if it had not stopped.
func ExampleState_Export() {
	w := tensor.Zeros(tensor.Float32, 3)
	g := tensor.ZerosLike(w)
	opt, _ := optim.NewINNAprop(optim.INNApropConfig{LR: 0.01})
	for range 10 {
		grad(w, g)
		_ = opt.Step([]*tensor.Tensor{w}, []*tensor.Tensor{g})
	}

	tensors, meta := opt.State().Export("optim.")
	tensors["w"] = w
	var file bytes.Buffer
	if err := tensor.WriteSafetensors(&file, tensors, meta); err != nil {
		panic(err)
	}

	tensors, meta, err := tensor.ReadSafetensors(&file)
	if err != nil {
		panic(err)
	}
	st, err := optim.Import("optim.", tensors, meta)
	if err != nil {
		panic(err)
	}
	resumed, _ := optim.NewINNAprop(optim.INNApropConfig{})
	if err := resumed.Load(st); err != nil {
		panic(err)
	}
	fmt.Println(resumed.Steps(), resumed.LR(), len(st.Tensors))
	// Output: 10 0.01 2
}

func ExampleWarmupCosine() {
	s, err := optim.WarmupCosine(1e-3, 1e-4, 10, 110)
	if err != nil {
		panic(err)
	}
	for _, step := range []int{0, 5, 10, 60, 110, 200} {
		fmt.Printf("%d %.2e\n", step, s.LR(step))
	}
	// Output:
	// 0 0.00e+00
	// 5 5.00e-04
	// 10 1.00e-03
	// 60 5.50e-04
	// 110 1.00e-04
	// 200 1.00e-04
}

func ExampleClipGradNorm() {
	g := tensor.FromFloat64s(tensor.Float64, []float64{3, 4})
	norm, err := optim.ClipGradNorm([]*tensor.Tensor{g}, 1)
	fmt.Printf("%.1f %.4f %v\n", norm, g.Float64s(), err)
	// Output: 5.0 [0.6000 0.8000] <nil>
}
