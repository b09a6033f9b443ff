package ad

import (
	"math"
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Smooth elementwise functions: exponentials and logarithms, roots,
// hyperbolic and logistic functions, trigonometric functions, erf and GELU.
// Their rules are written with Var operations on the input (c.In[0]) or the
// output (c.Out), so they differentiate again to any order. sqrt is the one
// member with a nonsmooth point: its derivative at exactly 0 is
// Policy.Sqrt0.

// unaryRule is the JVP and VJP of an elementwise primitive of one input:
// the incoming tangent or cotangent g times the derivative deriv(c), a Var
// expression that outer levels differentiate again. When neither g nor the
// value the derivative is read from (at(c): the input or the output) is
// traced, as in a first-order derivative, the product is a constant, and
// fast(c) computes it from g and that value in one fused kernel instead.
type unaryRule struct {
	deriv func(c *Call) *Var
	at    func(c *Call) *Var
	fast  func(c *Call) func(g, v float64) float64
	// typed, if set, is fast as a typed loop over g and the value; it
	// returns nil for dtypes it does not handle.
	typed func(c *Call, g, v *tensor.Tensor) *tensor.Tensor
}

func (r unaryRule) apply(c *Call, g *Var) *Var {
	if v := r.at(c); g.tr == nil && v.tr == nil && g.DType() == v.DType() && slices.Equal(g.Shape(), v.Shape()) {
		if r.typed != nil {
			if t := r.typed(c, g.val, v.val); t != nil {
				return Const(t)
			}
		}
		return Const(tensor.Map2(g.val, v.val, r.fast(c)))
	}
	return Mul(g, r.deriv(c))
}

func (r unaryRule) jvp(c *Call, t []*Var) *Var { return r.apply(c, t[0]) }
func (r unaryRule) vjp(c *Call, g *Var) []*Var { return []*Var{r.apply(c, g)} }

// Typed first-order kernels of unary rules: each is the rule's fast
// closure written out as a loop, computing in float64 and rounding once
// to the storage type exactly as the closure through tensor.Map2 does.
type ruleKind uint8

const (
	ruleExp     ruleKind = iota // g·y
	ruleTanh                    // g·(1 − y²)
	ruleSigmoid                 // g·s·(1 − s)
)

// typedRule returns a unaryRule.typed function running kind for Float32
// and Float64 tensors.
func typedRule(kind ruleKind) func(c *Call, g, v *tensor.Tensor) *tensor.Tensor {
	return func(_ *Call, g, v *tensor.Tensor) *tensor.Tensor {
		switch g.DType() {
		case tensor.Float32:
			r := tensor.ArenaOf(g, v).Empty(tensor.Float32, g.Shape()...)
			z, gs, vs := r.Data32(), g.Data32(), v.Data32()
			parallelRange(len(z), func(lo, hi int) { ruleLoop(kind, z[lo:hi], gs[lo:hi], vs[lo:hi]) })
			return r
		case tensor.Float64:
			r := tensor.ArenaOf(g, v).Empty(tensor.Float64, g.Shape()...)
			z, gs, vs := r.Data64(), g.Data64(), v.Data64()
			parallelRange(len(z), func(lo, hi int) { ruleLoop(kind, z[lo:hi], gs[lo:hi], vs[lo:hi]) })
			return r
		}
		return nil
	}
}

func ruleLoop[T float32 | float64](kind ruleKind, z, g, v []T) {
	g, v = g[:len(z)], v[:len(z)]
	switch kind {
	case ruleExp:
		for i, y := range v {
			z[i] = T(float64(g[i]) * float64(y))
		}
	case ruleTanh:
		for i, y := range v {
			f := float64(y)
			z[i] = T(float64(g[i]) * float64(1-f*f))
		}
	case ruleSigmoid:
		for i, y := range v {
			f := float64(y)
			z[i] = T(float64(float64(g[i])*f) * float64(1-f))
		}
	}
}

// atInput and atOutput select the value a unaryRule reads.
func atInput(c *Call) *Var  { return c.In[0] }
func atOutput(c *Call) *Var { return c.Out }

// fastKernel wraps a fused kernel that does not depend on the call.
func fastKernel(f func(g, v float64) float64) func(*Call) func(g, v float64) float64 {
	return func(*Call) func(g, v float64) float64 { return f }
}

// Per-element flop estimates of a transcendental function evaluation.
const (
	flopsExp  = 15
	flopsLog  = 15
	flopsSqrt = 4
	flopsTrig = 15
	flopsErf  = 20
)

var expPrim *Prim

func init() {
	r := unaryRule{
		deriv: func(c *Call) *Var { return c.Out },
		at:    atOutput,
		fast:  fastKernel(func(g, y float64) float64 { return g * y }),
		typed: typedRule(ruleExp),
	}
	expPrim = register(&Prim{
		Name: "exp",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Exp(in[0]) },
		JVP:  r.jvp,
		VJP:  r.vjp,
		// the rules reuse the output: one product each
		Flops: elementwise(flopsExp, 1, 1),
	})
}

// Exp returns eˣ elementwise.
func Exp(x *Var) *Var { return Apply(expPrim, nil, x) }

var logPrim *Prim

func init() {
	r := unaryRule{
		deriv: func(c *Call) *Var { return Div(constLike(c.In[0], 1), c.In[0]) },
		at:    atInput,
		fast:  fastKernel(func(g, x float64) float64 { return g / x }),
	}
	logPrim = register(&Prim{
		Name:  "log",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Log(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsLog, 1, 1),
	})
}

// Log returns the natural logarithm elementwise (NaN for negative x, −Inf
// at 0, where the derivative 1/x is +Inf).
func Log(x *Var) *Var { return Apply(logPrim, nil, x) }

var log1pPrim *Prim

func init() {
	r := unaryRule{
		deriv: func(c *Call) *Var { return Div(constLike(c.In[0], 1), AddScalar(c.In[0], 1)) },
		at:    atInput,
		fast:  fastKernel(func(g, x float64) float64 { return g / (1 + x) }),
	}
	log1pPrim = register(&Prim{
		Name:  "log1p",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Log1p(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsLog, 2, 2),
	})
}

// Log1p returns log(1 + x) elementwise, accurate near 0.
func Log1p(x *Var) *Var { return Apply(log1pPrim, nil, x) }

var expm1Prim *Prim

func init() {
	// d(eˣ − 1) = eˣ = out + 1
	r := unaryRule{
		deriv: func(c *Call) *Var { return AddScalar(c.Out, 1) },
		at:    atOutput,
		fast:  fastKernel(func(g, y float64) float64 { return g * (y + 1) }),
	}
	expm1Prim = register(&Prim{
		Name:  "expm1",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Expm1(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsExp, 2, 2),
	})
}

// Expm1 returns eˣ − 1 elementwise, accurate near 0.
func Expm1(x *Var) *Var { return Apply(expm1Prim, nil, x) }

var sqrtPrim *Prim

func init() {
	r := unaryRule{
		deriv: sqrtDeriv,
		at:    atOutput, // √x is 0 exactly where x is
		fast: func(c *Call) func(g, y float64) float64 {
			s0 := c.Policy.Sqrt0
			return func(g, y float64) float64 {
				if y == 0 {
					return g * s0
				}
				return 0.5 * g / y
			}
		},
	}
	sqrtPrim = register(&Prim{
		Name:  "sqrt",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sqrt(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Kinks: func(in []*tensor.Tensor, _ any) int { return countWhere(in[0], atZero) },
		Flops: elementwise(flopsSqrt, 3, 3),
	})
}

// sqrtDeriv is 1/(2√x), with Policy.Sqrt0 where x is exactly 0. At those
// points the chosen value is a constant (its own derivative is 0) and no
// division by zero is formed, so second derivatives stay finite and the
// NaN of 0·Inf cannot leak in.
func sqrtDeriv(c *Call) *Var {
	x, y := c.In[0], c.Out
	if countWhere(x.val, atZero) == 0 {
		return Div(constLike(y, 0.5), y)
	}
	// num: 1/2 off the kink, Sqrt0 on it; den: √x off the kink, 1 on it.
	s0 := c.Policy.Sqrt0
	num := mask(x, func(v float64) float64 {
		if v == 0 {
			return s0
		}
		return 0.5
	})
	off := mask(x, func(v float64) float64 { return f01(v != 0) })
	on := mask(x, func(v float64) float64 { return f01(v == 0) })
	return Div(num, Add(Mul(y, off), on))
}

// Sqrt returns √x elementwise. Its derivative 1/(2√x) is +Inf at 0; there
// the Policy's Sqrt0 (default 0) multiplies the incoming tangent instead,
// and the element is counted as a kink.
func Sqrt(x *Var) *Var { return Apply(sqrtPrim, nil, x) }

var rsqrtPrim *Prim

func init() {
	// d x^(−1/2) = −½ · x^(−1/2) / x = −½ · out³
	r := unaryRule{
		deriv: func(c *Call) *Var { return Scale(Div(c.Out, c.In[0]), -0.5) },
		at:    atOutput,
		fast:  fastKernel(func(g, y float64) float64 { return -0.5 * g * y * y * y }),
	}
	rsqrtPrim = register(&Prim{
		Name:  "rsqrt",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Rsqrt(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsSqrt+1, 4, 4),
	})
}

// Rsqrt returns 1/√x elementwise.
func Rsqrt(x *Var) *Var { return Apply(rsqrtPrim, nil, x) }

var tanhPrim *Prim

func init() {
	// 1 − tanh²
	r := unaryRule{
		deriv: func(c *Call) *Var { return AddScalar(Neg(Square(c.Out)), 1) },
		at:    atOutput,
		fast:  fastKernel(func(g, y float64) float64 { return g * (1 - y*y) }),
		typed: typedRule(ruleTanh),
	}
	tanhPrim = register(&Prim{
		Name:  "tanh",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Tanh(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsExp+5, 4, 4),
	})
}

// Tanh returns the hyperbolic tangent elementwise.
func Tanh(x *Var) *Var { return Apply(tanhPrim, nil, x) }

var sigmoidPrim *Prim

func init() {
	// s·(1 − s)
	r := unaryRule{
		deriv: func(c *Call) *Var { return Mul(c.Out, AddScalar(Neg(c.Out), 1)) },
		at:    atOutput,
		fast:  fastKernel(func(g, s float64) float64 { return g * s * (1 - s) }),
		typed: typedRule(ruleSigmoid),
	}
	sigmoidPrim = register(&Prim{
		Name:  "sigmoid",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sigmoid(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsExp+3, 4, 4),
	})
}

// Sigmoid returns 1/(1 + e⁻ˣ) elementwise, without overflow.
func Sigmoid(x *Var) *Var { return Apply(sigmoidPrim, nil, x) }

var softplusPrim *Prim

func init() {
	r := unaryRule{
		deriv: func(c *Call) *Var { return Sigmoid(c.In[0]) },
		at:    atInput,
		fast:  fastKernel(func(g, x float64) float64 { return g * sigmoid64(x) }),
	}
	softplusPrim = register(&Prim{
		Name:  "softplus",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Softplus(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsExp+flopsLog+2, flopsExp+4, flopsExp+4),
	})
}

// sigmoid64 is 1/(1 + e⁻ˣ) without overflow.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Softplus returns log(1 + eˣ) elementwise, without overflow. Its
// derivative is sigmoid(x).
func Softplus(x *Var) *Var { return Apply(softplusPrim, nil, x) }

var sinPrim *Prim

func init() {
	r := unaryRule{
		deriv: func(c *Call) *Var { return Cos(c.In[0]) },
		at:    atInput,
		fast:  fastKernel(func(g, x float64) float64 { return g * math.Cos(x) }),
	}
	sinPrim = register(&Prim{
		Name:  "sin",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sin(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsTrig, flopsTrig+1, flopsTrig+1),
	})
}

// Sin returns sin x elementwise.
func Sin(x *Var) *Var { return Apply(sinPrim, nil, x) }

var cosPrim *Prim

func init() {
	r := unaryRule{
		deriv: func(c *Call) *Var { return Neg(Sin(c.In[0])) },
		at:    atInput,
		fast:  fastKernel(func(g, x float64) float64 { return -g * math.Sin(x) }),
	}
	cosPrim = register(&Prim{
		Name:  "cos",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Cos(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsTrig, flopsTrig+2, flopsTrig+2),
	})
}

// Cos returns cos x elementwise.
func Cos(x *Var) *Var { return Apply(cosPrim, nil, x) }

var erfPrim *Prim

func init() {
	// (2/√π)·e^(−x²)
	r := unaryRule{
		deriv: func(c *Call) *Var { return Scale(Exp(Neg(Square(c.In[0]))), 2/math.SqrtPi) },
		at:    atInput,
		fast:  fastKernel(func(g, x float64) float64 { return g * 2 / math.SqrtPi * math.Exp(-x*x) }),
	}
	erfPrim = register(&Prim{
		Name:  "erf",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Erf(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsErf, flopsExp+4, flopsExp+4),
	})
}

// Erf returns the error function elementwise.
func Erf(x *Var) *Var { return Apply(erfPrim, nil, x) }

var geluPrim *Prim

func init() {
	// Φ(x) + x·φ(x), with Φ the standard normal distribution function and
	// φ its density
	r := unaryRule{
		deriv: func(c *Call) *Var {
			x := c.In[0]
			cdf := Scale(AddScalar(Erf(Scale(x, 1/math.Sqrt2)), 1), 0.5)
			pdf := Scale(Exp(Scale(Square(x), -0.5)), 1/math.Sqrt(2*math.Pi))
			return Add(cdf, Mul(x, pdf))
		},
		at: atInput,
		fast: fastKernel(func(g, x float64) float64 {
			return g * (0.5*math.Erfc(-x/math.Sqrt2) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi))
		}),
		typed: func(_ *Call, g, x *tensor.Tensor) *tensor.Tensor { return geluGrad32(g, x) },
	}
	geluPrim = register(&Prim{
		Name:  "gelu",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return geluEval(in[0]) },
		JVP:   r.jvp,
		VJP:   r.vjp,
		Flops: elementwise(flopsErf+3, flopsErf+flopsExp+10, flopsErf+flopsExp+10),
	})
}

// GELU returns the Gaussian error linear unit x·Φ(x) elementwise, in its
// exact form with Φ(x) = (1 + erf(x/√2))/2 (not the tanh approximation).
func GELU(x *Var) *Var { return Apply(geluPrim, nil, x) }

// atZero reports whether v is exactly zero (either sign).
func atZero(v float64) bool { return v == 0 }

// f01 is 1 for true and 0 for false.
func f01(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

// A float32 GELU that does not call math.Erfc and math.Exp per element.
//
// Φ(x) = erfc(z)/2 with z = −x/√2, and erfc(a) = e^(−a²)·erfcx(a) for
// a = |z| ≥ 0 (erfc(z) = 2 − erfc(a) for z < 0). erfcx, the scaled
// complementary error function, is smooth and slowly varying, so on
// [0, geluAMax) it is a table of degree-6 polynomials on intervals of
// width 1/geluPer, fitted at package initialization by Chebyshev
// interpolation of math.Exp(a²)·math.Erfc(a) (relative error below 5e-14);
// e^(−a²) = e^(−x²/2) is expGelu below (below 1e-14). The results,
// computed in float64 and rounded once to float32, are the correctly
// rounded values except within about 1e-13 of a rounding boundary (one in
// about 10⁵ in the tests, one float32 step off). Arguments outside the
// table (|x| ≥ √2·geluAMax, NaN) use math.Erfc and math.Exp. The
// polynomials are evaluated in Estrin's scheme, so that the loops are not
// bound by the latency of one long chain of multiply-adds.

const (
	geluAMax = 8
	geluPer  = 16 // intervals per unit of a
	geluDeg  = 6
)

// geluTab[j] are the monomial coefficients, in u ∈ [−1, 1] mapping the
// j-th interval, of erfcx there.
var geluTab [geluAMax * geluPer][geluDeg + 1]float64

// exp2Tab[j] is 2^(j/64).
var exp2Tab [64]float64

func init() {
	for j := range exp2Tab {
		exp2Tab[j] = math.Exp2(float64(j) / 64)
	}
	const n = geluDeg + 1
	h := 1.0 / geluPer
	var f, c [n]float64
	for j := range geluTab {
		mid := (float64(j) + 0.5) * h
		for k := range f {
			u := math.Cos(math.Pi * (float64(k) + 0.5) / n)
			a := mid + u*h/2
			f[k] = math.Exp(a*a) * math.Erfc(a)
		}
		for m := range c {
			s := 0.0
			for k := range f {
				s += f[k] * math.Cos(math.Pi*float64(m)*(float64(k)+0.5)/n)
			}
			c[m] = 2 * s / n
		}
		c[0] /= 2
		// Σ c_m T_m(u) in the monomial basis: T_{m+1} = 2u·T_m − T_{m−1}
		var t0, t1, t2, p [n]float64
		t0[0], t1[1] = 1, 1
		for m := 0; m < n; m++ {
			tm := t0
			if m == 1 {
				tm = t1
			} else if m > 1 {
				for i := range t2 {
					t2[i] = -t0[i]
					if i > 0 {
						t2[i] += 2 * t1[i-1]
					}
				}
				t0, t1 = t1, t2
				tm = t2
			}
			for i := range p {
				p[i] += c[m] * tm[i]
			}
		}
		geluTab[j] = p
	}
}

// erfcxTab is erfcx(a) for 0 ≤ a < geluAMax.
func erfcxTab(a float64) float64 {
	s := a * geluPer
	j := int(s)
	u := 2*(s-float64(j)) - 1
	p := &geluTab[j&(len(geluTab)-1)]
	u2 := u * u
	u4 := u2 * u2
	return (p[0] + p[1]*u) + u2*(p[2]+p[3]*u) + u4*(p[4]+p[5]*u+u2*p[6])
}

// expGelu is e^t for −geluAMax² ≤ t ≤ 0: t = (64m + j)·ln2/64 + r with
// 0 ≤ j < 64 and |r| ≤ ln2/128, e^r by its Taylor polynomial of degree 4
// (remainder below 4e-14), times the table value 2^(j/64) with 2^m added
// to its exponent (a normal number for these t).
func expGelu(t float64) float64 {
	const shifter = 0x1.8p52 // adding it rounds to an integer in the low bits
	kd := t*(64/math.Ln2) + shifter
	n := int64(math.Float64bits(kd)) - int64(math.Float64bits(shifter))
	r := t - (kd-shifter)*(math.Ln2/64)
	r2 := r * r
	p := (1 + r) + r2*((1.0/2+r*(1.0/6))+r2*(1.0/24))
	return p * math.Float64frombits(math.Float64bits(exp2Tab[n&63])+uint64(n>>6)<<52)
}

// geluParts returns Φ(x) and e^(−x²/2) for a float32 x, in float64.
func geluParts(x float64) (cdf, e float64) {
	z := -x * (1 / math.Sqrt2)
	a := math.Abs(z)
	if !(a < geluAMax) {
		return 0.5 * math.Erfc(z), math.Exp(-0.5 * x * x)
	}
	e = expGelu(-0.5 * x * x) // x² is exact for a float32 x
	c := e * erfcxTab(a)      // erfc(|z|)
	// erfc(z) = 2 − c for z < 0 (and z = −0, where c = 1), without a
	// branch on the sign: the sign bit s negates c, and s>>1 is the bit
	// pattern of 2.0
	s := math.Float64bits(z) & (1 << 63)
	c = math.Float64frombits(s>>1) + math.Float64frombits(math.Float64bits(c)^s)
	return 0.5 * c, e
}

// geluFwd32 sets y = x·Φ(x).
func geluFwd32(y, x []float32) {
	x = x[:len(y)]
	for i, v := range x {
		f := float64(v)
		cdf, _ := geluParts(f)
		y[i] = float32(f * cdf)
	}
}

// geluBwd32 sets z = g·(Φ(x) + x·φ(x)).
func geluBwd32(z, g, x []float32) {
	g, x = g[:len(z)], x[:len(z)]
	const invSqrt2Pi = 0.398942280401432677939946059934381868
	for i, v := range x {
		f := float64(v)
		cdf, e := geluParts(f)
		z[i] = float32(float64(g[i]) * (cdf + f*e*invSqrt2Pi))
	}
}

// geluEval is the forward kernel of gelu.
func geluEval(x *tensor.Tensor) *tensor.Tensor {
	if x.DType() == tensor.Float32 {
		r := tensor.ArenaOf(x).Empty(tensor.Float32, x.Shape()...)
		y, xs := r.Data32(), x.Data32()
		parallelRange(len(y), func(lo, hi int) { geluFwd32(y[lo:hi], xs[lo:hi]) })
		return r
	}
	// x·Φ(x) with Φ(x) = erfc(−x/√2)/2, accurate in the left tail
	return tensor.Map(x, func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) })
}

// geluGrad32 is the first-order rule of gelu for float32 (nil otherwise).
func geluGrad32(g, x *tensor.Tensor) *tensor.Tensor {
	if x.DType() != tensor.Float32 {
		return nil
	}
	r := tensor.ArenaOf(g, x).Empty(tensor.Float32, x.Shape()...)
	z, gs, xs := r.Data32(), g.Data32(), x.Data32()
	parallelRange(len(z), func(lo, hi int) { geluBwd32(z[lo:hi], gs[lo:hi], xs[lo:hi]) })
	return r
}
