package tensor

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// naiveReduce reduces x over the axes in red by visiting every element,
// combining with f from init, and applying fin to the result.
func naiveReduce(x *Tensor, red []bool, keep bool, init float64, f func(acc, v float64) float64, fin func(acc float64, n int) float64) ([]int, []float64) {
	shape := x.Shape()
	var out []int
	var outKeep []int
	for i, d := range shape {
		if red[i] {
			outKeep = append(outKeep, 1)
		} else {
			out = append(out, d)
			outKeep = append(outKeep, d)
		}
	}
	acc := make([]float64, prod(outKeep))
	cnt := make([]int, len(acc))
	for i := range acc {
		acc[i] = init
	}
	for i := 0; i < x.Size(); i++ {
		idx := unravel(i, shape)
		for d := range idx {
			if red[d] {
				idx[d] = 0
			}
		}
		o := ravel(idx, outKeep)
		acc[o] = f(acc[o], x.AtFlat(i))
		cnt[o]++
	}
	for i := range acc {
		acc[i] = fin(acc[i], cnt[i])
	}
	if keep {
		out = outKeep
	}
	if out == nil {
		out = []int{}
	}
	return out, acc
}

func TestReductionsAllAxisSubsets(t *testing.T) {
	g := NewRNG(11)
	x := g.Normal(Float64, 3, 4, 5)
	x.Set(2.5, 1, 2, 3)
	x.Set(2.5, 1, 2, 4) // a tie
	id := func(a float64, _ int) float64 { return a }
	ops := []struct {
		name string
		f    func(*Tensor, []int, bool) *Tensor
		init float64
		comb func(a, v float64) float64
		fin  func(a float64, n int) float64
	}{
		{"Sum", Sum, 0, func(a, v float64) float64 { return a + v }, id},
		{"Mean", Mean, 0, func(a, v float64) float64 { return a + v }, func(a float64, n int) float64 { return a / float64(n) }},
		{"Max", Max, math.Inf(-1), math.Max, id},
		{"Min", Min, math.Inf(1), math.Min, id},
		{"Norm", Norm, 0, func(a, v float64) float64 { return a + v*v }, func(a float64, _ int) float64 { return math.Sqrt(a) }},
		{"LogSumExp", LogSumExp, 0, func(a, v float64) float64 { return a + math.Exp(v) }, func(a float64, _ int) float64 { return math.Log(a) }},
	}
	for mask := 0; mask < 8; mask++ {
		red := []bool{mask&1 != 0, mask&2 != 0, mask&4 != 0}
		axes := []int{}
		negAxes := []int{}
		for i, r := range red {
			if r {
				axes = append(axes, i)
				negAxes = append(negAxes, i-3)
			}
		}
		for _, keep := range []bool{false, true} {
			for _, op := range ops {
				shape, want := naiveReduce(x, red, keep, op.init, op.comb, op.fin)
				name := fmt.Sprintf("%s axes=%v keep=%v", op.name, axes, keep)
				checkValues(t, name, op.f(x, axes, keep), shape, want, 1e-12)
				checkValues(t, name+" (negative axes)", op.f(x, negAxes, keep), shape, want, 1e-12)
				if mask == 7 {
					checkValues(t, name+" (nil axes)", op.f(x, nil, keep), shape, want, 1e-12)
				}
			}
		}
	}
}

func TestLogSumExpExtremes(t *testing.T) {
	inf := math.Inf(1)
	x := FromFloat64s(Float64, []float64{
		-inf, -inf, -inf,
		1000, 1000, 1000,
		-1000, -1000, -1001,
		0, -inf, 0,
		inf, 0, 1,
	}, 5, 3)
	want := []float64{-inf, 1000 + math.Log(3), -1000 + math.Log(2+math.Exp(-1)), math.Log(2), inf}
	for _, d := range []DType{Float64, Float32} {
		got := LogSumExp(x.AsType(d), []int{1}, false)
		tol := 1e-12
		if d == Float32 {
			tol = 1e-6
		}
		checkValues(t, fmt.Sprintf("LogSumExp %v", d), got, []int{5}, want, tol)
	}
}

func TestReduce16BitNoSpuriousOverflow(t *testing.T) {
	// The mean of 1000 values of 100 is 100, though their sum overflows
	// float16; the norm of [300] is 300 though 300² does.
	x := Full(Float16, 100, 1000)
	if m := Mean(x, nil, false).Item(); m != 100 {
		t.Errorf("Mean of float16 100s = %v, want 100", m)
	}
	if n := Norm(FromFloat64s(Float16, []float64{300, 400}), nil, false).Item(); n != 500 {
		t.Errorf("Norm of float16 [300 400] = %v, want 500", n)
	}
	if s := Sum(x, nil, false).Item(); !math.IsInf(s, 1) {
		t.Errorf("Sum of float16 100s = %v, want +Inf (overflow)", s)
	}
	if l := LogSumExp(Full(Float16, 11, 2), nil, false).Item(); l != float64(RoundFloat16(float32(11+math.Log(2)))) {
		t.Errorf("LogSumExp float16 = %v", l)
	}
}

func TestNormNoSpuriousOverflow(t *testing.T) {
	cases := []struct {
		d    DType
		x    []float64
		want float64
	}{
		{Float32, []float64{3e20, 4e20}, 5e20},
		{Float32, []float64{3e-30, -4e-30}, 5e-30},
		{Float32, []float64{3e-30, 0, 0}, 3e-30},
		{Float64, []float64{3e200, 4e200}, 5e200},
		{Float64, []float64{-3e-200, 4e-200}, 5e-200},
		{Float32, []float64{0, 0}, 0},
		{Float32, []float64{math.Inf(-1), 1}, math.Inf(1)},
		{Float32, []float64{math.NaN(), 1}, math.NaN()},
		{BFloat16, []float64{3e30, 4e30}, 5e30},
	}
	for _, c := range cases {
		got := Norm(FromFloat64s(c.d, c.x), nil, false).Item()
		if !near(got, c.d.Round(c.want), 4*c.d.Eps()) {
			t.Errorf("%v Norm(%v) = %v, want %v", c.d, c.x, got, c.want)
		}
	}
	// only the rows that need it are rescaled; the shapes follow keepdims
	x := FromFloat64s(Float32, []float64{3, 4, 3e25, 4e25}, 2, 2)
	checkValues(t, "Norm rows", Norm(x, []int{1}, true), []int{2, 1}, []float64{5, 5e25}, 1e-6)
}

func TestArgMaxArgMin(t *testing.T) {
	x := FromFloat64s(Float64, []float64{
		1, 3, 3,
		2, 2, 1,
		5, math.NaN(), 7,
	}, 3, 3)
	cases := []struct {
		name string
		got  []int
		want []int
	}{
		{"ArgMax axis 1", ArgMax(x, 1), []int{1, 0, 1}},
		{"ArgMax axis -1", ArgMax(x, -1), []int{1, 0, 1}},
		{"ArgMin axis 1", ArgMin(x, 1), []int{0, 2, 1}},
		{"ArgMax axis 0", ArgMax(x, 0), []int{2, 2, 2}}, // NaN counts as largest
		{"ArgMin axis 0", ArgMin(x, 0), []int{0, 2, 1}},
	}
	for _, c := range cases {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// random 3-D against a naive search, every axis
	g := NewRNG(5)
	y := Map(g.Normal(Float64, 3, 4, 5), func(v float64) float64 { return math.Round(v * 2) }) // many ties
	for ax := 0; ax < 3; ax++ {
		got := ArgMax(y, ax)
		shape := y.Shape()
		other := slices.Delete(slices.Clone(shape), ax, ax+1)
		for p := 0; p < prod(other); p++ {
			oi := unravel(p, other)
			best, bi := math.Inf(-1), -1
			for k := 0; k < shape[ax]; k++ {
				idx := slices.Insert(slices.Clone(oi), ax, k)
				if v := y.At(idx...); v > best {
					best, bi = v, k
				}
			}
			if got[p] != bi {
				t.Fatalf("ArgMax axis %d at %v = %d, want %d", ax, oi, got[p], bi)
			}
		}
	}
}

func TestMaxMinNaN(t *testing.T) {
	nan := math.NaN()
	for _, d := range allDTypes {
		x := FromFloat64s(d, []float64{nan, 1, 2, 3, nan, 0, 4, 5, 6}, 3, 3)
		checkValues(t, fmt.Sprintf("%v Max rows", d), Max(x, []int{1}, false), []int{3}, []float64{nan, nan, 6}, 0)
		checkValues(t, fmt.Sprintf("%v Min rows", d), Min(x, []int{1}, false), []int{3}, []float64{nan, nan, 4}, 0)
		checkValues(t, fmt.Sprintf("%v Max cols", d), Max(x, []int{0}, false), []int{3}, []float64{nan, nan, 6}, 0)
		checkValues(t, fmt.Sprintf("%v Min cols", d), Min(x, []int{0}, true), []int{1, 3}, []float64{nan, nan, 0}, 0)
	}
}

func TestReduceEmptyAndErrors(t *testing.T) {
	e := New(Float32, 0, 3)
	checkValues(t, "Sum over empty axis", Sum(e, []int{0}, false), []int{3}, []float64{0, 0, 0}, 0)
	if m := Mean(e, []int{0}, false); !math.IsNaN(m.AtFlat(0)) {
		t.Errorf("Mean over empty axis = %v, want NaN", m)
	}
	mustPanic(t, func() { Max(e, []int{0}, false) }, "tensor.Max", "[0 3]")
	checkValues(t, "Max with empty result", Max(New(Float32, 3, 0), []int{0}, false), []int{0}, nil, 0)
	mustPanic(t, func() { Sum(New(Float32, 2, 3), []int{1, -1}, false) }, "tensor.Sum", "repeated axis", "[2 3]")
	mustPanic(t, func() { ArgMax(e, 0) }, "tensor.ArgMax", "[0 3]")
}

func TestPermuteExplicit(t *testing.T) {
	g := NewRNG(6)
	shapes := [][]int{{2, 3, 4}, {3, 1, 2, 5}}
	for _, shape := range shapes {
		x := g.Normal(Float32, shape...)
		for _, perm := range permutations(len(shape)) {
			y := Permute(x, perm...)
			ys := y.Shape()
			for i := range perm {
				if ys[i] != shape[perm[i]] {
					t.Fatalf("Permute %v %v: shape %v", shape, perm, ys)
				}
			}
			for i := 0; i < y.Size(); i++ {
				yi := unravel(i, ys)
				xi := make([]int, len(shape))
				for k, p := range perm {
					xi[p] = yi[k]
				}
				if y.AtFlat(i) != x.At(xi...) {
					t.Fatalf("Permute %v %v: wrong at %v", shape, perm, yi)
				}
			}
		}
	}
	x := g.Normal(Float64, 2, 3, 4)
	checkValues(t, "Transpose", Transpose(x), []int{2, 4, 3}, Permute(x, 0, 2, 1).Float64s(), 0)
	mustPanic(t, func() { Permute(x, 0, 0, 1) }, "tensor.Permute", "[2 3 4]")
	mustPanic(t, func() { Transpose(New(Float32, 3)) }, "tensor.Transpose", "[3]")
}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			out = append(out, slices.Insert(slices.Clone(p), i, n-1))
		}
	}
	return out
}

func TestReshape(t *testing.T) {
	x := Arange(Float64, 0, 12, 1)
	checkValues(t, "Reshape -1", x.Reshape(3, -1), []int{3, 4}, x.Float64s(), 0)
	e := New(Float32, 0, 3)
	// −1 is ambiguous when the other dimensions multiply to 0 (as in NumPy)
	mustPanic(t, func() { e.Reshape(3, 0, -1) }, "tensor.Reshape", "-1", "[0 3]")
	checkValues(t, "Reshape of empty", e.Reshape(-1, 3), []int{0, 3}, nil, 0)
	mustPanic(t, func() { x.Reshape(5, -1) }, "tensor.Reshape", "[12]")
	if s := Scalar(Float32, 2).Reshape(1, 1).Reshape().Shape(); s == nil || len(s) != 0 {
		t.Errorf("Reshape() shape %#v, want empty", s)
	}
}
