package iterdiff

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
)

// Step is one iteration x_{k+1} = T_k(x_k, θ) of an iterative algorithm,
// written with ad operations. The state x is a list of tensors (one for
// gradient descent, two for heavy ball's (x, x_prev), ...); T must return
// a state of the same length, shapes and dtypes. k is the iteration index
// (for step-size schedules, sample sequences, momentum sequences); the
// rules that differentiate the fixed point (Implicit, Piggyback after
// convergence and in reverse mode) use T_{K−1}, the last step run.
//
// Parameters θ must be passed in theta: T must not capture Vars that are
// traced (by an ad.Tape or ad.Forward) from its surroundings, because the
// derivative with respect to them would be silently wrong. FixedPoint runs
// T on constants and returns ErrCapturedVar if a result carries a trace.
type Step func(k int, x, theta []*ad.Var) []*ad.Var

// Options configure FixedPoint and Root. The zero value means defaults.
type Options struct {
	// MaxIter limits the iterations. Default 1000.
	MaxIter int
	// Tol stops the iteration when ‖x_{k+1} − x_k‖ ≤ Tol (Euclidean norm
	// over the whole state). Default 1e-10. A negative Tol never stops
	// early: exactly MaxIter iterations are run.
	Tol float64
	// Mode is the differentiation mode. Default Implicit{}.
	Mode Mode
	// AllowUnconverged lets Implicit mode (and Root) differentiate a point
	// that did not meet the tolerance instead of returning ErrNotConverged.
	// Info.Converged still says it.
	AllowUnconverged bool
	// Callback, if set, is called after each forward iteration with the
	// iteration count and the residual ‖x_{k+1} − x_k‖ (progress reporting).
	Callback func(k int, residual float64)
	// Context, if set, is checked before each forward iteration: when it
	// is done FixedPoint stops and returns its error.
	Context context.Context
	// TangentCallback, if set, is called by Piggyback's forward recursion
	// after each derivative iteration k with the state x_k and its tangent
	// J_k·v, both flattened (values, not to be modified): the data of
	// derivative-error-versus-iteration plots.
	TangentCallback func(k int, x, dx *tensor.Tensor)
}

func (o Options) maxIter() int {
	if o.MaxIter <= 0 {
		return 1000
	}
	return o.MaxIter
}

func (o Options) tol() float64 {
	if o.Tol == 0 {
		return 1e-10
	}
	return o.Tol
}

// Info describes a solve and the derivatives computed through it. The
// forward fields are set when FixedPoint or Root returns; the derivative
// fields are set (overwritten) each time a derivative rule of the solution
// runs, i.e. during a Backward pass or a forward-mode evaluation that
// involves the solution, and describe the most recent one.
type Info struct {
	// Mode is the name of the differentiation mode.
	Mode string
	// Iterations is the number K of forward iterations run.
	Iterations int
	// Residual is the last ‖x_K − x_{K−1}‖ (FixedPoint) or ‖F(x, θ)‖ (Root).
	Residual float64
	// Converged reports Residual ≤ Tol.
	Converged bool

	// DerivIterations, DerivResidual and DerivConverged describe the
	// derivative recursion of Piggyback mode (the total number of
	// derivative iterations, the last ‖J_{k+1} − J_k‖, and whether it met
	// the tolerance).
	DerivIterations int
	DerivResidual   float64
	DerivConverged  bool
	// DerivReplayed is set when Piggyback's reverse mode ran at a point
	// that had not converged and therefore replayed the iterations (with
	// √K checkpoints) to transpose the forward recursion exactly.
	DerivReplayed bool

	// LinearMethod, LinearIterations, LinearResidual and LinearConverged
	// describe the last linear solve of Implicit mode or Root. LinearSolves
	// counts the solves done.
	LinearMethod     linsolve.Method
	LinearIterations int
	LinearResidual   float64
	LinearConverged  bool
	LinearSolves     int

	// StoredStates is the peak number of states held by the last
	// derivative computation: K+1 for Unroll's reverse mode without
	// checkpoints, the counted peak with checkpoints, 2 for Piggyback
	// (state and tangent or cotangent), the number kept by KStep, and 1
	// for Implicit (the solution; the linear solver's work vectors are not
	// counted). Recomputed counts the steps re-run by derivative rules.
	StoredStates int
	Recomputed   int

	// Stats accumulates the counters (kink hits, flops) of the traces that
	// the derivative rules run inside.
	Stats ad.Stats
}

// Err returns a non-nil error describing what is approximate or failed:
// an unconverged forward iteration, derivative recursion or linear solve.
func (in *Info) Err() error {
	var errs []error
	if !in.Converged {
		errs = append(errs, fmt.Errorf("%w: %d iterations, residual %.3g", ErrNotConverged, in.Iterations, in.Residual))
	}
	if in.Mode == (Piggyback{}).mode() && in.DerivIterations > 0 && !in.DerivConverged {
		errs = append(errs, fmt.Errorf("iterdiff: piggyback derivative not converged: residual %.3g after %d iterations", in.DerivResidual, in.DerivIterations))
	}
	if in.LinearSolves > 0 && !in.LinearConverged {
		errs = append(errs, fmt.Errorf("iterdiff: linear solve (%s) not converged: residual %.3g after %d iterations", in.LinearMethod, in.LinearResidual, in.LinearIterations))
	}
	return errors.Join(errs...)
}

// Errors.
var (
	// ErrNotConverged: the forward iteration did not meet the tolerance in
	// Implicit mode (or Root's residual is above Tol).
	ErrNotConverged = errors.New("iterdiff: not converged")
	// ErrCapturedVar: the step returned a traced Var when run on constants,
	// so it captures a traced Var instead of taking it as a parameter.
	ErrCapturedVar = errors.New("iterdiff: the step captures a traced Var; pass it in theta")
	// ErrState: the step changed the number, shapes or dtypes of the state.
	ErrState = errors.New("iterdiff: the step changed the state's structure")
)

// layout describes how a multi-tensor state is packed into one flat vector.
type layout struct {
	shapes [][]int
	sizes  []int
	n      int
	dtype  tensor.DType
	flat1  bool // one part that is already one-dimensional
}

func newLayout(x []*ad.Var) (layout, error) {
	if len(x) == 0 {
		return layout{}, fmt.Errorf("iterdiff: empty state")
	}
	l := layout{dtype: x[0].DType()}
	for i, v := range x {
		if v == nil {
			return layout{}, fmt.Errorf("iterdiff: state part %d is nil", i)
		}
		if v.DType() != l.dtype {
			return layout{}, fmt.Errorf("iterdiff: state part %d has dtype %v, part 0 has %v", i, v.DType(), l.dtype)
		}
		l.shapes = append(l.shapes, append([]int(nil), v.Shape()...))
		l.sizes = append(l.sizes, v.Value().Size())
		l.n += v.Value().Size()
	}
	l.flat1 = len(x) == 1 && len(l.shapes[0]) == 1
	return l, nil
}

// pack flattens and concatenates the parts (differentiably).
func (l layout) pack(x []*ad.Var) *ad.Var {
	if l.flat1 {
		return x[0]
	}
	flat := make([]*ad.Var, len(x))
	for i, v := range x {
		flat[i] = ad.Reshape(v, -1)
	}
	return ad.Concat(0, flat...)
}

// unpack splits a flat vector into the parts (differentiably).
func (l layout) unpack(z *ad.Var) []*ad.Var {
	if l.flat1 {
		return []*ad.Var{z}
	}
	out := make([]*ad.Var, len(l.shapes))
	off := 0
	for i, s := range l.shapes {
		p := z
		if len(l.shapes) > 1 {
			p = ad.SliceAxis(z, 0, off, off+l.sizes[i])
		}
		out[i] = ad.Reshape(p, s...)
		off += l.sizes[i]
	}
	return out
}

// check returns an error if y does not have the layout.
func (l layout) check(y []*ad.Var) error {
	if len(y) != len(l.shapes) {
		return fmt.Errorf("%w: %d parts in, %d out", ErrState, len(l.shapes), len(y))
	}
	for i, v := range y {
		if v == nil {
			return fmt.Errorf("%w: part %d is nil", ErrState, i)
		}
		if v.DType() != l.dtype || !equalShape(v.Shape(), l.shapes[i]) {
			return fmt.Errorf("%w: part %d is %v %v, want %v %v", ErrState, i, v.DType(), v.Shape(), l.dtype, l.shapes[i])
		}
	}
	return nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// norm2 returns the Euclidean norm of a tensor.
func norm2(t *tensor.Tensor) float64 {
	var s float64
	for i := 0; i < t.Size(); i++ {
		v := t.AtFlat(i)
		s += v * v
	}
	return math.Sqrt(s)
}

// diffNorm returns ‖a − b‖.
func diffNorm(a, b *tensor.Tensor) float64 {
	var s float64
	for i := 0; i < a.Size(); i++ {
		d := a.AtFlat(i) - b.AtFlat(i)
		s += d * d
	}
	return math.Sqrt(s)
}

// panicErr carries an error out of a primitive's Eval through Apply.
type panicErr struct{ err error }

// catch converts a panicErr raised during f into an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if pe, ok := r.(panicErr); ok {
				err = pe.err
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}

// String summarizes the Info on one line.
func (in *Info) String() string {
	s := fmt.Sprintf("%s: %d iterations, residual %.3g, converged %v", in.Mode, in.Iterations, in.Residual, in.Converged)
	if in.DerivIterations > 0 {
		s += fmt.Sprintf("; derivative: %d iterations, residual %.3g, converged %v", in.DerivIterations, in.DerivResidual, in.DerivConverged)
	}
	if in.LinearSolves > 0 {
		s += fmt.Sprintf("; linear solves: %d, last %s %d iterations, residual %.3g, converged %v", in.LinearSolves, in.LinearMethod, in.LinearIterations, in.LinearResidual, in.LinearConverged)
	}
	if in.StoredStates > 0 {
		s += fmt.Sprintf("; stored states %d, steps replayed %d", in.StoredStates, in.Recomputed)
	}
	if k := in.Stats.TotalKinks(); k > 0 {
		s += fmt.Sprintf("; kink hits %d", k)
	}
	return s
}
