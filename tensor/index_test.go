package tensor

import (
	"fmt"
	"slices"
	"testing"
)

func TestSliceAndPadAxis(t *testing.T) {
	g := NewRNG(21)
	x := g.Normal(Float64, 3, 5, 4)
	for ax := -3; ax < 3; ax++ {
		a := (ax + 3) % 3
		dim := x.Shape()[a]
		for start := 0; start <= dim; start++ {
			for end := start; end <= dim; end++ {
				s := Slice(x, ax, start, end)
				// against explicit index math
				for i := 0; i < s.Size(); i++ {
					idx := unravel(i, s.Shape())
					idx[a] += start
					if s.AtFlat(i) != x.At(idx...) {
						t.Fatalf("Slice(axis %d, %d:%d) wrong at %v", ax, start, end, unravel(i, s.Shape()))
					}
				}
				// adjoint: <Slice x, y> = <x, PadAxis y>
				y := g.Normal(Float64, s.Shape()...)
				p := PadAxis(y, ax, start, dim-end)
				if l, r := dot(s, y), dot(x, p); !near(l, r, 1e-12) {
					t.Fatalf("Slice/PadAxis axis %d %d:%d: %v != %v", ax, start, end, l, r)
				}
			}
		}
	}
	pd := PadAxis(FromFloat64s(Float32, []float64{1, 2, 3, 4}, 2, 2), 1, 1, 2)
	checkValues(t, "PadAxis", pd, []int{2, 5}, []float64{0, 1, 2, 0, 0, 0, 3, 4, 0, 0}, 0)
	mustPanic(t, func() { Slice(x, 1, 2, 6) }, "tensor.Slice", "[2:6]", "[3 5 4]")
	mustPanic(t, func() { Slice(x, 1, 3, 2) }, "tensor.Slice", "[3 5 4]")
	mustPanic(t, func() { Slice(x, 3, 0, 1) }, "tensor.Slice", "axis 3", "[3 5 4]")
	mustPanic(t, func() { PadAxis(x, 0, -1, 0) }, "tensor.PadAxis", "[3 5 4]")
}

func TestConcatSplitStack(t *testing.T) {
	g := NewRNG(22)
	for _, d := range allDTypes {
		a, b, c := g.Normal(d, 2, 3, 4), g.Normal(d, 2, 1, 4), g.Normal(d, 2, 0, 4)
		cat := Concat(1, a, b, c)
		if !slices.Equal(cat.Shape(), []int{2, 4, 4}) {
			t.Fatalf("Concat shape %v", cat.Shape())
		}
		for i := 0; i < cat.Size(); i++ {
			idx := unravel(i, cat.Shape())
			var want float64
			if idx[1] < 3 {
				want = a.At(idx...)
			} else {
				idx[1] -= 3
				want = b.At(idx...)
			}
			if cat.AtFlat(i) != want {
				t.Fatalf("%v Concat wrong at %v", d, unravel(i, cat.Shape()))
			}
		}
		parts := Split(cat, -2, 3, 1, 0)
		for i, want := range []*Tensor{a, b, c} {
			if !sameBits(parts[i], want) {
				t.Errorf("%v Split part %d differs", d, i)
			}
		}
		st := Stack(1, a, a, a)
		if !slices.Equal(st.Shape(), []int{2, 3, 3, 4}) {
			t.Fatalf("Stack shape %v", st.Shape())
		}
		for i := 0; i < st.Size(); i++ {
			idx := unravel(i, st.Shape())
			if st.AtFlat(i) != a.At(idx[0], idx[2], idx[3]) {
				t.Fatalf("Stack wrong at %v", idx)
			}
		}
		if s := Stack(-1, a, a).Shape(); !slices.Equal(s, []int{2, 3, 4, 2}) {
			t.Errorf("Stack(-1) shape %v", s)
		}
	}
	x := New(Float32, 2, 3)
	mustPanic(t, func() { Concat(1, x, New(Float32, 3, 3)) }, "tensor.Concat: shape mismatch [2 3] and [3 3] on axis 1")
	mustPanic(t, func() { Concat(0, x, New(Float32, 3)) }, "tensor.Concat", "[2 3]", "[3]")
	mustPanic(t, func() { Concat(0, x, New(Float64, 2, 3)) }, "tensor.Concat", "float32", "float64")
	mustPanic(t, func() { Concat(0) }, "tensor.Concat")
	mustPanic(t, func() { Stack(0, x, New(Float32, 3, 2)) }, "tensor.Stack", "[2 3]", "[3 2]")
	mustPanic(t, func() { Stack(3, x) }, "tensor.Stack", "axis 3", "[2 3]")
	mustPanic(t, func() { Split(x, 1, 1, 1) }, "tensor.Split", "[1 1]", "[2 3]")
}

func TestIndexSelectScatterAdd(t *testing.T) {
	g := NewRNG(23)
	x := g.Normal(Float64, 3, 4, 2)
	idx := []int{3, 0, 3, 1, 3}
	for ax := 0; ax < 3; ax++ {
		ix := idx
		if ax != 1 {
			ix = []int{1, 0, 1}
		}
		s := IndexSelect(x, ax, ix)
		for i := 0; i < s.Size(); i++ {
			si := unravel(i, s.Shape())
			xi := slices.Clone(si)
			xi[ax] = ix[si[ax]]
			if s.AtFlat(i) != x.At(xi...) {
				t.Fatalf("IndexSelect axis %d wrong at %v", ax, si)
			}
		}
		y := g.Normal(Float64, s.Shape()...)
		sc := ScatterAdd(ZerosLike(x), ax, ix, y)
		if l, r := dot(s, y), dot(x, sc); !near(l, r, 1e-12) {
			t.Errorf("IndexSelect/ScatterAdd axis %d: %v != %v", ax, l, r)
		}
		// ScatterAdd onto x adds to a copy, leaving x unchanged
		before := x.Clone()
		sx := ScatterAdd(x, ax, ix, y)
		if !sameBits(x, before) {
			t.Fatal("ScatterAdd modified its input")
		}
		checkValues(t, "ScatterAdd onto x", sx, x.Shape(), Add(x, sc).Float64s(), 1e-12)
	}
	// repeated indices accumulate, by hand
	base := FromFloat64s(Float32, []float64{1, 1, 1}, 3)
	got := ScatterAdd(base, 0, []int{2, 0, 2, 2}, FromFloat64s(Float32, []float64{1, 10, 100, 1000}, 4))
	checkValues(t, "ScatterAdd repeated", got, []int{3}, []float64{11, 1, 1102}, 0)

	// 16-bit: accumulated in float32, rounded once (1 + 2^-11 + 2^-11 = 1 + 2^-10,
	// where rounding after each addition would give 1)
	h := ScatterAdd(New(Float16, 1), 0, []int{0, 0, 0}, FromFloat64s(Float16, []float64{1, 0x1p-11, 0x1p-11}))
	checkValues(t, "ScatterAdd float16", h, []int{1}, []float64{1 + 0x1p-10}, 0)

	mustPanic(t, func() { IndexSelect(x, 1, []int{4}) }, "tensor.IndexSelect", "index 4", "[3 4 2]")
	mustPanic(t, func() { IndexSelect(x, 1, []int{-1}) }, "tensor.IndexSelect", "[3 4 2]")
	mustPanic(t, func() { ScatterAdd(x, 1, []int{0}, New(Float64, 3, 2, 2)) }, "tensor.ScatterAdd", "[3 4 2]", "[3 2 2]")
}

func TestTakeAlongPutAlong(t *testing.T) {
	g := NewRNG(24)
	x := g.Normal(Float64, 3, 5, 2)
	for ax := 0; ax < 3; ax++ {
		shape := x.Shape()
		other := slices.Delete(slices.Clone(shape), ax, ax+1)
		idx := make([]int, prod(other))
		for i := range idx {
			idx[i] = g.IntN(shape[ax])
		}
		tk := TakeAlong(x, ax, idx)
		if !slices.Equal(tk.Shape(), other) {
			t.Fatalf("TakeAlong axis %d shape %v, want %v", ax, tk.Shape(), other)
		}
		for p := range idx {
			xi := slices.Insert(unravel(p, other), ax, idx[p])
			if tk.AtFlat(p) != x.At(xi...) {
				t.Fatalf("TakeAlong axis %d wrong at %d", ax, p)
			}
		}
		y := g.Normal(Float64, other...)
		pa := PutAlong(shape, Float64, ax, idx, y)
		if l, r := dot(tk, y), dot(x, pa); !near(l, r, 1e-12) {
			t.Errorf("TakeAlong/PutAlong axis %d: %v != %v", ax, l, r)
		}
	}
	// the [B, C] case of the doc comment, by hand
	logits := FromFloat64s(Float32, []float64{1, 2, 3, 4, 5, 6}, 2, 3)
	checkValues(t, "TakeAlong [2,3]", TakeAlong(logits, 1, []int{2, 0}), []int{2}, []float64{3, 4}, 0)
	checkValues(t, "PutAlong [2,3]", PutAlong([]int{2, 3}, Float32, 1, []int{2, 0}, FromFloat64s(Float32, []float64{7, 8})),
		[]int{2, 3}, []float64{0, 0, 7, 8, 0, 0}, 0)
	mustPanic(t, func() { TakeAlong(logits, 1, []int{0}) }, "tensor.TakeAlong", "[2 3]")
	mustPanic(t, func() { TakeAlong(logits, 1, []int{0, 3}) }, "tensor.TakeAlong", "index 3", "[2 3]")
	mustPanic(t, func() { PutAlong([]int{2, 3}, Float32, 1, []int{0, 1}, New(Float32, 3)) }, "tensor.PutAlong", "[2 3]", "[3]")
}

func TestSqueezeUnsqueezeFlatten(t *testing.T) {
	x := Arange(Float32, 0, 6, 1).Reshape(2, 1, 3)
	cases := []struct {
		name string
		got  *Tensor
		want []int
	}{
		{"Squeeze 1", Squeeze(x, 1), []int{2, 3}},
		{"Squeeze -2", Squeeze(x, -2), []int{2, 3}},
		{"Unsqueeze 0", Unsqueeze(x, 0), []int{1, 2, 1, 3}},
		{"Unsqueeze 3", Unsqueeze(x, 3), []int{2, 1, 3, 1}},
		{"Unsqueeze -1", Unsqueeze(x, -1), []int{2, 1, 3, 1}},
		{"Unsqueeze scalar", Unsqueeze(Scalar(Float64, 1), 0), []int{1}},
		{"Flatten", Flatten(x), []int{6}},
		{"Flatten scalar", Flatten(Scalar(Float64, 1)), []int{1}},
	}
	for _, c := range cases {
		if !slices.Equal(c.got.Shape(), c.want) {
			t.Errorf("%s: shape %v, want %v", c.name, c.got.Shape(), c.want)
		}
		if c.got.Size() == 6 && fmt.Sprint(c.got.Float64s()) != fmt.Sprint(x.Float64s()) {
			t.Errorf("%s: values changed", c.name)
		}
	}
	mustPanic(t, func() { Squeeze(x, 0) }, "tensor.Squeeze", "[2 1 3]")
	mustPanic(t, func() { Unsqueeze(x, 4) }, "tensor.Unsqueeze", "[2 1 3]")
}
