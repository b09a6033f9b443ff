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
	r := a.like(a.shape)
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
		r = a.like(a.shape)
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
		r = a.like(out)
		sa, sb := bstrides(a.shape, out), bstrides(b.shape, out)
		var ka, kb int
		if len(out) > 0 {
			ka, kb = sa[len(out)-1], sb[len(out)-1]
		}
		if a.dtype.is64() {
			forBroadcast(out, sa, sb, func(o, ia, ib, n int) {
				for k := 0; k < n; k++ {
					r.f64[o+k] = f64(a.f64[ia+k*ka], b.f64[ib+k*kb])
				}
			})
		} else {
			forBroadcast(out, sa, sb, func(o, ia, ib, n int) {
				for k := 0; k < n; k++ {
					r.f32[o+k] = f32(a.f32[ia+k*ka], b.f32[ib+k*kb])
				}
			})
		}
	}
	roundSlice(r.dtype, r.f32)
	return r
}

// Add returns a + b with broadcasting.
func Add(a, b *Tensor) *Tensor {
	return binary("Add", a, b, func(x, y float64) float64 { return x + y }, func(x, y float32) float32 { return x + y })
}

// Sub returns a − b with broadcasting.
func Sub(a, b *Tensor) *Tensor {
	return binary("Sub", a, b, func(x, y float64) float64 { return x - y }, func(x, y float32) float32 { return x - y })
}

// Mul returns a · b elementwise with broadcasting.
func Mul(a, b *Tensor) *Tensor {
	return binary("Mul", a, b, func(x, y float64) float64 { return x * y }, func(x, y float32) float32 { return x * y })
}

// Div returns a / b elementwise with broadcasting.
func Div(a, b *Tensor) *Tensor {
	return binary("Div", a, b, func(x, y float64) float64 { return x / y }, func(x, y float32) float32 { return x / y })
}

// Pow returns a^b elementwise with broadcasting (math.Pow semantics).
func Pow(a, b *Tensor) *Tensor { return binary("Pow", a, b, math.Pow, nil) }

// Maximum returns the elementwise maximum of a and b (NaN propagates).
func Maximum(a, b *Tensor) *Tensor { return binary("Maximum", a, b, maxNaN, nil) }

// Minimum returns the elementwise minimum of a and b (NaN propagates).
func Minimum(a, b *Tensor) *Tensor { return binary("Minimum", a, b, minNaN, nil) }

func maxNaN(x, y float64) float64 {
	if x != x || y != y {
		return math.NaN()
	}
	return max(x, y)
}

func minNaN(x, y float64) float64 {
	if x != x || y != y {
		return math.NaN()
	}
	return min(x, y)
}

func b2f(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

// Greater returns 1 where a > b and 0 elsewhere (broadcasting, dtype of a).
func Greater(a, b *Tensor) *Tensor {
	return binary("Greater", a, b, func(x, y float64) float64 { return b2f(x > y) }, nil)
}

// GreaterEqual returns 1 where a ≥ b and 0 elsewhere.
func GreaterEqual(a, b *Tensor) *Tensor {
	return binary("GreaterEqual", a, b, func(x, y float64) float64 { return b2f(x >= y) }, nil)
}

// Less returns 1 where a < b and 0 elsewhere.
func Less(a, b *Tensor) *Tensor {
	return binary("Less", a, b, func(x, y float64) float64 { return b2f(x < y) }, nil)
}

// LessEqual returns 1 where a ≤ b and 0 elsewhere.
func LessEqual(a, b *Tensor) *Tensor {
	return binary("LessEqual", a, b, func(x, y float64) float64 { return b2f(x <= y) }, nil)
}

// Equal returns 1 where a == b and 0 elsewhere.
func Equal(a, b *Tensor) *Tensor {
	return binary("Equal", a, b, func(x, y float64) float64 { return b2f(x == y) }, nil)
}

// NotEqual returns 1 where a != b and 0 elsewhere.
func NotEqual(a, b *Tensor) *Tensor {
	return binary("NotEqual", a, b, func(x, y float64) float64 { return b2f(x != y) }, nil)
}

// Where returns a where cond is nonzero and b elsewhere, with broadcasting
// of all three. cond may have any dtype.
func Where(cond, a, b *Tensor) *Tensor {
	mustSameDType("Where", a, b)
	out := mustBroadcast("Where", cond.shape, a.shape, b.shape)
	c := BroadcastTo(cond, out...)
	x := BroadcastTo(a, out...)
	y := BroadcastTo(b, out...)
	for i := 0; i < c.Size(); i++ {
		if c.AtFlat(i) == 0 {
			if x.dtype.is64() {
				x.f64[i] = y.f64[i]
			} else {
				x.f32[i] = y.f32[i]
			}
		}
	}
	return x
}

// Neg returns −a.
func Neg(a *Tensor) *Tensor {
	return unary(a, func(x float64) float64 { return -x }, func(x float32) float32 { return -x })
}

// Scale returns s·a.
func Scale(a *Tensor, s float64) *Tensor {
	s32 := float32(s)
	return unary(a, func(x float64) float64 { return s * x }, func(x float32) float32 { return s32 * x })
}

// AddScalar returns a + s.
func AddScalar(a *Tensor, s float64) *Tensor {
	s32 := float32(s)
	return unary(a, func(x float64) float64 { return x + s }, func(x float32) float32 { return x + s32 })
}

// Abs returns |a|.
func Abs(a *Tensor) *Tensor { return unary(a, math.Abs, nil) }

// Sign returns −1, 0 or 1 by the sign of each element (NaN stays NaN).
func Sign(a *Tensor) *Tensor {
	return unary(a, func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return x
	}, nil)
}

// Exp returns e^a.
func Exp(a *Tensor) *Tensor { return unary(a, math.Exp, nil) }

// Log returns the natural logarithm of a.
func Log(a *Tensor) *Tensor { return unary(a, math.Log, nil) }

// Log1p returns log(1 + a), accurate near 0.
func Log1p(a *Tensor) *Tensor { return unary(a, math.Log1p, nil) }

// Expm1 returns e^a − 1, accurate near 0.
func Expm1(a *Tensor) *Tensor { return unary(a, math.Expm1, nil) }

// Sqrt returns √a.
func Sqrt(a *Tensor) *Tensor { return unary(a, math.Sqrt, nil) }

// Rsqrt returns 1/√a.
func Rsqrt(a *Tensor) *Tensor {
	return unary(a, func(x float64) float64 { return 1 / math.Sqrt(x) }, nil)
}

// Square returns a².
func Square(a *Tensor) *Tensor {
	return unary(a, func(x float64) float64 { return x * x }, func(x float32) float32 { return x * x })
}

// PowScalar returns a^p.
func PowScalar(a *Tensor, p float64) *Tensor {
	return unary(a, func(x float64) float64 { return math.Pow(x, p) }, nil)
}

// Tanh returns the hyperbolic tangent of a.
func Tanh(a *Tensor) *Tensor { return unary(a, math.Tanh, nil) }

// Sigmoid returns 1/(1 + e^−a), computed without overflow.
func Sigmoid(a *Tensor) *Tensor { return unary(a, sigmoid, nil) }

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Softplus returns log(1 + e^a), computed without overflow.
func Softplus(a *Tensor) *Tensor { return unary(a, softplus, nil) }

func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Sin returns sin(a).
func Sin(a *Tensor) *Tensor { return unary(a, math.Sin, nil) }

// Cos returns cos(a).
func Cos(a *Tensor) *Tensor { return unary(a, math.Cos, nil) }

// Erf returns the error function of a.
func Erf(a *Tensor) *Tensor { return unary(a, math.Erf, nil) }

// Relu returns max(a, 0) (NaN propagates).
func Relu(a *Tensor) *Tensor {
	return unary(a, func(x float64) float64 {
		if x < 0 {
			return 0
		}
		return x
	}, func(x float32) float32 {
		if x < 0 {
			return 0
		}
		return x
	})
}

// Clamp returns a limited to [lo, hi] (NaN propagates).
func Clamp(a *Tensor, lo, hi float64) *Tensor {
	return unary(a, func(x float64) float64 {
		if x < lo {
			return lo
		}
		if x > hi {
			return hi
		}
		return x
	}, nil)
}
