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

// ulpDiff is the distance in float32 steps between a and b (both finite
// or equal).
func ulpDiff(a, b float32) int64 {
	if a == b || (a != a && b != b) {
		return 0
	}
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 != (ib < 0x80000000) {
		return 1 << 40
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

// The float32 GELU and its derivative agree with the float64 formulas
// (math.Erfc, math.Exp) rounded to float32 within one step, nearly always
// exactly, from the far left tail to the right.
func TestGELUFloat32MatchesFloat64(t *testing.T) {
	const invSqrt2Pi = 0.398942280401432677939946059934381868
	ref := func(x float64) (y, d float64) {
		cdf := 0.5 * math.Erfc(-x/math.Sqrt2)
		return x * cdf, cdf + x*math.Exp(-0.5*x*x)*invSqrt2Pi
	}
	var xs []float32
	for x := -20.0; x <= 20; x += 1.0 / 1024 {
		xs = append(xs, float32(x))
	}
	g := tensor.NewRNG(5)
	for i := 0; i < 20000; i++ {
		xs = append(xs, float32(4*g.NormFloat64()))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 11.3137, -11.3137, 11.3138, -11.3138, 5.656854, -5.656854,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 3e38, -3e38, 1e-45)
	y, d := make([]float32, len(xs)), make([]float32, len(xs))
	ones := make([]float32, len(xs))
	for i := range ones {
		ones[i] = 1
	}
	geluFwd32(y, xs)
	geluBwd32(d, ones, xs)
	off := 0
	for i, x := range xs {
		wy, wd := ref(float64(x))
		for _, c := range []struct {
			name      string
			got, want float32
		}{{"gelu", y[i], float32(wy)}, {"gelu'", d[i], float32(wd)}} {
			u := ulpDiff(c.got, c.want)
			if u > 1 {
				t.Fatalf("%s(%v) = %v, want %v (%d steps)", c.name, x, c.got, c.want, u)
			}
			if u == 1 {
				off++
			}
		}
	}
	if off > len(xs)/1000 {
		t.Errorf("%d of %d values one step off; want nearly all exact", off, 2*len(xs))
	}
	t.Logf("%d of %d values one step off", off, 2*len(xs))
}

func BenchmarkGELUFwd32(b *testing.B) {
	g := tensor.NewRNG(6)
	x := g.Normal(tensor.Float32, 1<<16).Data32()
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		geluFwd32(y, x)
	}
}

func BenchmarkGELUBwd32(b *testing.B) {
	g := tensor.NewRNG(6)
	x := g.Normal(tensor.Float32, 1<<16).Data32()
	gr := g.Normal(tensor.Float32, 1<<16).Data32()
	y := make([]float32, len(x))
	b.SetBytes(int64(4 * len(x)))
	for i := 0; i < b.N; i++ {
		geluBwd32(y, gr, x)
	}
}

// Relu counts its kinks in the forward pass; the count reaches the tape's
// Stats and the value is tensor.Relu's, for every dtype.
func TestReluFusedKinkCount(t *testing.T) {
	g := tensor.NewRNG(12)
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16, tensor.BFloat16} {
		for _, n := range []int{10, 3*parMin + 9} {
			x := fastInput(g, d, n)
			zeros := countWhere(x, func(v float64) bool { return v == 0 })
			tape, err := NewTape(nil)
			if err != nil {
				t.Fatal(err)
			}
			y := Relu(tape.WatchTensor(x))
			want := tensor.Relu(x)
			for i := 0; i < n; i++ {
				if !sameValue(y.Value().AtFlat(i), want.AtFlat(i)) {
					t.Fatalf("%v: relu element %d = %v, want %v", d, i, y.Value().AtFlat(i), want.AtFlat(i))
				}
			}
			if got := tape.Stats().Kinks["relu"]; got != zeros || zeros == 0 {
				t.Errorf("%v n=%d: %d kinks counted, want %d (> 0)", d, n, got, zeros)
			}
		}
	}
}

// The fused last-axis softmax and log-softmax equal the composition of
// tensor operations they replace, bit for bit, including rows with NaN
// and infinities, serial and split across goroutines.
func TestFusedSoftmaxMatchesComposition(t *testing.T) {
	composedSM := func(x *tensor.Tensor, axis int) *tensor.Tensor {
		ax := []int{axis}
		m := tensor.Map(tensor.Max(x, ax, true), finiteOr0)
		e := tensor.Exp(tensor.Sub(x, m))
		return tensor.Div(e, tensor.Sum(e, ax, true))
	}
	composedLSM := func(x *tensor.Tensor, axis int) *tensor.Tensor {
		ax := []int{axis}
		z := tensor.Sub(x, tensor.Map(tensor.Max(x, ax, true), finiteOr0))
		return tensor.Sub(z, tensor.Log(tensor.Sum(tensor.Exp(z), ax, true)))
	}
	g := tensor.NewRNG(13)
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16} {
		for _, sh := range [][]int{{3, 7}, {2, 3, 1}, {5}, {parMin/16 + 3, 64}} {
			x := tensor.Scale(g.Normal(d, sh...), 30)
			n := sh[len(sh)-1]
			for i, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Inf(-1), 1e30} {
				if i*n+1 < x.Size() {
					x.SetFlat(i*n+i%n, v)
				}
			}
			if n > 1 && 3*n+1 < x.Size() {
				x.SetFlat(3*n+1, math.Inf(-1)) // a row with two −Inf
			}
			axis := len(sh) - 1
			for _, c := range []struct {
				name      string
				got, want *tensor.Tensor
			}{
				{"softmax", softmaxTensor(x, axis), via32(x, func(x *tensor.Tensor) *tensor.Tensor { return composedSM(x, axis) })},
				{"log_softmax", logSoftmaxTensor(x, axis), via32(x, func(x *tensor.Tensor) *tensor.Tensor { return composedLSM(x, axis) })},
			} {
				for i := 0; i < x.Size(); i++ {
					if !sameValue(c.got.AtFlat(i), c.want.AtFlat(i)) {
						t.Fatalf("%s %v %v: element %d = %v, want %v", c.name, d, sh, i, c.got.AtFlat(i), c.want.AtFlat(i))
					}
				}
			}
		}
	}
}

// The fused first-order rules of softmax and log-softmax equal their
// compositions of tensor operations bit for bit.
func TestFusedSoftmaxRulesMatchComposition(t *testing.T) {
	g := tensor.NewRNG(14)
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32} {
		for _, sh := range [][]int{{3, 7}, {2, 3, 1}, {parMin/16 + 3, 64}} {
			axis := len(sh) - 1
			ax := []int{axis}
			x := tensor.Scale(g.Normal(d, sh...), 5)
			gr := g.Normal(d, sh...)
			gr.SetFlat(0, math.Inf(1))
			gr.SetFlat(gr.Size()-1, math.NaN())
			y, ly := softmaxTensor(x, axis), logSoftmaxTensor(x, axis)
			want := tensor.Mul(y, tensor.Sub(gr, tensor.Sum(tensor.Mul(gr, y), ax, true)))
			got := lastAxisRows2(gr, y, axis, softmaxVJPRow[float32], softmaxVJPRow[float64])
			lwant := tensor.Sub(gr, tensor.Mul(tensor.Exp(ly), tensor.Sum(gr, ax, true)))
			lgot := lastAxisRows2(gr, ly, axis, logSoftmaxVJPRow[float32], logSoftmaxVJPRow[float64])
			for i := 0; i < x.Size(); i++ {
				if !sameValue(got.AtFlat(i), want.AtFlat(i)) {
					t.Fatalf("softmax rule %v %v: element %d = %v, want %v", d, sh, i, got.AtFlat(i), want.AtFlat(i))
				}
				if !sameValue(lgot.AtFlat(i), lwant.AtFlat(i)) {
					t.Fatalf("log_softmax rule %v %v: element %d = %v, want %v", d, sh, i, lgot.AtFlat(i), lwant.AtFlat(i))
				}
			}
		}
	}
}

// The typed first-order rules of exp, tanh and sigmoid equal their float64
// closures (to the last bit where the platform does not fuse operations).
func TestTypedUnaryRulesMatchClosures(t *testing.T) {
	g := tensor.NewRNG(15)
	closures := map[ruleKind]func(g, v float64) float64{
		ruleExp:     func(g, y float64) float64 { return g * y },
		ruleTanh:    func(g, y float64) float64 { return g * (1 - y*y) },
		ruleSigmoid: func(g, s float64) float64 { return g * s * (1 - s) },
	}
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32} {
		for _, n := range []int{9, 2*parMin + 3} {
			gr, v := fastInput(g, d, n), tensor.Tanh(fastInput(g, d, n))
			for kind, f := range closures {
				got := typedRule(kind)(nil, gr, v)
				want := tensor.Map2(gr, v, f)
				for i := 0; i < n; i++ {
					a, b := got.AtFlat(i), want.AtFlat(i)
					if !sameValue(a, b) && !(math.Abs(a-b) <= 1e-15*math.Abs(b)) {
						t.Fatalf("rule %d %v: element %d = %v, want %v", kind, d, i, a, b)
					}
				}
			}
		}
	}
}
