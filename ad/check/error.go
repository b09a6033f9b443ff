package check

import (
	"fmt"
	"strings"
)

// The checks, as named in Error.Check.
const (
	CheckEvaluate           = "evaluate"             // evaluating f (a panic, a nil or non-finite output)
	CheckReverse            = "reverse"              // Gradient: VJP against finite differences
	CheckForward            = "forward"              // Forward: JVP against finite differences
	CheckJVPvsVJP           = "jvp-vjp"              // JVPvsVJP: ⟨u, J·v⟩ both ways
	CheckHVP                = "hvp"                  // SecondOrder: HVP against finite differences of gradients
	CheckReverseOverReverse = "reverse-over-reverse" // SecondOrder: grad of ⟨grad, v⟩ against HVP
	CheckReverseOverForward = "reverse-over-forward" // SecondOrder: grad of the JVP against HVP
	CheckForwardOverForward = "forward-over-forward" // SecondOrder: JVP of the JVP against ⟨w, HVP⟩
)

// Error describes a failed check: the first mismatch found (the worst
// element of the comparison that failed), a panic inside f, or an error
// returned by ad.
type Error struct {
	// Name is Options.Name ("f" if unset).
	Name string
	// Check is one of the Check* constants.
	Check string
	// Input is the index of the input the comparison concerns; −1 when all
	// inputs moved together (a joint direction) or none is singled out.
	Input int
	// Output is true when Index refers to an element of f's output
	// (Forward) rather than of input Input.
	Output bool
	// Index is the flat (row-major) index of the worst element, and
	// MultiIndex the same position as a multi-index; Index is −1 when a
	// scalar (a directional derivative) was compared.
	Index      int
	MultiIndex []int
	// Shape is the shape of the tensor Index refers to.
	Shape []int
	// Direction is the number of the random direction (from 0), or −1 for
	// an element-by-element comparison.
	Direction int
	// Got is the value under test and Want the reference; GotBy and WantBy
	// say how each was computed ("VJP", "finite differences", ...).
	Got, Want     float64
	GotBy, WantBy string
	// Tol is the tolerance |Got − Want| was held to.
	Tol float64
	// Panic is the value f (or ad) panicked with, if it did.
	Panic any
	// Err is the error ad returned, if it did.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "check: %s: %s", e.Name, e.Check)
	if e.Panic != nil {
		fmt.Fprintf(&b, ": panic: %v", e.Panic)
		return b.String()
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
		return b.String()
	}
	if e.Input >= 0 {
		fmt.Fprintf(&b, ": input %d", e.Input)
	} else {
		b.WriteString(": all inputs")
	}
	if e.Direction >= 0 {
		fmt.Fprintf(&b, ", direction %d", e.Direction)
	}
	if e.Index >= 0 {
		where := "element"
		if e.Output {
			where = "output element"
		}
		fmt.Fprintf(&b, ", %s %d %v of shape %v", where, e.Index, e.MultiIndex, e.Shape)
	}
	fmt.Fprintf(&b, ": %s = %.10g, %s = %.10g (|error| %.3g > tolerance %.3g)",
		e.GotBy, e.Got, e.WantBy, e.Want, abs(e.Got-e.Want), e.Tol)
	return b.String()
}

// Unwrap returns the error of ad, if any.
func (e *Error) Unwrap() error { return e.Err }

// unravel returns the multi-index of flat index i in shape.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
