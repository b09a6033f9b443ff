package nn

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/tensor"
)

// uniformInit returns a tensor of shape drawn uniformly from (−bound, bound)
// in dtype d, as torch.nn.init.uniform_.
func uniformInit(rng *tensor.RNG, d tensor.DType, bound float64, shape ...int) *tensor.Tensor {
	if rng == nil {
		panic("nn: nil *tensor.RNG for parameter initialization")
	}
	return rng.Uniform(d, -bound, bound, shape...)
}

// kaimingUniform is PyTorch's default initialization of Linear and Conv2d
// weights, kaiming_uniform_(a=√5): the gain √(2/(1+a²)) = √(1/3) times
// √(3/fan_in) gives the bound 1/√fan_in. Biases use the same bound.
func kaimingBound(fanIn int) float64 {
	if fanIn <= 0 {
		panic(fmt.Sprintf("nn: fan-in %d", fanIn))
	}
	return 1 / math.Sqrt(float64(fanIn))
}
