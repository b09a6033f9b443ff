package tensor

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// mustPanic runs f and fails unless it panics with a message containing
// every one of want.
func mustPanic(t *testing.T, f func(), want ...string) {
	t.Helper()
	var msg string
	func() {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		f()
	}()
	if msg == "" {
		t.Errorf("no panic; want a message containing %q", want)
		return
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("panic %q does not contain %q", msg, w)
		}
	}
}

// unravel returns the multi-index of flat index i in shape (row-major).
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
	return idx
}

// ravel returns the flat index of idx in shape (row-major).
func ravel(idx, shape []int) int {
	f := 0
	for d := range shape {
		f = f*shape[d] + idx[d]
	}
	return f
}

func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// dot is the float64 inner product of the elements of a and b.
func dot(a, b *Tensor) float64 {
	x, y := a.Float64s(), b.Float64s()
	if len(x) != len(y) {
		panic("dot: sizes differ")
	}
	s := 0.0
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}

// near reports |a−b| ≤ tol·max(1, |a|, |b|), treating equal infinities
// and two NaNs as equal.
func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*max(1, math.Abs(a), math.Abs(b))
}

// checkValues compares the shape and elements of got with want.
func checkValues(t *testing.T, what string, got *Tensor, shape []int, want []float64, tol float64) {
	t.Helper()
	if fmt.Sprint(got.Shape()) != fmt.Sprint(shape) || len(got.Shape()) != len(shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), shape)
		return
	}
	g := got.Float64s()
	if len(g) != len(want) {
		t.Errorf("%s: %d elements, want %d", what, len(g), len(want))
		return
	}
	for i := range g {
		if !near(g[i], want[i], tol) {
			t.Errorf("%s: element %d (index %v) = %v, want %v", what, i, unravel(i, shape), g[i], want[i])
			return
		}
	}
}

// sameBits reports whether a and b have the same dtype, shape and element
// bits.
func sameBits(a, b *Tensor) bool {
	if a.DType() != b.DType() || fmt.Sprint(a.Shape()) != fmt.Sprint(b.Shape()) || len(a.Shape()) != len(b.Shape()) {
		return false
	}
	for i := 0; i < a.Size(); i++ {
		x, y := a.AtFlat(i), b.AtFlat(i)
		if math.Float64bits(x) != math.Float64bits(y) {
			return false
		}
	}
	return true
}

var allDTypes = []DType{Float64, Float32, Float16, BFloat16}
