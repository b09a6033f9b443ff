package ad

import (
	"slices"

	"github.com/gradus-ml/gradus/tensor"
)

// Arithmetic primitives: +, −, ·, /, powers, scalar forms, broadcasting
// and its adjoint, and dtype casts.

var addPrim *Prim

func init() {
	addPrim = register(&Prim{
		Name: "add",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Add(in[0], in[1]) },
		JVP: func(c *Call, t []*Var) *Var {
			return fit(plus(t[0], t[1]), c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			return []*Var{unbroadcast(g, c.In[0].Shape()), unbroadcast(g, c.In[1].Shape())}
		},
		Flops: elementwise(1, 1, 0),
	})
}

// Add returns a + b with NumPy broadcasting.
func Add(a, b *Var) *Var { return Apply(addPrim, nil, a, b) }

var subPrim *Prim

func init() {
	subPrim = register(&Prim{
		Name: "sub",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Sub(in[0], in[1]) },
		JVP: func(c *Call, t []*Var) *Var {
			if t[1] == nil {
				return fit(t[0], c.Out.Shape())
			}
			if t[0] == nil {
				return fit(Neg(t[1]), c.Out.Shape())
			}
			return fit(Sub(t[0], t[1]), c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			return []*Var{unbroadcast(g, c.In[0].Shape()), unbroadcast(Neg(g), c.In[1].Shape())}
		},
		Flops: elementwise(1, 1, 1),
	})
}

// Sub returns a − b with broadcasting.
func Sub(a, b *Var) *Var { return Apply(subPrim, nil, a, b) }

var mulPrim *Prim

func init() {
	mulPrim = register(&Prim{
		Name: "mul",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Mul(in[0], in[1]) },
		JVP: func(c *Call, t []*Var) *Var {
			var r *Var
			if t[0] != nil {
				r = Mul(t[0], c.In[1])
			}
			if t[1] != nil {
				r = plus(r, Mul(c.In[0], t[1]))
			}
			return fit(r, c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			return []*Var{unbroadcast(Mul(g, c.In[1]), c.In[0].Shape()), unbroadcast(Mul(g, c.In[0]), c.In[1].Shape())}
		},
		Flops: elementwise(1, 3, 2),
	})
}

// Mul returns a · b elementwise with broadcasting.
func Mul(a, b *Var) *Var { return Apply(mulPrim, nil, a, b) }

var divPrim *Prim

func init() {
	divPrim = register(&Prim{
		Name: "div",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Div(in[0], in[1]) },
		JVP: func(c *Call, t []*Var) *Var {
			// d(a/b) = da/b − (a/b)·db/b
			var r *Var
			if t[0] != nil {
				r = Div(t[0], c.In[1])
			}
			if t[1] != nil {
				r = plus(r, Neg(Div(Mul(c.Out, t[1]), c.In[1])))
			}
			return fit(r, c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			ga := Div(g, c.In[1])
			gb := Neg(Mul(ga, c.Out))
			return []*Var{unbroadcast(ga, c.In[0].Shape()), unbroadcast(gb, c.In[1].Shape())}
		},
		Flops: elementwise(1, 4, 3),
	})
}

// Div returns a / b elementwise with broadcasting.
func Div(a, b *Var) *Var { return Apply(divPrim, nil, a, b) }

var negPrim *Prim

func init() {
	negPrim = register(&Prim{
		Name:  "neg",
		Eval:  func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Neg(in[0]) },
		JVP:   func(c *Call, t []*Var) *Var { return Neg(t[0]) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Neg(g)} },
		Flops: elementwise(1, 1, 1),
	})
}

// Neg returns −x.
func Neg(x *Var) *Var { return Apply(negPrim, nil, x) }

var scalePrim *Prim

func init() {
	scalePrim = register(&Prim{
		Name:  "scale",
		Eval:  func(in []*tensor.Tensor, p any) *tensor.Tensor { return tensor.Scale(in[0], p.(float64)) },
		JVP:   func(c *Call, t []*Var) *Var { return Scale(t[0], c.Params.(float64)) },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{Scale(g, c.Params.(float64))} },
		Flops: elementwise(1, 1, 1),
	})
}

// Scale returns s·x for a constant s.
func Scale(x *Var, s float64) *Var { return Apply(scalePrim, s, x) }

var addScalarPrim *Prim

func init() {
	addScalarPrim = register(&Prim{
		Name:  "add_scalar",
		Eval:  func(in []*tensor.Tensor, p any) *tensor.Tensor { return tensor.AddScalar(in[0], p.(float64)) },
		JVP:   func(c *Call, t []*Var) *Var { return t[0] },
		VJP:   func(c *Call, g *Var) []*Var { return []*Var{g} },
		Flops: elementwise(1, 0, 0),
	})
}

// AddScalar returns x + s for a constant s.
func AddScalar(x *Var, s float64) *Var { return Apply(addScalarPrim, s, x) }

var powPrim *Prim

func init() {
	powPrim = register(&Prim{
		Name: "pow",
		Eval: func(in []*tensor.Tensor, _ any) *tensor.Tensor { return tensor.Pow(in[0], in[1]) },
		JVP: func(c *Call, t []*Var) *Var {
			a, b := c.In[0], c.In[1]
			var r *Var
			if t[0] != nil {
				// b · a^(b−1) · da
				r = Mul(Mul(b, Pow(a, AddScalar(b, -1))), t[0])
			}
			if t[1] != nil {
				// a^b · log a · db
				r = plus(r, Mul(Mul(c.Out, Log(a)), t[1]))
			}
			return fit(r, c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			a, b := c.In[0], c.In[1]
			ga := Mul(g, Mul(b, Pow(a, AddScalar(b, -1))))
			gb := Mul(g, Mul(c.Out, Log(a)))
			return []*Var{unbroadcast(ga, a.Shape()), unbroadcast(gb, b.Shape())}
		},
		Flops: elementwise(20, 45, 45),
	})
}

// Pow returns a^b elementwise with broadcasting. The derivative in b uses
// log a, so it is NaN for negative a.
func Pow(a, b *Var) *Var { return Apply(powPrim, nil, a, b) }

var powScalarPrim *Prim

func init() {
	powScalarPrim = register(&Prim{
		Name: "pow_scalar",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return tensor.PowScalar(in[0], p.(float64)) },
		JVP: func(c *Call, t []*Var) *Var {
			return Mul(powScalarDeriv(c), t[0])
		},
		VJP: func(c *Call, g *Var) []*Var {
			return []*Var{Mul(g, powScalarDeriv(c))}
		},
		Flops: elementwise(20, 22, 22),
	})
}

// powScalarDeriv is p·x^(p−1), written with differentiable operations.
func powScalarDeriv(c *Call) *Var {
	p := c.Params.(float64)
	if p == 0 {
		return constLike(c.In[0], 0)
	}
	if p == 1 {
		return constLike(c.In[0], 1)
	}
	return Scale(PowScalar(c.In[0], p-1), p)
}

// PowScalar returns x^p for a constant p (math.Pow semantics).
func PowScalar(x *Var, p float64) *Var { return Apply(powScalarPrim, p, x) }

// Square returns x².
func Square(x *Var) *Var { return PowScalar(x, 2) }

var broadcastToPrim *Prim

func init() {
	broadcastToPrim = register(&Prim{
		Name: "broadcast_to",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return tensor.BroadcastTo(in[0], p.([]int)...) },
		JVP:  func(c *Call, t []*Var) *Var { return BroadcastTo(t[0], c.Params.([]int)...) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{SumTo(g, c.In[0].Shape()...)} },
		Flops: func(_ []*tensor.Tensor, out *tensor.Tensor, _ any) Cost {
			return Cost{VJP: float64(out.Size())}
		},
	})
}

// BroadcastTo expands x to shape by NumPy broadcasting.
func BroadcastTo(x *Var, shape ...int) *Var {
	if slices.Equal(x.Shape(), shape) {
		return x
	}
	return Apply(broadcastToPrim, slices.Clone(shape), x)
}

var sumToPrim *Prim

func init() {
	sumToPrim = register(&Prim{
		Name: "sum_to",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return tensor.SumTo(in[0], p.([]int)...) },
		JVP:  func(c *Call, t []*Var) *Var { return SumTo(t[0], c.Params.([]int)...) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{BroadcastTo(g, c.In[0].Shape()...)} },
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(in[0].Size())
			return Cost{Fwd: n, JVP: n}
		},
	})
}

// SumTo sums x over broadcast dimensions down to shape: the adjoint of
// BroadcastTo.
func SumTo(x *Var, shape ...int) *Var {
	if slices.Equal(x.Shape(), shape) {
		return x
	}
	return Apply(sumToPrim, slices.Clone(shape), x)
}

var castPrim *Prim

func init() {
	castPrim = register(&Prim{
		Name: "cast",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return in[0].AsType(p.(tensor.DType)) },
		JVP:  func(c *Call, t []*Var) *Var { return Cast(t[0], c.Params.(tensor.DType)) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{Cast(g, c.In[0].DType())} },
		Flops: func(_ []*tensor.Tensor, out *tensor.Tensor, _ any) Cost {
			return Cost{}
		},
	})
}

// Cast returns x converted to dtype d (rounded to d); its derivative casts
// back.
func Cast(x *Var, d tensor.DType) *Var {
	if x.DType() == d {
		return x
	}
	return Apply(castPrim, d, x)
}
