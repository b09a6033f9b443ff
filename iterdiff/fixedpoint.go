package iterdiff

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
)

// fpParams are the parameters of one FixedPoint solution.
type fpParams struct {
	T    Step
	l    layout
	o    Options
	mode Mode
	info *Info

	// set by the forward evaluation
	K         int
	converged bool
	hist      []*tensor.Tensor // the inputs of the last len(hist) steps
}

var fixedPointPrim *ad.Prim

func init() {
	fixedPointPrim = &ad.Prim{
		Name: "iterdiff.fixed_point",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return p.(*fpParams).eval(in) },
		JVP:  func(c *ad.Call, t []*ad.Var) *ad.Var { return c.Params.(*fpParams).jvp(c, t) },
		VJP:  func(c *ad.Call, g *ad.Var) []*ad.Var { return c.Params.(*fpParams).vjp(c, g) },
	}
}

// FixedPoint iterates x_{k+1} = T_k(x_k, θ) from x0 until
// ‖x_{k+1} − x_k‖ ≤ o.Tol or o.MaxIter iterations, and returns the final
// state as Vars that are differentiable in θ (and x0) according to o.Mode,
// at any nesting of ad traces: θ and x0 may be watched by an ad.Tape or
// seeded on an ad.Forward, and the result used inside a larger program
// that is differentiated again (Hessian-vector products through an
// implicit solution work).
//
// The forward iteration always runs on values; the mode only decides how
// derivatives are computed when a trace asks for them (see Mode). Info
// reports the forward run at return and the derivative computations as
// they happen.
//
// Errors: invalid options or state; ErrCapturedVar if T captures a traced
// Var; ErrState if T changes the state's structure; the error of
// o.Context when it is done before the end; ErrNotConverged in
// Implicit mode when the iteration did not converge and
// o.AllowUnconverged is false (the state and Info are returned too).
func FixedPoint(T Step, x0, theta []*ad.Var, o Options) ([]*ad.Var, *Info, error) {
	if T == nil {
		return nil, nil, fmt.Errorf("iterdiff: FixedPoint: nil step")
	}
	if err := validateMode(o.Mode); err != nil {
		return nil, nil, err
	}
	l, err := newLayout(x0)
	if err != nil {
		return nil, nil, err
	}
	for i, th := range theta {
		if th == nil {
			return nil, nil, fmt.Errorf("iterdiff: FixedPoint: theta[%d] is nil", i)
		}
	}
	if _, ok := o.Mode.(Implicit); (ok || o.Mode == nil) && l.dtype != tensor.Float64 {
		return nil, nil, fmt.Errorf("iterdiff: FixedPoint: Implicit mode needs a Float64 state, got %v", l.dtype)
	}
	p := &fpParams{T: T, l: l, o: o, mode: o.Mode, info: &Info{Mode: ModeName(o.Mode)}}
	if p.mode == nil {
		p.mode = Implicit{}
	}
	var out *ad.Var
	if err := catch(func() {
		out = ad.Apply(fixedPointPrim, p, append([]*ad.Var{l.pack(x0)}, theta...)...)
	}); err != nil {
		return nil, p.info, err
	}
	x := l.unpack(out)
	if _, ok := p.mode.(Implicit); ok && !p.converged && !o.AllowUnconverged {
		return x, p.info, fmt.Errorf("%w: %d iterations, residual %.3g > tol %g (set AllowUnconverged to differentiate anyway)", ErrNotConverged, p.info.Iterations, p.info.Residual, o.tol())
	}
	return x, p.info, nil
}

// step applies T to a flat state.
func (p *fpParams) step(k int, z *ad.Var, th []*ad.Var) *ad.Var {
	y := p.T(k, p.l.unpack(z), th)
	if err := p.l.check(y); err != nil {
		panic(panicErr{err})
	}
	return p.l.pack(y)
}

// keep returns how many final states the mode needs.
func (p *fpParams) keep() int {
	switch m := p.mode.(type) {
	case OneStep:
		return 1
	case KStep:
		return m.K
	}
	return 0
}

func (p *fpParams) eval(in []*tensor.Tensor) *tensor.Tensor {
	z := ad.Const(in[0])
	th := consts(in[1:])
	keep := p.keep()
	tol := p.o.tol()
	maxIter := p.o.maxIter()
	res := math.Inf(1)
	k := 0
	for k < maxIter {
		if ctx := p.o.Context; ctx != nil {
			if err := ctx.Err(); err != nil {
				panic(panicErr{fmt.Errorf("iterdiff: FixedPoint stopped after %d iterations: %w", k, err)})
			}
		}
		if keep > 0 {
			if len(p.hist) == keep {
				copy(p.hist, p.hist[1:])
				p.hist = p.hist[:keep-1]
			}
			p.hist = append(p.hist, z.Value())
		}
		zn := p.step(k, z, th)
		if !zn.IsConst() {
			panic(panicErr{ErrCapturedVar})
		}
		res = diffNorm(zn.Value(), z.Value())
		z = zn
		k++
		if p.o.Callback != nil {
			p.o.Callback(k, res)
		}
		if res <= tol || math.IsNaN(res) {
			break
		}
	}
	p.K = k
	if tol < 0 {
		tol = 1e-10
	}
	p.converged = res <= tol
	p.info.Iterations, p.info.Residual, p.info.Converged = k, res, p.converged
	return z.Value()
}

// innerOptions are the options of the traces run by derivative rules.
func (p *fpParams) innerOptions(c *ad.Call) *ad.Options {
	return &ad.Options{Policy: *c.Policy, Stats: &p.info.Stats}
}

func newForward(o *ad.Options) *ad.Forward {
	fw, err := ad.NewForward(o)
	if err != nil {
		panic(err) // the policy was validated by the calling trace
	}
	return fw
}

func newTape(o *ad.Options) *ad.Tape {
	tp, err := ad.NewTape(o)
	if err != nil {
		panic(err)
	}
	return tp
}

func backward(tp *ad.Tape, y, seed *ad.Var, xs ...*ad.Var) []*ad.Var {
	gs, err := tp.Backward(y, seed, xs...)
	if err != nil {
		panic(fmt.Sprintf("iterdiff: backward pass: %v", err))
	}
	return gs
}

// seed returns the θ Vars seeded with their tangents (nil tangents are
// left unseeded).
func seed(fw *ad.Forward, xs, ts []*ad.Var) []*ad.Var {
	out := make([]*ad.Var, len(xs))
	for i, x := range xs {
		out[i] = x
		if ts[i] != nil {
			out[i], _ = fw.Seed(x, ts[i])
		}
	}
	return out
}

func watch(tp *ad.Tape, xs []*ad.Var) []*ad.Var {
	out := make([]*ad.Var, len(xs))
	for i, x := range xs {
		out[i] = tp.Watch(x)
	}
	return out
}

// addAll accumulates cotangents (nil means zero).
func addAll(acc, gs []*ad.Var) []*ad.Var {
	if acc == nil {
		acc = make([]*ad.Var, len(gs))
	}
	for i, g := range gs {
		switch {
		case g == nil:
		case acc[i] == nil:
			acc[i] = g
		default:
			acc[i] = ad.Add(acc[i], g)
		}
	}
	return acc
}

func (p *fpParams) jvp(c *ad.Call, t []*ad.Var) *ad.Var {
	th, tth := c.In[1:], t[1:]
	switch m := p.mode.(type) {
	case Detach:
		return nil
	case Unroll:
		fw := newForward(p.innerOptions(c))
		defer fw.Close()
		z := c.In[0]
		if t[0] != nil {
			z, _ = fw.Seed(z, t[0])
		}
		ths := seed(fw, th, tth)
		for k := 0; k < p.K; k++ {
			z = p.step(k, z, ths)
		}
		p.info.Recomputed, p.info.StoredStates = p.K, 2
		_, tan := fw.Tangent(z)
		return tan
	case OneStep, KStep:
		fw := newForward(p.innerOptions(c))
		defer fw.Close()
		ths := seed(fw, th, tth)
		z := ad.Const(p.hist[0])
		for k := p.K - len(p.hist); k < p.K; k++ {
			z = p.step(k, z, ths)
		}
		p.info.Recomputed, p.info.StoredStates = len(p.hist), len(p.hist)
		_, tan := fw.Tangent(z)
		return tan
	case Piggyback:
		return p.piggybackJVP(c, t, m.Delay)
	case Implicit:
		s := p.implicitSystem(c, m)
		return s.jvp(c, c.Out, th, tth)
	}
	panic("iterdiff: unknown mode")
}

func (p *fpParams) vjp(c *ad.Call, g *ad.Var) []*ad.Var {
	th := c.In[1:]
	out := make([]*ad.Var, len(c.In))
	switch m := p.mode.(type) {
	case Detach:
		return out
	case Unroll:
		gz, gth := p.unrollVJP(c, g, m.Checkpoints)
		out[0] = gz
		copy(out[1:], gth)
		return out
	case OneStep, KStep:
		tp := newTape(p.innerOptions(c))
		defer tp.Close()
		thw := watch(tp, th)
		z := ad.Const(p.hist[0])
		for k := p.K - len(p.hist); k < p.K; k++ {
			z = p.step(k, z, thw)
		}
		p.info.Recomputed, p.info.StoredStates = len(p.hist), len(p.hist)
		copy(out[1:], backward(tp, z, g, thw...))
		return out
	case Piggyback:
		gz, gth := p.piggybackVJP(c, g, m.Delay)
		out[0] = gz
		copy(out[1:], gth)
		return out
	case Implicit:
		s := p.implicitSystem(c, m)
		copy(out[1:], s.vjp(c, c.Out, th, g))
		return out
	}
	panic("iterdiff: unknown mode")
}

// piggybackJVP runs the forward derivative recursion along the iterates.
func (p *fpParams) piggybackJVP(c *ad.Call, t []*ad.Var, delay int) *ad.Var {
	opts := p.innerOptions(c)
	th, tth := c.In[1:], t[1:]
	z := c.In[0]
	var zt *ad.Var
	if delay == 0 {
		zt = t[0]
	}
	tol := p.o.tol()
	iters, res := 0, math.Inf(1)
	jstep := func(k int, z, zt *ad.Var) (*ad.Var, *ad.Var) {
		fw := newForward(opts)
		defer fw.Close()
		zs := z
		if zt != nil {
			zs, _ = fw.Seed(z, zt)
		}
		return fw.Tangent(p.step(k, zs, seed(fw, th, tth)))
	}
	update := func(k int, z, ztn *ad.Var) {
		if p.o.TangentCallback != nil {
			p.o.TangentCallback(k, z.Value(), ztn.Value())
		}
		if zt == nil {
			res = norm2(ztn.Value())
		} else {
			res = diffNorm(ztn.Value(), zt.Value())
		}
		zt = ztn
		iters++
		p.info.DerivIterations, p.info.DerivResidual = iters, res
	}
	for k := 0; k < p.K; k++ {
		if k < delay {
			z = p.step(k, z, th)
			continue
		}
		zn, ztn := jstep(k, z, zt)
		z = zn
		update(k+1, z, ztn)
	}
	// derivatives converge later than iterates: continue at the frozen
	// final point while the derivative still moves
	if p.converged {
		for k := p.K; k < p.o.maxIter() && !(res <= tol); k++ {
			_, ztn := jstep(p.K-1, z, zt)
			update(k+1, z, ztn)
		}
	}
	p.info.DerivIterations, p.info.DerivResidual = iters, res
	p.info.DerivConverged = res <= math.Abs(tol)
	p.info.StoredStates, p.info.Recomputed = 2, p.K
	return zt
}

// piggybackVJP runs the transposed recursion at the final point, or, if
// the iterates had not converged, the exact transpose of the forward
// recursion by a checkpointed replay of the iterations from the delay.
func (p *fpParams) piggybackVJP(c *ad.Call, g *ad.Var, delay int) (*ad.Var, []*ad.Var) {
	if !p.converged {
		p.info.DerivReplayed = true
		z := c.In[0]
		th := c.In[1:]
		start := min(delay, p.K)
		for k := 0; k < start; k++ {
			z = p.step(k, z, th)
		}
		c0 := max(2, int(math.Ceil(math.Sqrt(float64(p.K-start)))))
		u := &unroller{p: p, opts: p.innerOptions(c), th: th, c: c0}
		gz, gth := u.rangeVJP(start, p.K, z, g, false)
		p.info.StoredStates, p.info.Recomputed = u.peak, u.recomputed+start
		if start > 0 {
			gz = nil // the recursion starts from J = 0 at the delay
		}
		return gz, gth
	}
	tp := newTape(p.innerOptions(c))
	defer tp.Close()
	xw := tp.Watch(c.Out)
	thw := watch(tp, c.In[1:])
	y := p.step(p.K-1, xw, thw)
	xs := append([]*ad.Var{xw}, thw...)
	tol := p.o.tol()
	var acc []*ad.Var
	w := g
	iters, res := 0, math.Inf(1)
	for iters < p.o.maxIter() {
		gs := backward(tp, y, w, xs...)
		acc = addAll(acc, gs[1:])
		w = gs[0]
		res = norm2(w.Value())
		iters++
		if res <= tol {
			break
		}
	}
	p.info.DerivIterations, p.info.DerivResidual = iters, res
	p.info.DerivConverged = res <= math.Abs(tol)
	p.info.StoredStates, p.info.Recomputed = 2, 1
	return nil, acc
}

// unrollVJP differentiates all K steps in reverse mode, with recursive
// checkpointing when c > 0.
func (p *fpParams) unrollVJP(call *ad.Call, g *ad.Var, c int) (*ad.Var, []*ad.Var) {
	K := p.K
	switch c {
	case CheckpointSqrt:
		c = max(2, int(math.Ceil(math.Sqrt(float64(K)))))
	case CheckpointNone:
		c = K
	}
	u := &unroller{p: p, opts: p.innerOptions(call), th: call.In[1:], c: c}
	gz, gth := u.rangeVJP(0, K, call.In[0], g, false)
	p.info.StoredStates, p.info.Recomputed = u.peak, u.recomputed
	return gz, gth
}

// unroller carries the state of a checkpointed reverse sweep and counts
// the states it holds.
type unroller struct {
	p          *fpParams
	opts       *ad.Options
	th         []*ad.Var
	c          int
	live, peak int
	recomputed int
}

func (u *unroller) hold(n int) {
	u.live += n
	u.peak = max(u.peak, u.live)
}

// rangeVJP returns the cotangents of z_a and θ given the cotangent g of
// z_b. held says whether the caller already counts z_a as stored.
func (u *unroller) rangeVJP(a, b int, za, g *ad.Var, held bool) (*ad.Var, []*ad.Var) {
	n := b - a
	if n <= u.c {
		// record the segment: its n+1 states live on the tape
		own := n + 1
		if held {
			own = n
		}
		u.hold(own)
		tp := newTape(u.opts)
		zw := tp.Watch(za)
		thw := watch(tp, u.th)
		z := zw
		for k := a; k < b; k++ {
			z = u.p.step(k, z, thw)
		}
		u.recomputed += n
		gs := backward(tp, z, g, append([]*ad.Var{zw}, thw...)...)
		tp.Close()
		u.hold(-own)
		return gs[0], gs[1:]
	}
	// store u.c evenly spaced states, then reverse segment by segment
	L := (n + u.c - 1) / u.c
	var starts []int
	var states []*ad.Var
	z := za
	for s := a; s < b; s += L {
		if s > a {
			for k := s - L; k < s; k++ {
				z = u.p.step(k, z, u.th)
			}
			u.recomputed += L
		}
		starts = append(starts, s)
		states = append(states, z)
		if s > a || !held {
			u.hold(1)
		}
	}
	var gth []*ad.Var
	for i := len(starts) - 1; i >= 0; i-- {
		e := min(starts[i]+L, b)
		var gi []*ad.Var
		g, gi = u.rangeVJP(starts[i], e, states[i], g, true)
		gth = addAll(gth, gi)
		states[i] = nil
		if i > 0 || !held {
			u.hold(-1)
		}
	}
	return g, gth
}

// implicitSystem returns the implicit-function system of the fixed point:
// F(z, θ) = z − T_{K−1}(z, θ) = 0.
func (p *fpParams) implicitSystem(c *ad.Call, m Implicit) *implicitSys {
	return &implicitSys{
		F: func(z *ad.Var, th []*ad.Var) *ad.Var {
			return ad.Sub(z, p.step(p.K-1, z, th))
		},
		m:    m,
		info: p.info,
		opts: p.innerOptions(c),
	}
}

// implicitSys differentiates the solution of F(x, θ) = 0 by the implicit
// function theorem: ẋ = −(∂ₓF)⁻¹ ∂_θF·θ̇, θ̄ = −∂_θFᵀ (∂ₓF)⁻ᵀ x̄.
type implicitSys struct {
	F    func(z *ad.Var, th []*ad.Var) *ad.Var
	m    Implicit
	info *Info
	opts *ad.Options
}

func (s *implicitSys) linearOptions(transpose LinearOp) *LinearOptions {
	tol := s.m.Tol
	if tol == 0 {
		tol = 1e-12
	}
	return &LinearOptions{
		Method:    s.m.Solver,
		Transpose: transpose,
		Solve:     linsolve.Options{Tol: tol, MaxIter: s.m.MaxIter, Ridge: s.m.Ridge},
		Policy:    s.opts.Policy,
		Stats:     s.opts.Stats,
		Report: func(r linsolve.Result, err error) {
			in := s.info
			in.LinearSolves++
			in.LinearMethod, in.LinearIterations, in.LinearResidual = r.Method, r.Iterations, r.Residual
			in.LinearConverged = r.Converged && err == nil
			in.StoredStates = 1
		},
	}
}

// ops returns A = ∂ₓF and Aᵀ as linear operators with parameters
// p = (x, θ...).
func (s *implicitSys) ops() (a, at LinearOp) {
	a = func(v *ad.Var, p []*ad.Var) *ad.Var {
		fw := newForward(s.opts)
		defer fw.Close()
		zs, err := fw.Seed(p[0], v)
		if err != nil {
			panic(err)
		}
		_, t := fw.Tangent(s.F(zs, p[1:]))
		return t
	}
	at = func(u *ad.Var, p []*ad.Var) *ad.Var {
		tp := newTape(s.opts)
		defer tp.Close()
		zw := tp.Watch(p[0])
		return backward(tp, s.F(zw, p[1:]), u, zw)[0]
	}
	return a, at
}

func (s *implicitSys) jvp(c *ad.Call, x *ad.Var, th, tth []*ad.Var) *ad.Var {
	if !anyNonNil(tth) {
		return nil // the implicit derivative in x0 is zero
	}
	fw := newForward(s.opts)
	_, d := fw.Tangent(s.F(x, seed(fw, th, tth)))
	fw.Close()
	a, at := s.ops()
	return LinearSolve(a, ad.Neg(d), append([]*ad.Var{x}, th...), s.linearOptions(at))
}

func (s *implicitSys) vjp(c *ad.Call, x *ad.Var, th []*ad.Var, g *ad.Var) []*ad.Var {
	a, at := s.ops()
	lam := LinearSolve(at, g, append([]*ad.Var{x}, th...), s.linearOptions(a))
	tp := newTape(s.opts)
	defer tp.Close()
	thw := watch(tp, th)
	gs := backward(tp, s.F(x, thw), lam, thw...)
	for i, gi := range gs {
		gs[i] = ad.Neg(gi)
	}
	return gs
}

func anyNonNil(vs []*ad.Var) bool {
	for _, v := range vs {
		if v != nil {
			return true
		}
	}
	return false
}
