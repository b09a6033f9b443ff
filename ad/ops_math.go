package ad

import (
	"math"

	"github.com/gradus-ml/gradus/tensor"
)

// Smooth elementwise functions: exponentials and logarithms, roots,
// hyperbolic and logistic functions, trigonometric functions, erf and GELU.
// Their rules are written with Var operations on the input (c.In[0]) or the
// output (c.Out), so they differentiate again to any order. sqrt is the one
// member with a nonsmooth point: its derivative at exactly 0 is
// Policy.Sqrt0.

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
	expPrim = register(&Prim{
		Name: "exp",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Exp(in[0]) },
		JVP:  func(c *Call, t []*Var) *Var { return Mul(t[0], c.Out) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{Mul(g, c.Out)} },
		// the rules reuse the output: one product each
		Flops: elementwise(flopsExp, 1, 1),
	})
}

// Exp returns eˣ elementwise.
func Exp(x *Var) *Var { return Apply(expPrim, nil, x) }

var logPrim *Prim

func init() {
	logPrim = register(&Prim{
		Name:  "log",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Log(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Div(t[0], c.In[0]) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Div(g, c.In[0])} },
		Flops: elementwise(flopsLog, 1, 1),
	})
}

// Log returns the natural logarithm elementwise (NaN for negative x, −Inf
// at 0, where the derivative 1/x is +Inf).
func Log(x *Var) *Var { return Apply(logPrim, nil, x) }

var log1pPrim *Prim

func init() {
	log1pPrim = register(&Prim{
		Name:  "log1p",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Log1p(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Div(t[0], AddScalar(c.In[0], 1)) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Div(g, AddScalar(c.In[0], 1))} },
		Flops: elementwise(flopsLog, 2, 2),
	})
}

// Log1p returns log(1 + x) elementwise, accurate near 0.
func Log1p(x *Var) *Var { return Apply(log1pPrim, nil, x) }

var expm1Prim *Prim

func init() {
	expm1Prim = register(&Prim{
		Name: "expm1",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Expm1(in[0]) },
		// d(eˣ − 1) = eˣ = (out + 1)
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], AddScalar(c.Out, 1)) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, AddScalar(c.Out, 1))} },
		Flops: elementwise(flopsExp, 2, 2),
	})
}

// Expm1 returns eˣ − 1 elementwise, accurate near 0.
func Expm1(x *Var) *Var { return Apply(expm1Prim, nil, x) }

var sqrtPrim *Prim

func init() {
	sqrtPrim = register(&Prim{
		Name:  "sqrt",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sqrt(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], sqrtDeriv(c)) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, sqrtDeriv(c))} },
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
	rsqrtPrim = register(&Prim{
		Name: "rsqrt",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Rsqrt(in[0]) },
		// d x^(−1/2) = −½ · x^(−1/2) / x
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], rsqrtDeriv(c)) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, rsqrtDeriv(c))} },
		Flops: elementwise(flopsSqrt+1, 3, 3),
	})
}

func rsqrtDeriv(c *Call) *Var { return Scale(Div(c.Out, c.In[0]), -0.5) }

// Rsqrt returns 1/√x elementwise.
func Rsqrt(x *Var) *Var { return Apply(rsqrtPrim, nil, x) }

var tanhPrim *Prim

func init() {
	tanhPrim = register(&Prim{
		Name:  "tanh",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Tanh(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], tanhDeriv(c)) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, tanhDeriv(c))} },
		Flops: elementwise(flopsExp+5, 4, 4),
	})
}

// tanhDeriv is 1 − tanh².
func tanhDeriv(c *Call) *Var { return AddScalar(Neg(Square(c.Out)), 1) }

// Tanh returns the hyperbolic tangent elementwise.
func Tanh(x *Var) *Var { return Apply(tanhPrim, nil, x) }

var sigmoidPrim *Prim

func init() {
	sigmoidPrim = register(&Prim{
		Name:  "sigmoid",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sigmoid(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], sigmoidDeriv(c.Out)) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, sigmoidDeriv(c.Out))} },
		Flops: elementwise(flopsExp+3, 4, 4),
	})
}

// sigmoidDeriv is s·(1 − s) for s = sigmoid(x).
func sigmoidDeriv(s *Var) *Var { return Mul(s, AddScalar(Neg(s), 1)) }

// Sigmoid returns 1/(1 + e⁻ˣ) elementwise, without overflow.
func Sigmoid(x *Var) *Var { return Apply(sigmoidPrim, nil, x) }

var softplusPrim *Prim

func init() {
	softplusPrim = register(&Prim{
		Name:  "softplus",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Softplus(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], Sigmoid(c.In[0])) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, Sigmoid(c.In[0]))} },
		Flops: elementwise(flopsExp+flopsLog+2, flopsExp+4, flopsExp+4),
	})
}

// Softplus returns log(1 + eˣ) elementwise, without overflow. Its
// derivative is sigmoid(x).
func Softplus(x *Var) *Var { return Apply(softplusPrim, nil, x) }

var sinPrim *Prim

func init() {
	sinPrim = register(&Prim{
		Name:  "sin",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sin(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], Cos(c.In[0])) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, Cos(c.In[0]))} },
		Flops: elementwise(flopsTrig, flopsTrig+1, flopsTrig+1),
	})
}

// Sin returns sin x elementwise.
func Sin(x *Var) *Var { return Apply(sinPrim, nil, x) }

var cosPrim *Prim

func init() {
	cosPrim = register(&Prim{
		Name:  "cos",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Cos(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], Neg(Sin(c.In[0]))) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, Neg(Sin(c.In[0])))} },
		Flops: elementwise(flopsTrig, flopsTrig+2, flopsTrig+2),
	})
}

// Cos returns cos x elementwise.
func Cos(x *Var) *Var { return Apply(cosPrim, nil, x) }

var erfPrim *Prim

func init() {
	erfPrim = register(&Prim{
		Name:  "erf",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Erf(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], erfDeriv(c.In[0])) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, erfDeriv(c.In[0]))} },
		Flops: elementwise(flopsErf, flopsExp+4, flopsExp+4),
	})
}

// erfDeriv is (2/√π)·e^(−x²).
func erfDeriv(x *Var) *Var { return Scale(Exp(Neg(Square(x))), 2/math.SqrtPi) }

// Erf returns the error function elementwise.
func Erf(x *Var) *Var { return Apply(erfPrim, nil, x) }

var geluPrim *Prim

func init() {
	geluPrim = register(&Prim{
		Name: "gelu",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor {
			// x·Φ(x) with Φ(x) = erfc(−x/√2)/2, accurate in the left tail
			return tensor.Map(in[0], func(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) })
		},
		JVP:   func(c *Call, t []*Var) *Var { return Mul(t[0], geluDeriv(c.In[0])) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Mul(g, geluDeriv(c.In[0]))} },
		Flops: elementwise(flopsErf+3, flopsErf+flopsExp+10, flopsErf+flopsExp+10),
	})
}

// geluDeriv is Φ(x) + x·φ(x), with Φ the standard normal distribution
// function and φ its density.
func geluDeriv(x *Var) *Var {
	cdf := Scale(AddScalar(Erf(Scale(x, 1/math.Sqrt2)), 1), 0.5)
	pdf := Scale(Exp(Scale(Square(x), -0.5)), 1/math.Sqrt(2*math.Pi))
	return Add(cdf, Mul(x, pdf))
}

// GELU returns the Gaussian error linear unit x·Φ(x) elementwise, in its
// exact form with Φ(x) = (1 + erf(x/√2))/2 (not the tanh approximation).
func GELU(x *Var) *Var { return Apply(geluPrim, nil, x) }

// atZero reports whether v is exactly zero (either sign).
func atZero(v float64) bool { return v == 0 }

// b2f is 1 for true and 0 for false.
func f01(c bool) float64 {
	if c {
		return 1
	}
	return 0
}
