package ad

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// Nonsmooth elementwise primitives: relu and its relatives, abs, sign,
// elementwise max and min, clamp, hinge, soft-thresholding and where.
// Each derivative is piecewise constant; at a kink the element chosen by
// the Policy multiplies the incoming tangent or cotangent, and the kink
// elements are counted. A NaN input gives a NaN derivative.

// piecewise is an elementwise primitive of one input whose derivative is
// the constant mask deriv(policy, params)(x), multiplying the incoming
// tangent or cotangent, and whose kinks are the x equal to one of the two
// values kinks(params) (the same value twice for one kink).
type piecewise struct {
	name  string
	eval  func(x *tensor.Tensor, params any) *tensor.Tensor
	deriv func(pol *Policy, params any) func(float64) float64
	kinks func(params any) (a, b float64)
	// step, if set, describes deriv as a step at one kink k: lo below it,
	// hi above it, at on it (NaN at NaN). First-order rules then run one
	// typed loop.
	step func(pol *Policy, params any) stepDeriv
	// zeroOff says the derivative is 0 away from the kinks (and from NaN),
	// so a rule may return a nil (zero) tangent when no element is there.
	zeroOff bool
	// evalCount, if set, is eval that also counts the kinks in the same
	// pass (ok false: not for this dtype). It is used when the params are
	// a *kinkMemo.
	evalCount func(x *tensor.Tensor) (out *tensor.Tensor, kinks int, ok bool)
}

// kinkMemo carries the kink count of one application of a piecewise
// primitive from its forward kernel, which counts the kinks in the same
// pass over the input, to its Kinks function, which the trace calls right
// after on the same input. Each application has its own memo (the params
// of one Call).
type kinkMemo struct {
	in    *tensor.Tensor
	kinks int
}

// stepDeriv is a derivative that is lo below k, at at k, hi above k and NaN
// at NaN.
type stepDeriv struct{ k, lo, at, hi float64 }

func (pw piecewise) prim() *Prim {
	// rule returns g times the derivative, nil for zero. The derivative is
	// a constant mask; when g is not traced either (first order), the
	// product is formed by one fused kernel.
	rule := func(c *Call, g *Var) *Var {
		x := c.In[0]
		if pw.zeroOff {
			a, b := pw.kinks(c.Params)
			if countEq(x.val, a, b, true) == 0 {
				return nil
			}
		}
		if g.tr == nil && g.DType() == x.DType() && slices.Equal(g.Shape(), x.Shape()) {
			if pw.step != nil {
				if r := stepMul(g.val, x.val, pw.step(c.Policy, c.Params)); r != nil {
					return Const(r)
				}
			}
			d := pw.deriv(c.Policy, c.Params)
			return Const(tensor.Map2(g.val, x.val, func(g, v float64) float64 { return g * d(v) }))
		}
		return Mul(g, mask(x, pw.deriv(c.Policy, c.Params)))
	}
	return &Prim{
		Name: pw.name,
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			if m, ok := p.(*kinkMemo); ok && pw.evalCount != nil {
				if out, k, ok := pw.evalCount(in[0]); ok {
					m.in, m.kinks = in[0], k
					return out
				}
			}
			return pw.eval(in[0], p)
		},
		JVP: func(c *Call, t []*Var) *Var { return rule(c, t[0]) },
		VJP: func(c *Call, g *Var) []*Var { return []*Var{rule(c, g)} },
		Kinks: func(in []*tensor.Tensor, p any) int {
			if m, ok := p.(*kinkMemo); ok && m.in == in[0] {
				return m.kinks
			}
			a, b := pw.kinks(p)
			return countEq(in[0], a, b, false)
		},
		// forward: a compare and a select; rules: a mask and a product
		Flops: elementwise(1, 2, 2),
	}
}

// stepMul returns g·d(x) elementwise for a step derivative d, the values
// exactly those of g·d(x) computed in float64 and rounded to the dtype, or
// nil when the typed loop does not apply (16-bit dtypes, or a kink or
// derivative value a float32 cannot hold exactly).
func stepMul(g, x *tensor.Tensor, d stepDeriv) *tensor.Tensor {
	tbl := [4]float64{d.lo, d.hi, d.at, math.NaN()}
	switch g.DType() {
	case tensor.Float64:
		r := tensor.ArenaOf(g, x).Empty(tensor.Float64, g.Shape()...)
		z, gs, xs := r.Data64(), g.Data64(), x.Data64()
		parallelRange(len(z), func(lo, hi int) { kernels.StepMul64(z[lo:hi], gs[lo:hi], xs[lo:hi], d.k, tbl) })
		return r
	case tensor.Float32:
		// with the kink and the derivative values exact in float32, the
		// float32 compare and product equal the float64 ones rounded (the
		// product of two float32 values is exact in float64)
		var t32 [4]float32
		for i, v := range tbl {
			t32[i] = float32(v)
			if float64(t32[i]) != v && v == v {
				return nil
			}
		}
		if float64(float32(d.k)) != d.k {
			return nil
		}
		r := tensor.ArenaOf(g, x).Empty(tensor.Float32, g.Shape()...)
		z, gs, xs, k := r.Data32(), g.Data32(), x.Data32(), float32(d.k)
		parallelRange(len(z), func(lo, hi int) { kernels.StepMul32(z[lo:hi], gs[lo:hi], xs[lo:hi], k, t32) })
		return r
	}
	return nil
}

// kinkAt returns the kinks function of one kink point k.
func kinkAt(k float64) func(any) (float64, float64) {
	return func(any) (float64, float64) { return k, k }
}

// The relu family's definitions, kept for the tests of the typed rules.
var reluPW, leakyReluPW, absPW, signPW, hingePW piecewise

var reluPrim *Prim

func init() {
	reluPW = piecewise{
		name: "relu",
		eval: func(x *tensor.Tensor, _ any) *tensor.Tensor { return tensor.Relu(x) },
		deriv: func(pol *Policy, _ any) func(float64) float64 {
			r := pol.ReLU0
			return func(v float64) float64 {
				switch {
				case v > 0:
					return 1
				case v < 0:
					return 0
				case v == 0:
					return r
				}
				return math.NaN()
			}
		},
		kinks:     kinkAt(0),
		step:      func(pol *Policy, _ any) stepDeriv { return stepDeriv{k: 0, lo: 0, at: pol.ReLU0, hi: 1} },
		evalCount: reluCount,
	}
	reluPrim = register(reluPW.prim())
}

// reluCount is tensor.Relu that also counts the zeros of x, the kinks.
func reluCount(x *tensor.Tensor) (*tensor.Tensor, int, bool) {
	var n atomic.Int64
	switch x.DType() {
	case tensor.Float32:
		r := tensor.ArenaOf(x).Empty(tensor.Float32, x.Shape()...)
		z, xs := r.Data32(), x.Data32()
		parallelRange(len(z), func(lo, hi int) { n.Add(int64(kernels.ReluCount32(z[lo:hi], xs[lo:hi]))) })
		return r, int(n.Load()), true
	case tensor.Float64:
		r := tensor.ArenaOf(x).Empty(tensor.Float64, x.Shape()...)
		z, xs := r.Data64(), x.Data64()
		parallelRange(len(z), func(lo, hi int) { n.Add(int64(kernels.ReluCount64(z[lo:hi], xs[lo:hi]))) })
		return r, int(n.Load()), true
	}
	return nil, 0, false
}

// Relu returns max(x, 0) elementwise. Its derivative at 0 is Policy.ReLU0
// (default 0).
func Relu(x *Var) *Var { return Apply(reluPrim, &kinkMemo{}, x) }

var leakyReluPrim *Prim

func init() {
	leakyReluPW = piecewise{
		name: "leaky_relu",
		eval: func(x *tensor.Tensor, p any) *tensor.Tensor {
			a := p.(float64)
			return tensor.Map(x, func(v float64) float64 {
				if v > 0 {
					return v
				}
				return a * v
			})
		},
		deriv: func(pol *Policy, p any) func(float64) float64 {
			a := p.(float64)
			at0 := a + pol.ReLU0*(1-a)
			return func(v float64) float64 {
				switch {
				case v > 0:
					return 1
				case v < 0:
					return a
				case v == 0:
					return at0
				}
				return math.NaN()
			}
		},
		kinks: kinkAt(0),
		step: func(pol *Policy, p any) stepDeriv {
			a := p.(float64)
			return stepDeriv{k: 0, lo: a, at: a + pol.ReLU0*(1-a), hi: 1}
		},
	}
	leakyReluPrim = register(leakyReluPW.prim())
}

// LeakyRelu returns x for x > 0 and slope·x otherwise. Its derivative at 0
// is slope + Policy.ReLU0·(1 − slope), the relu choice carried over. It
// panics if slope is NaN or infinite.
func LeakyRelu(x *Var, slope float64) *Var {
	if math.IsNaN(slope) || math.IsInf(slope, 0) {
		panic(fmt.Sprintf("ad.LeakyRelu: slope %v is not finite", slope))
	}
	return Apply(leakyReluPrim, slope, x)
}

var relu6Prim *Prim

func init() {
	relu6Prim = register(piecewise{
		name:  "relu6",
		eval:  func(x *tensor.Tensor, _ any) *tensor.Tensor { return tensor.Clamp(x, 0, 6) },
		deriv: func(pol *Policy, _ any) func(float64) float64 { return clampDeriv(0, 6, pol.Clamp) },
		kinks: func(any) (float64, float64) { return 0, 6 },
	}.prim())
}

// Relu6 returns min(max(x, 0), 6) elementwise. Its derivative at 0 and at
// 6 is Policy.Clamp (default 0).
func Relu6(x *Var) *Var { return Apply(relu6Prim, nil, x) }

// clampParams are the constant bounds of clamp.
type clampParams struct{ lo, hi float64 }

// clampDeriv is the derivative of clamp to [lo, hi] with the value at on a
// bound.
func clampDeriv(lo, hi, at float64) func(float64) float64 {
	return func(v float64) float64 {
		switch {
		case v == lo || v == hi:
			return at
		case v > lo && v < hi:
			return 1
		case v < lo || v > hi:
			return 0
		}
		return math.NaN()
	}
}

var clampPrim *Prim

func init() {
	clampPrim = register(piecewise{
		name: "clamp",
		eval: func(x *tensor.Tensor, p any) *tensor.Tensor {
			b := p.(clampParams)
			return tensor.Clamp(x, b.lo, b.hi)
		},
		deriv: func(pol *Policy, p any) func(float64) float64 {
			b := p.(clampParams)
			return clampDeriv(b.lo, b.hi, pol.Clamp)
		},
		kinks: func(p any) (float64, float64) {
			b := p.(clampParams)
			return b.lo, b.hi
		},
	}.prim())
}

// Clamp returns x limited to [lo, hi] elementwise; the bounds are
// constants and may be infinite. The derivative is 1 inside, 0 outside,
// and Policy.Clamp (default 0) exactly on a bound. It panics if a bound is
// NaN or lo > hi.
func Clamp(x *Var, lo, hi float64) *Var {
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
		panic(fmt.Sprintf("ad.Clamp: invalid bounds [%v, %v]", lo, hi))
	}
	return Apply(clampPrim, clampParams{lo, hi}, x)
}

var absPrim *Prim

func init() {
	absPW = piecewise{
		name: "abs",
		eval: func(x *tensor.Tensor, _ any) *tensor.Tensor { return tensor.Abs(x) },
		deriv: func(pol *Policy, _ any) func(float64) float64 {
			a0 := pol.Abs0
			return func(v float64) float64 {
				switch {
				case v > 0:
					return 1
				case v < 0:
					return -1
				case v == 0:
					return a0
				}
				return math.NaN()
			}
		},
		kinks: kinkAt(0),
		step:  func(pol *Policy, _ any) stepDeriv { return stepDeriv{k: 0, lo: -1, at: pol.Abs0, hi: 1} },
	}
	absPrim = register(absPW.prim())
}

// Abs returns |x| elementwise. Its derivative at 0 is Policy.Abs0
// (default 0).
func Abs(x *Var) *Var { return Apply(absPrim, nil, x) }

var signPrim *Prim

func init() {
	signPW = piecewise{
		name: "sign",
		eval: func(x *tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sign(x) },
		deriv: func(pol *Policy, _ any) func(float64) float64 {
			s0 := pol.Sign0
			return func(v float64) float64 {
				switch {
				case v == 0:
					return s0
				case v != v:
					return math.NaN()
				}
				return 0
			}
		},
		kinks:   kinkAt(0),
		step:    func(pol *Policy, _ any) stepDeriv { return stepDeriv{k: 0, lo: 0, at: pol.Sign0, hi: 0} },
		zeroOff: true,
	}
	signPrim = register(signPW.prim())
}

// Sign returns −1, 0 or 1 by the sign of each element (NaN stays NaN). Its
// derivative is 0 away from 0 and Policy.Sign0 (default 0) at 0.
func Sign(x *Var) *Var { return Apply(signPrim, nil, x) }

var hingePrim *Prim

func init() {
	hingePW = piecewise{
		name: "hinge",
		eval: func(x *tensor.Tensor, _ any) *tensor.Tensor {
			return tensor.Map(x, func(v float64) float64 {
				if v >= 1 {
					return 0
				}
				return 1 - v // NaN stays NaN
			})
		},
		deriv: func(pol *Policy, _ any) func(float64) float64 {
			h0 := -pol.Hinge0
			return func(v float64) float64 {
				switch {
				case v < 1:
					return -1
				case v > 1:
					return 0
				case v == 1:
					return h0
				}
				return math.NaN()
			}
		},
		kinks: kinkAt(1),
		step:  func(pol *Policy, _ any) stepDeriv { return stepDeriv{k: 1, lo: -1, at: -pol.Hinge0, hi: 0} },
	}
	hingePrim = register(hingePW.prim())
}

// Hinge returns max(0, 1 − x) elementwise. Its derivative is −1 for x < 1,
// 0 for x > 1 and −Policy.Hinge0 (default 0) at x = 1.
func Hinge(x *Var) *Var { return Apply(hingePrim, nil, x) }

var softThresholdPrim *Prim

func init() {
	softThresholdPrim = register(piecewise{
		name: "soft_threshold",
		eval: func(x *tensor.Tensor, p any) *tensor.Tensor {
			l := p.(float64)
			return tensor.Map(x, func(v float64) float64 {
				switch {
				case v > l:
					return v - l
				case v < -l:
					return v + l
				case v != v:
					return v
				}
				return 0
			})
		},
		deriv: func(pol *Policy, p any) func(float64) float64 {
			l, s0 := p.(float64), pol.SoftThreshold0
			return func(v float64) float64 {
				a := math.Abs(v)
				switch {
				case a > l:
					return 1
				case a < l:
					return 0
				case a == l:
					return s0
				}
				return math.NaN()
			}
		},
		kinks: func(p any) (float64, float64) {
			l := p.(float64)
			return l, -l
		},
	}.prim())
}

// SoftThreshold returns sign(x)·max(|x| − λ, 0) elementwise, the proximal
// operator of λ‖·‖₁. Its derivative is 1 for |x| > λ, 0 for |x| < λ and
// Policy.SoftThreshold0 (default 0) at |x| = λ. It panics if λ is negative
// or NaN.
func SoftThreshold(x *Var, lambda float64) *Var {
	if !(lambda >= 0) {
		panic(fmt.Sprintf("ad.SoftThreshold: threshold %v is not ≥ 0", lambda))
	}
	return Apply(softThresholdPrim, lambda, x)
}

// extremum builds the elementwise maximum (isMax) or minimum of two
// broadcast inputs. The derivative goes to the winning argument; on a tie
// Policy.MaxTie shares it (default TieSplit: half to each).
func extremum(name string, isMax bool) *Prim {
	// masks returns the derivative of the output in a and in b, shaped
	// like the output.
	masks := func(c *Call) (ma, mb *Var) {
		w := 0.5
		switch c.Policy.MaxTie.resolve(TieSplit) {
		case TieFirst:
			w = 1
		case TieLast:
			w = 0
		}
		a, b := c.In[0].val, c.In[1].val
		pick := func(x, y float64, win, tie float64) float64 {
			switch {
			case x != x || y != y:
				return math.NaN()
			case x == y:
				return tie
			case (x > y) == isMax:
				return win
			}
			return 1 - win
		}
		ma = Const(tensor.Map2(a, b, func(x, y float64) float64 { return pick(x, y, 1, w) }))
		mb = Const(tensor.Map2(a, b, func(x, y float64) float64 { return pick(x, y, 0, 1-w) }))
		return ma, mb
	}
	eval := tensor.Maximum
	if !isMax {
		eval = tensor.Minimum
	}
	return &Prim{
		Name: name,
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return eval(in[0], in[1]) },
		JVP: func(c *Call, t []*Var) *Var {
			ma, mb := masks(c)
			var r *Var
			if t[0] != nil {
				r = Mul(t[0], ma)
			}
			if t[1] != nil {
				r = plus(r, Mul(t[1], mb))
			}
			return fit(r, c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			ma, mb := masks(c)
			return []*Var{unbroadcast(Mul(g, ma), c.In[0].Shape()), unbroadcast(Mul(g, mb), c.In[1].Shape())}
		},
		Kinks: func(in []*tensor.Tensor, _ any) int {
			return countWhere(tensor.Equal(in[0], in[1]), func(v float64) bool { return v != 0 })
		},
		Flops: elementwise(1, 5, 6),
	}
}

var maximumPrim, minimumPrim *Prim

func init() {
	maximumPrim = register(extremum("maximum", true))
	minimumPrim = register(extremum("minimum", false))
}

// Maximum returns max(a, b) elementwise with broadcasting (NaN propagates).
// The derivative goes to the larger argument; on a tie Policy.MaxTie shares
// it (default TieSplit: half to each; TieFirst: all to a; TieLast: all to
// b). Ties are counted as kinks.
func Maximum(a, b *Var) *Var { return Apply(maximumPrim, nil, a, b) }

// Minimum returns min(a, b) elementwise with broadcasting, with ties
// handled as in Maximum.
func Minimum(a, b *Var) *Var { return Apply(minimumPrim, nil, a, b) }

// whereParams hold the constant condition of where.
type whereParams struct{ cond *tensor.Tensor }

var wherePrim *Prim

func init() {
	wherePrim = register(&Prim{
		Name: "where",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			return tensor.Where(p.(whereParams).cond, in[0], in[1])
		},
		JVP: func(c *Call, t []*Var) *Var {
			cond := c.Params.(whereParams).cond
			zero := Scalar(c.Out.DType(), 0)
			ta, tb := t[0], t[1]
			if ta == nil {
				ta = zero
			}
			if tb == nil {
				tb = zero
			}
			return fit(Where(cond, ta, tb), c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			cond := c.Params.(whereParams).cond
			zero := Scalar(g.DType(), 0)
			return []*Var{
				unbroadcast(fit(Where(cond, g, zero), g.Shape()), c.In[0].Shape()),
				unbroadcast(fit(Where(cond, zero, g), g.Shape()), c.In[1].Shape()),
			}
		},
		Flops: elementwise(1, 1, 2),
	})
}

// Where returns a where cond is nonzero and b elsewhere, with broadcasting
// of all three. cond is a constant (any dtype; it must not be modified
// while the result is in use); the derivative routes the incoming tangent
// or cotangent to a or to b by it, selecting rather than multiplying, so an
// infinite value on the branch not taken does not leak in.
func Where(cond *tensor.Tensor, a, b *Var) *Var {
	if cond == nil {
		panic("ad.Where: nil condition")
	}
	if _, err := tensor.BroadcastShapes(cond.Shape(), a.Shape(), b.Shape()); err != nil {
		panic(fmt.Sprintf("ad.Where: condition %v, a %v, b %v: %v", cond.Shape(), a.Shape(), b.Shape(), err))
	}
	if a.DType() != b.DType() {
		panic(fmt.Sprintf("ad.Where: dtypes %v and %v differ", a.DType(), b.DType()))
	}
	return Apply(wherePrim, whereParams{cond}, a, b)
}
