package ad_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

func TestNonsmoothRulesAwayFromKinks(t *testing.T) {
	g := tensor.NewRNG(2)
	un := func(f func(*ad.Var) *ad.Var) ewFn { return func(xs ...*ad.Var) *ad.Var { return f(xs[0]) } }
	cond := tensor.FromFloat64s(tensor.Float32, []float64{1, 0, 0, 2}, 4)
	for _, c := range []struct {
		name string
		f    ewFn
		xs   []*tensor.Tensor
	}{
		{"relu", un(ad.Relu), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{0}, 3, 4)}},
		{"leaky_relu", un(func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.1) }), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{0}, 3, 4)}},
		{"relu6", un(ad.Relu6), []*tensor.Tensor{ewUniform(g, -2, 8, 0.01, []float64{0, 6}, 3, 4)}},
		{"abs", un(ad.Abs), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{0}, 3, 4)}},
		{"sign", un(func(x *ad.Var) *ad.Var { return ad.Mul(ad.Sign(x), x) }), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{0}, 3, 4)}},
		{"clamp", un(func(x *ad.Var) *ad.Var { return ad.Clamp(x, -1, 0.5) }), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{-1, 0.5}, 3, 4)}},
		{"clamp_inf", un(func(x *ad.Var) *ad.Var { return ad.Clamp(x, math.Inf(-1), 0.5) }), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{0.5}, 3, 4)}},
		{"hinge", un(ad.Hinge), []*tensor.Tensor{ewUniform(g, -2, 4, 0.01, []float64{1}, 3, 4)}},
		{"soft_threshold", un(func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 0.7) }), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{-0.7, 0.7}, 3, 4)}},
		{"maximum", func(xs ...*ad.Var) *ad.Var { return ad.Maximum(xs[0], xs[1]) },
			[]*tensor.Tensor{ewUniform(g, -1, 1, 0, nil, 3, 4), ewUniform(g, -1, 1, 0, nil, 3, 4)}},
		{"maximum_broadcast", func(xs ...*ad.Var) *ad.Var { return ad.Maximum(xs[0], xs[1]) },
			[]*tensor.Tensor{ewUniform(g, -1, 1, 0, nil, 3, 1), ewUniform(g, -1, 1, 0, nil, 4)}},
		{"minimum_broadcast", func(xs ...*ad.Var) *ad.Var { return ad.Minimum(xs[0], xs[1]) },
			[]*tensor.Tensor{ewUniform(g, -1, 1, 0, nil, 4), ewUniform(g, -1, 1, 0, nil, 2, 3, 4)}},
		{"where", func(xs ...*ad.Var) *ad.Var { return ad.Where(cond, xs[0], xs[1]) },
			[]*tensor.Tensor{ewUniform(g, -1, 1, 0, nil, 3, 4), ewUniform(g, -1, 1, 0, nil, 3, 4)}},
		{"where_broadcast", func(xs ...*ad.Var) *ad.Var { return ad.Where(cond, xs[0], xs[1]) },
			[]*tensor.Tensor{ewUniform(g, -1, 1, 0, nil, 2, 1), ewUniform(g, -1, 1, 0, nil)}},
		// a composite with nonzero second derivatives through the masks
		{"relu·sin", un(func(x *ad.Var) *ad.Var { return ad.Mul(ad.Relu(x), ad.Sin(x)) }), []*tensor.Tensor{ewUniform(g, -3, 3, 0.01, []float64{0}, 3, 4)}},
	} {
		t.Run(c.name, func(t *testing.T) { ewCheckRules(t, c.name, c.f, c.xs, nil) })
	}
}

func TestNonsmoothValues(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{-7, -1, -0.5, 0, 0.5, 1, 6, 7, math.NaN()})
	nan := math.NaN()
	for _, c := range []struct {
		name string
		f    func(*ad.Var) *ad.Var
		want []float64
	}{
		{"relu", ad.Relu, []float64{0, 0, 0, 0, 0.5, 1, 6, 7, nan}},
		{"leaky_relu", func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.1) }, []float64{-0.7, -0.1, -0.05, 0, 0.5, 1, 6, 7, nan}},
		{"relu6", ad.Relu6, []float64{0, 0, 0, 0, 0.5, 1, 6, 6, nan}},
		{"abs", ad.Abs, []float64{7, 1, 0.5, 0, 0.5, 1, 6, 7, nan}},
		{"sign", ad.Sign, []float64{-1, -1, -1, 0, 1, 1, 1, 1, nan}},
		{"clamp", func(x *ad.Var) *ad.Var { return ad.Clamp(x, -1, 1) }, []float64{-1, -1, -0.5, 0, 0.5, 1, 1, 1, nan}},
		{"hinge", ad.Hinge, []float64{8, 2, 1.5, 1, 0.5, 0, 0, 0, nan}},
		{"soft_threshold", func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 1) }, []float64{-6, 0, 0, 0, 0, 0, 5, 6, nan}},
	} {
		got := c.f(ad.Const(x)).Value()
		ewExpect(t, c.name, got, func(i int) float64 { return c.want[i] }, 1e-15)
	}
	a := tensor.FromFloat64s(tensor.Float64, []float64{1, 2, nan, 3})
	b := tensor.FromFloat64s(tensor.Float64, []float64{2, 2, 0, 1})
	ewExpect(t, "maximum", ad.Maximum(ad.Const(a), ad.Const(b)).Value(), func(i int) float64 { return []float64{2, 2, nan, 3}[i] }, 0)
	ewExpect(t, "minimum", ad.Minimum(ad.Const(a), ad.Const(b)).Value(), func(i int) float64 { return []float64{1, 2, nan, 1}[i] }, 0)
	cond := tensor.FromFloat64s(tensor.Float64, []float64{1, 0, 0, -1})
	ewExpect(t, "where", ad.Where(cond, ad.Const(a), ad.Const(b)).Value(), func(i int) float64 { return []float64{1, 2, 0, 3}[i] }, 0)
}

// ewGradAt returns d f/dx (reverse mode) and the tangent along 1 (forward
// mode) of an elementwise f at the points x.
func ewGradAt(t *testing.T, f func(*ad.Var) *ad.Var, x *tensor.Tensor, pol ad.Policy) (rev, fwd *tensor.Tensor) {
	t.Helper()
	o := &ad.Options{Policy: pol}
	gs, err := ad.Grad(ewSum(f), []*ad.Var{ad.Const(x)}, o)
	if err != nil {
		t.Fatal(err)
	}
	_, tan, err := ad.JVP(func(xs ...*ad.Var) *ad.Var { return f(xs[0]) }, []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(tensor.OnesLike(x))}, o)
	if err != nil {
		t.Fatal(err)
	}
	return gs[0].Value(), tan.Value()
}

// TestReluConformance: p(x) = relu(x) − relu(−x) is the identity, but its
// computed derivative at 0 is 2·ReLU0, in both modes.
func TestReluConformance(t *testing.T) {
	x := tensor.Zeros(tensor.Float64, 1)
	p := func(x *ad.Var) *ad.Var { return ad.Sub(ad.Relu(x), ad.Relu(ad.Neg(x))) }
	for _, r := range []float64{0, 0.5, 1} {
		rev, fwd := ewGradAt(t, p, x, ad.Policy{ReLU0: r})
		if rev.AtFlat(0) != 2*r || fwd.AtFlat(0) != 2*r {
			t.Errorf("ReLU0=%v: p'(0) reverse %v, forward %v, want %v", r, rev.AtFlat(0), fwd.AtFlat(0), 2*r)
		}
	}
}

// TestNonsmoothPolicyAtKinks checks the derivative of every unary
// nonsmooth primitive on both sides of and exactly at its kinks, for
// several policies, in reverse and forward mode, and that NaN inputs give
// NaN derivatives.
func TestNonsmoothPolicyAtKinks(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		f    func(*ad.Var) *ad.Var
		pol  ad.Policy
		x    []float64
		want []float64
	}{
		{"relu0", ad.Relu, ad.Policy{}, []float64{-1, 0, 1, nan}, []float64{0, 0, 1, nan}},
		{"relu.3", ad.Relu, ad.Policy{ReLU0: 0.3}, []float64{-1, 0, 1, nan}, []float64{0, 0.3, 1, nan}},
		{"leaky0", func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.2) }, ad.Policy{}, []float64{-1, 0, 1, nan}, []float64{0.2, 0.2, 1, nan}},
		{"leaky.5", func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.2) }, ad.Policy{ReLU0: 0.5}, []float64{-1, 0, 1}, []float64{0.2, 0.6, 1}},
		{"leaky1", func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.2) }, ad.Policy{ReLU0: 1}, []float64{0}, []float64{1}},
		{"relu6_0", ad.Relu6, ad.Policy{}, []float64{-1, 0, 3, 6, 7, nan}, []float64{0, 0, 1, 0, 0, nan}},
		{"relu6_.5", ad.Relu6, ad.Policy{Clamp: 0.5}, []float64{-1, 0, 3, 6, 7}, []float64{0, 0.5, 1, 0.5, 0}},
		{"relu6_1", ad.Relu6, ad.Policy{Clamp: 1, ReLU0: 0.5}, []float64{0, 6}, []float64{1, 1}},
		{"abs0", ad.Abs, ad.Policy{}, []float64{-2, 0, 2, nan}, []float64{-1, 0, 1, nan}},
		{"abs-1", ad.Abs, ad.Policy{Abs0: -1}, []float64{0}, []float64{-1}},
		{"abs.25", ad.Abs, ad.Policy{Abs0: 0.25}, []float64{-2, 0, 2}, []float64{-1, 0.25, 1}},
		{"sign0", ad.Sign, ad.Policy{}, []float64{-2, 0, 2}, []float64{0, 0, 0}},
		{"sign3", ad.Sign, ad.Policy{Sign0: 3}, []float64{-2, 0, 2, nan}, []float64{0, 3, 0, nan}},
		{"sign_away", ad.Sign, ad.Policy{Sign0: 3}, []float64{-2, 2}, []float64{0, 0}},
		{"clamp0", func(x *ad.Var) *ad.Var { return ad.Clamp(x, -1, 2) }, ad.Policy{}, []float64{-3, -1, 0, 2, 3, nan}, []float64{0, 0, 1, 0, 0, nan}},
		{"clamp.7", func(x *ad.Var) *ad.Var { return ad.Clamp(x, -1, 2) }, ad.Policy{Clamp: 0.7}, []float64{-3, -1, 0, 2, 3}, []float64{0, 0.7, 1, 0.7, 0}},
		{"clamp_point", func(x *ad.Var) *ad.Var { return ad.Clamp(x, 1, 1) }, ad.Policy{Clamp: 0.7}, []float64{0, 1, 2}, []float64{0, 0.7, 0}},
		{"hinge0", ad.Hinge, ad.Policy{}, []float64{0, 1, 2, nan}, []float64{-1, 0, 0, nan}},
		{"hinge.4", ad.Hinge, ad.Policy{Hinge0: 0.4}, []float64{0, 1, 2}, []float64{-1, -0.4, 0}},
		{"hinge1", ad.Hinge, ad.Policy{Hinge0: 1}, []float64{1}, []float64{-1}},
		{"st0", func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 0.5) }, ad.Policy{}, []float64{-1, -0.5, 0, 0.5, 1, nan}, []float64{1, 0, 0, 0, 1, nan}},
		{"st.6", func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 0.5) }, ad.Policy{SoftThreshold0: 0.6}, []float64{-1, -0.5, 0, 0.5, 1}, []float64{1, 0.6, 0, 0.6, 1}},
		{"st_lambda0", func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 0) }, ad.Policy{SoftThreshold0: 0.6}, []float64{-1, 0, 1}, []float64{1, 0.6, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := tensor.FromFloat64s(tensor.Float64, c.x)
			rev, fwd := ewGradAt(t, c.f, x, c.pol)
			ewExpect(t, "reverse", rev, func(i int) float64 { return c.want[i] }, 1e-15)
			ewExpect(t, "forward", fwd, func(i int) float64 { return c.want[i] }, 1e-15)
		})
	}
}

// TestPolicyMultipliesCotangent: the choice at a kink scales the incoming
// cotangent rather than replacing it.
func TestPolicyMultipliesCotangent(t *testing.T) {
	x := tensor.Zeros(tensor.Float64, 2)
	u := tensor.FromFloat64s(tensor.Float64, []float64{3, -5})
	_, gs, err := ad.VJP(func(xs ...*ad.Var) *ad.Var { return ad.Relu(xs[0]) }, []*ad.Var{ad.Const(x)}, ad.Const(u), &ad.Options{Policy: ad.Policy{ReLU0: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "relu VJP", gs[0].Value(), func(i int) float64 { return 0.5 * u.AtFlat(i) }, 0)
}

func TestExtremumTies(t *testing.T) {
	a := tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3, 4})
	b := tensor.FromFloat64s(tensor.Float64, []float64{0, 2, 5, 4})
	for _, c := range []struct {
		rule  ad.TieRule
		wTie  float64 // share of the first argument at a tie
		isMax bool
		name  string
	}{
		{ad.TieDefault, 0.5, true, "max/default"},
		{ad.TieSplit, 0.5, true, "max/split"},
		{ad.TieFirst, 1, true, "max/first"},
		{ad.TieLast, 0, true, "max/last"},
		{ad.TieDefault, 0.5, false, "min/default"},
		{ad.TieFirst, 1, false, "min/first"},
		{ad.TieLast, 0, false, "min/last"},
	} {
		t.Run(c.name, func(t *testing.T) {
			op := ad.Maximum
			aWins := []float64{1, 0, 0, 0} // a > b at 0, ties at 1 and 3
			if !c.isMax {
				op = ad.Minimum
				aWins = []float64{0, 0, 1, 0}
			}
			wantA := make([]float64, 4)
			wantB := make([]float64, 4)
			for i := range wantA {
				if a.AtFlat(i) == b.AtFlat(i) {
					wantA[i], wantB[i] = c.wTie, 1-c.wTie
				} else {
					wantA[i], wantB[i] = aWins[i], 1-aWins[i]
				}
			}
			st := &ad.Stats{}
			o := &ad.Options{Policy: ad.Policy{MaxTie: c.rule}, Stats: st}
			f := func(xs ...*ad.Var) *ad.Var { return ad.Sum(op(xs[0], xs[1]), nil, false) }
			gs, err := ad.Grad(f, []*ad.Var{ad.Const(a), ad.Const(b)}, o)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, "grad a", gs[0].Value(), func(i int) float64 { return wantA[i] }, 0)
			ewExpect(t, "grad b", gs[1].Value(), func(i int) float64 { return wantB[i] }, 0)
			name := "maximum"
			if !c.isMax {
				name = "minimum"
			}
			if st.Kinks[name] != 2 {
				t.Errorf("%d %s kinks, want 2", st.Kinks[name], name)
			}
			// forward mode: tangents 1 on a and 10 on b
			va := tensor.OnesLike(a)
			vb := tensor.FullLike(b, 10)
			_, tan, err := ad.JVP(func(xs ...*ad.Var) *ad.Var { return op(xs[0], xs[1]) }, []*ad.Var{ad.Const(a), ad.Const(b)}, []*ad.Var{ad.Const(va), ad.Const(vb)}, o)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, "tangent", tan.Value(), func(i int) float64 { return wantA[i] + 10*wantB[i] }, 1e-15)
		})
	}
	// NaN in either argument gives NaN derivatives
	n := tensor.FromFloat64s(tensor.Float64, []float64{math.NaN()})
	one := tensor.FromFloat64s(tensor.Float64, []float64{1})
	gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.Sum(ad.Maximum(xs[0], xs[1]), nil, false) }, []*ad.Var{ad.Const(n), ad.Const(one)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(gs[0].Item()) || !math.IsNaN(gs[1].Item()) {
		t.Errorf("maximum(NaN, 1): gradients %v %v, want NaN", gs[0].Item(), gs[1].Item())
	}
}

// TestKinkCounts evaluates every nonsmooth primitive on an input with a
// known number of exact kink points.
func TestKinkCounts(t *testing.T) {
	// 3 zeros, 2 sixes, 2 ones, 2 at ±0.5; one NaN (never a kink)
	x := tensor.FromFloat64s(tensor.Float64, []float64{0, -3, 0, 6, 1, -0.5, 0.5, 0, 6, 1, 2.5, math.NaN()})
	for _, c := range []struct {
		prim string
		f    func(*ad.Var) *ad.Var
		want int
	}{
		{"relu", ad.Relu, 3},
		{"leaky_relu", func(x *ad.Var) *ad.Var { return ad.LeakyRelu(x, 0.01) }, 3},
		{"relu6", ad.Relu6, 5},
		{"abs", ad.Abs, 3},
		{"sign", ad.Sign, 3},
		{"sqrt", ad.Sqrt, 3},
		{"clamp", func(x *ad.Var) *ad.Var { return ad.Clamp(x, -0.5, 1) }, 3},
		{"hinge", ad.Hinge, 2},
		{"soft_threshold", func(x *ad.Var) *ad.Var { return ad.SoftThreshold(x, 0.5) }, 2},
		{"maximum", func(x *ad.Var) *ad.Var { return ad.Maximum(x, ad.Scalar(tensor.Float64, 6)) }, 2},
		{"minimum", func(x *ad.Var) *ad.Var { return ad.Minimum(x, ad.Relu(x)) }, 9},
	} {
		for _, mode := range []string{"reverse", "forward"} {
			st := &ad.Stats{}
			o := &ad.Options{Stats: st}
			var err error
			if mode == "reverse" {
				_, err = ad.Grad(ewSum(c.f), []*ad.Var{ad.Const(x)}, o)
			} else {
				_, _, err = ad.JVP(func(xs ...*ad.Var) *ad.Var { return c.f(xs[0]) }, []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(tensor.OnesLike(x))}, o)
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Kinks[c.prim] != c.want {
				t.Errorf("%s (%s): %d kinks, want %d", c.prim, mode, st.Kinks[c.prim], c.want)
			}
		}
	}
}

func TestWhereRouting(t *testing.T) {
	cond := tensor.FromFloat64s(tensor.Float64, []float64{1, 0, 1}, 3)
	a := tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3}, 3)
	b := tensor.FromFloat64s(tensor.Float64, []float64{math.Inf(1)}, 1) // broadcast
	u := tensor.FromFloat64s(tensor.Float64, []float64{10, 20, 30}, 3)
	f := func(xs ...*ad.Var) *ad.Var { return ad.Where(cond, xs[0], xs[1]) }
	_, gs, err := ad.VJP(f, []*ad.Var{ad.Const(a), ad.Const(b)}, ad.Const(u), nil)
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "where ā", gs[0].Value(), func(i int) float64 { return []float64{10, 0, 30}[i] }, 0)
	if len(gs[1].Shape()) != 1 || gs[1].Shape()[0] != 1 || gs[1].Item() != 20 {
		t.Errorf("where b̄ = %v, want [20]", gs[1].Value())
	}
	// an infinite cotangent on the branch not taken does not leak in as NaN
	ui := tensor.FromFloat64s(tensor.Float64, []float64{math.Inf(1), 1, 1}, 3)
	_, gs, err = ad.VJP(f, []*ad.Var{ad.Const(a), ad.Const(b)}, ad.Const(ui), nil)
	if err != nil {
		t.Fatal(err)
	}
	if gs[1].Item() != 1 {
		t.Errorf("where b̄ with Inf on a's branch = %v, want 1", gs[1].Item())
	}
	// the tangent routes the same way
	_, tan, err := ad.JVP(f, []*ad.Var{ad.Const(a), ad.Const(b)}, []*ad.Var{ad.Const(u), ad.Const(tensor.FullLike(b, -1))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "where tangent", tan.Value(), func(i int) float64 { return []float64{10, -1, 30}[i] }, 0)
}

func TestNonsmoothPanics(t *testing.T) {
	x := ad.Const(tensor.Zeros(tensor.Float64, 3))
	for _, c := range []struct {
		name, msg string
		f         func()
	}{
		{"clamp", "ad.Clamp", func() { ad.Clamp(x, 2, 1) }},
		{"clamp_nan", "ad.Clamp", func() { ad.Clamp(x, math.NaN(), 1) }},
		{"soft_threshold", "ad.SoftThreshold", func() { ad.SoftThreshold(x, -1) }},
		{"leaky", "ad.LeakyRelu", func() { ad.LeakyRelu(x, math.Inf(1)) }},
		{"where_shape", "ad.Where", func() { ad.Where(tensor.Zeros(tensor.Float64, 2), x, x) }},
		{"where_nil", "ad.Where", func() { ad.Where(nil, x, x) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.Contains(s, c.msg) {
					t.Errorf("panic %v, want one naming %s", r, c.msg)
				}
			}()
			c.f()
		})
	}
}

// TestNonsmoothSecondOrder: the masks are constants, so second derivatives
// through nonsmooth primitives follow from the smooth parts.
func TestNonsmoothSecondOrder(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{-1, 0, 2})
	for _, r := range []float64{0, 0.5, 1} {
		o := &ad.Options{Policy: ad.Policy{ReLU0: r}}
		m := []float64{0, r, 1}
		for _, c := range []struct {
			name string
			f    func(*ad.Var) *ad.Var
			d2   func(i int) float64
		}{
			{"relu²", func(x *ad.Var) *ad.Var { return ad.Square(ad.Relu(x)) }, func(i int) float64 { return 2 * m[i] * m[i] }},
			{"relu·sin", func(x *ad.Var) *ad.Var { return ad.Mul(ad.Relu(x), ad.Sin(x)) }, func(i int) float64 {
				v := x.AtFlat(i)
				return 2*m[i]*math.Cos(v) - math.Max(v, 0)*math.Sin(v)
			}},
		} {
			gg, err := ad.Grad(func(zs ...*ad.Var) *ad.Var {
				g, err := ad.Grad(ewSum(c.f), zs, o)
				if err != nil {
					t.Fatal(err)
				}
				return ad.Sum(g[0], nil, false)
			}, []*ad.Var{ad.Const(x)}, o)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, c.name+" grad of grad", gg[0].Value(), c.d2, 1e-15)
			hv, err := ad.HVP(ewSum(c.f), []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(tensor.OnesLike(x))}, o)
			if err != nil {
				t.Fatal(err)
			}
			ewExpect(t, c.name+" HVP", hv[0].Value(), c.d2, 1e-15)
		}
	}
}

// The derivative of relu at 0 is the Policy's choice, and the kink is
// counted: relu(x) − relu(−x) is the identity, yet its computed derivative
// at 0 is 2·ReLU0.
func ExampleRelu() {
	p := func(xs ...*ad.Var) *ad.Var { return ad.Sub(ad.Relu(xs[0]), ad.Relu(ad.Neg(xs[0]))) }
	x := ad.Scalar(tensor.Float64, 0)
	for _, r := range []float64{0, 0.5, 1} {
		st := &ad.Stats{}
		g, _ := ad.Grad(p, []*ad.Var{x}, &ad.Options{Policy: ad.Policy{ReLU0: r}, Stats: st})
		fmt.Printf("ReLU0 = %v: p'(0) = %v, relu kinks: %d\n", r, g[0].Item(), st.Kinks["relu"])
	}
	// Output:
	// ReLU0 = 0: p'(0) = 0, relu kinks: 2
	// ReLU0 = 0.5: p'(0) = 1, relu kinks: 2
	// ReLU0 = 1: p'(0) = 2, relu kinks: 2
}

// Maximum shares the derivative of a tie by the Policy's MaxTie.
func ExampleMaximum() {
	f := func(xs ...*ad.Var) *ad.Var { return ad.Maximum(xs[0], xs[1]) }
	a, b := ad.Scalar(tensor.Float64, 3), ad.Scalar(tensor.Float64, 3)
	for _, rule := range []ad.TieRule{ad.TieSplit, ad.TieFirst, ad.TieLast} {
		g, _ := ad.Grad(f, []*ad.Var{a, b}, &ad.Options{Policy: ad.Policy{MaxTie: rule}})
		fmt.Printf("%v: ∂a = %v, ∂b = %v\n", rule, g[0].Item(), g[1].Item())
	}
	// Output:
	// split: ∂a = 0.5, ∂b = 0.5
	// first: ∂a = 1, ∂b = 0
	// last: ∂a = 0, ∂b = 1
}

// TestPoliciesConcurrent: two goroutines differentiate the same program
// under different policies at once; each gets its own choice and counts.
func TestPoliciesConcurrent(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{0, -1, 0, 2})
	f := func(xs ...*ad.Var) *ad.Var {
		return ad.Sum(ad.Add(ad.Relu(xs[0]), ad.Abs(xs[0])), nil, false)
	}
	pols := []ad.Policy{{ReLU0: 0, Abs0: -1}, {ReLU0: 1, Abs0: 0.5}}
	errs := make(chan string, 2*len(pols))
	var wg sync.WaitGroup
	for _, pol := range pols {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				st := &ad.Stats{}
				gs, err := ad.Grad(f, []*ad.Var{ad.Const(x)}, &ad.Options{Policy: pol, Stats: st})
				if err != nil {
					errs <- err.Error()
					return
				}
				want := []float64{pol.ReLU0 + pol.Abs0, -1, pol.ReLU0 + pol.Abs0, 2}
				for i, w := range want {
					if gs[0].Value().AtFlat(i) != w || st.Kinks["relu"] != 2 || st.Kinks["abs"] != 2 {
						errs <- fmt.Sprintf("policy %+v: grad %v, kinks %v", pol, gs[0].Value(), st.Kinks)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
