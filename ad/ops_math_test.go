package ad_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// Helpers shared by the tests of ops_math.go, ops_nonsmooth.go and
// ops_loss.go (prefixed ew to keep clear of other test files).

// ewFn is a test function of several Vars.
type ewFn = func(xs ...*ad.Var) *ad.Var

// ewUniform returns a float64 tensor of the shape with entries uniform in
// [lo, hi), kept at least gap away from each of the points avoid.
func ewUniform(g *tensor.RNG, lo, hi, gap float64, avoid []float64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float64, shape...)
	for i := range t.Size() {
		for {
			v := lo + (hi-lo)*g.Float64()
			ok := true
			for _, a := range avoid {
				if math.Abs(v-a) < gap {
					ok = false
				}
			}
			if ok {
				t.SetFlat(i, v)
				break
			}
		}
	}
	return t
}

// ewDot is ⟨a, b⟩ over all elements.
func ewDot(a, b *tensor.Tensor) float64 {
	s := 0.0
	for i := range a.Size() {
		s += a.AtFlat(i) * b.AtFlat(i)
	}
	return s
}

// ewAxpy returns x + h·v.
func ewAxpy(x, v *tensor.Tensor, h float64) *tensor.Tensor {
	return tensor.Add(x, tensor.Scale(v, h))
}

// ewConsts wraps tensors as constant Vars.
func ewConsts(ts []*tensor.Tensor) []*ad.Var {
	vs := make([]*ad.Var, len(ts))
	for i, t := range ts {
		vs[i] = ad.Const(t)
	}
	return vs
}

// ewCheckRules compares, for three random directions, the central
// difference of ⟨u, f⟩ along v with ⟨u, JVP(v)⟩ and ⟨VJP(u), v⟩, in
// float64 at xs (all inputs differentiated).
func ewCheckRules(t *testing.T, name string, f ewFn, xs []*tensor.Tensor, opts *ad.Options) {
	t.Helper()
	g := tensor.NewRNG(7)
	y := f(ewConsts(xs)...).Value()
	for trial := range 3 {
		u := g.Normal(tensor.Float64, y.Shape()...)
		vs := make([]*tensor.Tensor, len(xs))
		for i, x := range xs {
			vs[i] = g.Normal(tensor.Float64, x.Shape()...)
		}
		const h = 1e-6
		plus, minus := make([]*tensor.Tensor, len(xs)), make([]*tensor.Tensor, len(xs))
		for i := range xs {
			plus[i], minus[i] = ewAxpy(xs[i], vs[i], h), ewAxpy(xs[i], vs[i], -h)
		}
		fd := (ewDot(u, f(ewConsts(plus)...).Value()) - ewDot(u, f(ewConsts(minus)...).Value())) / (2 * h)

		_, jv, err := ad.JVP(f, ewConsts(xs), ewConsts(vs), opts)
		if err != nil {
			t.Fatalf("%s: JVP: %v", name, err)
		}
		if !slices.Equal(jv.Shape(), y.Shape()) {
			t.Fatalf("%s: tangent shape %v, output shape %v", name, jv.Shape(), y.Shape())
		}
		fwd := ewDot(u, jv.Value())

		_, gs, err := ad.VJP(f, ewConsts(xs), ad.Const(u), opts)
		if err != nil {
			t.Fatalf("%s: VJP: %v", name, err)
		}
		rev := 0.0
		for i := range xs {
			if !slices.Equal(gs[i].Shape(), xs[i].Shape()) {
				t.Fatalf("%s: cotangent %d shape %v, input shape %v", name, i, gs[i].Shape(), xs[i].Shape())
			}
			rev += ewDot(gs[i].Value(), vs[i])
		}
		scale := 1 + math.Abs(fd)
		if math.Abs(fwd-fd) > 1e-6*scale || math.Abs(rev-fd) > 1e-6*scale || math.Abs(fwd-rev) > 1e-10*scale {
			t.Errorf("%s trial %d: finite difference %.12g, JVP %.12g, VJP %.12g", name, trial, fd, fwd, rev)
		}
	}
}

// ewClose reports whether a and b agree to a relative and absolute tol,
// NaN matching NaN.
func ewClose(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol*(1+math.Abs(b))
}

// ewExpect checks every element of got against want(i).
func ewExpect(t *testing.T, what string, got *tensor.Tensor, want func(i int) float64, tol float64) {
	t.Helper()
	for i := range got.Size() {
		if w := want(i); !ewClose(got.AtFlat(i), w, tol) {
			t.Errorf("%s[%d] = %.15g, want %.15g", what, i, got.AtFlat(i), w)
		}
	}
}

// ewSum is Σ f(x): a one-element function for Grad.
func ewSum(f func(*ad.Var) *ad.Var) ewFn {
	return func(xs ...*ad.Var) *ad.Var { return ad.Sum(f(xs[0]), nil, false) }
}

func TestSmoothRulesMatchFiniteDifferences(t *testing.T) {
	g := tensor.NewRNG(1)
	un := func(f func(*ad.Var) *ad.Var) ewFn { return func(xs ...*ad.Var) *ad.Var { return f(xs[0]) } }
	for _, c := range []struct {
		name   string
		f      ewFn
		lo, hi float64
	}{
		{"exp", un(ad.Exp), -3, 3},
		{"log", un(ad.Log), 0.2, 5},
		{"log1p", un(ad.Log1p), -0.8, 5},
		{"expm1", un(ad.Expm1), -3, 3},
		{"sqrt", un(ad.Sqrt), 0.2, 5},
		{"rsqrt", un(ad.Rsqrt), 0.2, 5},
		{"tanh", un(ad.Tanh), -3, 3},
		{"sigmoid", un(ad.Sigmoid), -6, 6},
		{"softplus", un(ad.Softplus), -6, 6},
		{"sin", un(ad.Sin), -4, 4},
		{"cos", un(ad.Cos), -4, 4},
		{"erf", un(ad.Erf), -3, 3},
		{"gelu", un(ad.GELU), -4, 4},
		// the rules composed with themselves: the second-order rules
		{"exp∘sin", un(func(x *ad.Var) *ad.Var { return ad.Exp(ad.Sin(x)) }), -2, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			ewCheckRules(t, c.name, c.f, []*tensor.Tensor{ewUniform(g, c.lo, c.hi, 0, nil, 3, 4)}, nil)
		})
	}
}

func TestSmoothValues(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{-30, -2.5, -1, -0.1, 0, 0.1, 1, 2.5, 30})
	phi := func(v float64) float64 { return 0.5 * math.Erfc(-v/math.Sqrt2) }
	for _, c := range []struct {
		name string
		f    func(*ad.Var) *ad.Var
		want func(float64) float64
	}{
		{"sigmoid", ad.Sigmoid, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }},
		{"softplus", ad.Softplus, func(v float64) float64 { return math.Log1p(math.Exp(v)) }},
		{"gelu", ad.GELU, func(v float64) float64 { return v * phi(v) }},
		{"erf", ad.Erf, math.Erf},
		{"tanh", ad.Tanh, math.Tanh},
		{"expm1", ad.Expm1, math.Expm1},
	} {
		got := c.f(ad.Const(x)).Value()
		ewExpect(t, c.name, got, func(i int) float64 { return c.want(x.AtFlat(i)) }, 1e-14)
	}
}

// TestSmoothDerivativesClosedForm checks first derivatives (reverse) and
// second derivatives (grad of grad, and HVP) against closed forms.
func TestSmoothDerivativesClosedForm(t *testing.T) {
	xs := []float64{-2.3, -0.7, 0.4, 1.9}
	x := tensor.FromFloat64s(tensor.Float64, xs)
	sg := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	pdf := func(v float64) float64 { return math.Exp(-v*v/2) / math.Sqrt(2*math.Pi) }
	for _, c := range []struct {
		name    string
		f       func(*ad.Var) *ad.Var
		d1, d2  func(float64) float64
		lo, tol float64
	}{
		{"exp", ad.Exp, math.Exp, math.Exp, -5, 1e-12},
		{"tanh", ad.Tanh,
			func(v float64) float64 { th := math.Tanh(v); return 1 - th*th },
			func(v float64) float64 { th := math.Tanh(v); return -2 * th * (1 - th*th) }, -5, 1e-12},
		{"sigmoid", ad.Sigmoid,
			func(v float64) float64 { s := sg(v); return s * (1 - s) },
			func(v float64) float64 { s := sg(v); return s * (1 - s) * (1 - 2*s) }, -5, 1e-12},
		{"sin", ad.Sin, math.Cos, func(v float64) float64 { return -math.Sin(v) }, -5, 1e-12},
		{"cos", ad.Cos, func(v float64) float64 { return -math.Sin(v) }, func(v float64) float64 { return -math.Cos(v) }, -5, 1e-12},
		{"log", ad.Log, func(v float64) float64 { return 1 / v }, func(v float64) float64 { return -1 / (v * v) }, 0, 1e-12},
		{"log1p", ad.Log1p, func(v float64) float64 { return 1 / (1 + v) }, func(v float64) float64 { return -1 / ((1 + v) * (1 + v)) }, -1, 1e-12},
		{"expm1", ad.Expm1, math.Exp, math.Exp, -5, 1e-12},
		{"sqrt", ad.Sqrt, func(v float64) float64 { return 0.5 / math.Sqrt(v) }, func(v float64) float64 { return -0.25 * math.Pow(v, -1.5) }, 0, 1e-12},
		{"rsqrt", ad.Rsqrt, func(v float64) float64 { return -0.5 * math.Pow(v, -1.5) }, func(v float64) float64 { return 0.75 * math.Pow(v, -2.5) }, 0, 1e-12},
		{"softplus", ad.Softplus, sg, func(v float64) float64 { s := sg(v); return s * (1 - s) }, -5, 1e-12},
		{"erf", ad.Erf,
			func(v float64) float64 { return 2 / math.SqrtPi * math.Exp(-v*v) },
			func(v float64) float64 { return -4 * v / math.SqrtPi * math.Exp(-v*v) }, -5, 1e-12},
		{"gelu", ad.GELU,
			func(v float64) float64 { return 0.5*math.Erfc(-v/math.Sqrt2) + v*pdf(v) },
			func(v float64) float64 { return 2*pdf(v) - v*v*pdf(v) }, -5, 1e-12},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := x
			if c.lo >= -1 { // domain x > lo: shift the points into it
				in = tensor.Map(x, func(v float64) float64 { return math.Abs(v) + 0.3 })
			}
			want1 := func(i int) float64 { return c.d1(in.AtFlat(i)) }
			want2 := func(i int) float64 { return c.d2(in.AtFlat(i)) }
			f := ewSum(c.f)
			gs, err := ad.Grad(f, []*ad.Var{ad.Const(in)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, "grad", gs[0].Value(), want1, c.tol)

			// grad of grad: the Hessian is diagonal, so ∇ Σ f'(x) = f''(x)
			gg, err := ad.Grad(func(zs ...*ad.Var) *ad.Var {
				g, err := ad.Grad(f, zs, nil)
				if err != nil {
					t.Fatal(err)
				}
				return ad.Sum(g[0], nil, false)
			}, []*ad.Var{ad.Const(in)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, "grad of grad", gg[0].Value(), want2, c.tol)

			// forward over reverse: H·1 = f''(x)
			hv, err := ad.HVP(f, []*ad.Var{ad.Const(in)}, []*ad.Var{ad.Const(tensor.OnesLike(in))}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, "HVP", hv[0].Value(), want2, c.tol)

			// forward over forward: the tangent of the tangent
			_, jj, err := ad.JVP(func(zs ...*ad.Var) *ad.Var {
				_, tan, err := ad.JVP(func(ws ...*ad.Var) *ad.Var { return c.f(ws[0]) }, zs, []*ad.Var{ad.Const(tensor.OnesLike(in))}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return tan
			}, []*ad.Var{ad.Const(in)}, []*ad.Var{ad.Const(tensor.OnesLike(in))}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, "JVP of JVP", jj.Value(), want2, c.tol)
		})
	}
}

// TestSqrtAtZero checks the Policy's Sqrt0 at exact zeros, in both modes,
// the kink count, and that the second derivative there stays finite.
func TestSqrtAtZero(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{0, 4, 0, 0.25, -1})
	for _, s0 := range []float64{0, 1, 1e6} {
		st := &ad.Stats{}
		o := &ad.Options{Policy: ad.Policy{Sqrt0: s0}, Stats: st}
		want := []float64{s0, 0.25, s0, 1, math.NaN()}
		gs, err := ad.Grad(ewSum(ad.Sqrt), []*ad.Var{ad.Const(x)}, o)
		if err != nil {
			t.Fatal(err)
		}
		ewExpect(t, "sqrt grad", gs[0].Value(), func(i int) float64 { return want[i] }, 1e-15)
		if st.Kinks["sqrt"] != 2 {
			t.Errorf("Sqrt0=%v: %d sqrt kinks, want 2", s0, st.Kinks["sqrt"])
		}
		v := tensor.FromFloat64s(tensor.Float64, []float64{3, 1, -2, 1, 1})
		_, tan, err := ad.JVP(func(xs ...*ad.Var) *ad.Var { return ad.Sqrt(xs[0]) }, []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(v)}, o)
		if err != nil {
			t.Fatal(err)
		}
		ewExpect(t, "sqrt tangent", tan.Value(), func(i int) float64 { return want[i] * v.AtFlat(i) }, 1e-15)
		hv, err := ad.HVP(ewSum(ad.Sqrt), []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(tensor.OnesLike(x))}, o)
		if err != nil {
			t.Fatal(err)
		}
		want2 := []float64{0, -1.0 / 32, 0, -2, math.NaN()}
		ewExpect(t, "sqrt HVP", hv[0].Value(), func(i int) float64 { return want2[i] }, 1e-15)
	}
}

func TestSmoothFloat32(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float32, []float64{-1.5, 0.25, 2})
	gs, err := ad.Grad(ewSum(ad.Sigmoid), []*ad.Var{ad.Const(x)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if gs[0].DType() != tensor.Float32 {
		t.Fatalf("gradient dtype %v, want float32", gs[0].DType())
	}
	ewExpect(t, "sigmoid' float32", gs[0].Value(), func(i int) float64 {
		s := 1 / (1 + math.Exp(-x.AtFlat(i)))
		return s * (1 - s)
	}, 1e-6)
}

// TestPrimitivesWithChecker runs ad/check (finite differences, JVP against
// VJP, and the second-order checks) on every primitive of ops_math.go,
// ops_nonsmooth.go and ops_loss.go, away from kinks, in every dtype.
func TestPrimitivesWithChecker(t *testing.T) {
	g := tensor.NewRNG(11)
	un := func(f func(*ad.Var) *ad.Var) ad.Func { return func(xs ...*ad.Var) *ad.Var { return f(xs[0]) } }
	cond := tensor.FromFloat64s(tensor.Float64, []float64{1, 0, 0, 2}, 4)
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16, tensor.BFloat16} {
		for _, c := range []struct {
			name string
			f    ad.Func
			xs   []*tensor.Tensor
		}{
			{"exp", un(ad.Exp), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"log", un(ad.Log), []*tensor.Tensor{ewUniform(g, 0.5, 3, 0, nil, 3, 4)}},
			{"log1p", un(ad.Log1p), []*tensor.Tensor{ewUniform(g, -0.5, 3, 0, nil, 3, 4)}},
			{"expm1", un(ad.Expm1), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"sqrt", un(ad.Sqrt), []*tensor.Tensor{ewUniform(g, 0.5, 3, 0, nil, 3, 4)}},
			{"rsqrt", un(ad.Rsqrt), []*tensor.Tensor{ewUniform(g, 0.5, 3, 0, nil, 3, 4)}},
			{"tanh", un(ad.Tanh), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"sigmoid", un(ad.Sigmoid), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"softplus", un(ad.Softplus), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"sin", un(ad.Sin), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"cos", un(ad.Cos), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"erf", un(ad.Erf), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"gelu", un(ad.GELU), []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"relu", un(ad.Relu), []*tensor.Tensor{ewUniform(g, -2, 2, 0.1, []float64{0}, 3, 4)}},
			{"leaky", un(func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.1) }), []*tensor.Tensor{ewUniform(g, -2, 2, 0.1, []float64{0}, 3, 4)}},
			{"relu6", un(ad.Relu6), []*tensor.Tensor{ewUniform(g, -2, 8, 0.1, []float64{0, 6}, 3, 4)}},
			{"abs", un(ad.Abs), []*tensor.Tensor{ewUniform(g, -2, 2, 0.1, []float64{0}, 3, 4)}},
			{"sign", un(ad.Sign), []*tensor.Tensor{ewUniform(g, -2, 2, 0.1, []float64{0}, 3, 4)}},
			{"clamp", un(func(x *ad.Var) *ad.Var { return ad.Clamp(x, -1, 1) }), []*tensor.Tensor{ewUniform(g, -2, 2, 0.1, []float64{-1, 1}, 3, 4)}},
			{"hinge", un(ad.Hinge), []*tensor.Tensor{ewUniform(g, -2, 2, 0.1, []float64{1}, 3, 4)}},
			{"st", un(func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 0.5) }), []*tensor.Tensor{ewUniform(g, -2, 2, 0.1, []float64{-.5, .5}, 3, 4)}},
			{"maximum", func(xs ...*ad.Var) *ad.Var { return ad.Maximum(xs[0], xs[1]) }, []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 1), ewUniform(g, 2.1, 3, 0, nil, 4)}},
			{"minimum", func(xs ...*ad.Var) *ad.Var { return ad.Minimum(xs[0], xs[1]) }, []*tensor.Tensor{ewUniform(g, -2, -1, 0, nil, 3, 4), ewUniform(g, -0.5, 3, 0, nil, 4)}},
			{"where", func(xs ...*ad.Var) *ad.Var { return ad.Where(cond, xs[0], xs[1]) }, []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4), ewUniform(g, -2, 2, 0, nil, 1)}},
			{"softmax", func(xs ...*ad.Var) *ad.Var { return ad.Softmax(xs[0], 1) }, []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"log_softmax", func(xs ...*ad.Var) *ad.Var { return ad.LogSoftmax(xs[0], 0) }, []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"ce", func(xs ...*ad.Var) *ad.Var { return ad.CrossEntropy(xs[0], []int{1, 0, 3}) }, []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4)}},
			{"mse", func(xs ...*ad.Var) *ad.Var { return ad.MSE(xs[0], xs[1]) }, []*tensor.Tensor{ewUniform(g, -2, 2, 0, nil, 3, 4), ewUniform(g, -2, 2, 0, nil, 4)}},
		} {
			xs := make([]*tensor.Tensor, len(c.xs))
			for i, x := range c.xs {
				xs[i] = x.AsType(d)
			}
			if err := check.All(c.f, xs, &check.Options{Name: c.name}); err != nil {
				t.Errorf("%v %s: %v", d, c.name, err)
			}
		}
	}
}
