package nn_test

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// Second derivatives run through a whole CNN (convolutions, relu,
// max-pooling, linear): Hessian-vector products by forward over reverse,
// reverse over reverse, reverse over forward and forward over forward
// agree with finite differences of gradients.
func TestCNNSecondOrder(t *testing.T) {
	g := tensor.NewRNG(8)
	m := must(nn.NewCNN(g, tensor.Float64, nn.CNNConfig{In: 1, Size: 10, Classes: 3}))
	x := distinct(g, 2, 1, 10, 10)
	loss := moduleFunc{m, func(c *nn.Ctx, x *ad.Var) *ad.Var {
		return ad.CrossEntropy(m.Forward(c, x), []int{2, 0})
	}}
	f, xs := layerFunc(loss, x, evalCtx)
	o := &check.Options{Name: "cnn", Step: 1e-5, Atol: 1e-6, MaxElements: -1, Wrt: []int{1, 2, 5}}
	if err := check.SecondOrder(f, xs, o); err != nil {
		t.Error(err)
	}
}

// A small GPT learns a repeating sequence: the training loss falls well
// below the uniform-guess level log(vocab).
func TestGPTLearns(t *testing.T) {
	g := tensor.NewRNG(9)
	m := must(nn.NewGPT(g, tensor.Float32, nn.GPTConfig{Vocab: 8, Context: 16, Layers: 1, Heads: 2, Width: 16, InitStd: 0.02}))
	seq := []int{0, 1, 2, 3, 4, 5, 6, 7, 0, 2, 4, 6, 1, 3, 5, 7, 0}
	ids, tgt := seq[:16], seq[1:]
	params := nn.Tensors(m.Params())
	opt := must(optim.NewAdamW(optim.AdamWConfig{LR: 1e-2}))
	var first, last float64
	for step := 0; step < 60; step++ {
		tape, _ := ad.NewTape(nil)
		ctx := nn.NewCtx(nn.Train, nil)
		vars := ctx.Watch(tape, m)
		loss := m.Loss(ctx, ids, tgt, 1, 16)
		grads, err := tape.Backward(loss, nil, vars...)
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(params, nn.Values(grads)); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	if !(first > 1.5 && last < 0.3) {
		t.Errorf("loss went from %v to %v; want from about log 8 = 2.08 to below 0.3", first, last)
	}
}

// Models run in every dtype; 16-bit models give results close to float32.
func TestModelDTypes(t *testing.T) {
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float16, tensor.BFloat16} {
		m32 := must(nn.NewCNN(tensor.NewRNG(10), tensor.Float32, nn.CNNConfig{}))
		md := must(nn.NewCNN(tensor.NewRNG(10), d, nn.CNNConfig{}))
		x := tensor.NewRNG(11).Normal(tensor.Float32, 2, 1, 28, 28)
		y32 := m32.Forward(nil, ad.Const(x)).Value()
		yd := md.Forward(nil, ad.Const(x.AsType(d))).Value()
		if yd.DType() != d {
			t.Fatalf("%v model gives %v output", d, yd.DType())
		}
		tol := map[tensor.DType]float64{tensor.Float64: 1e-5, tensor.Float16: 2e-2, tensor.BFloat16: 1e-1}[d]
		for i := 0; i < y32.Size(); i++ {
			if diff := yd.AtFlat(i) - y32.AtFlat(i); diff > tol || diff < -tol {
				t.Fatalf("%v: logit %d is %v, float32 gives %v", d, i, yd.AtFlat(i), y32.AtFlat(i))
			}
		}
		// a training step in the dtype
		tape, _ := ad.NewTape(nil)
		ctx := nn.NewCtx(nn.Train, nil)
		vars := ctx.Watch(tape, md)
		loss := ad.CrossEntropy(md.Forward(ctx, ad.Const(x.AsType(d))), []int{3, 7})
		grads, err := tape.Backward(loss, nil, vars...)
		if err != nil {
			t.Fatal(err)
		}
		for i, gr := range grads {
			if gr.DType() != d || gr.Value().HasNaNInf() {
				t.Errorf("%v: gradient %d has dtype %v or non-finite values", d, i, gr.DType())
			}
		}
	}
}
