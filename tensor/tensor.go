package tensor

import (
	"fmt"
	"math"
	"slices"
)

// Tensor is a dense row-major n-dimensional array. A zero-dimensional tensor
// (empty shape) holds one scalar. Float64 tensors store []float64; the other
// dtypes store []float32.
type Tensor struct {
	dtype DType
	shape []int
	f64   []float64
	f32   []float32
	// arena, if set, lends the storage of results computed from t.
	arena *Arena
}

// New returns a zero-filled tensor of the given dtype and shape.
func New(d DType, shape ...int) *Tensor {
	if !d.valid() {
		panic(fmt.Sprintf("tensor.New: invalid dtype %d", d))
	}
	n := checkShape("New", shape)
	t := &Tensor{dtype: d, shape: cloneShape(shape)}
	if d.is64() {
		t.f64 = make([]float64, n)
	} else {
		t.f32 = make([]float32, n)
	}
	return t
}

// cloneShape copies shape, never returning nil: a zero-dimensional tensor
// has the empty, non-nil shape, so that passing t.shape... on to a function
// whose nil shape means "one-dimensional" keeps it zero-dimensional.
func cloneShape(shape []int) []int {
	return append(make([]int, 0, len(shape)), shape...)
}

// checkShape validates shape and returns its number of elements.
func checkShape(op string, shape []int) int {
	n := 1
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("tensor.%s: negative dimension in shape %v", op, shape))
		}
		if s != 0 && n > math.MaxInt/s {
			panic(fmt.Sprintf("tensor.%s: shape %v has too many elements", op, shape))
		}
		n *= s
	}
	return n
}

// FromFloat64s returns a tensor of dtype d and the given shape holding data
// (rounded to d). With no shape, the result is one-dimensional. The data is
// copied.
func FromFloat64s(d DType, data []float64, shape ...int) *Tensor {
	if shape == nil {
		shape = []int{len(data)}
	}
	t := New(d, shape...)
	if len(data) != t.Size() {
		panic(fmt.Sprintf("tensor.FromFloat64s: %d values for shape %v", len(data), shape))
	}
	if t.f64 != nil {
		copy(t.f64, data)
	} else {
		for i, v := range data {
			t.f32[i] = float32(v)
		}
		roundSlice(d, t.f32)
	}
	return t
}

// FromFloat32s is FromFloat64s for float32 data.
func FromFloat32s(d DType, data []float32, shape ...int) *Tensor {
	if shape == nil {
		shape = []int{len(data)}
	}
	t := New(d, shape...)
	if len(data) != t.Size() {
		panic(fmt.Sprintf("tensor.FromFloat32s: %d values for shape %v", len(data), shape))
	}
	if t.f64 != nil {
		for i, v := range data {
			t.f64[i] = float64(v)
		}
	} else {
		copy(t.f32, data)
		roundSlice(d, t.f32)
	}
	return t
}

// Wrap64 returns a Float64 tensor that uses data as its storage (no copy).
func Wrap64(data []float64, shape ...int) *Tensor {
	if shape == nil {
		shape = []int{len(data)}
	}
	if n := checkShape("Wrap64", shape); n != len(data) {
		panic(fmt.Sprintf("tensor.Wrap64: %d values for shape %v", len(data), shape))
	}
	return &Tensor{dtype: Float64, shape: cloneShape(shape), f64: data}
}

// Wrap32 returns a tensor of dtype d (not Float64) that uses data as its
// storage (no copy). For 16-bit dtypes data must already be rounded.
func Wrap32(d DType, data []float32, shape ...int) *Tensor {
	if d.is64() || !d.valid() {
		panic("tensor.Wrap32: dtype " + d.String() + " does not store float32")
	}
	if shape == nil {
		shape = []int{len(data)}
	}
	if n := checkShape("Wrap32", shape); n != len(data) {
		panic(fmt.Sprintf("tensor.Wrap32: %d values for shape %v", len(data), shape))
	}
	return &Tensor{dtype: d, shape: cloneShape(shape), f32: data}
}

// Scalar returns a zero-dimensional tensor holding v.
func Scalar(d DType, v float64) *Tensor { return FromFloat64s(d, []float64{v}, []int{}...) }

// DType returns the element type of t.
func (t *Tensor) DType() DType { return t.dtype }

// Shape returns the shape of t. The caller must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Dims returns the number of dimensions of t.
func (t *Tensor) Dims() int { return len(t.shape) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int { return t.shape[axisOf("Dim", t, i)] }

// Size returns the number of elements of t.
func (t *Tensor) Size() int {
	if t.f64 != nil || t.dtype.is64() {
		return len(t.f64)
	}
	return len(t.f32)
}

// Data64 returns the storage of a Float64 tensor (nil for other dtypes).
// Writes through it change the tensor.
func (t *Tensor) Data64() []float64 { return t.f64 }

// Data32 returns the float32 storage of a Float32, Float16 or BFloat16
// tensor (nil for Float64). Writes must keep 16-bit values rounded.
func (t *Tensor) Data32() []float32 { return t.f32 }

// Float64s returns a copy of the elements of t as float64.
func (t *Tensor) Float64s() []float64 {
	if t.f64 != nil {
		return slices.Clone(t.f64)
	}
	out := make([]float64, len(t.f32))
	for i, v := range t.f32 {
		out[i] = float64(v)
	}
	return out
}

// At returns the element at the given multi-index.
func (t *Tensor) At(idx ...int) float64 { return t.AtFlat(t.flatIndex("At", idx)) }

// AtFlat returns the i-th element in row-major order.
func (t *Tensor) AtFlat(i int) float64 {
	if t.f64 != nil {
		return t.f64[i]
	}
	return float64(t.f32[i])
}

// Set sets the element at the multi-index idx to v (rounded to the dtype).
// It modifies t.
func (t *Tensor) Set(v float64, idx ...int) { t.SetFlat(t.flatIndex("Set", idx), v) }

// SetFlat sets the i-th element in row-major order (rounded to the dtype).
func (t *Tensor) SetFlat(i int, v float64) {
	if t.f64 != nil {
		t.f64[i] = v
		return
	}
	t.f32[i] = float32(t.dtype.Round(v))
}

// Item returns the value of a tensor with exactly one element.
func (t *Tensor) Item() float64 {
	if t.Size() != 1 {
		panic(fmt.Sprintf("tensor.Item: tensor of shape %v has %d elements, want 1", t.shape, t.Size()))
	}
	return t.AtFlat(0)
}

func (t *Tensor) flatIndex(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor.%s: %d indices for shape %v", op, len(idx), t.shape))
	}
	f := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor.%s: index %v out of range for shape %v", op, idx, t.shape))
		}
		f = f*t.shape[i] + x
	}
	return f
}

// Clone returns a deep copy of t, on the heap and without t's arena tag.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{dtype: t.dtype, shape: cloneShape(t.shape), f64: slices.Clone(t.f64), f32: slices.Clone(t.f32)}
}

// CopyFrom copies the elements of src into t, which must have the same
// shape and dtype. It modifies t.
func (t *Tensor) CopyFrom(src *Tensor) {
	mustSameShape("CopyFrom", t, src)
	mustSameDType("CopyFrom", t, src)
	copy(t.f64, src.f64)
	copy(t.f32, src.f32)
}

// like returns a new zero tensor with the dtype of t and the given shape,
// from t's arena if it has one.
func (t *Tensor) like(shape []int) *Tensor { return t.arena.New(t.dtype, shape...) }

// emptyOf returns a tensor with the dtype of ts[0], the given shape and
// unspecified contents, from the arena of the first tagged operand: for
// results whose every element is written.
func emptyOf(shape []int, ts ...*Tensor) *Tensor {
	return ArenaOf(ts...).Empty(ts[0].dtype, shape...)
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b *Tensor) bool { return slices.Equal(a.shape, b.shape) }

func mustSameShape(op string, a, b *Tensor) {
	if !SameShape(a, b) {
		panic(fmt.Sprintf("tensor.%s: shape mismatch %v and %v", op, a.shape, b.shape))
	}
}

func mustSameDType(op string, a, b *Tensor) {
	if a.dtype != b.dtype {
		panic(fmt.Sprintf("tensor.%s: dtype mismatch %v and %v (shapes %v and %v)", op, a.dtype, b.dtype, a.shape, b.shape))
	}
}

// AsType returns t converted to dtype d (a copy, rounded to d).
func (t *Tensor) AsType(d DType) *Tensor {
	if t.dtype == d {
		return t.Clone()
	}
	// The shape is passed explicitly: FromFloat64s would read a nil shape
	// as "one-dimensional".
	shape := cloneShape(t.shape)
	if t.dtype.is64() {
		return FromFloat64s(d, t.f64, shape...)
	}
	return FromFloat32s(d, t.f32, shape...)
}

// HasNaNInf reports whether any element of t is NaN or ±Inf.
func (t *Tensor) HasNaNInf() bool {
	for _, v := range t.f64 {
		if v-v != 0 {
			return true
		}
	}
	for _, v := range t.f32 {
		if v-v != 0 {
			return true
		}
	}
	return false
}
