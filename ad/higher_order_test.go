package ad_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Higher-order derivatives against closed forms, and nesting of the two
// modes without perturbation confusion.

// hoClose fails unless |got − want| ≤ tol elementwise.
func hoClose(t *testing.T, what string, got *tensor.Tensor, want []float64, tol float64) {
	t.Helper()
	if got.Size() != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, got.Size(), len(want))
	}
	worst, at := 0.0, -1
	for i, w := range want {
		if e := math.Abs(got.AtFlat(i) - w); e > worst || math.IsNaN(e) {
			worst, at = e, i
			if math.IsNaN(e) {
				worst = math.Inf(1)
			}
		}
	}
	if worst > tol {
		t.Errorf("%s: element %d is %v, want %v (error %.3g > %.3g)", what, at, got.AtFlat(at), want[at], worst, tol)
	}
}

// rosenbrock is Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)².
func rosenbrock(xs ...*ad.Var) *ad.Var {
	n := xs[0].Shape()[0]
	a := ad.SliceAxis(xs[0], 0, 0, n-1)
	b := ad.SliceAxis(xs[0], 0, 1, n)
	r := ad.Sub(b, ad.Square(a))
	s := ad.AddScalar(ad.Neg(a), 1)
	return ad.SumAll(ad.Add(ad.Scale(ad.Square(r), 100), ad.Square(s)))
}

// rosenbrockHv is the analytic Hessian of rosenbrock times v:
// H_ii = 2 + 1200xᵢ² − 400xᵢ₊₁ (i < n−1) + 200 (i > 0),
// H_i,i+1 = H_i+1,i = −400xᵢ.
func rosenbrockHv(x, v []float64) []float64 {
	n := len(x)
	hv := make([]float64, n)
	for i := range n {
		d := 0.0
		if i < n-1 {
			d += 2 + 1200*x[i]*x[i] - 400*x[i+1]
			hv[i] += -400 * x[i] * v[i+1]
		}
		if i > 0 {
			d += 200
			hv[i] += -400 * x[i-1] * v[i-1]
		}
		hv[i] += d * v[i]
	}
	return hv
}

// lseHv is the Hessian of log Σ exp(x) times v: p⊙v − p·(pᵀv) with p the
// softmax of x.
func lseHv(x, v []float64) []float64 {
	m := math.Inf(-1)
	for _, xi := range x {
		m = max(m, xi)
	}
	p := make([]float64, len(x))
	z := 0.0
	for i, xi := range x {
		p[i] = math.Exp(xi - m)
		z += p[i]
	}
	pv := 0.0
	for i := range p {
		p[i] /= z
		pv += p[i] * v[i]
	}
	hv := make([]float64, len(x))
	for i := range hv {
		hv[i] = p[i]*v[i] - p[i]*pv
	}
	return hv
}

func TestHVPClosedForms(t *testing.T) {
	lse := func(xs ...*ad.Var) *ad.Var { return ad.LogSumExp(xs[0], nil, false) }
	for _, c := range []struct {
		name string
		f    ad.Func
		hv   func(x, v []float64) []float64
		lo   float64
		hi   float64
	}{
		{"rosenbrock", rosenbrock, rosenbrockHv, -2, 2},
		{"logsumexp", lse, lseHv, -3, 3},
	} {
		for _, n := range []int{5, 50} {
			g := tensor.NewRNG(uint64(n))
			x := g.Uniform(tensor.Float64, c.lo, c.hi, n)
			v := g.Normal(tensor.Float64, n)
			hv, err := ad.HVP(c.f, coreConsts(x), coreConsts(v), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := c.hv(x.Float64s(), v.Float64s())
			hoClose(t, fmt.Sprintf("%s n=%d HVP", c.name, n), hv[0].Value(), want, 1e-10)
			// and the whole Hessian, one HVP per basis vector
			for j := range n {
				e := tensor.Zeros(tensor.Float64, n)
				e.SetFlat(j, 1)
				col, err := ad.HVP(c.f, coreConsts(x), coreConsts(e), nil)
				if err != nil {
					t.Fatal(err)
				}
				hoClose(t, fmt.Sprintf("%s n=%d Hessian column %d", c.name, n, j), col[0].Value(), c.hv(x.Float64s(), e.Float64s()), 1e-10)
			}
		}
	}
}

// TestSecondDerivativeOfCube: d²/dx² x³ at 2 is 12 in all four nestings of
// the two modes, for x³ written as a product and as a power; the third
// derivative is 6.
func TestSecondDerivativeOfCube(t *testing.T) {
	x := coreConsts(tensor.Scalar(tensor.Float64, 2))
	one := coreConsts(tensor.Scalar(tensor.Float64, 1))
	for _, cube := range []struct {
		name string
		f    ad.Func
	}{
		{"x·x·x", func(z ...*ad.Var) *ad.Var { return ad.Mul(z[0], ad.Mul(z[0], z[0])) }},
		{"x^3", func(z ...*ad.Var) *ad.Var { return ad.PowScalar(z[0], 3) }},
	} {
		f := cube.f
		// first derivatives as functions, in each mode
		dRev := func(z ...*ad.Var) *ad.Var {
			g, err := ad.Grad(f, z, nil)
			if err != nil {
				panic(err)
			}
			return g[0]
		}
		dFwd := func(z ...*ad.Var) *ad.Var {
			_, tan, err := ad.JVP(f, z, one, nil)
			if err != nil {
				panic(err)
			}
			return tan
		}
		second := map[string]func() (*ad.Var, error){
			"reverse over reverse": func() (*ad.Var, error) {
				g, err := ad.Grad(dRev, x, nil)
				if err != nil {
					return nil, err
				}
				return g[0], nil
			},
			"forward over reverse (HVP)": func() (*ad.Var, error) {
				h, err := ad.HVP(f, x, one, nil)
				if err != nil {
					return nil, err
				}
				return h[0], nil
			},
			"forward over forward": func() (*ad.Var, error) {
				_, tan, err := ad.JVP(dFwd, x, one, nil)
				return tan, err
			},
			"reverse over forward": func() (*ad.Var, error) {
				g, err := ad.Grad(dFwd, x, nil)
				if err != nil {
					return nil, err
				}
				return g[0], nil
			},
		}
		for mode, run := range second {
			d2, err := run()
			if err != nil {
				t.Fatalf("%s %s: %v", cube.name, mode, err)
			}
			if got := d2.Item(); got != 12 {
				t.Errorf("%s %s: d²/dx² at 2 = %v, want 12", cube.name, mode, got)
			}
		}
		// third derivative: reverse over forward over reverse
		d2 := func(z ...*ad.Var) *ad.Var {
			_, tan, err := ad.JVP(dRev, z, one, nil)
			if err != nil {
				panic(err)
			}
			return tan
		}
		g3, err := ad.Grad(d2, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := g3[0].Item(); got != 6 {
			t.Errorf("%s: d³/dx³ = %v, want 6", cube.name, got)
		}
	}
}

// TestJacobianModes: the Jacobian computed forward (one JVP per input
// element) equals the one computed in reverse (one VJP per output element),
// and both equal the closed form, including the layout y.Shape ++ x.Shape.
func TestJacobianModes(t *testing.T) {
	g := tensor.NewRNG(5)
	// y = tanh(A·x) + (Σ x²)·b, R³ → R⁴: J_ij = (1 − tanh²((Ax)_i))·A_ij + 2·b_i·x_j
	a := g.Normal(tensor.Float64, 4, 3)
	b := g.Normal(tensor.Float64, 4)
	x := g.Normal(tensor.Float64, 3)
	f := func(v *ad.Var) *ad.Var {
		ax := ad.Reshape(ad.MatMul(ad.Const(a), ad.Reshape(v, 3, 1)), 4)
		return ad.Add(ad.Tanh(ax), ad.Mul(ad.SumAll(ad.Square(v)), ad.Const(b)))
	}
	want := make([]float64, 12)
	for i := range 4 {
		s := 0.0
		for j := range 3 {
			s += a.At(i, j) * x.At(j)
		}
		th := math.Tanh(s)
		for j := range 3 {
			want[3*i+j] = (1-th*th)*a.At(i, j) + 2*b.At(i)*x.At(j)
		}
	}
	// X ↦ X·Xᵀ for X of shape [2, 3]: J[i,j,k,l] = δ_ik X_jl + δ_jk X_il
	xm := g.Normal(tensor.Float64, 2, 3)
	fm := func(v *ad.Var) *ad.Var { return ad.MatMulT(v, v, false, true) }
	wantM := make([]float64, 2*2*2*3)
	for i := range 2 {
		for j := range 2 {
			for k := range 2 {
				for l := range 3 {
					w := 0.0
					if i == k {
						w += xm.At(j, l)
					}
					if j == k {
						w += xm.At(i, l)
					}
					wantM[((i*2+j)*2+k)*3+l] = w
				}
			}
		}
	}
	for _, c := range []struct {
		name  string
		f     func(*ad.Var) *ad.Var
		x     *tensor.Tensor
		shape []int
		want  []float64
	}{
		{"tanh(Ax) + |x|²b", f, x, []int{4, 3}, want},
		{"X·Xᵀ", fm, xm, []int{2, 2, 2, 3}, wantM},
	} {
		jr, err := ad.Jacobian(c.f, ad.Const(c.x), ad.Reverse, nil)
		if err != nil {
			t.Fatal(err)
		}
		jf, err := ad.Jacobian(c.f, ad.Const(c.x), ad.ForwardMode, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range []*ad.Var{jr, jf} {
			if fmt.Sprint(j.Shape()) != fmt.Sprint(c.shape) {
				t.Errorf("%s: Jacobian shape %v, want %v", c.name, j.Shape(), c.shape)
			}
		}
		hoClose(t, c.name+" forward vs reverse", jf.Value(), jr.Value().Float64s(), 1e-14)
		hoClose(t, c.name+" reverse vs closed form", jr.Value(), c.want, 1e-13)
		hoClose(t, c.name+" forward vs closed form", jf.Value(), c.want, 1e-13)
	}
}

// TestNoPerturbationConfusion runs the classic examples of Siskind and
// Pearlmutter in every nesting of the two modes:
//
//	d/dx [x · d/dy (x·y)]   = d/dx x²  = 2x,
//	d/dx [x · d/dy (x + y)] = d/dx x   = 1,
//
// with the inner derivative at y = 1. Confusing the inner and outer
// perturbations gives 3x and 2 instead.
func TestNoPerturbationConfusion(t *testing.T) {
	type deriv func(f func(*ad.Var) *ad.Var, at *ad.Var) *ad.Var
	rev := func(f func(*ad.Var) *ad.Var, at *ad.Var) *ad.Var {
		g, err := ad.Grad(func(z ...*ad.Var) *ad.Var { return f(z[0]) }, []*ad.Var{at}, nil)
		if err != nil {
			panic(err)
		}
		return g[0]
	}
	fwd := func(f func(*ad.Var) *ad.Var, at *ad.Var) *ad.Var {
		one := ad.Const(tensor.OnesLike(at.Value()))
		_, tan, err := ad.JVP(func(z ...*ad.Var) *ad.Var { return f(z[0]) }, []*ad.Var{at}, []*ad.Var{one}, nil)
		if err != nil {
			panic(err)
		}
		return tan
	}
	modes := []struct {
		name string
		d    deriv
	}{{"reverse", rev}, {"forward", fwd}}
	x0 := 3.0
	for _, ex := range []struct {
		name  string
		inner func(x, y *ad.Var) *ad.Var
		want  float64
	}{
		{"x·y", ad.Mul, 2 * x0},
		{"x+y", ad.Add, 1},
	} {
		for _, outer := range modes {
			for _, inner := range modes {
				y1 := ad.Scalar(tensor.Float64, 1)
				h := func(x *ad.Var) *ad.Var {
					dy := inner.d(func(y *ad.Var) *ad.Var { return ex.inner(x, y) }, y1)
					return ad.Mul(x, dy)
				}
				got := outer.d(h, ad.Scalar(tensor.Float64, x0)).Item()
				if got != ex.want {
					t.Errorf("d/dx [x · d/dy (%s)] with %s outside, %s inside: %v, want %v", ex.name, outer.name, inner.name, got, ex.want)
				}
			}
		}
	}
}
