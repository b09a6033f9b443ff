package ad

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// fastSpecials are inputs and cotangents the first-order fast paths are
// checked on besides random values: kinks, signed zeros, NaN and Inf.
var fastSpecials = []float64{0, math.Copysign(0, -1), 1, -1, 6, math.NaN(), math.Inf(1), math.Inf(-1), 1e-40, -3e38}

func fastInput(g *tensor.RNG, d tensor.DType, n int) *tensor.Tensor {
	t := g.Normal(d, n)
	for i := 0; i < n; i += 3 {
		t.SetFlat(i, fastSpecials[(i/3+i/7)%len(fastSpecials)])
	}
	return t
}

func sameValue(a, b float64) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

// The typed first-order rules of the piecewise primitives equal the
// closure form g·deriv(x) computed in float64 and rounded, element by
// element, serial and split across goroutines.
func TestStepMulMatchesDeriv(t *testing.T) {
	g := tensor.NewRNG(3)
	pols := []Policy{{}, {ReLU0: 1, Abs0: 0.5, Sign0: 2, Hinge0: 1}, {ReLU0: 0.3, Abs0: -0.1, Hinge0: 0.7}}
	pws := map[string]struct {
		pw     piecewise
		params any
	}{
		"relu":        {reluPW, nil},
		"leaky 0.25":  {leakyReluPW, 0.25},
		"leaky 0.1":   {leakyReluPW, 0.1},
		"abs":         {absPW, nil},
		"sign":        {signPW, nil},
		"hinge":       {hingePW, nil},
		"leaky -2e-3": {leakyReluPW, -2e-3},
	}
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32} {
		for _, n := range []int{1, 37, 2*parMin + 5} {
			x, gr := fastInput(g, d, n), fastInput(g, d, n)
			for name, c := range pws {
				for _, pol := range pols {
					got := stepMul(gr, x, c.pw.step(&pol, c.params))
					dv := c.pw.deriv(&pol, c.params)
					want := tensor.Map2(gr, x, func(g, v float64) float64 { return g * dv(v) })
					if got == nil {
						if d == tensor.Float64 || (name == "relu" && pol.ReLU0 != 0.3) {
							t.Fatalf("%s %v: no typed kernel", name, d)
						}
						continue
					}
					for i := 0; i < n; i++ {
						if !sameValue(got.AtFlat(i), want.AtFlat(i)) {
							t.Fatalf("%s %v policy %+v: g=%v x=%v: %v, want %v", name, d, pol, gr.AtFlat(i), x.AtFlat(i), got.AtFlat(i), want.AtFlat(i))
						}
					}
				}
			}
		}
	}
}

func TestCountEqMatchesCountWhere(t *testing.T) {
	g := tensor.NewRNG(4)
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.BFloat16} {
		for _, n := range []int{5, 3*parMin + 1} {
			x := fastInput(g, d, n)
			for _, kv := range [][2]float64{{0, 0}, {0, 6}, {1, -1}, {0.1, -0.1}, {0.1, 6}, {math.Inf(1), 1}} {
				for _, nan := range []bool{false, true} {
					a, b := kv[0], kv[1]
					want := countWhere(x, func(v float64) bool { return v == a || v == b || (nan && v != v) })
					if got := countEq(x, a, b, nan); got != want {
						t.Errorf("%v n=%d kinks %v nan %v: %d, want %d", d, n, kv, nan, got, want)
					}
				}
			}
		}
	}
}
