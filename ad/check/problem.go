package check

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// problem is a function, its inputs and the resolved settings of a check.
type problem struct {
	settings
	f     ad.Func
	xs    []*tensor.Tensor // the inputs, in their own dtypes
	xe    []*tensor.Tensor // the inputs in the evaluation dtype (float64 copies or xs)
	y     *tensor.Tensor   // f(xs)
	scale [][]float64      // max(1, |xᵢ|) per element of each input
}

// newProblem validates the inputs, evaluates f and chooses the dtype of
// the finite differences.
func newProblem(f ad.Func, xs []*tensor.Tensor, o *Options) (*problem, error) {
	p := &problem{settings: resolve(o, len(xs)), f: f, xs: xs}
	fail := func(format string, args ...any) error {
		return p.errf(CheckEvaluate, fmt.Errorf(format, args...))
	}
	if f == nil {
		return nil, fail("nil function")
	}
	if len(xs) == 0 {
		return nil, fail("no inputs")
	}
	for i, x := range xs {
		if x == nil {
			return nil, fail("input %d is nil", i)
		}
	}
	if err := p.guard(CheckEvaluate, func() error {
		var err error
		p.y, err = p.eval(xs)
		return err
	}); err != nil {
		return nil, err
	}
	if p.y.HasNaNInf() {
		return nil, fail("f(x) has NaN or Inf elements: no derivative can be checked")
	}
	adType := p.y.DType()
	all64 := true
	for _, x := range xs {
		adType = coarser(adType, x.DType())
		all64 = all64 && x.DType() == tensor.Float64
	}
	p.xe = xs
	evalType := adType
	if all64 {
		// f's output may still be of a lower precision (a cast inside)
		evalType = p.y.DType()
	} else if p.upcast {
		x64 := make([]*tensor.Tensor, len(xs))
		for i, x := range xs {
			x64[i] = x.AsType(tensor.Float64)
		}
		var y64 *tensor.Tensor
		ok := p.guard(CheckEvaluate, func() error {
			var err error
			y64, err = p.eval(x64)
			return err
		}) == nil
		// f must accept float64 inputs and compute in float64 for the
		// copies to give an accurate reference
		if ok && y64.DType() == tensor.Float64 && slices.Equal(y64.Shape(), p.y.Shape()) && !y64.HasNaNInf() {
			p.xe, evalType = x64, tensor.Float64
		}
	}
	p.finish(adType, evalType)
	p.scale = make([][]float64, len(xs))
	for i, x := range xs {
		s := x.Float64s()
		for k, v := range s {
			s[k] = max(1, math.Abs(v))
		}
		p.scale[i] = s
	}
	return p, nil
}

// eval returns f at the inputs, as constants (no derivative recorded).
func (p *problem) eval(xs []*tensor.Tensor) (*tensor.Tensor, error) {
	y := p.f(consts(xs)...)
	if y == nil {
		return nil, errors.New("f returned a nil Var")
	}
	return y.Value(), nil
}

// guard runs fn, turning a panic into an *Error of the given check and an
// error that is not one into an *Error wrapping it.
func (p *problem) guard(check string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &Error{Name: p.name, Check: check, Input: -1, Index: -1, Direction: -1, Panic: r}
		}
	}()
	if err := fn(); err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return err
		}
		return p.errf(check, err)
	}
	return nil
}

// errf wraps an error of ad or of the setup.
func (p *problem) errf(check string, err error) *Error {
	return &Error{Name: p.name, Check: check, Input: -1, Index: -1, Direction: -1, Err: err}
}

func consts(ts []*tensor.Tensor) []*ad.Var {
	vs := make([]*ad.Var, len(ts))
	for i, t := range ts {
		vs[i] = ad.Const(t)
	}
	return vs
}

func values(vs []*ad.Var) []*tensor.Tensor {
	ts := make([]*tensor.Tensor, len(vs))
	for i, v := range vs {
		ts[i] = v.Value()
	}
	return ts
}

// groups lists the checked inputs, then −1 (all of them together) when
// there are several.
func (p *problem) groups() []int {
	var g []int
	for i, on := range p.wrt {
		if on {
			g = append(g, i)
		}
	}
	if len(g) > 1 {
		g = append(g, -1)
	}
	return g
}

// direction returns a random direction for input i in its own dtype,
// scaled elementwise by max(1, |xᵢ|); zeros when i is not checked or
// when on is false.
func (p *problem) direction(i int, on bool) *tensor.Tensor {
	x := p.xs[i]
	if !on || !p.wrt[i] {
		return tensor.ZerosLike(x)
	}
	v := p.rng.Normal(tensor.Float64, x.Shape()...)
	d := v.Data64()
	for k := range d {
		d[k] *= p.scale[i][k]
	}
	return v.AsType(x.DType())
}

// directions returns random directions for every input: only for input
// only when only ≥ 0, for all checked inputs when only < 0.
func (p *problem) directions(only int) []*tensor.Tensor {
	ds := make([]*tensor.Tensor, len(p.xs))
	for i := range ds {
		ds[i] = p.direction(i, only < 0 || only == i)
	}
	return ds
}

// cotangent returns a random tensor shaped and typed like f's output.
func (p *problem) cotangent() *tensor.Tensor {
	return p.rng.Normal(tensor.Float64, p.y.Shape()...).AsType(p.y.DType())
}

// shifted returns the evaluation inputs moved by t·ds (ds in the inputs'
// own dtypes, converted exactly to the evaluation dtype; nil entries do
// not move).
func (p *problem) shifted(ds []*tensor.Tensor, t float64) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(p.xe))
	for i, x := range p.xe {
		if ds[i] == nil {
			out[i] = x
			continue
		}
		d := ds[i].AsType(x.DType())
		out[i] = tensor.Add(x, tensor.Scale(d, t))
	}
	return out
}

// sampled is a vector-valued function of the step t with, for each value,
// a magnitude against which its rounding error is measured.
type sampled func(t float64) (vals, mags []float64, err error)

// diff returns fourth-order central differences of F at 0 with the step
// p.step, (8(F(h) − F(−h)) − (F(2h) − F(−2h)))/(12h), and an estimate of
// their rounding error.
func (p *problem) diff(F sampled) (d, noise []float64, err error) {
	h := p.step
	var fs [4][]float64
	var mag []float64
	for j, t := range [4]float64{h, -h, 2 * h, -2 * h} {
		v, m, err := F(t)
		if err != nil {
			return nil, nil, err
		}
		fs[j] = v
		if mag == nil {
			mag = slices.Clone(m)
		}
		for k := range mag {
			mag[k] = max(mag[k], m[k])
		}
	}
	d = make([]float64, len(fs[0]))
	noise = make([]float64, len(d))
	for k := range d {
		d[k] = (8*(fs[0][k]-fs[1][k]) - (fs[2][k] - fs[3][k])) / (12 * h)
		noise[k] = 16 * p.epsEval * mag[k] / h
	}
	return d, noise, nil
}

// comparison is the outcome of comparing two vectors elementwise.
type comparison struct {
	k              int // worst element
	got, want, tol float64
	ratio          float64 // |got − want| / tol at k
	failed         bool
}

// compare finds the element with the largest error relative to its
// tolerance Atol + Rtol·max(|got|, |want|) + noise.
func (p *problem) compare(got, want, noise []float64) comparison {
	c := comparison{k: -1, ratio: -1}
	for k := range got {
		tol := p.atol + p.rtol*max(math.Abs(got[k]), math.Abs(want[k]))
		if noise != nil {
			tol += noise[k]
		}
		r := math.Abs(got[k]-want[k]) / tol
		if math.IsNaN(r) {
			r = math.Inf(1)
		}
		if r > c.ratio {
			c = comparison{k: k, got: got[k], want: want[k], tol: tol, ratio: r}
		}
	}
	c.failed = c.ratio > 1
	return c
}

// mismatch builds the Error of a failed comparison. index < 0 marks a
// directional (scalar) comparison; shape is the shape the index refers to.
func (p *problem) mismatch(check string, c comparison, input, dir int, index int, shape []int, output bool, gotBy, wantBy string) *Error {
	e := &Error{
		Name: p.name, Check: check, Input: input, Output: output, Index: index,
		Direction: dir, Got: c.got, Want: c.want, GotBy: gotBy, WantBy: wantBy, Tol: c.tol,
	}
	if index >= 0 {
		e.MultiIndex = unravel(index, shape)
		e.Shape = slices.Clone(shape)
	}
	return e
}

// dot returns Σ aₖbₖ and Σ |aₖbₖ|.
func dot(a, b []float64) (s, m float64) {
	for k := range a {
		s += a[k] * b[k]
		m += math.Abs(a[k] * b[k])
	}
	return s, m
}

// phi returns the scalarization ⟨u, f(x + t·d)⟩ as a sampled function.
func (p *problem) phi(u []float64, ds []*tensor.Tensor) sampled {
	return func(t float64) ([]float64, []float64, error) {
		y, err := p.eval(p.shifted(ds, t))
		if err != nil {
			return nil, nil, err
		}
		s, m := dot(u, y.Float64s())
		return []float64{s}, []float64{m}, nil
	}
}

// unitAt returns directions moving only element k of input i, by its
// scale max(1, |x|) rounded to the input's dtype, and that scale.
func (p *problem) unitAt(i, k int) ([]*tensor.Tensor, float64) {
	ds := make([]*tensor.Tensor, len(p.xs))
	e := tensor.ZerosLike(p.xs[i])
	e.SetFlat(k, p.scale[i][k])
	ds[i] = e
	return ds, e.AtFlat(k)
}
