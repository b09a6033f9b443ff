package iterdiff

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

// LinearOp is a linear map v ↦ A(p)·v written with ad operations: linear
// in v (whose shape it keeps) and differentiable in the parameters p.
type LinearOp func(v *ad.Var, p []*ad.Var) *ad.Var

// LinearOptions configure LinearSolve. The zero value means defaults.
type LinearOptions struct {
	// Method is the linsolve method. Default GMRES.
	Method linsolve.Method
	// Transpose computes v ↦ A(p)ᵀ·v. If nil it is A itself when
	// Symmetric is set, and otherwise derived from A by reverse mode.
	Transpose LinearOp
	// Symmetric declares A = Aᵀ.
	Symmetric bool
	// Solve holds the tolerances, iteration limit and ridge of the
	// solves (the system solved is (A + ridge·I)·x = b). Its X0 is ignored.
	Solve linsolve.Options
	// Policy is used by the traces that derive the transpose.
	Policy ad.Policy
	// Stats, if non-nil, receives the counters of those traces.
	Stats *ad.Stats
	// Report, if set, is called with the result of every solve done for
	// the value and its derivatives.
	Report func(linsolve.Result, error)
}

// linParams are the parameters of one LinearSolve application.
type linParams struct {
	a, at LinearOp
	o     LinearOptions
	// cache keeps the matrix materialized by a dense method, shared by the
	// derivative solves (same parameter values) and the transposed system.
	cache *denseCache
	trans bool // this is the transposed system of cache's matrix
}

// denseCache is a materialized operator for given parameter values.
type denseCache struct {
	ps []*tensor.Tensor
	a  *mat.Dense
}

func (d *denseCache) matches(ps []*tensor.Tensor) bool {
	if d.a == nil || len(d.ps) != len(ps) {
		return false
	}
	for i := range ps {
		if d.ps[i] != ps[i] {
			return false
		}
	}
	return true
}

func isDense(m linsolve.Method) bool {
	return m == linsolve.MethodLU || m == linsolve.MethodCholesky || m == linsolve.MethodQR
}

var linearSolvePrim *ad.Prim

func init() {
	linearSolvePrim = &ad.Prim{
		Name: "iterdiff.linear_solve",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			return p.(*linParams).eval(in)
		},
		JVP: func(c *ad.Call, t []*ad.Var) *ad.Var { return c.Params.(*linParams).jvp(c, t) },
		VJP: func(c *ad.Call, g *ad.Var) []*ad.Var { return c.Params.(*linParams).vjp(c, g) },
	}
}

// LinearSolve returns x = (A(p) + ridge·I)⁻¹·b, solved on values by the
// chosen linsolve method, as a differentiable function of b and of the
// parameters p of the operator: its JVP is ẋ = A⁻¹(ḃ − Ȧ·x) and its VJP
// b̄ = A⁻ᵀ·x̄, p̄ = −(∂_p(A(p)·x))ᵀ·b̄, each again a LinearSolve, so
// derivatives of any order work. b must be Float64. A must only depend on
// Vars through p (see Step for why captured traced Vars are an error).
//
// A solve that fails or does not converge is not an error here: it is
// passed to o.Report (the solution of a failed solve is NaN).
func LinearSolve(a LinearOp, b *ad.Var, p []*ad.Var, o *LinearOptions) *ad.Var {
	if b.DType() != tensor.Float64 {
		panic(fmt.Sprintf("iterdiff.LinearSolve: b has dtype %v, want Float64", b.DType()))
	}
	lp := &linParams{a: a}
	if o != nil {
		lp.o = *o
	}
	lp.at = lp.o.Transpose
	if lp.at == nil {
		if lp.o.Symmetric {
			lp.at = a
		} else {
			lp.at = transposeOf(a, lp.o.Policy, lp.o.Stats)
		}
	}
	lp.o.Solve.X0 = nil
	if isDense(lp.o.Method) {
		lp.cache = &denseCache{}
	}
	return ad.Apply(linearSolvePrim, lp, append([]*ad.Var{b}, p...)...)
}

// transposeOf returns u ↦ Aᵀu computed by reverse mode through A.
func transposeOf(a LinearOp, pol ad.Policy, st *ad.Stats) LinearOp {
	return func(u *ad.Var, p []*ad.Var) *ad.Var {
		tp, err := ad.NewTape(&ad.Options{Policy: pol, Stats: st})
		if err != nil {
			panic(err)
		}
		defer tp.Close()
		v := tp.Watch(ad.Const(tensor.ZerosLike(u.Value())))
		gs, err := tp.Backward(a(v, p), u, v)
		if err != nil {
			panic(fmt.Sprintf("iterdiff.LinearSolve: transpose: %v", err))
		}
		return gs[0]
	}
}

// transposed returns the parameters of the transposed system.
func (lp *linParams) transposed() *linParams {
	t := *lp
	t.a, t.at = lp.at, lp.a
	t.trans = !lp.trans
	return &t
}

func consts(ts []*tensor.Tensor) []*ad.Var {
	vs := make([]*ad.Var, len(ts))
	for i, t := range ts {
		vs[i] = ad.Const(t)
	}
	return vs
}

func (lp *linParams) eval(in []*tensor.Tensor) *tensor.Tensor {
	b := in[0]
	shape := b.Shape()
	ps := consts(in[1:])
	n := b.Size()
	op := func(dst, x []float64) {
		yv := lp.a(ad.Const(tensor.Wrap64(x, shape...)), ps)
		if !yv.IsConst() {
			panic("iterdiff.LinearSolve: the operator captures a traced Var; pass it in p")
		}
		y := yv.Value()
		if y.Size() != n {
			panic(fmt.Sprintf("iterdiff.LinearSolve: the operator maps %d values to %v", n, y.Shape()))
		}
		if d := y.Data64(); d != nil {
			copy(dst, d)
		} else {
			for i := range dst {
				dst[i] = y.AtFlat(i)
			}
		}
	}
	var opT linsolve.Operator
	if lp.o.Method == linsolve.MethodCGLS {
		opT = func(dst, x []float64) {
			copy(dst, lp.at(ad.Const(tensor.Wrap64(x, shape...)), ps).Value().Float64s())
		}
	}
	var res linsolve.Result
	var err error
	if lp.cache != nil {
		res, err = lp.denseSolve(op, n, in[1:], b.Float64s())
	} else {
		res, err = linsolve.Solve(lp.o.Method, op, opT, b.Float64s(), &lp.o.Solve)
	}
	if lp.o.Report != nil {
		lp.o.Report(res, err)
	}
	if res.X == nil || err != nil && res.X == nil {
		res.X = make([]float64, n)
		for i := range res.X {
			res.X[i] = math.NaN()
		}
	}
	return tensor.Wrap64(res.X, shape...)
}

// denseSolve materializes the operator (or reuses the matrix materialized
// for the same parameter values, transposed if need be) and solves with
// the dense method.
func (lp *linParams) denseSolve(op linsolve.Operator, n int, ps []*tensor.Tensor, b []float64) (linsolve.Result, error) {
	c := lp.cache
	var m mat.Matrix
	if c.matches(ps) {
		m = c.a
		if lp.trans {
			m = c.a.T()
		}
	} else {
		d := linsolve.Dense(op, n)
		m = d
		c.ps = append([]*tensor.Tensor(nil), ps...)
		if lp.trans {
			c.a = mat.DenseCopyOf(d.T())
		} else {
			c.a = d
		}
	}
	switch lp.o.Method {
	case linsolve.MethodLU:
		return linsolve.LU(m, b, &lp.o.Solve)
	case linsolve.MethodCholesky:
		return linsolve.Cholesky(m, b, &lp.o.Solve)
	}
	return linsolve.QR(m, b, &lp.o.Solve)
}

func (lp *linParams) jvp(c *ad.Call, t []*ad.Var) *ad.Var {
	x := c.Out
	ps := c.In[1:]
	rhs := t[0]
	if dax := lp.derivApply(c, x, t[1:]); dax != nil {
		if rhs == nil {
			rhs = ad.Neg(dax)
		} else {
			rhs = ad.Sub(rhs, dax)
		}
	}
	if rhs == nil {
		return nil
	}
	return ad.Apply(linearSolvePrim, lp, append([]*ad.Var{rhs}, ps...)...)
}

// derivApply returns the derivative of p ↦ A(p)·x along the tangents tp
// (nil if all are nil).
func (lp *linParams) derivApply(c *ad.Call, x *ad.Var, tp []*ad.Var) *ad.Var {
	any := false
	for _, t := range tp {
		any = any || t != nil
	}
	if !any {
		return nil
	}
	fw, err := ad.NewForward(&ad.Options{Policy: *c.Policy, Stats: lp.o.Stats})
	if err != nil {
		panic(err)
	}
	defer fw.Close()
	ps := make([]*ad.Var, len(tp))
	for i, p := range c.In[1:] {
		ps[i] = p
		if tp[i] != nil {
			ps[i], _ = fw.Seed(p, tp[i])
		}
	}
	_, d := fw.Tangent(lp.a(x, ps))
	return d
}

func (lp *linParams) vjp(c *ad.Call, g *ad.Var) []*ad.Var {
	ps := c.In[1:]
	lam := ad.Apply(linearSolvePrim, lp.transposed(), append([]*ad.Var{g}, ps...)...)
	out := make([]*ad.Var, len(c.In))
	out[0] = lam
	if len(ps) == 0 {
		return out
	}
	tp, err := ad.NewTape(&ad.Options{Policy: *c.Policy, Stats: lp.o.Stats})
	if err != nil {
		panic(err)
	}
	defer tp.Close()
	pw := make([]*ad.Var, len(ps))
	for i, p := range ps {
		pw[i] = tp.Watch(p)
	}
	gs, err := tp.Backward(lp.a(c.Out, pw), lam, pw...)
	if err != nil {
		panic(fmt.Sprintf("iterdiff.LinearSolve: VJP: %v", err))
	}
	for i, gi := range gs {
		out[1+i] = ad.Neg(gi)
	}
	return out
}
