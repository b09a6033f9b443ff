package optim

import (
	"math"
	"math/big"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// powi must return the correctly rounded power, checked against big.Float
// products at 4000 bits (their rounding error, about n·2⁻⁴⁰⁰⁰, is far
// below half an ulp).
func TestPowiCorrectlyRounded(t *testing.T) {
	rng := tensor.NewRNG(8)
	xs := []float64{0.9, 0.99, 0.999, 0.95, 0.5, 0.1}
	for range 30 {
		xs = append(xs, 0.8+0.2*rng.Float64())
	}
	for _, x := range xs {
		for _, n := range []int{0, 1, 2, 3, 4, 5, 7, 10, 33, 100, 1000, 4097, 20000} {
			exact := new(big.Float).SetPrec(4000).SetFloat64(1)
			bx := new(big.Float).SetPrec(4000).SetFloat64(x)
			for range n {
				exact.Mul(exact, bx)
			}
			want, _ := exact.Float64()
			if got := powi(x, n); got != want {
				t.Errorf("powi(%v, %d) = %.17g, correctly rounded %.17g (math.Pow %.17g)", x, n, got, want, math.Pow(x, float64(n)))
			}
		}
	}
}
