package ad

import "github.com/gradus-ml/gradus/tensor"

// lend returns n elements of T with unspecified contents from the arena of
// the first tagged tensor among from (zeroed, on the heap, when none is
// tagged): the storage of a kernel's result that writes every element.
func lend[T float32 | float64](n int, from ...*tensor.Tensor) []T {
	a := tensor.ArenaOf(from...)
	var z T
	if _, ok := any(z).(float64); ok {
		return any(a.Float64s(n)).([]T)
	}
	return any(a.Float32s(n)).([]T)
}

// lent wraps data, from lend, as a tensor of dtype d and the given shape
// carrying the arena tag of from, so that what is computed from it draws
// on the same arena.
func lent[T float32 | float64](d tensor.DType, data []T, shape []int, from ...*tensor.Tensor) *tensor.Tensor {
	t := lnResult(d, data, shape)
	if a := tensor.ArenaOf(from...); a != nil {
		t = t.In(a)
	}
	return t
}
