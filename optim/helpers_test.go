package optim

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// quad is f(θ) = ½ Σ hᵢ θᵢ² + Σ bᵢ θᵢ on one parameter vector.
type quad struct{ h, b []float64 }

func newQuad(rng *tensor.RNG, n int) quad {
	q := quad{make([]float64, n), make([]float64, n)}
	for i := range q.h {
		q.h[i] = 0.5 + 2*rng.Float64()
		q.b[i] = rng.NormFloat64()
	}
	return q
}

func (q quad) f(theta []float64) float64 {
	s := 0.0
	for i, x := range theta {
		s += 0.5*q.h[i]*x*x + q.b[i]*x
	}
	return s
}

// min returns the minimum value of q.
func (q quad) min() float64 {
	s := 0.0
	for i := range q.h {
		s -= 0.5 * q.b[i] * q.b[i] / q.h[i]
	}
	return s
}

// gradInto writes ∇f(θ) into g (same dtype as θ).
func (q quad) gradInto(theta, g *tensor.Tensor) {
	for i := range theta.Size() {
		g.SetFlat(i, q.h[i]*theta.AtFlat(i)+q.b[i])
	}
}

// run takes n steps of opt on q from θ0 in dtype d and returns the
// parameter tensor.
func (q quad) run(t *testing.T, opt Optimizer, d tensor.DType, theta0 []float64, n int) *tensor.Tensor {
	t.Helper()
	th := tensor.FromFloat64s(d, theta0)
	g := tensor.New(d, len(theta0))
	for range n {
		q.gradInto(th, g)
		if err := opt.Step([]*tensor.Tensor{th}, []*tensor.Tensor{g}); err != nil {
			t.Fatal(err)
		}
	}
	return th
}

func randVec(rng *tensor.RNG, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func step1(t *testing.T, o Optimizer, p, g *tensor.Tensor) {
	t.Helper()
	if err := o.Step([]*tensor.Tensor{p}, []*tensor.Tensor{g}); err != nil {
		t.Fatal(err)
	}
}

func closeTo(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol*math.Max(1, math.Abs(want[i]))) {
			t.Errorf("%s[%d] = %.17g, want %.17g (diff %.3g)", what, i, got[i], want[i], d)
		}
	}
}

// must returns o, panicking on a constructor error.
func must[O any](o O, err error) O {
	if err != nil {
		panic(err)
	}
	return o
}
