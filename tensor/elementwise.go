package tensor

import (
	"math"
	"slices"
)

// Map returns f applied to every element of a. For float32-stored dtypes f
// runs in float64 and its result is rounded to the dtype.
func Map(a *Tensor, f func(float64) float64) *Tensor { return unary(a, f, nil) }

// unary applies f64 (or f32, when given, for float32-stored dtypes).
func unary(a *Tensor, f64 func(float64) float64, f32 func(float32) float32) *Tensor {
	r := emptyOf(a.shape, a)
	if a.dtype.is64() {
		for i, v := range a.f64 {
			r.f64[i] = f64(v)
		}
		return r
	}
	if f32 != nil {
		for i, v := range a.f32 {
			r.f32[i] = f32(v)
		}
	} else {
		for i, v := range a.f32 {
			r.f32[i] = float32(f64(float64(v)))
		}
	}
	roundSlice(r.dtype, r.f32)
	return r
}

// Map2 returns f applied elementwise to a and b with NumPy broadcasting.
func Map2(a, b *Tensor, f func(x, y float64) float64) *Tensor {
	return binary("Map2", a, b, f, nil)
}

// binary applies f64 (or f32 for float32-stored dtypes) with broadcasting.
func binary(op string, a, b *Tensor, f64 func(x, y float64) float64, f32 func(x, y float32) float32) *Tensor {
	mustSameDType(op, a, b)
	if f32 == nil {
		f32 = func(x, y float32) float32 { return float32(f64(float64(x), float64(y))) }
	}
	var r *Tensor
	if slices.Equal(a.shape, b.shape) {
		r = emptyOf(a.shape, a, b)
		if a.dtype.is64() {
			x, y, z := a.f64, b.f64[:len(a.f64)], r.f64[:len(a.f64)]
			for i := range x {
				z[i] = f64(x[i], y[i])
			}
		} else {
			x, y, z := a.f32, b.f32[:len(a.f32)], r.f32[:len(a.f32)]
			for i := range x {
				z[i] = f32(x[i], y[i])
			}
		}
	} else {
		out := mustBroadcast(op, a.shape, b.shape)
		r = emptyOf(out, a, b)
		if a.dtype.is64() {
			broadcastRuns(out, a.shape, b.shape, func(o, ia, ib, n, ka, kb int) {
				z, x, y := r.f64[o:o+n], a.f64[ia:], b.f64[ib:]
				for k := range z {
					z[k] = f64(x[k*ka], y[k*kb])
				}
			})
		} else {
			broadcastRuns(out, a.shape, b.shape, func(o, ia, ib, n, ka, kb int) {
				z, x, y := r.f32[o:o+n], a.f32[ia:], b.f32[ib:]
				for k := range z {
					z[k] = f32(x[k*ka], y[k*kb])
				}
			})
		}
	}
	roundSlice(r.dtype, r.f32)
	return r
}

// Add returns a + b with broadcasting.
func Add(a, b *Tensor) *Tensor { return binaryTyped("Add", opAdd, a, b) }

// Sub returns a − b with broadcasting.
func Sub(a, b *Tensor) *Tensor { return binaryTyped("Sub", opSub, a, b) }

// Mul returns a · b elementwise with broadcasting.
func Mul(a, b *Tensor) *Tensor { return binaryTyped("Mul", opMul, a, b) }

// Div returns a / b elementwise with broadcasting.
func Div(a, b *Tensor) *Tensor { return binaryTyped("Div", opDiv, a, b) }

// Pow returns a^b elementwise with broadcasting (math.Pow semantics).
func Pow(a, b *Tensor) *Tensor { return binary("Pow", a, b, math.Pow, nil) }

// Maximum returns the elementwise maximum of a and b (NaN propagates).
func Maximum(a, b *Tensor) *Tensor { return binaryTyped("Maximum", opMax, a, b) }

// Minimum returns the elementwise minimum of a and b (NaN propagates).
func Minimum(a, b *Tensor) *Tensor { return binaryTyped("Minimum", opMin, a, b) }

func b2f(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

// Greater returns 1 where a > b and 0 elsewhere (broadcasting, dtype of a).
func Greater(a, b *Tensor) *Tensor {
	return binaryTyped("Greater", opGT, a, b)
}

// GreaterEqual returns 1 where a ≥ b and 0 elsewhere.
func GreaterEqual(a, b *Tensor) *Tensor {
	return binaryTyped("GreaterEqual", opGE, a, b)
}

// Less returns 1 where a < b and 0 elsewhere.
func Less(a, b *Tensor) *Tensor {
	return binaryTyped("Less", opLT, a, b)
}

// LessEqual returns 1 where a ≤ b and 0 elsewhere.
func LessEqual(a, b *Tensor) *Tensor {
	return binaryTyped("LessEqual", opLE, a, b)
}

// Equal returns 1 where a == b and 0 elsewhere.
func Equal(a, b *Tensor) *Tensor {
	return binaryTyped("Equal", opEQ, a, b)
}

// NotEqual returns 1 where a != b and 0 elsewhere.
func NotEqual(a, b *Tensor) *Tensor {
	return binaryTyped("NotEqual", opNE, a, b)
}

// Where returns a where cond is nonzero and b elsewhere, with broadcasting
// of all three. cond may have any dtype.
func Where(cond, a, b *Tensor) *Tensor {
	mustSameDType("Where", a, b)
	out := mustBroadcast("Where", cond.shape, a.shape, b.shape)
	// the result starts as a (broadcast); b is read in place, or broadcast
	// once when its shape differs
	x := BroadcastTo(a, out...)
	y := b
	if !slices.Equal(b.shape, out) {
		y = BroadcastTo(b, out...)
	}
	c := cond
	if !slices.Equal(cond.shape, out) {
		c = BroadcastTo(cond, out...)
	}
	whereFill(x, y, c)
	return x
}

// whereFill copies y into x where cond (shaped like them) is zero.
func whereFill(x, y, cond *Tensor) {
	switch {
	case cond.dtype.is64() && x.dtype.is64():
		whereLoop(x.f64, y.f64, cond.f64)
	case cond.dtype.is64():
		whereLoop(x.f32, y.f32, cond.f64)
	case x.dtype.is64():
		whereLoop(x.f64, y.f64, cond.f32)
	default:
		whereLoop(x.f32, y.f32, cond.f32)
	}
}

func whereLoop[T, C float](x, y []T, c []C) {
	y, c = y[:len(x)], c[:len(x)]
	for i, v := range c {
		if v == 0 {
			x[i] = y[i]
		}
	}
}

// Neg returns −a.
func Neg(a *Tensor) *Tensor { return unaryTyped(opNeg, a, 0, 0) }

// Scale returns s·a.
func Scale(a *Tensor, s float64) *Tensor { return unaryTyped(opScale, a, s, 0) }

// AddScalar returns a + s.
func AddScalar(a *Tensor, s float64) *Tensor { return unaryTyped(opAddS, a, s, 0) }

// Abs returns |a|.
func Abs(a *Tensor) *Tensor { return unaryTyped(opAbs, a, 0, 0) }

// Sign returns −1, 0 or 1 by the sign of each element (NaN stays NaN).
func Sign(a *Tensor) *Tensor { return unaryTyped(opSign, a, 0, 0) }

// Exp returns e^a.
func Exp(a *Tensor) *Tensor { return unaryTyped(opExp, a, 0, 0) }

// Log returns the natural logarithm of a.
func Log(a *Tensor) *Tensor { return unaryTyped(opLog, a, 0, 0) }

// Log1p returns log(1 + a), accurate near 0.
func Log1p(a *Tensor) *Tensor { return unaryTyped(opLog1p, a, 0, 0) }

// Expm1 returns e^a − 1, accurate near 0.
func Expm1(a *Tensor) *Tensor { return unaryTyped(opExpm1, a, 0, 0) }

// Sqrt returns √a.
func Sqrt(a *Tensor) *Tensor { return unaryTyped(opSqrt, a, 0, 0) }

// Rsqrt returns 1/√a.
func Rsqrt(a *Tensor) *Tensor { return unaryTyped(opRsqrt, a, 0, 0) }

// Square returns a².
func Square(a *Tensor) *Tensor { return unaryTyped(opSquare, a, 0, 0) }

// PowScalar returns a^p.
func PowScalar(a *Tensor, p float64) *Tensor { return unaryTyped(opPowS, a, p, 0) }

// Tanh returns the hyperbolic tangent of a.
func Tanh(a *Tensor) *Tensor { return unaryTyped(opTanh, a, 0, 0) }

// Sigmoid returns 1/(1 + e^−a), computed without overflow.
func Sigmoid(a *Tensor) *Tensor { return unaryTyped(opSigmoid, a, 0, 0) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Softplus returns log(1 + e^a), computed without overflow.
func Softplus(a *Tensor) *Tensor { return unaryTyped(opSoftplus, a, 0, 0) }

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Sin returns sin(a).
func Sin(a *Tensor) *Tensor { return unaryTyped(opSin, a, 0, 0) }

// Cos returns cos(a).
func Cos(a *Tensor) *Tensor { return unaryTyped(opCos, a, 0, 0) }

// Erf returns the error function of a.
func Erf(a *Tensor) *Tensor { return unaryTyped(opErf, a, 0, 0) }

// Relu returns max(a, 0) (NaN propagates).
func Relu(a *Tensor) *Tensor { return unaryTyped(opRelu, a, 0, 0) }

// Clamp returns a limited to [lo, hi] (NaN propagates).
func Clamp(a *Tensor, lo, hi float64) *Tensor { return unaryTyped(opClamp, a, lo, hi) }
