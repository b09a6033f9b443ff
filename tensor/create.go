package tensor

import (
	"fmt"
	"math"
)

// Zeros returns a tensor of zeros.
func Zeros(d DType, shape ...int) *Tensor { return New(d, shape...) }

// Ones returns a tensor of ones.
func Ones(d DType, shape ...int) *Tensor { return Full(d, 1, shape...) }

// Full returns a tensor with every element v (rounded to d).
func Full(d DType, v float64, shape ...int) *Tensor {
	t := New(d, shape...)
	t.Fill(v)
	return t
}

// ZerosLike returns zeros with the dtype and shape of t.
func ZerosLike(t *Tensor) *Tensor { return New(t.dtype, t.shape...) }

// OnesLike returns ones with the dtype and shape of t.
func OnesLike(t *Tensor) *Tensor { return Full(t.dtype, 1, t.shape...) }

// FullLike returns v everywhere with the dtype and shape of t.
func FullLike(t *Tensor, v float64) *Tensor { return Full(t.dtype, v, t.shape...) }

// Fill sets every element of t to v (rounded to the dtype). It modifies t.
func (t *Tensor) Fill(v float64) {
	if t.dtype.is64() {
		for i := range t.f64 {
			t.f64[i] = v
		}
		return
	}
	x := float32(t.dtype.Round(v))
	for i := range t.f32 {
		t.f32[i] = x
	}
}

// Arange returns start, start+step, … up to but excluding stop.
func Arange(d DType, start, stop, step float64) *Tensor {
	if step == 0 || math.IsNaN(start+stop+step) || math.IsInf(start+stop+step, 0) {
		panic(fmt.Sprintf("tensor.Arange: invalid range start=%v stop=%v step=%v", start, stop, step))
	}
	n := int(math.Ceil((stop - start) / step))
	n = max(n, 0)
	t := New(d, n)
	for i := 0; i < n; i++ {
		t.SetFlat(i, start+float64(i)*step)
	}
	return t
}

// Linspace returns n evenly spaced values from start to stop inclusive.
func Linspace(d DType, start, stop float64, n int) *Tensor {
	if n < 0 {
		panic(fmt.Sprintf("tensor.Linspace: negative count %d", n))
	}
	t := New(d, n)
	for i := 0; i < n; i++ {
		v := start
		if n > 1 {
			v = start + (stop-start)*float64(i)/float64(n-1)
		}
		t.SetFlat(i, v)
	}
	if n > 1 {
		// start + (stop−start)·1 need not round to stop
		t.SetFlat(n-1, stop)
	}
	return t
}

// Eye returns the n×n identity matrix.
func Eye(d DType, n int) *Tensor {
	t := New(d, n, n)
	for i := 0; i < n; i++ {
		t.SetFlat(i*n+i, 1)
	}
	return t
}
