package ad

import (
	"fmt"

	"github.com/gradus-ml/gradus/tensor"
)

// Var is a tensor value in a computation. A Var made with Const is a
// constant; Vars returned by Tape.Watch, Forward.Seed and by operations on
// such Vars carry the derivative information of their trace (a tape node or
// a tangent). Vars are immutable.
type Var struct {
	val *tensor.Tensor
	tr  trace // nil for constants
	// below is the same value one trace level down (nil for constants).
	below *Var
	// tan is the tangent of a forward-trace Var (nil means zero).
	tan *Var
	// id is the node of a reverse-trace Var on its tape.
	id int
}

// Const returns a constant Var holding t. The tensor is not copied; it must
// not be modified while the Var is in use.
func Const(t *tensor.Tensor) *Var { return &Var{val: t} }

// Scalar returns a constant zero-dimensional Var.
func Scalar(d tensor.DType, v float64) *Var { return Const(tensor.Scalar(d, v)) }

// Value returns the tensor value of v.
func (v *Var) Value() *tensor.Tensor { return v.val }

// Shape returns the shape of v's value.
func (v *Var) Shape() []int { return v.val.Shape() }

// DType returns the dtype of v's value.
func (v *Var) DType() tensor.DType { return v.val.DType() }

// Item returns the value of a one-element Var.
func (v *Var) Item() float64 { return v.val.Item() }

// IsConst reports whether v carries no derivative information.
func (v *Var) IsConst() bool { return v.tr == nil }

// String describes v and its value.
func (v *Var) String() string {
	if v.tr == nil {
		return fmt.Sprintf("Var(const %v)", v.val)
	}
	return fmt.Sprintf("Var(%s %v)", v.tr.kind(), v.val)
}

// StopGradient returns v's value as a constant: no derivative flows through
// it at any nesting level.
func StopGradient(v *Var) *Var { return Const(v.val) }
