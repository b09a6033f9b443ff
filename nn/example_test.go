package nn_test

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// A training loop: watch the parameters on a fresh tape each step,
// differentiate the loss, and let an optimizer update the parameters in
// place.
func Example() {
	rng := tensor.NewRNG(1)
	model, _ := nn.NewMLP(rng, tensor.Float32, nn.MLPConfig{Sizes: []int{2, 16, 2}, Activation: "tanh"})
	// XOR
	x := tensor.FromFloat64s(tensor.Float32, []float64{0, 0, 0, 1, 1, 0, 1, 1}, 4, 2)
	labels := []int{0, 1, 1, 0}

	params := nn.Tensors(model.Params())
	opt, _ := optim.NewAdam(optim.AdamConfig{LR: 0.05})
	var first, last float64
	for step := 0; step < 200; step++ {
		tape, _ := ad.NewTape(nil)
		ctx := nn.NewCtx(nn.Train, rng)
		vars := ctx.Watch(tape, model)
		loss := ad.CrossEntropy(model.Forward(ctx, ad.Const(x)), labels)
		grads, err := tape.Backward(loss, nil, vars...)
		if err != nil {
			panic(err)
		}
		if err := opt.Step(params, nn.Values(grads)); err != nil {
			panic(err)
		}
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	pred := tensor.ArgMax(model.Forward(nil, ad.Const(x)).Value(), 1)
	fmt.Println("loss fell:", last < first/10)
	fmt.Println("predictions:", pred)
	// Output:
	// loss fell: true
	// predictions: [0 1 1 0]
}

// State dicts carry PyTorch's names.
func ExampleStateDict() {
	model, _ := nn.NewCNN(tensor.NewRNG(1), tensor.Float32, nn.CNNConfig{})
	for _, p := range model.Params() {
		fmt.Println(p.Name, p.Value.Shape())
	}
	// Output:
	// 0.weight [32 1 3 3]
	// 0.bias [32]
	// 3.weight [64 32 3 3]
	// 3.bias [64]
	// 7.weight [10 1600]
	// 7.bias [10]
}
