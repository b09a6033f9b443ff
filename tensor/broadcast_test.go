package tensor

import (
	"fmt"
	"math"
	"testing"
)

func TestBroadcastShapes(t *testing.T) {
	cases := []struct {
		in   [][]int
		want []int // nil: error
	}{
		{[][]int{{2, 3}, {3}}, []int{2, 3}},
		{[][]int{{3, 1}, {4}}, []int{3, 4}},
		{[][]int{{}, {2}}, []int{2}},
		{[][]int{{}, {}}, []int{}},
		{[][]int{{1}, {0}}, []int{0}},
		{[][]int{{0, 1}, {1, 0}}, []int{0, 0}},
		{[][]int{{2, 1, 3}, {5, 1}}, []int{2, 5, 3}},
		{[][]int{{1, 1, 1}, {7}}, []int{1, 1, 7}},
		{[][]int{{4, 1}, {1, 5}, {3, 1, 1}}, []int{3, 4, 5}},
		{[][]int{{6}}, []int{6}},
		{[][]int{{2}, {3}}, nil},
		{[][]int{{2, 3}, {3, 2}}, nil},
		{[][]int{{0}, {2}}, nil},
		{[][]int{{4, 1}, {1, 5}, {3, 2, 1}}, nil},
	}
	for _, c := range cases {
		got, err := BroadcastShapes(c.in...)
		if c.want == nil {
			if err == nil {
				t.Errorf("BroadcastShapes%v = %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) || len(got) != len(c.want) {
			t.Errorf("BroadcastShapes%v = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// bindex maps a multi-index of the broadcast shape to the flat index of an
// operand of shape s.
func bindex(idx, s []int) int {
	off := len(idx) - len(s)
	f := 0
	for d := range s {
		i := idx[off+d]
		if s[d] == 1 {
			i = 0
		}
		f = f*s[d] + i
	}
	return f
}

func TestAddBroadcastExplicit(t *testing.T) {
	// [3,1] + [4] by hand
	a := FromFloat64s(Float64, []float64{1, 2, 3}, 3, 1)
	b := FromFloat64s(Float64, []float64{10, 20, 30, 40}, 4)
	want := make([]float64, 0, 12)
	for i := 0; i < 3; i++ {
		for j := 0; j < 4; j++ {
			want = append(want, float64(i+1)+float64(10*(j+1)))
		}
	}
	checkValues(t, "[3,1]+[4]", Add(a, b), []int{3, 4}, want, 0)
	checkValues(t, "[4]+[3,1]", Add(b, a), []int{3, 4}, want, 0)
}

func TestBinaryBroadcastRandom(t *testing.T) {
	g := NewRNG(3)
	pairs := [][2][]int{
		{{3, 1}, {4}},
		{{2, 3, 4}, {3, 1}},
		{{1, 5}, {6, 1}},
		{{2, 1, 3}, {2, 4, 1}},
		{{}, {2, 3}},
		{{2, 3}, {}},
		{{5}, {5}},
		{{0, 3}, {1, 3}},
		{{4, 1, 1, 2}, {3, 1, 2}},
	}
	ops := []struct {
		name string
		f    func(a, b *Tensor) *Tensor
		ref  func(x, y float64) float64
	}{
		{"Add", Add, func(x, y float64) float64 { return x + y }},
		{"Sub", Sub, func(x, y float64) float64 { return x - y }},
		{"Mul", Mul, func(x, y float64) float64 { return x * y }},
		{"Div", Div, func(x, y float64) float64 { return x / y }},
		{"Maximum", Maximum, math.Max},
		{"Minimum", Minimum, math.Min},
		{"Greater", Greater, func(x, y float64) float64 { return b2f(x > y) }},
		{"LessEqual", LessEqual, func(x, y float64) float64 { return b2f(x <= y) }},
	}
	for _, d := range []DType{Float64, Float32} {
		for _, p := range pairs {
			a, b := g.Normal(d, p[0]...), g.Normal(d, p[1]...)
			out, _ := BroadcastShapes(p[0], p[1])
			for _, op := range ops {
				want := make([]float64, prod(out))
				for i := range want {
					idx := unravel(i, out)
					want[i] = d.Round(op.ref(a.AtFlat(bindex(idx, p[0])), b.AtFlat(bindex(idx, p[1]))))
				}
				checkValues(t, fmt.Sprintf("%v %s %v %v", d, op.name, p[0], p[1]), op.f(a, b), out, want, 0)
			}
		}
	}
}

func TestBroadcastToSumToAdjoint(t *testing.T) {
	g := NewRNG(4)
	cases := [][2][]int{
		{{3, 1}, {2, 3, 4}},
		{{4}, {3, 4}},
		{{}, {2, 2}},
		{{1, 1}, {5, 6}},
		{{2, 1, 3}, {2, 4, 3}},
		{{5}, {5}},
		{{1}, {0}},
	}
	for _, c := range cases {
		x, y := g.Normal(Float64, c[0]...), g.Normal(Float64, c[1]...)
		bx := BroadcastTo(x, c[1]...)
		sy := SumTo(y, c[0]...)
		if fmt.Sprint(bx.Shape()) != fmt.Sprint(c[1]) || fmt.Sprint(sy.Shape()) != fmt.Sprint(c[0]) {
			t.Errorf("%v→%v: shapes %v and %v", c[0], c[1], bx.Shape(), sy.Shape())
			continue
		}
		if l, r := dot(bx, y), dot(x, sy); !near(l, r, 1e-12) {
			t.Errorf("%v→%v: <BroadcastTo x, y> = %v, <x, SumTo y> = %v", c[0], c[1], l, r)
		}
		// BroadcastTo against explicit index math
		for i := 0; i < bx.Size(); i++ {
			if bx.AtFlat(i) != x.AtFlat(bindex(unravel(i, c[1]), c[0])) {
				t.Fatalf("BroadcastTo %v→%v wrong at %v", c[0], c[1], unravel(i, c[1]))
			}
		}
	}
	mustPanic(t, func() { BroadcastTo(New(Float32, 3), 4) }, "BroadcastTo", "[3]", "[4]")
	mustPanic(t, func() { BroadcastTo(New(Float32, 2, 3), 3) }, "BroadcastTo", "[2 3]", "[3]")
	mustPanic(t, func() { SumTo(New(Float32, 3), 2, 3) }, "SumTo", "[2 3]", "[3]")
}

func TestShapeMismatchPanics(t *testing.T) {
	a, b := New(Float32, 2, 3), New(Float32, 4)
	mustPanic(t, func() { Add(a, b) }, "tensor.Add", "[2 3]", "[4]")
	mustPanic(t, func() { Mul(a, b) }, "tensor.Mul", "[2 3]", "[4]")
	mustPanic(t, func() { Where(a, a, b) }, "tensor.Where", "[2 3]", "[4]")
	mustPanic(t, func() { Add(a, New(Float64, 2, 3)) }, "tensor.Add", "float32", "float64", "[2 3]")
	mustPanic(t, func() { MatMul(a, New(Float32, 4, 2), false, false) }, "tensor.MatMul", "[2 3]", "[4 2]")
	mustPanic(t, func() { MatMul(New(Float32, 2, 2, 3), New(Float32, 3, 3, 2), false, false) }, "tensor.MatMul", "[2 2 3]", "[3 3 2]")
	mustPanic(t, func() { Concat(0, a, New(Float32, 2, 4)) }, "tensor.Concat: shape mismatch [2 3] and [2 4] on axis 0")
	mustPanic(t, func() { a.CopyFrom(b) }, "tensor.CopyFrom", "[2 3]", "[4]")
	mustPanic(t, func() { Sum(a, []int{2}, false) }, "tensor.Sum", "axis 2", "[2 3]")
	mustPanic(t, func() { ArgMax(a, -3) }, "tensor.ArgMax", "axis -3", "[2 3]")
	mustPanic(t, func() { a.Dim(2) }, "tensor.Dim", "[2 3]")
	mustPanic(t, func() { a.Reshape(4, 2) }, "tensor.Reshape", "[2 3]", "[4 2]")
}
