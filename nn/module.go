package nn

import (
	"fmt"
	"slices"
	"sort"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Param is a named tensor of a module: a trainable parameter or a buffer.
// Name is the PyTorch state-dict key relative to the module that lists it.
type Param struct {
	Name  string
	Value *tensor.Tensor
}

// Module is a layer or a model.
type Module interface {
	// Forward applies the module to x in the mode and with the parameter
	// Vars of c (a nil c evaluates with constant parameters).
	Forward(c *Ctx, x *ad.Var) *ad.Var
	// Params lists the trainable parameters in a fixed order.
	Params() []Param
}

// Buffered is implemented by modules with non-trainable state that belongs
// in the state dict (BatchNorm's running statistics).
type Buffered interface {
	Buffers() []Param
}

// Buffers returns m's buffers (none unless m is Buffered).
func Buffers(m Module) []Param {
	if b, ok := m.(Buffered); ok {
		return b.Buffers()
	}
	return nil
}

// Mode says whether a forward pass trains or evaluates.
type Mode uint8

// Modes. In Train mode BatchNorm normalizes with the batch statistics and
// updates its running statistics, and Dropout drops; in Eval mode BatchNorm
// uses the running statistics and Dropout is the identity.
const (
	Eval Mode = iota
	Train
)

func (m Mode) String() string {
	if m == Train {
		return "train"
	}
	return "eval"
}

// Ctx is the context of one forward pass: the mode, the generator Dropout
// draws from, and the Vars standing for watched parameters. A Ctx belongs
// to one goroutine at a time.
type Ctx struct {
	Mode Mode
	// RNG is the generator of dropout masks; Dropout in Train mode panics
	// without one.
	RNG  *tensor.RNG
	vars map[*tensor.Tensor]*ad.Var
}

// NewCtx returns a context in mode m drawing dropout masks from rng (which
// may be nil when the model has no dropout or m is Eval).
func NewCtx(m Mode, rng *tensor.RNG) *Ctx { return &Ctx{Mode: m, RNG: rng} }

// Training reports whether c is in Train mode (false for a nil c).
func (c *Ctx) Training() bool { return c != nil && c.Mode == Train }

// Watch puts every parameter of m on tape t and returns their Vars, in the
// order of m.Params(). Forward passes with c then differentiate with
// respect to them.
func (c *Ctx) Watch(t *ad.Tape, m Module) []*ad.Var {
	ps := m.Params()
	vs := make([]*ad.Var, len(ps))
	if c.vars == nil {
		c.vars = make(map[*tensor.Tensor]*ad.Var, len(ps))
	}
	for i, p := range ps {
		if v, ok := c.vars[p.Value]; ok {
			vs[i] = v // a parameter shared between modules
			continue
		}
		vs[i] = t.WatchTensor(p.Value)
		c.vars[p.Value] = vs[i]
	}
	return vs
}

// SetVar makes v stand for the parameter p in forward passes with c (for
// forward-mode or custom differentiation). v must have p's shape and dtype.
func (c *Ctx) SetVar(p *tensor.Tensor, v *ad.Var) {
	if !slices.Equal(p.Shape(), v.Shape()) || p.DType() != v.DType() {
		panic(fmt.Sprintf("nn.Ctx.SetVar: Var %v %v for parameter %v %v", v.DType(), v.Shape(), p.DType(), p.Shape()))
	}
	if c.vars == nil {
		c.vars = map[*tensor.Tensor]*ad.Var{}
	}
	c.vars[p] = v
}

// Param returns the Var standing for parameter p: its watched Var, or p as
// a constant.
func (c *Ctx) Param(p *tensor.Tensor) *ad.Var {
	if c != nil {
		if v, ok := c.vars[p]; ok {
			return v
		}
	}
	return ad.Const(p)
}

// Tensors returns the values of ps.
func Tensors(ps []Param) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ps))
	for i, p := range ps {
		out[i] = p.Value
	}
	return out
}

// Values returns the values of vs (gradients from Tape.Backward, for an
// optimizer).
func Values(vs []*ad.Var) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		out[i] = v.Value()
	}
	return out
}

// NumParams returns the number of trainable scalars of m.
func NumParams(m Module) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Size()
	}
	return n
}

// prefixed returns ps with prefix + "." before every name.
func prefixed(prefix string, ps []Param) []Param {
	out := make([]Param, len(ps))
	for i, p := range ps {
		out[i] = Param{Name: prefix + "." + p.Name, Value: p.Value}
	}
	return out
}

// child is a named submodule, for containers listing their parameters.
type child struct {
	name string
	m    Module
}

// childParams concatenates the prefixed parameters of the children.
func childParams(cs ...child) []Param {
	var out []Param
	for _, c := range cs {
		if c.m != nil {
			out = append(out, prefixed(c.name, c.m.Params())...)
		}
	}
	return out
}

// childBuffers concatenates the prefixed buffers of the children.
func childBuffers(cs ...child) []Param {
	var out []Param
	for _, c := range cs {
		if c.m != nil {
			out = append(out, prefixed(c.name, Buffers(c.m))...)
		}
	}
	return out
}

// StateDict returns m's parameters and buffers by name. The tensors are
// m's own (not copies): clone them to keep a snapshot across training.
func StateDict(m Module) map[string]*tensor.Tensor {
	sd := map[string]*tensor.Tensor{}
	for _, p := range append(m.Params(), Buffers(m)...) {
		sd[p.Name] = p.Value
	}
	return sd
}

// LoadStateDict copies the tensors of sd into m's parameters and buffers,
// converting dtypes. It returns an error naming the first (in sorted
// order) missing key, unexpected key or shape mismatch, and then modifies
// nothing.
func LoadStateDict(m Module, sd map[string]*tensor.Tensor) error {
	own := StateDict(m)
	names := make([]string, 0, len(own))
	for n := range own {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src, ok := sd[n]
		if !ok || src == nil {
			return fmt.Errorf("nn: LoadStateDict: missing key %q", n)
		}
		if !slices.Equal(src.Shape(), own[n].Shape()) {
			return fmt.Errorf("nn: LoadStateDict: %q has shape %v, the model expects %v", n, src.Shape(), own[n].Shape())
		}
	}
	extra := []string{}
	for n := range sd {
		if _, ok := own[n]; !ok {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("nn: LoadStateDict: unexpected key %q", extra[0])
	}
	for _, n := range names {
		src := sd[n]
		if src.DType() != own[n].DType() {
			src = src.AsType(own[n].DType())
		}
		own[n].CopyFrom(src)
	}
	return nil
}
