package tensor

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestArangeLinspaceEye(t *testing.T) {
	ar := []struct {
		start, stop, step float64
		want              []float64
	}{
		{0, 5, 1, []float64{0, 1, 2, 3, 4}},
		{0, 10, 3, []float64{0, 3, 6, 9}},
		{1, 0, -0.25, []float64{1, 0.75, 0.5, 0.25}},
		{0, 0, 1, []float64{}},
		{3, 1, 1, []float64{}},
		{-1, 1, 0.5, []float64{-1, -0.5, 0, 0.5}},
	}
	for _, c := range ar {
		checkValues(t, fmt.Sprintf("Arange(%v, %v, %v)", c.start, c.stop, c.step), Arange(Float64, c.start, c.stop, c.step), []int{len(c.want)}, c.want, 0)
	}
	if n := Arange(Float64, 0, 1, 0.1).Size(); n != 10 {
		t.Errorf("Arange(0, 1, 0.1) has %d elements, want 10", n)
	}
	mustPanic(t, func() { Arange(Float64, 0, 1, 0) }, "tensor.Arange")
	mustPanic(t, func() { Arange(Float64, 0, math.Inf(1), 1) }, "tensor.Arange")

	ls := []struct {
		start, stop float64
		n           int
	}{{0, 1, 5}, {0.1, 0.3, 3}, {-2.7, 9.1, 7}, {1, 1, 4}, {5, -5, 11}, {0.1, 0.7, 13}}
	for _, c := range ls {
		for _, d := range []DType{Float64, Float32, Float16} {
			l := Linspace(d, c.start, c.stop, c.n)
			if l.Size() != c.n {
				t.Fatalf("Linspace n=%d has %d elements", c.n, l.Size())
			}
			if l.AtFlat(0) != d.Round(c.start) || l.AtFlat(c.n-1) != d.Round(c.stop) {
				t.Errorf("%v Linspace(%v, %v, %d) endpoints %v, %v", d, c.start, c.stop, c.n, l.AtFlat(0), l.AtFlat(c.n-1))
			}
			step := (c.stop - c.start) / float64(c.n-1)
			for i := 0; i < c.n; i++ {
				if !near(l.AtFlat(i), c.start+float64(i)*step, 2*d.Eps()*max(math.Abs(c.start), math.Abs(c.stop))) {
					t.Errorf("%v Linspace(%v, %v, %d)[%d] = %v", d, c.start, c.stop, c.n, i, l.AtFlat(i))
				}
			}
		}
	}
	checkValues(t, "Linspace n=1", Linspace(Float64, 2, 3, 1), []int{1}, []float64{2}, 0)
	checkValues(t, "Linspace n=0", Linspace(Float64, 2, 3, 0), []int{0}, nil, 0)

	checkValues(t, "Eye", Eye(Float32, 3), []int{3, 3}, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, 0)
	checkValues(t, "Full", Full(Float16, 0.1, 2), []int{2}, []float64{float64(RoundFloat16(0.1)), float64(RoundFloat16(0.1))}, 0)
	checkValues(t, "OnesLike", OnesLike(New(BFloat16, 1, 2)), []int{1, 2}, []float64{1, 1}, 0)
}

func TestAsType(t *testing.T) {
	v := []float64{0.1, -65519, 65520, 1e-8, 1 + 0x1p-11, math.Inf(-1)}
	src := FromFloat64s(Float64, v, 2, 3)
	for _, d := range allDTypes {
		got := src.AsType(d)
		if got.DType() != d || !slices.Equal(got.Shape(), []int{2, 3}) {
			t.Fatalf("AsType(%v): %v %v", d, got.DType(), got.Shape())
		}
		for i, x := range v {
			var want float64
			switch d {
			case Float64:
				want = x
			case Float32:
				want = float64(float32(x))
			case Float16:
				want = float64(Float16From(Float16Bits(float32(x))))
			case BFloat16:
				want = float64(BFloat16From(BFloat16Bits(float32(x))))
			}
			if got.AtFlat(i) != want {
				t.Errorf("AsType(%v)[%d] = %v, want %v", d, i, got.AtFlat(i), want)
			}
		}
		back := got.AsType(Float64).AsType(d)
		if !sameBits(back, got) {
			t.Errorf("AsType(%v) round trip through Float64 changed values", d)
		}
	}
	// zero-dimensional tensors stay zero-dimensional, however they were made
	for _, s := range []*Tensor{New(Float32), Scalar(Float32, 2), Sum(Ones(Float32, 3), nil, false)} {
		for _, d := range allDTypes {
			if sh := s.AsType(d).Shape(); len(sh) != 0 {
				t.Errorf("AsType(%v) of a 0-d tensor has shape %v", d, sh)
			}
		}
	}
}

func TestWhereAndComparisons(t *testing.T) {
	nan := math.NaN()
	a := FromFloat64s(Float64, []float64{1, 2, nan, 4, 5, 6}, 2, 3)
	b := FromFloat64s(Float64, []float64{2, 2, 2}, 3)
	cases := []struct {
		name string
		got  *Tensor
		want []float64
	}{
		{"Greater", Greater(a, b), []float64{0, 0, 0, 1, 1, 1}},
		{"GreaterEqual", GreaterEqual(a, b), []float64{0, 1, 0, 1, 1, 1}},
		{"Less", Less(a, b), []float64{1, 0, 0, 0, 0, 0}},
		{"LessEqual", LessEqual(a, b), []float64{1, 1, 0, 0, 0, 0}},
		{"Equal", Equal(a, b), []float64{0, 1, 0, 0, 0, 0}},
		{"NotEqual", NotEqual(a, b), []float64{1, 0, 1, 1, 1, 1}},
		{"Maximum", Maximum(a, b), []float64{2, 2, nan, 4, 5, 6}},
		{"Minimum", Minimum(a, b), []float64{1, 2, nan, 2, 2, 2}},
	}
	for _, c := range cases {
		checkValues(t, c.name, c.got, []int{2, 3}, c.want, 0)
	}
	cond := FromFloat32s(Float32, []float32{1, 0}, 2, 1) // another dtype, broadcast
	w := Where(cond, a, Scalar(Float64, -1))
	checkValues(t, "Where", w, []int{2, 3}, []float64{1, 2, nan, -1, -1, -1}, 0)
	w2 := Where(FromFloat64s(Float64, []float64{0, nan, 1}), b, Neg(b))
	checkValues(t, "Where NaN cond is true", w2, []int{3}, []float64{-2, 2, 2}, 0)
}

func TestElementwiseUnary(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 3}
	a := FromFloat64s(Float64, x)
	cases := []struct {
		name string
		f    func(*Tensor) *Tensor
		ref  func(float64) float64
	}{
		{"Exp", Exp, math.Exp},
		{"Tanh", Tanh, math.Tanh},
		{"Sigmoid", Sigmoid, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		{"Softplus", Softplus, func(v float64) float64 { return math.Log(1 + math.Exp(v)) }},
		{"Relu", Relu, func(v float64) float64 { return math.Max(v, 0) }},
		{"Abs", Abs, math.Abs},
		{"Square", Square, func(v float64) float64 { return v * v }},
		{"Neg", Neg, func(v float64) float64 { return -v }},
	}
	for _, c := range cases {
		want := make([]float64, len(x))
		for i, v := range x {
			want[i] = c.ref(v)
		}
		checkValues(t, c.name, c.f(a), []int{5}, want, 1e-15)
	}
	// the numerically stable forms do not overflow
	big := FromFloat64s(Float32, []float64{-1000, 1000})
	checkValues(t, "Sigmoid extremes", Sigmoid(big), []int{2}, []float64{0, 1}, 0)
	checkValues(t, "Softplus extremes", Softplus(big), []int{2}, []float64{0, 1000}, 0)
}

func TestMoreElementwise(t *testing.T) {
	x := []float64{-2, -0.5, 0, 0.5, 3}
	a := FromFloat64s(Float64, x)
	cases := []struct {
		name string
		got  *Tensor
		want []float64
	}{
		{"Sign", Sign(a), []float64{-1, -1, 0, 1, 1}},
		{"Clamp", Clamp(a, -1, 1), []float64{-1, -0.5, 0, 0.5, 1}},
		{"PowScalar", PowScalar(a, 2), []float64{4, 0.25, 0, 0.25, 9}},
		{"Pow", Pow(a, FromFloat64s(Float64, []float64{3})), []float64{-8, -0.125, 0, 0.125, 27}},
		{"Map2", Map2(a, Scalar(Float64, 1), func(u, v float64) float64 { return 2*u - v }), []float64{-5, -2, -1, 0, 5}},
		{"Log1p", Log1p(FromFloat64s(Float64, []float64{0, 1e-20, math.E - 1})), []float64{0, 1e-20, 1}},
		{"Expm1", Expm1(FromFloat64s(Float64, []float64{0, 1e-20, 1})), []float64{0, 1e-20, math.E - 1}},
		{"Rsqrt", Rsqrt(FromFloat64s(Float64, []float64{4, 0.25, 0})), []float64{0.5, 2, math.Inf(1)}},
		{"Sin", Sin(FromFloat64s(Float64, []float64{0, math.Pi / 2, math.Pi / 6})), []float64{0, 1, 0.5}},
		{"Cos", Cos(FromFloat64s(Float64, []float64{0, math.Pi, math.Pi / 3})), []float64{1, -1, 0.5}},
		{"Erf", Erf(FromFloat64s(Float64, []float64{0, 1, -1, 10})), []float64{0, 0.8427007929497149, -0.8427007929497149, 1}},
		{"Sqrt", Sqrt(FromFloat64s(Float64, []float64{4, 2})), []float64{2, math.Sqrt2}},
		{"Log", Log(FromFloat64s(Float64, []float64{1, math.E, 0})), []float64{0, 1, math.Inf(-1)}},
		{"AddScalar f16", AddScalar(FromFloat64s(Float16, []float64{2048}), 1), []float64{2048}}, // 2049 ties to 2048
		{"Scale bf16", Scale(FromFloat64s(BFloat16, []float64{1}), 1+0x1p-8), []float64{1}},
	}
	for _, c := range cases {
		checkValues(t, c.name, c.got, []int{len(c.want)}, c.want, 1e-15)
	}
}

func TestDTypeAndConstructors(t *testing.T) {
	for _, c := range []struct {
		d    DType
		name string
		eps  float64
		bits int
	}{{Float64, "float64", 0x1p-52, 64}, {Float32, "float32", 0x1p-23, 32}, {Float16, "float16", 0x1p-10, 16}, {BFloat16, "bfloat16", 0x1p-7, 16}} {
		if c.d.String() != c.name || c.d.Eps() != c.eps || c.d.Bits() != c.bits {
			t.Errorf("%v: %q %v %d", c.d, c.d.String(), c.d.Eps(), c.d.Bits())
		}
		// Eps is the gap above 1 in the format
		if c.d.Round(1+c.eps) != 1+c.eps || c.d.Round(1+c.eps/2) != 1 {
			t.Errorf("%v: Eps %v is not the gap above 1", c.d, c.eps)
		}
		if d, err := ParseDType(c.name); err != nil || d != c.d {
			t.Errorf("ParseDType(%q) = %v, %v", c.name, d, err)
		}
	}
	for s, want := range map[string]DType{"f64": Float64, "f32": Float32, "f16": Float16, "half": Float16, "bf16": BFloat16} {
		if d, err := ParseDType(s); err != nil || d != want {
			t.Errorf("ParseDType(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := ParseDType("int8"); err == nil {
		t.Error("ParseDType(int8): no error")
	}
	if s := DType(9).String(); s != "DType(9)" {
		t.Errorf("DType(9) = %q", s)
	}

	data := []float64{1, 2, 3, 4, 5, 6}
	w := Wrap64(data, 2, 3)
	data[0] = 10 // storage is shared
	if w.At(0, 0) != 10 || &w.Data64()[0] != &data[0] {
		t.Error("Wrap64 copied its data")
	}
	d32 := []float32{1, 2}
	if w := Wrap32(Float16, d32); w.Dims() != 1 || &w.Data32()[0] != &d32[0] {
		t.Error("Wrap32")
	}
	mustPanic(t, func() { Wrap64(data, 4) }, "tensor.Wrap64", "[4]")
	mustPanic(t, func() { Wrap32(Float64, d32) }, "tensor.Wrap32", "float64")
	mustPanic(t, func() { Wrap32(Float32, d32, 3) }, "tensor.Wrap32", "[3]")
	mustPanic(t, func() { FromFloat64s(Float32, data, 4, 2) }, "tensor.FromFloat64s", "[4 2]")
	mustPanic(t, func() { New(Float32, 2, -1) }, "tensor.New", "[2 -1]")
	mustPanic(t, func() { New(Float32, 1<<40, 1<<40) }, "tensor.New", "too many elements")
	mustPanic(t, func() { w.Item() }, "tensor.Item", "[2 3]")
	mustPanic(t, func() { w.At(2, 0) }, "tensor.At", "[2 3]")
	if z := Zeros(Float16, 2); z.Size() != 2 || z.AtFlat(1) != 0 {
		t.Error("Zeros")
	}
	if f := FullLike(w, 0.1); f.DType() != Float64 || f.At(1, 2) != 0.1 {
		t.Error("FullLike")
	}
}
