package optim

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/tensor"
)

// GlobalNorm returns the Euclidean norm of all the gradients taken as one
// vector, accumulated in float64.
func GlobalNorm(grads []*tensor.Tensor) float64 {
	s := 0.0
	for _, g := range grads {
		if d := g.Data64(); d != nil {
			for _, x := range d {
				s += x * x
			}
			continue
		}
		for _, x := range g.Data32() {
			s += float64(x) * float64(x)
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales the gradients in place so that their global norm is
// at most maxNorm, as PyTorch's clip_grad_norm_ (factor maxNorm/(norm+1e-6)
// when norm > maxNorm), and returns the norm before clipping. If that norm
// is NaN or infinite it returns it with an error and leaves the gradients
// unchanged.
func ClipGradNorm(grads []*tensor.Tensor, maxNorm float64) (float64, error) {
	if !(maxNorm > 0) || math.IsInf(maxNorm, 0) {
		return 0, fmt.Errorf("optim: ClipGradNorm: maxNorm = %v, want a finite value > 0", maxNorm)
	}
	norm := GlobalNorm(grads)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("optim: ClipGradNorm: gradient norm is %v", norm)
	}
	if norm <= maxNorm {
		return norm, nil
	}
	c := maxNorm / (norm + 1e-6)
	for _, g := range grads {
		if d := g.Data64(); d != nil {
			for i := range d {
				d[i] *= c
			}
			continue
		}
		d, c32 := g.Data32(), float32(c)
		for i := range d {
			d[i] *= c32
		}
		roundChunk(g, chunk{0, 0, g.Size()})
	}
	return norm, nil
}
