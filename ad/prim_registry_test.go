package ad_test

import (
	"hash/fnv"
	"math"
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// primCase builds a function applying one primitive and a random float64
// point away from the primitive's kinks and singularities.
type primCase struct {
	build func(g *tensor.RNG) (ad.Func, []*tensor.Tensor)
	// kind documents the primitive's smoothness; every kind is checked to
	// second order: nonsmooth primitives away from their kinks have the
	// second derivatives of their smooth piece (0 for piecewise-linear
	// ones), and linear ones have zero second derivatives.
	kind string
}

const (
	prSmooth    = "smooth"
	prLinear    = "linear"
	prNonsmooth = "nonsmooth"
)

// prAway draws uniform samples in [lo, hi) at distance at least gap from
// every kink.
func prAway(g *tensor.RNG, lo, hi, gap float64, kinks []float64, shape ...int) *tensor.Tensor {
	t := g.Uniform(tensor.Float64, lo, hi, shape...)
	d := t.Data64()
	for i := range d {
		for slices.ContainsFunc(kinks, func(k float64) bool { return math.Abs(d[i]-k) < gap }) {
			d[i] = lo + (hi-lo)*g.Float64()
		}
	}
	return t
}

func prNormal(g *tensor.RNG, shape ...int) *tensor.Tensor { return g.Normal(tensor.Float64, shape...) }

func prUniform(g *tensor.RNG, lo, hi float64, shape ...int) *tensor.Tensor {
	return g.Uniform(tensor.Float64, lo, hi, shape...)
}

// prUnary wraps a one-input Var function.
func prUnary(op func(*ad.Var) *ad.Var) ad.Func { return func(x ...*ad.Var) *ad.Var { return op(x[0]) } }

func prBinary(op func(a, b *ad.Var) *ad.Var) ad.Func {
	return func(x ...*ad.Var) *ad.Var { return op(x[0], x[1]) }
}

// prElementwise is a case of a one-input elementwise primitive on a [3, 4]
// input drawn by draw.
func prElementwise(kind string, op func(*ad.Var) *ad.Var, draw func(g *tensor.RNG) *tensor.Tensor) primCase {
	return primCase{kind: kind, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prUnary(op), []*tensor.Tensor{draw(g)}
	}}
}

// prDistinct returns a tensor of shape whose elements are pairwise at least
// 0.2 apart (so max and min have no ties, even under finite differences).
func prDistinct(g *tensor.RNG, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float64, shape...)
	perm := g.Perm(t.Size())
	for i, p := range perm {
		t.SetFlat(i, 0.25*float64(p)-1+0.05*g.Float64())
	}
	return t
}

// primCases has one case per built-in primitive (the neural-network
// primitives' cases are added in prim_registry_nn_test.go).
var primCases = map[string]primCase{
	// arithmetic
	"add": {kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(ad.Add), []*tensor.Tensor{prNormal(g, 3, 4), prNormal(g, 4)}
	}},
	"sub": {kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(ad.Sub), []*tensor.Tensor{prNormal(g, 3, 1), prNormal(g, 2, 3, 4)}
	}},
	"mul": {kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(ad.Mul), []*tensor.Tensor{prNormal(g, 3, 4), prNormal(g, 3, 1)}
	}},
	"div": {kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(ad.Div), []*tensor.Tensor{prNormal(g, 3, 4), prAway(g, -2, 2, 0.5, []float64{0}, 4)}
	}},
	"neg":        prElementwise(prLinear, ad.Neg, func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),
	"scale":      prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.Scale(x, -1.7) }, func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),
	"add_scalar": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.AddScalar(x, 2.5) }, func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),
	"pow": {kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(ad.Pow), []*tensor.Tensor{prUniform(g, 0.5, 2, 3, 4), prUniform(g, -1.5, 2.5, 4)}
	}},
	"pow_scalar": prElementwise(prSmooth, func(x *ad.Var) *ad.Var { return ad.PowScalar(x, 2.5) }, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, 0.3, 2, 3, 4) }),
	"broadcast_to": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.BroadcastTo(x, 2, 3, 4) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 1) }),
	"sum_to": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.SumTo(x, 3, 1) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 2, 3, 4) }),
	"cast": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.Cast(x, tensor.Float32) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),

	// reductions
	"sum": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.Sum(x, []int{0, 2}, false) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 2, 3, 4) }),
	"max_reduce": prElementwise(prNonsmooth, func(x *ad.Var) *ad.Var {
		return ad.Concat(0, ad.Max(x, []int{1}, false), ad.Min(x, []int{0}, false))
	}, func(g *tensor.RNG) *tensor.Tensor { return prDistinct(g, 3, 4) }),
	"logsumexp": prElementwise(prSmooth, func(x *ad.Var) *ad.Var { return ad.LogSumExp(x, []int{1}, true) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),

	// shapes
	"reshape": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.Reshape(x, 4, -1) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 2, 3, 2) }),
	"permute": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.Permute(x, 2, 0, 1) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 2, 3, 4) }),
	"slice": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.SliceAxis(x, 1, 1, 3) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 2, 4, 3) }),
	"pad": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.PadAxis(x, -1, 2, 1) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 2, 3) }),
	"concat": {kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		f := func(x ...*ad.Var) *ad.Var { return ad.Concat(1, x...) }
		return f, []*tensor.Tensor{prNormal(g, 2, 1), prNormal(g, 2, 3), prNormal(g, 2, 2)}
	}},
	"index_select": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.IndexSelect(x, 0, []int{3, 1, 1, 0}) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 4, 3) }),
	"scatter_add": {kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		f := func(x ...*ad.Var) *ad.Var { return ad.ScatterAdd(x[0], 0, []int{0, 2, 0}, x[1]) }
		return f, []*tensor.Tensor{prNormal(g, 4, 3), prNormal(g, 3, 3)}
	}},
	"take_along": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.TakeAlong(x, 1, []int{2, 0, 3}) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),
	"put_along": prElementwise(prLinear, func(x *ad.Var) *ad.Var { return ad.PutAlong([]int{3, 4}, 1, []int{2, 0, 3}, x) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3) }),

	// linear algebra
	"matmul": {kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		// batched, with a transposed first operand and a broadcast second
		f := func(x ...*ad.Var) *ad.Var { return ad.MatMulT(x[0], x[1], true, false) }
		return f, []*tensor.Tensor{prNormal(g, 2, 4, 3), prNormal(g, 4, 2)}
	}},

	// checkpointing: a nonlinear two-input segment
	"checkpoint": {kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		seg := func(z ...*ad.Var) *ad.Var { return ad.Mul(ad.Tanh(z[0]), ad.Exp(ad.Sum(z[1], nil, false))) }
		f := func(x ...*ad.Var) *ad.Var { return ad.Checkpoint(seg, x...) }
		return f, []*tensor.Tensor{prNormal(g, 3, 2), prUniform(g, -0.5, 0.5, 2)}
	}},

	// smooth elementwise
	"exp":      prElementwise(prSmooth, ad.Exp, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -2, 2, 3, 4) }),
	"log":      prElementwise(prSmooth, ad.Log, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, 0.3, 3, 3, 4) }),
	"log1p":    prElementwise(prSmooth, ad.Log1p, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -0.6, 2, 3, 4) }),
	"expm1":    prElementwise(prSmooth, ad.Expm1, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -2, 2, 3, 4) }),
	"sqrt":     prElementwise(prSmooth, ad.Sqrt, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, 0.3, 3, 3, 4) }),
	"rsqrt":    prElementwise(prSmooth, ad.Rsqrt, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, 0.3, 3, 3, 4) }),
	"tanh":     prElementwise(prSmooth, ad.Tanh, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -2, 2, 3, 4) }),
	"sigmoid":  prElementwise(prSmooth, ad.Sigmoid, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -3, 3, 3, 4) }),
	"softplus": prElementwise(prSmooth, ad.Softplus, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -3, 3, 3, 4) }),
	"sin":      prElementwise(prSmooth, ad.Sin, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -3, 3, 3, 4) }),
	"cos":      prElementwise(prSmooth, ad.Cos, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -3, 3, 3, 4) }),
	"erf":      prElementwise(prSmooth, ad.Erf, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -2, 2, 3, 4) }),
	"gelu":     prElementwise(prSmooth, ad.GELU, func(g *tensor.RNG) *tensor.Tensor { return prUniform(g, -3, 3, 3, 4) }),

	// nonsmooth elementwise, away from the kinks
	"relu": prElementwise(prNonsmooth, ad.Relu, func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -2, 2, 0.1, []float64{0}, 3, 4) }),
	"leaky_relu": prElementwise(prNonsmooth, func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.1) },
		func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -2, 2, 0.1, []float64{0}, 3, 4) }),
	"relu6": prElementwise(prNonsmooth, ad.Relu6, func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -2, 8, 0.1, []float64{0, 6}, 3, 4) }),
	"abs":   prElementwise(prNonsmooth, ad.Abs, func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -2, 2, 0.1, []float64{0}, 3, 4) }),
	"sign":  prElementwise(prNonsmooth, ad.Sign, func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -2, 2, 0.1, []float64{0}, 3, 4) }),
	"clamp": prElementwise(prNonsmooth, func(x *ad.Var) *ad.Var { return ad.Clamp(x, -1, 0.5) },
		func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -2, 2, 0.1, []float64{-1, 0.5}, 3, 4) }),
	"hinge": prElementwise(prNonsmooth, ad.Hinge, func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -1, 3, 0.1, []float64{1}, 3, 4) }),
	"soft_threshold": prElementwise(prNonsmooth, func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 0.5) },
		func(g *tensor.RNG) *tensor.Tensor { return prAway(g, -2, 2, 0.1, []float64{-0.5, 0.5}, 3, 4) }),
	"maximum": {kind: prNonsmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		b := prNormal(g, 4)
		return prBinary(ad.Maximum), []*tensor.Tensor{prSeparated(g, prNormal(g, 3, 4), b), b}
	}},
	"minimum": {kind: prNonsmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		a := prNormal(g, 3, 4)
		b := prNormal(g, 3, 4)
		return prBinary(ad.Minimum), []*tensor.Tensor{prSeparated(g, a, b), b}
	}},
	"where": {kind: prLinear, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		cond := tensor.Map(prUniform(g, 0, 1, 3, 4), func(v float64) float64 { return math.Floor(2 * v) })
		f := func(x ...*ad.Var) *ad.Var { return ad.Where(cond, x[0], x[1]) }
		return f, []*tensor.Tensor{prNormal(g, 3, 4), prNormal(g, 4)}
	}},

	// normalizations and losses
	"softmax": prElementwise(prSmooth, func(x *ad.Var) *ad.Var { return ad.Softmax(x, 1) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),
	"log_softmax": prElementwise(prSmooth, func(x *ad.Var) *ad.Var { return ad.LogSoftmax(x, 0) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 3, 4) }),
	"cross_entropy": prElementwise(prSmooth, func(x *ad.Var) *ad.Var { return ad.CrossEntropy(x, []int{4, 0, 2, 2}) },
		func(g *tensor.RNG) *tensor.Tensor { return prNormal(g, 4, 5) }),
	"mse": {kind: prSmooth, build: func(g *tensor.RNG) (ad.Func, []*tensor.Tensor) {
		return prBinary(ad.MSE), []*tensor.Tensor{prNormal(g, 3, 4), prNormal(g, 4)}
	}},
}

// prSeparated moves the elements of a (broadcast against b) that come
// within 0.1 of b's, so a max or min of the two has no near-ties.
func prSeparated(g *tensor.RNG, a, b *tensor.Tensor) *tensor.Tensor {
	bb := tensor.BroadcastTo(b, a.Shape()...)
	out := a.Clone()
	for i := 0; i < out.Size(); i++ {
		if d := out.AtFlat(i) - bb.AtFlat(i); math.Abs(d) < 0.1 {
			out.SetFlat(i, bb.AtFlat(i)+math.Copysign(0.1+0.5*g.Float64(), d))
		}
	}
	return out
}

// TestPrimitives checks every registered primitive with ad/check in
// float64 at random points away from kinks: reverse mode, forward mode,
// JVP against VJP, and second order. A primitive registered without a case
// here, or a case for a primitive that is not registered, fails the test.
func TestPrimitives(t *testing.T) {
	registered := ad.Primitives()
	for _, name := range registered {
		if _, ok := primCases[name]; !ok {
			t.Errorf("primitive %q is registered but has no test case in primCases", name)
		}
	}
	for name := range primCases {
		if !slices.Contains(registered, name) {
			t.Errorf("primCases has a case for %q, which is not a registered primitive", name)
		}
	}
	names := make([]string, 0, len(primCases))
	for name := range primCases {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := primCases[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := fnv.New64a()
			h.Write([]byte(name))
			g := tensor.NewRNG(h.Sum64())
			f, xs := c.build(g)
			opt := &check.Options{Name: name, Seed: 1}
			for _, chk := range []struct {
				mode string
				run  func(ad.Func, []*tensor.Tensor, *check.Options) error
			}{
				{"reverse", check.Gradient},
				{"forward", check.Forward},
				{"jvp-vjp", check.JVPvsVJP},
				{"second-order", check.SecondOrder},
			} {
				if err := chk.run(f, xs, opt); err != nil {
					t.Errorf("%s (%s): %v", chk.mode, c.kind, err)
				}
			}
		})
	}
}

// prFixedDType lists the cases whose function closes over float64 data of
// its own (an evaluation point), so they take float64 inputs only.
var prFixedDType = map[string]bool{
	"avg_pool2d_adjoint": true,
	"max_pool2d_gather":  true,
	"max_pool2d_scatter": true,
}

// TestPrimitivesLowPrecision runs the same cases with the inputs rounded
// to float32, float16 and bfloat16: the derivatives, computed in those
// dtypes, must match float64 finite differences within the dtype's
// default tolerances (check.DefaultTolerances).
func TestPrimitivesLowPrecision(t *testing.T) {
	names := make([]string, 0, len(primCases))
	for name := range primCases {
		if !prFixedDType[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, d := range []tensor.DType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		for _, name := range names {
			t.Run(d.String()+"/"+name, func(t *testing.T) {
				t.Parallel()
				h := fnv.New64a()
				h.Write([]byte(name))
				f, xs := primCases[name].build(tensor.NewRNG(h.Sum64()))
				for i, x := range xs {
					xs[i] = x.AsType(d)
				}
				if err := check.All(f, xs, &check.Options{Name: name, Seed: 2}); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
