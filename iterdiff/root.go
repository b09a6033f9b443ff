package iterdiff

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Residual is an optimality condition F(x, θ) written with ad operations;
// its result has the structure (number of parts, shapes, dtypes) of x.
type Residual func(x, theta []*ad.Var) []*ad.Var

// Solver computes a root x of F(·, θ) on values, by any method.
type Solver func(theta []*tensor.Tensor) ([]*tensor.Tensor, error)

// rootParams are the parameters of one Root solution.
type rootParams struct {
	F     Residual
	solve Solver
	o     Options
	mode  Mode
	info  *Info
	l     layout
}

var rootPrim *ad.Prim

func init() {
	rootPrim = &ad.Prim{
		Name: "iterdiff.root",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return p.(*rootParams).eval(in) },
		JVP:  func(c *ad.Call, t []*ad.Var) *ad.Var { return c.Params.(*rootParams).jvp(c, t) },
		VJP:  func(c *ad.Call, g *ad.Var) []*ad.Var { return c.Params.(*rootParams).vjp(c, g) },
	}
}

// Root returns the solution x*(θ) of F(x, θ) = 0 computed by solve on
// values, as Vars differentiable in θ by the implicit function theorem:
// ẋ = −(∂ₓF)⁻¹ ∂_θF·θ̇ and θ̄ = −∂_θFᵀ (∂ₓF)⁻ᵀ x̄, with the linear systems
// solved matrix-free by linsolve (o.Mode: Implicit{Solver, Ridge, ...},
// default GMRES; use CG when ∂ₓF is symmetric positive definite, e.g. F a
// gradient) or Detach. The derivative rules are differentiable, so Root
// composes with outer derivatives of any order.
//
// Info.Residual is ‖F(x*, θ)‖ and Info.Converged says whether it is at most
// o.Tol (default 1e-10). Errors: a mode other than Implicit or Detach; an
// error from solve; a solution or residual whose structure differs;
// ErrCapturedVar if F captures a traced Var; ErrNotConverged if the
// residual is above o.Tol and o.AllowUnconverged is false (the solution and
// Info are returned too).
func Root(F Residual, solve Solver, theta []*ad.Var, o Options) ([]*ad.Var, *Info, error) {
	if F == nil || solve == nil {
		return nil, nil, fmt.Errorf("iterdiff: Root: nil residual or solver")
	}
	switch o.Mode.(type) {
	case nil, Implicit, Detach:
	default:
		return nil, nil, fmt.Errorf("iterdiff: Root supports Implicit and Detach modes, not %s", o.Mode.mode())
	}
	if err := validateMode(o.Mode); err != nil {
		return nil, nil, err
	}
	if len(theta) == 0 {
		return nil, nil, fmt.Errorf("iterdiff: Root: no parameters")
	}
	for i, th := range theta {
		if th == nil {
			return nil, nil, fmt.Errorf("iterdiff: Root: theta[%d] is nil", i)
		}
	}
	p := &rootParams{F: F, solve: solve, o: o, mode: o.Mode, info: &Info{Mode: ModeName(o.Mode)}}
	if p.mode == nil {
		p.mode = Implicit{}
	}
	var out *ad.Var
	if err := catch(func() { out = ad.Apply(rootPrim, p, theta...) }); err != nil {
		return nil, p.info, err
	}
	x := p.l.unpack(out)
	if !p.info.Converged && !o.AllowUnconverged {
		return x, p.info, fmt.Errorf("%w: ‖F(x, θ)‖ = %.3g > tol %g", ErrNotConverged, p.info.Residual, o.tol())
	}
	return x, p.info, nil
}

// residual applies F to a flat state.
func (p *rootParams) residual(z *ad.Var, th []*ad.Var) *ad.Var {
	y := p.F(p.l.unpack(z), th)
	if err := p.l.check(y); err != nil {
		panic(panicErr{fmt.Errorf("iterdiff: Root: the residual: %w", err)})
	}
	return p.l.pack(y)
}

func (p *rootParams) eval(in []*tensor.Tensor) *tensor.Tensor {
	xs, err := p.solve(in)
	if err != nil {
		panic(panicErr{fmt.Errorf("iterdiff: Root: the solver: %w", err)})
	}
	vs := consts(xs)
	if p.l, err = newLayout(vs); err != nil {
		panic(panicErr{err})
	}
	if p.l.dtype != tensor.Float64 {
		panic(panicErr{fmt.Errorf("iterdiff: Root: the solution has dtype %v, want Float64", p.l.dtype)})
	}
	z := p.l.pack(vs)
	r := p.residual(z, consts(in))
	if !r.IsConst() {
		panic(panicErr{ErrCapturedVar})
	}
	res := norm2(r.Value())
	p.info.Residual, p.info.Converged = res, res <= math.Abs(p.o.tol())
	return z.Value()
}

func (p *rootParams) system(c *ad.Call) *implicitSys {
	m, _ := p.mode.(Implicit)
	return &implicitSys{F: p.residual, m: m, info: p.info, opts: &ad.Options{Policy: *c.Policy, Stats: &p.info.Stats}}
}

func (p *rootParams) jvp(c *ad.Call, t []*ad.Var) *ad.Var {
	if _, ok := p.mode.(Detach); ok {
		return nil
	}
	return p.system(c).jvp(c, c.Out, c.In, t)
}

func (p *rootParams) vjp(c *ad.Call, g *ad.Var) []*ad.Var {
	if _, ok := p.mode.(Detach); ok {
		return make([]*ad.Var, len(c.In))
	}
	return p.system(c).vjp(c, c.Out, c.In, g)
}
