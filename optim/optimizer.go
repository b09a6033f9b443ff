package optim

import (
	"fmt"
	"math"
	"strconv"

	"github.com/gradus-ml/gradus/tensor"
)

// Optimizer updates parameters in place from their gradients. An
// Optimizer is not safe for concurrent use.
type Optimizer interface {
	// Step applies one update to params from grads (same length, shapes
	// and storage as params). The parameter list must keep its order,
	// count and shapes from one step to the next. Step returns an error,
	// and changes nothing, if they do not or if the learning rate set
	// with SetLR is invalid for the method.
	Step(params, grads []*tensor.Tensor) error
	// LR returns the current learning rate.
	LR() float64
	// SetLR sets the learning rate used by the following steps (it is
	// checked by Step).
	SetLR(lr float64)
	// Steps returns the number of steps taken.
	Steps() int
	// State returns a deep copy of the optimizer state: step count,
	// hyperparameters and buffers.
	State() *State
	// Load replaces the optimizer state (hyperparameters included) by s.
	// Buffer shapes are checked against the parameters at the next Step.
	Load(s *State) error
}

var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*RMSprop)(nil)
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*AdamW)(nil)
	_ Optimizer = (*INNA)(nil)
	_ Optimizer = (*INNAprop)(nil)
)

// Precision is the dtype of the optimizer state buffers.
type Precision uint8

const (
	State32 Precision = iota // float32 buffers (the default)
	State64                  // float64 buffers
)

// DType returns the tensor dtype of p.
func (p Precision) DType() tensor.DType {
	if p == State64 {
		return tensor.Float64
	}
	return tensor.Float32
}

// String returns "float32" or "float64".
func (p Precision) String() string { return p.DType().String() }

// MarshalText encodes p as its name.
func (p Precision) MarshalText() ([]byte, error) {
	if p > State64 {
		return nil, fmt.Errorf("optim: invalid state precision %d", uint8(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText decodes "float32" or "float64".
func (p *Precision) UnmarshalText(b []byte) error {
	switch string(b) {
	case "float32":
		*p = State32
	case "float64":
		*p = State64
	default:
		return fmt.Errorf("optim: invalid state precision %q (want float32 or float64)", b)
	}
	return nil
}

// Zero, assigned to a config field whose default is not zero, asks for
// exactly zero (a field left at 0 takes its default). It is the negative
// number of smallest magnitude, so it cannot be typed by accident.
const Zero = -0x1p-1074

// orDefault resolves a config field: 0 means def, Zero means 0.
func orDefault(x, def float64) float64 {
	switch x {
	case 0:
		return def
	case Zero:
		return 0
	}
	return x
}

// fieldError reports an invalid hyperparameter.
func fieldError(kind, name string, v float64, want string) error {
	return fmt.Errorf("optim: %s: %s = %v, want %s", kind, name, v, want)
}

// checkLR validates a learning rate.
func checkLR(kind string, lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fieldError(kind, "LR", lr, "a finite value ≥ 0")
	}
	return nil
}

// finite reports whether every value is finite.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// float is the element type of the update loops.
type float interface{ ~float32 | ~float64 }

// core holds what every optimizer shares: the learning rate, the step
// count, the state buffers and a loaded state waiting for its parameters.
type core struct {
	kind  string
	lr    float64
	t     int
	prec  Precision
	names []string           // buffer names, in the order of bufs[i]
	bufs  [][]*tensor.Tensor // bufs[i][k]: buffer names[k] of parameter i; nil before the first step
	// loaded holds buffers read by Load before the parameters are known.
	loaded [][]*tensor.Tensor

	fn            func(chunk) // the optimizer's update of one chunk, set by its constructor
	job           *job
	params, grads []*tensor.Tensor // during a step
}

// apply runs the update on every chunk of params.
func (c *core) apply(params, grads []*tensor.Tensor) {
	if c.job == nil {
		c.job = new(job)
	}
	c.params, c.grads = params, grads
	c.forEach(params)
	c.params, c.grads = nil, nil
}

// LR returns the current learning rate.
func (c *core) LR() float64 { return c.lr }

// SetLR sets the learning rate of the following steps.
func (c *core) SetLR(lr float64) { c.lr = lr }

// Steps returns the number of steps taken.
func (c *core) Steps() int { return c.t }

// prepare validates params and grads against each other and against the
// state, allocating (or adopting loaded) buffers on first use. fresh is
// true when the buffers were just allocated as zeros.
func (c *core) prepare(params, grads []*tensor.Tensor) (fresh bool, err error) {
	if len(params) != len(grads) {
		return false, fmt.Errorf("optim: %s: Step got %d parameters and %d gradients", c.kind, len(params), len(grads))
	}
	for i, p := range params {
		g := grads[i]
		if p == nil || g == nil {
			return false, fmt.Errorf("optim: %s: parameter %d or its gradient is nil", c.kind, i)
		}
		if !tensor.SameShape(p, g) {
			return false, fmt.Errorf("optim: %s: parameter %d has shape %v, its gradient %v", c.kind, i, p.Shape(), g.Shape())
		}
		if (p.DType() == tensor.Float64) != (g.DType() == tensor.Float64) {
			return false, fmt.Errorf("optim: %s: parameter %d is %v, its gradient %v (want the same storage)", c.kind, i, p.DType(), g.DType())
		}
	}
	if len(c.names) == 0 {
		return false, nil
	}
	if c.bufs != nil {
		return false, c.checkBufs(c.bufs, params, "state")
	}
	if c.loaded != nil {
		if err := c.checkBufs(c.loaded, params, "loaded state"); err != nil {
			return false, err
		}
		c.bufs, c.loaded = c.loaded, nil
		return false, nil
	}
	d := c.prec.DType()
	c.bufs = make([][]*tensor.Tensor, len(params))
	for i, p := range params {
		c.bufs[i] = make([]*tensor.Tensor, len(c.names))
		for k := range c.names {
			c.bufs[i][k] = tensor.New(d, p.Shape()...)
		}
	}
	return true, nil
}

func (c *core) checkBufs(bufs [][]*tensor.Tensor, params []*tensor.Tensor, what string) error {
	if len(bufs) != len(params) {
		return fmt.Errorf("optim: %s: Step got %d parameters, the %s has %d", c.kind, len(params), what, len(bufs))
	}
	for i, p := range params {
		if b := bufs[i][0]; !tensor.SameShape(b, p) {
			return fmt.Errorf("optim: %s: parameter %d has shape %v, the %s has %v", c.kind, i, p.Shape(), what, b.Shape())
		}
	}
	return nil
}

// mode selects the loop instantiation for a parameter.
type mode uint8

const (
	p64s64 mode = iota
	p64s32
	p32s64
	p32s32
)

func (c *core) mode(p *tensor.Tensor) mode {
	switch {
	case p.DType() == tensor.Float64 && c.prec == State64:
		return p64s64
	case p.DType() == tensor.Float64:
		return p64s32
	case c.prec == State64:
		return p32s64
	}
	return p32s32
}

// sqrt is math.Sqrt at the precision of C (SQRTSS for float32).
func sqrt[C float](x C) C { return C(math.Sqrt(float64(x))) }

// cloneBufs deep-copies buffers.
func cloneBufs(b [][]*tensor.Tensor) [][]*tensor.Tensor {
	if b == nil {
		return nil
	}
	out := make([][]*tensor.Tensor, len(b))
	for i, row := range b {
		out[i] = make([]*tensor.Tensor, len(row))
		for k, t := range row {
			out[i][k] = t.Clone()
		}
	}
	return out
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// gsign is −1 when maximizing, else 1 (multiplying by it is exact).
func gsign(maximize bool) float64 {
	if maximize {
		return -1
	}
	return 1
}

// powi returns xⁿ for n ≥ 0 by binary exponentiation in double-double
// arithmetic, so that the result is the correctly rounded power (as C's
// pow, which the Python references use for the bias corrections σᵗ and
// βᵗ) except in astronomically rare near-halfway cases; math.Pow is off
// by an ulp for small integer exponents such as 0.99³.
func powi(x float64, n int) float64 {
	rh, rl := 1.0, 0.0
	bh, bl := x, 0.0
	for n > 0 {
		if n&1 == 1 {
			rh, rl = ddMul(rh, rl, bh, bl)
		}
		n >>= 1
		if n > 0 {
			bh, bl = ddMul(bh, bl, bh, bl)
		}
	}
	return rh + rl
}

// ddMul multiplies two double-double numbers.
func ddMul(ah, al, bh, bl float64) (hi, lo float64) {
	p := ah * bh
	e := math.FMA(ah, bh, -p) + (float64(ah*bl) + float64(al*bh))
	hi = p + e
	return hi, e - (hi - p)
}
