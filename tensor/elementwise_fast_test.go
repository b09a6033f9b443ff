package tensor

import (
	"math"
	"testing"
)

// specials are values every typed kernel is checked on besides random ones.
var specials = []float64{0, math.Copysign(0, -1), 1, -1, 0.5, -2.5, 6, 7, 1e30, -1e30, 1e-30,
	math.Inf(1), math.Inf(-1), math.NaN(), 3.0000001, 65504, 70000}

// filled returns a tensor of shape whose elements cycle through specials
// mixed with random normals.
func filled(g *RNG, d DType, shape ...int) *Tensor {
	t := g.Normal(d, shape...)
	for i := 0; i < t.Size(); i += 3 {
		t.SetFlat(i, specials[(i/3)%len(specials)])
	}
	return t
}

// sameVal reports whether a and b are equal values (NaN matching NaN,
// signed zeros distinguished).
func sameVal(a, b float64) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

// naiveBinary is the reference broadcast: every output element computed
// from its multi-index, f in float64 rounded to the dtype.
func naiveBinary(a, b *Tensor, f func(x, y float64) float64) *Tensor {
	out := mustBroadcast("naive", a.shape, b.shape)
	r := New(a.dtype, out...)
	for i := 0; i < r.Size(); i++ {
		idx := unravel(i, out)
		pick := func(t *Tensor) float64 {
			off := len(out) - len(t.shape)
			j := make([]int, len(t.shape))
			for d := range t.shape {
				if t.shape[d] != 1 {
					j[d] = idx[off+d]
				}
			}
			return t.AtFlat(ravel(j, t.shape))
		}
		r.SetFlat(i, f(pick(a), pick(b)))
	}
	return r
}

func TestTypedBinaryMatchesReference(t *testing.T) {
	g := NewRNG(7)
	ops := []struct {
		name string
		f    func(a, b *Tensor) *Tensor
		ref  func(x, y float64) float64
	}{
		{"Add", Add, func(x, y float64) float64 { return x + y }},
		{"Sub", Sub, func(x, y float64) float64 { return x - y }},
		{"Mul", Mul, func(x, y float64) float64 { return x * y }},
		{"Div", Div, func(x, y float64) float64 { return x / y }},
		{"Maximum", Maximum, func(x, y float64) float64 {
			if x != x || y != y {
				return math.NaN()
			}
			return max(x, y)
		}},
		{"Minimum", Minimum, func(x, y float64) float64 {
			if x != x || y != y {
				return math.NaN()
			}
			return min(x, y)
		}},
		{"Greater", Greater, func(x, y float64) float64 { return b2f(x > y) }},
		{"GreaterEqual", GreaterEqual, func(x, y float64) float64 { return b2f(x >= y) }},
		{"Less", Less, func(x, y float64) float64 { return b2f(x < y) }},
		{"LessEqual", LessEqual, func(x, y float64) float64 { return b2f(x <= y) }},
		{"Equal", Equal, func(x, y float64) float64 { return b2f(x == y) }},
		{"NotEqual", NotEqual, func(x, y float64) float64 { return b2f(x != y) }},
	}
	shapes := [][2][]int{
		{{4, 5}, {4, 5}},
		{{6, 7}, {7}},
		{{7}, {6, 7}},
		{{6, 7}, {6, 1}},
		{{6, 1}, {1, 7}},
		{{2, 3, 4}, {4}},
		{{2, 3, 4}, {3, 1}},
		{{2, 1, 4}, {2, 3, 1}},
		{{5, 1}, {1}},
		{{}, {3, 2}},
		{{3, 2}, {}},
		{{1, 1, 5}, {5}},
		{{2, 1, 2, 1, 2, 1, 2, 1, 2, 1}, {1, 2, 1, 2, 1, 2, 1, 2, 1, 2}},
		{{2, 1, 3, 1, 2, 1, 2, 1, 2, 2}, {3, 2, 2, 1, 2, 1, 1, 2}},
		{{0, 3}, {3}},
	}
	for _, d := range []DType{Float64, Float32, Float16, BFloat16} {
		for _, sh := range shapes {
			a, b := filled(g, d, sh[0]...), filled(g, d, sh[1]...)
			for i := 0; i < b.Size(); i += 5 {
				if i < a.Size() {
					b.SetFlat(i, a.AtFlat(i)) // ties for the comparisons
				}
			}
			for _, op := range ops {
				got, want := op.f(a, b), naiveBinary(a, b, op.ref)
				if !SameShape(got, want) {
					t.Fatalf("%s %v %v%v: shape %v, want %v", op.name, d, sh[0], sh[1], got.Shape(), want.Shape())
				}
				for i := 0; i < got.Size(); i++ {
					if !sameVal(got.AtFlat(i), want.AtFlat(i)) {
						t.Fatalf("%s %v %v%v: element %d = %v, want %v", op.name, d, sh[0], sh[1], i, got.AtFlat(i), want.AtFlat(i))
					}
				}
			}
			// the closure path (Map2) broadcasts the same way
			got := Map2(a, b, math.Atan2)
			want := naiveBinary(a, b, math.Atan2)
			for i := 0; i < got.Size(); i++ {
				if !sameVal(got.AtFlat(i), want.AtFlat(i)) {
					t.Fatalf("Map2 %v %v%v: element %d = %v, want %v", d, sh[0], sh[1], i, got.AtFlat(i), want.AtFlat(i))
				}
			}
		}
	}
}

func TestTypedUnaryMatchesReference(t *testing.T) {
	g := NewRNG(8)
	ops := []struct {
		name string
		f    func(a *Tensor) *Tensor
		ref  func(x float64) float64
	}{
		{"Neg", Neg, func(x float64) float64 { return -x }},
		{"Scale", func(a *Tensor) *Tensor { return Scale(a, 0.1) }, nil},
		{"AddScalar", func(a *Tensor) *Tensor { return AddScalar(a, 0.1) }, nil},
		{"Abs", Abs, math.Abs},
		{"Sign", Sign, func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return x
		}},
		{"Exp", Exp, math.Exp},
		{"Log", Log, math.Log},
		{"Log1p", Log1p, math.Log1p},
		{"Expm1", Expm1, math.Expm1},
		{"Sqrt", Sqrt, math.Sqrt},
		{"Rsqrt", Rsqrt, func(x float64) float64 { return 1 / math.Sqrt(x) }},
		{"Square", Square, nil},
		{"PowScalar2", func(a *Tensor) *Tensor { return PowScalar(a, 2) }, func(x float64) float64 { return math.Pow(x, 2) }},
		{"PowScalar3", func(a *Tensor) *Tensor { return PowScalar(a, 3) }, func(x float64) float64 { return math.Pow(x, 3) }},
		{"PowScalarHalf", func(a *Tensor) *Tensor { return PowScalar(a, -0.5) }, func(x float64) float64 { return math.Pow(x, -0.5) }},
		{"Tanh", Tanh, math.Tanh},
		{"Sigmoid", Sigmoid, func(x float64) float64 {
			if x >= 0 {
				return 1 / (1 + math.Exp(-x))
			}
			e := math.Exp(x)
			return e / (1 + e)
		}},
		{"Softplus", Softplus, func(x float64) float64 {
			if x > 0 {
				return x + math.Log1p(math.Exp(-x))
			}
			return math.Log1p(math.Exp(x))
		}},
		{"Sin", Sin, math.Sin},
		{"Cos", Cos, math.Cos},
		{"Erf", Erf, math.Erf},
		{"Relu", Relu, func(x float64) float64 {
			if x < 0 {
				return 0
			}
			return x
		}},
		{"Clamp", func(a *Tensor) *Tensor { return Clamp(a, -0.3, 6) }, func(x float64) float64 {
			if x < -0.3 {
				return -0.3
			}
			if x > 6 {
				return 6
			}
			return x
		}},
	}
	for _, d := range []DType{Float64, Float32, Float16, BFloat16} {
		a := filled(g, d, 9, 13)
		for _, op := range ops {
			got := op.f(a)
			for i := 0; i < a.Size(); i++ {
				x := a.AtFlat(i)
				var want float64
				switch {
				case op.ref != nil:
					want = d.Round(op.ref(x))
				case d == Float64:
					want = map[string]float64{"Scale": 0.1 * x, "AddScalar": x + 0.1, "Square": x * x}[op.name]
				default: // these run in float32, constants rounded to float32
					x32 := float32(x)
					want = d.Round(float64(map[string]float32{"Scale": float32(0.1) * x32, "AddScalar": x32 + float32(0.1), "Square": x32 * x32}[op.name]))
				}
				if !sameVal(got.AtFlat(i), want) {
					t.Fatalf("%s %v: f(%v) = %v, want %v", op.name, d, x, got.AtFlat(i), want)
				}
			}
		}
	}
}

func TestWhereBroadcastAndDTypes(t *testing.T) {
	g := NewRNG(9)
	for _, d := range []DType{Float64, Float32, BFloat16} {
		a, b := filled(g, d, 3, 4), filled(g, d, 4)
		for _, cd := range []DType{Float64, Float32} {
			cond := FromFloat64s(cd, []float64{1, 0, math.NaN(), math.Copysign(0, -1)}, 4)
			r := Where(cond, a, b)
			for i := 0; i < r.Size(); i++ {
				want := a.AtFlat(i)
				if c := cond.AtFlat(i % 4); c == 0 {
					want = b.AtFlat(i % 4)
				}
				if !sameVal(r.AtFlat(i), want) {
					t.Fatalf("Where %v cond %v: element %d = %v, want %v", d, cd, i, r.AtFlat(i), want)
				}
			}
			// inputs are not modified
			r.SetFlat(0, 42)
			if a.AtFlat(0) == 42 {
				t.Fatal("Where wrote into its input")
			}
		}
	}
}

func TestReduceLastAxisMatchesGeneral(t *testing.T) {
	g := NewRNG(10)
	for _, d := range []DType{Float64, Float32, Float16} {
		a := filled(g, d, 5, 7)
		for _, f := range []func(*Tensor, []int, bool) *Tensor{Sum, Max, Min} {
			got := f(a, []int{1}, false)
			// the same reduction through the general kernel: axis 0 of the
			// transpose
			want := f(Transpose(a), []int{0}, false)
			for i := 0; i < got.Size(); i++ {
				if !sameVal(got.AtFlat(i), want.AtFlat(i)) {
					t.Fatalf("%v row %d: %v, want %v", d, i, got.AtFlat(i), want.AtFlat(i))
				}
			}
		}
	}
}

// Large tensors run split across goroutines; every element must still be
// the serial result.
func TestTypedKernelsParallelChunks(t *testing.T) {
	g := NewRNG(11)
	for _, d := range []DType{Float64, Float32, Float16} {
		n := 3*parMin + 37
		a, b := filled(g, d, n), filled(g, d, n)
		check := func(name string, got *Tensor, ref func(i int) float64) {
			t.Helper()
			for i := 0; i < n; i++ {
				if want := d.Round(ref(i)); !sameVal(got.AtFlat(i), want) {
					t.Fatalf("%s %v: element %d = %v, want %v", name, d, i, got.AtFlat(i), want)
				}
			}
		}
		check("Exp", Exp(a), func(i int) float64 { return math.Exp(a.AtFlat(i)) })
		check("Relu", Relu(a), func(i int) float64 {
			if x := a.AtFlat(i); x >= 0 || x != x {
				return x
			}
			return 0
		})
		check("Maximum", Maximum(a, b), func(i int) float64 {
			x, y := a.AtFlat(i), b.AtFlat(i)
			if x != x || y != y {
				return math.NaN()
			}
			return max(x, y)
		})
		if d == Float64 {
			check("Mul", Mul(a, b), func(i int) float64 { return a.AtFlat(i) * b.AtFlat(i) })
		} else {
			check("Mul", Mul(a, b), func(i int) float64 { return float64(float32(a.AtFlat(i)) * float32(b.AtFlat(i))) })
		}
	}
	// broadcast runs split across goroutines
	for _, sh := range [][2][]int{{{parMin/8 + 3, 37}, {37}}, {{2*parMin + 5, 1}, {1, 3}}, {{5, parMin/4 + 1, 6}, {5, 1, 6}}} {
		a, b := filled(g, Float32, sh[0]...), filled(g, Float32, sh[1]...)
		got := Sub(a, b)
		want := naiveBinary(a, b, func(x, y float64) float64 { return float64(float32(x) - float32(y)) })
		for i := 0; i < got.Size(); i++ {
			if !sameVal(got.AtFlat(i), want.AtFlat(i)) {
				t.Fatalf("Sub %v %v: element %d = %v, want %v", sh[0], sh[1], i, got.AtFlat(i), want.AtFlat(i))
			}
		}
	}
}

// Large reductions split across goroutines give the serial results.
func TestReduceParallelMatchesSerial(t *testing.T) {
	g := NewRNG(12)
	for _, d := range []DType{Float64, Float32} {
		for _, c := range []struct {
			shape []int
			axes  []int
		}{
			{[]int{parMin/64 + 1, 130}, []int{0}},
			{[]int{3, 4 * parMin}, []int{1}},
			{[]int{64, 700, 3}, []int{1}},
			{[]int{40, 33, 50}, []int{0, 2}},
			{[]int{2 * parMin, 3}, nil},
		} {
			a := filled(g, d, c.shape...)
			for k, kind := range []reduceKind{redSum, redMax, redMin} {
				got := reduce("Sum", kind, a, c.axes, false)
				p := planReduce("Sum", a, c.axes, false)
				want := a.like(p.shape)
				if d == Float64 {
					reduceKernel(kind, p.src.f64, want.f64, p.outer, p.r, p.inner)
				} else {
					reduceKernel(kind, p.src.f32, want.f32, p.outer, p.r, p.inner)
				}
				for i := 0; i < got.Size(); i++ {
					if !sameVal(got.AtFlat(i), want.AtFlat(i)) {
						t.Fatalf("kind %d %v %v axes %v: element %d = %v, want %v", k, d, c.shape, c.axes, i, got.AtFlat(i), want.AtFlat(i))
					}
				}
			}
		}
	}
}
