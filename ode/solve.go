package ode

import (
	"fmt"
	"slices"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Solution is the result of Solve.
type Solution struct {
	// T are the output times: Options.SaveAt, with t1 last.
	T []float64
	// X holds the states at T, stacked: shape [len(T)] ++ x0.Shape(). It is
	// differentiable in x0 and θ (forward sensitivities for JVPs, the
	// chosen adjoint for VJPs).
	X *ad.Var
	// Stats describes the solve and the derivative computations.
	Stats *Stats
}

// At returns the state at T[i].
func (s *Solution) At(i int) *ad.Var {
	return ad.Reshape(ad.SliceAxis(s.X, 0, i, i+1), s.X.Shape()[1:]...)
}

// Final returns the state at t1.
func (s *Solution) Final() *ad.Var { return s.At(len(s.T) - 1) }

// solveParams are the parameters of one solution primitive.
type solveParams struct {
	f      Func
	o      Options
	t0     float64
	saves  []float64
	xshape []int
	stats  *Stats

	// the accepted steps of the forward solve: step k goes from ts[k]
	// with step hs[k] to ends[k]
	ts, hs, ends []float64
	// save i is in step saveStep[i], at fraction saveTheta[i] of it
	// (1: exactly at its end)
	saveStep  []int
	saveTheta []float64
	// states at the start of every ckEvery-th step (discrete adjoint);
	// with ckBudget > 0 the stride doubles whenever ckBudget states are
	// held, keeping every other one
	ckEvery  int
	ckBudget int
	ckpt     []*tensor.Tensor
}

var solvePrim *ad.Prim

func init() {
	solvePrim = &ad.Prim{
		Name: "ode.solve",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return p.(*solveParams).eval(in) },
		JVP:  func(c *ad.Call, t []*ad.Var) *ad.Var { return c.Params.(*solveParams).jvp(c, t) },
		VJP:  func(c *ad.Call, g *ad.Var) []*ad.Var { return c.Params.(*solveParams).vjp(c, g) },
	}
}

// Solve integrates x' = f(t, x, θ) from x(t0) = x0 to t1 (t1 < t0
// integrates backward) and returns the states at the output times, as
// Vars differentiable in x0 and θ at any nesting of ad traces:
//
//   - forward mode (ad.JVP, ad.Forward): forward sensitivities, the tangent
//     equations of the discrete scheme propagated along the steps taken,
//     memory O(1);
//   - reverse mode (ad.Grad, ad.Tape): Options.Adjoint, the exact gradient
//     of the discretized solution with checkpointing (DiscreteAdjoint,
//     default) or the continuous backsolve adjoint (Backsolve, memory O(1),
//     approximate: Stats.Approximate).
//
// The derivatives are those of the discrete map with the accepted step
// sizes held fixed. Nonsmooth vector fields are differentiated with the
// Policy of the differentiating trace. x0 and θ must be Float64; θ may be
// empty.
//
// Errors: bad options, shapes or dtypes; ErrMaxSteps; ErrStepSize (step
// size underflow or a non-finite state); ErrCapturedVar-like misuse (a
// vector field returning a traced Var that is not derived from its
// arguments) is reported as an error.
func Solve(f Func, x0 *ad.Var, theta []*ad.Var, t0, t1 float64, o Options) (*Solution, error) {
	if f == nil || x0 == nil {
		return nil, fmt.Errorf("ode: nil vector field or initial state")
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	if x0.DType() != tensor.Float64 {
		return nil, fmt.Errorf("ode: x0 is %v, want Float64", x0.DType())
	}
	for i, th := range theta {
		if th == nil || th.DType() != tensor.Float64 {
			return nil, fmt.Errorf("ode: theta[%d] is nil or not Float64", i)
		}
	}
	saves, err := o.saveTimes(t0, t1)
	if err != nil {
		return nil, err
	}
	p := &solveParams{f: f, o: o, t0: t0, saves: saves, xshape: slices.Clone(x0.Shape()), stats: &Stats{Method: o.Method.String()}}
	if da, ok := o.Adjoint.(DiscreteAdjoint); ok || o.Adjoint == nil {
		switch {
		case da.Checkpoints == CheckpointAll:
			p.ckEvery = 1
		case da.Checkpoints > 0:
			p.ckEvery = da.Checkpoints
		default:
			p.ckEvery, p.ckBudget = 1, defaultCheckpoints
		}
	}
	var out *ad.Var
	if err := catch(func() { out = ad.Apply(solvePrim, p, append([]*ad.Var{x0}, theta...)...) }); err != nil {
		return nil, err
	}
	return &Solution{T: saves, X: out, Stats: p.stats}, nil
}

// field returns f with θ bound, checking the result's shape.
func (p *solveParams) field(th []*ad.Var) rhs {
	return func(t float64, y *ad.Var) *ad.Var {
		r := p.f(t, y, th)
		if r == nil || !slices.Equal(r.Shape(), y.Shape()) {
			panic(errPanic{fmt.Errorf("ode: the vector field returned shape %v for a state of shape %v", shapeOf(r), y.Shape())})
		}
		return r
	}
}

func shapeOf(v *ad.Var) []int {
	if v == nil {
		return nil
	}
	return v.Shape()
}

func (p *solveParams) eval(in []*tensor.Tensor) *tensor.Tensor {
	th := consts(in[1:])
	f := p.field(th)
	var c counts
	outs := make([]*tensor.Tensor, len(p.saves))
	next := 0
	k := 0
	on := func(t, h, end float64, y, y1 *ad.Var, ks []*ad.Var) {
		if !y1.IsConst() {
			panic(errPanic{fmt.Errorf("ode: the vector field captures a traced Var; pass it in theta")})
		}
		if p.ckEvery > 0 && k%p.ckEvery == 0 {
			if p.ckBudget > 0 && len(p.ckpt) == p.ckBudget {
				// thin out: keep the states at multiples of twice the stride
				kept := p.ckpt[:0]
				for i, st := range p.ckpt {
					if i%2 == 0 {
						kept = append(kept, st)
					}
				}
				clear(p.ckpt[len(kept):])
				p.ckpt = kept
				p.ckEvery *= 2
			}
			if k%p.ckEvery == 0 {
				p.ckpt = append(p.ckpt, y.Value())
			}
		}
		p.ts, p.hs, p.ends = append(p.ts, t), append(p.hs, h), append(p.ends, end)
		for next < len(p.saves) && (p.saves[next]-end)*(end-t) <= 0 {
			s := p.saves[next]
			theta := 1.0
			if s != end {
				theta = (s - t) / h
			}
			p.saveStep, p.saveTheta = append(p.saveStep, k), append(p.saveTheta, theta)
			outs[next] = p.output(y, y1, ks, h, theta).Value()
			next++
		}
		k++
	}
	stops := p.saves
	_, err := integrate(p.o.Method, f, ad.Const(in[0]), p.t0, stops, p.o.Step, p.o.Step, p.o.MaxStep, p.o.rtol(), p.o.atol(), p.o.maxSteps(), on, &c)
	st := p.stats
	st.Steps, st.Accepted, st.Rejected, st.FEvals = c.steps, c.accepted, c.rejected, c.fevals
	if err != nil {
		panic(errPanic{err})
	}
	for _, o := range outs {
		if o.HasNaNInf() {
			panic(errPanic{fmt.Errorf("%w: the solution is not finite", ErrStepSize)})
		}
	}
	return tensor.Stack(0, outs...)
}

// output is the state at fraction theta of a step: y1 itself at the end,
// the dense output of Dopri5 inside, and (fixed-step methods only land on
// their ends).
func (p *solveParams) output(y, y1 *ad.Var, ks []*ad.Var, h, theta float64) *ad.Var {
	if theta == 1 {
		return y1
	}
	return denseDopri(y, y1, ks, h, theta)
}

// replay runs step k from y with θ Vars th (at any trace level) and
// returns y_{k+1} and the outputs saved in the step, keyed by save index.
func (p *solveParams) replay(k int, y *ad.Var, th []*ad.Var, outs func(i int, v *ad.Var)) *ad.Var {
	tb := tableaus[p.o.Method]
	y1, ks := tb.step(p.field(th), p.ts[k], p.hs[k], y, nil)
	if outs != nil {
		for i, sk := range p.saveStep {
			if sk == k {
				outs(i, p.output(y, y1, ks, p.hs[k], p.saveTheta[i]))
			}
		}
	}
	return y1
}

func (p *solveParams) innerOptions(c *ad.Call) *ad.Options {
	return &ad.Options{Policy: *c.Policy, Stats: &p.stats.AD}
}

// jvp propagates forward sensitivities along the steps.
func (p *solveParams) jvp(c *ad.Call, t []*ad.Var) *ad.Var {
	fw, err := ad.NewForward(p.innerOptions(c))
	if err != nil {
		panic(err)
	}
	defer fw.Close()
	y := c.In[0]
	if t[0] != nil {
		y, _ = fw.Seed(y, t[0])
	}
	th := make([]*ad.Var, len(c.In)-1)
	for i, x := range c.In[1:] {
		th[i] = x
		if t[i+1] != nil {
			th[i], _ = fw.Seed(x, t[i+1])
		}
	}
	outs := make([]*ad.Var, len(p.saves))
	stages := len(tableaus[p.o.Method].c)
	for k := range p.ts {
		y = p.replay(k, y, th, func(i int, v *ad.Var) { outs[i] = v })
	}
	for i, o := range outs {
		_, outs[i] = fw.Tangent(o)
	}
	st := p.stats
	st.Sensitivity, st.Approximate = "forward", false
	st.DerivSteps, st.DerivRejected, st.DerivFEvals = len(p.ts), 0, len(p.ts)*stages
	st.StoredStates, st.Recomputed = 1, len(p.ts)
	return ad.Stack(0, outs...)
}

func (p *solveParams) vjp(c *ad.Call, g *ad.Var) []*ad.Var {
	if _, ok := p.o.Adjoint.(Backsolve); ok {
		return p.backsolve(c, g)
	}
	return p.discreteAdjoint(c, g)
}

// errPanic carries an error out of Eval through ad.Apply.
type errPanic struct{ err error }

func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(errPanic); ok {
				err = e.err
				return
			}
			panic(r)
		}
	}()
	f()
	return nil
}
