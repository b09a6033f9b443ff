package tensor

import "fmt"

// DType is the element type of a tensor.
type DType uint8

// The element types. Float16 and BFloat16 are emulated: stored as float32,
// rounded to their format after every operation.
const (
	Float64 DType = iota
	Float32
	Float16
	BFloat16
)

// String returns the NumPy-style name of d.
func (d DType) String() string {
	switch d {
	case Float64:
		return "float64"
	case Float32:
		return "float32"
	case Float16:
		return "float16"
	case BFloat16:
		return "bfloat16"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// ParseDType accepts the names printed by String and the short forms
// f64, f32, f16 and bf16.
func ParseDType(s string) (DType, error) {
	switch s {
	case "float64", "f64":
		return Float64, nil
	case "float32", "f32":
		return Float32, nil
	case "float16", "f16", "half":
		return Float16, nil
	case "bfloat16", "bf16":
		return BFloat16, nil
	}
	return 0, fmt.Errorf("unknown dtype %q (want f64, f32, f16 or bf16)", s)
}

// Eps is the machine epsilon of d: the gap between 1 and the next number.
func (d DType) Eps() float64 {
	switch d {
	case Float64:
		return 0x1p-52
	case Float32:
		return 0x1p-23
	case Float16:
		return 0x1p-10
	case BFloat16:
		return 0x1p-7
	}
	panic("tensor: invalid dtype " + d.String())
}

// Bits is the storage width of one element of d in its own format.
func (d DType) Bits() int {
	switch d {
	case Float64:
		return 64
	case Float32:
		return 32
	}
	return 16
}

// is64 reports whether d stores float64.
func (d DType) is64() bool { return d == Float64 }

// Round rounds v to the nearest value representable in d (ties to even).
func (d DType) Round(v float64) float64 {
	switch d {
	case Float64:
		return v
	case Float32:
		return float64(float32(v))
	case Float16:
		return float64(RoundFloat16(float32(v)))
	case BFloat16:
		return float64(RoundBFloat16(float32(v)))
	}
	panic("tensor: invalid dtype " + d.String())
}

func (d DType) valid() bool { return d <= BFloat16 }
