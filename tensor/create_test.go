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
