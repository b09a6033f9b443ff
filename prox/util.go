package prox

import (
	"fmt"
	"math"
	"slices"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// rows splits a shape into the number of leading rows and the length of
// the last axis; op names the caller in the panic for a 0-d input.
func rows(op string, shape []int) (n, d int) {
	if len(shape) == 0 {
		panic(fmt.Sprintf("prox.%s: needs at least one axis, got a 0-d input", op))
	}
	d = shape[len(shape)-1]
	n = 1
	for _, s := range shape[:len(shape)-1] {
		n *= s
	}
	return n, d
}

// rowShape is shape with its last axis set to 1.
func rowShape(shape []int) []int {
	s := append([]int(nil), shape...)
	s[len(s)-1] = 1
	return s
}

// norm2 returns the Euclidean norm of v, computed as the square root of the
// sum of squares (exactly as the derivative rules compute it), with a
// rescaled computation when that sum overflows or underflows.
func norm2(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	if s > 0 && !math.IsInf(s, 0) && s >= 0x1p-1000 {
		return math.Sqrt(s)
	}
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	if m == 0 || math.IsInf(m, 0) || math.IsNaN(s) {
		if math.IsNaN(s) {
			return s
		}
		return m
	}
	s = 0
	for _, x := range v {
		s += (x / m) * (x / m)
	}
	return m * math.Sqrt(s)
}

// constOf returns a constant Var of dtype d and the given shape holding v.
func constOf(d tensor.DType, v []float64, shape []int) *ad.Var {
	return ad.Const(tensor.FromFloat64s(d, v, shape...))
}

// sumLast sums v over its last axis, keeping it as size 1.
func sumLast(v *ad.Var) *ad.Var {
	return ad.Sum(v, []int{len(v.Shape()) - 1}, true)
}

// checkParam panics unless v is a finite number ≥ 0 (or > 0 when
// positive).
func checkParam(op, name string, v float64, positive bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || (positive && v == 0) {
		rel := "≥ 0"
		if positive {
			rel = "> 0"
		}
		panic(fmt.Sprintf("prox.%s: %s = %v is not finite and %s", op, name, v, rel))
	}
}

// allZero reports whether every element of v is 0.
func allZero(v []float64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// direct reports whether a derivative rule at x applied to t may be
// computed by a plain loop: neither carries derivative information (first
// order), and t has x's shape and dtype. Otherwise the rule is written
// with Var operations, so that it can itself be differentiated.
func direct(x, t *ad.Var) bool {
	return x.IsConst() && t.IsConst() && t.DType() == x.DType() && slices.Equal(t.Shape(), x.Shape())
}
