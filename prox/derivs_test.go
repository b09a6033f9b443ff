package prox_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/prox"
	"github.com/gradus-ml/gradus/tensor"
)

// awayFrom returns a uniform tensor in [lo, hi) whose elements stay gap
// away from the points avoid.
func awayFrom(g *tensor.RNG, lo, hi, gap float64, avoid []float64, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float64, shape...)
	for i := range t.Size() {
		for {
			v := lo + (hi-lo)*g.Float64()
			ok := true
			for _, a := range avoid {
				ok = ok && math.Abs(v-a) >= gap
			}
			if ok {
				t.SetFlat(i, v)
				break
			}
		}
	}
	return t
}

// until draws x until ok(x) holds.
func until(draw func() *tensor.Tensor, ok func(x []float64) bool) *tensor.Tensor {
	for {
		x := draw()
		if ok(x.Float64s()) {
			return x
		}
	}
}

// rowsOK applies ok to every row of length d.
func rowsOK(d int, ok func(row []float64) bool) func([]float64) bool {
	return func(x []float64) bool {
		for i := 0; i < len(x); i += d {
			if !ok(x[i : i+d]) {
				return false
			}
		}
		return true
	}
}

// scaledRows draws an n×d Gaussian matrix with rows scaled by random
// factors in [0.2, 3), so that some rows fall inside a unit-size set and
// some outside.
func scaledRows(g *tensor.RNG, n, d int) *tensor.Tensor {
	x := g.Normal(tensor.Float64, n, d)
	v := x.Data64()
	for i := range n {
		s := 0.2 + 2.8*g.Float64()
		for k := range d {
			v[i*d+k] *= s
		}
	}
	return x
}

func un(f func(*ad.Var) *ad.Var) ad.Func { return func(v ...*ad.Var) *ad.Var { return f(v[0]) } }

// withSmooth composes f with a smooth elementwise factor, f(x)·sin(x), so
// that second-order checks see nonzero second derivatives even for
// piecewise-affine operators.
func withSmooth(f func(*ad.Var) *ad.Var) ad.Func {
	return func(v ...*ad.Var) *ad.Var { return ad.Mul(f(v[0]), ad.Sin(v[0])) }
}

// withSmooth3 is withSmooth for an operator of three inputs.
func withSmooth3(f func(a, b, c *ad.Var) *ad.Var) ad.Func {
	return func(v ...*ad.Var) *ad.Var { return ad.Mul(f(v[0], v[1], v[2]), ad.Sin(v[0])) }
}

type derivCase struct {
	name string
	f    ad.Func
	xs   []*tensor.Tensor
}

func derivCases() []derivCase {
	g := tensor.NewRNG(11)
	const lam, r = 0.7, 1.5
	groups := [][]int{{0, 3}, {1, 2, 5}, {4}}
	groupNormsOK := func(row []float64) bool {
		for _, grp := range groups {
			var v []float64
			for _, k := range grp {
				v = append(v, row[k])
			}
			if math.Abs(norm(v)-lam) < 0.1 {
				return false
			}
		}
		return true
	}
	simplexOK := func(row []float64) bool {
		tau := bisectTau(row, r)
		for _, v := range row {
			if math.Abs(v-tau) < 0.05 {
				return false
			}
		}
		return true
	}
	l1BallOK := func(row []float64) bool {
		abs := make([]float64, len(row))
		s := 0.0
		for i, v := range row {
			abs[i] = math.Abs(v)
			s += abs[i]
		}
		if math.Abs(s-r) < 0.1 {
			return false
		}
		if s < r {
			return true
		}
		tau := bisectTau(abs, r)
		for _, v := range abs {
			if math.Abs(v-tau) < 0.05 {
				return false
			}
		}
		return true
	}
	l2OK := func(row []float64) bool { return math.Abs(norm(row)-r) > 0.1 }

	lamCol := g.Uniform(tensor.Float64, 0.3, 1.2, 4)
	lc := lamCol.Float64s()
	xL1Var := until(func() *tensor.Tensor { return g.Uniform(tensor.Float64, -3, 3, 3, 4) }, func(x []float64) bool {
		for i, v := range x {
			if math.Abs(math.Abs(v)-lc[i%4]) < 0.05 {
				return false
			}
		}
		return true
	})
	mu := vec([]float64{0.3}, 1)
	loCol := vec([]float64{-1, -0.7, -0.5, -0.3}, 4)
	xBox := until(func() *tensor.Tensor { return g.Uniform(tensor.Float64, -2, 2, 3, 4) }, func(x []float64) bool {
		for i, v := range x {
			if math.Abs(v-loCol.AtFlat(i%4)) < 0.05 || math.Abs(v-0.8) < 0.05 || math.Abs(v-(0.8+0.1*float64(i/4))) < 0.05 {
				return false
			}
		}
		return true
	})
	return []derivCase{
		{"l1", un(func(x *ad.Var) *ad.Var { return prox.L1(x, lam) }),
			[]*tensor.Tensor{awayFrom(g, -3, 3, 0.05, []float64{-lam, lam}, 3, 4)}},
		{"l1_var", func(v ...*ad.Var) *ad.Var { return prox.L1Var(v[0], v[1]) }, []*tensor.Tensor{xL1Var, lamCol}},
		{"l1_var_scalar", func(v ...*ad.Var) *ad.Var { return prox.L1Var(v[0], v[1]) },
			[]*tensor.Tensor{awayFrom(g, -3, 3, 0.05, []float64{-lam, lam}, 3, 4), vec([]float64{lam}, []int{}...)}},
		{"l1_var·sin", func(v ...*ad.Var) *ad.Var { return ad.Mul(prox.L1Var(v[0], v[1]), ad.Sin(v[0])) },
			[]*tensor.Tensor{xL1Var, lamCol}},
		{"elastic_net", un(func(x *ad.Var) *ad.Var { return prox.ElasticNet(x, lam, 0.4) }),
			[]*tensor.Tensor{awayFrom(g, -3, 3, 0.05, []float64{-lam, lam}, 3, 4)}},
		{"elastic_net_var", func(v ...*ad.Var) *ad.Var { return prox.ElasticNetVar(v[0], v[1], v[2]) },
			[]*tensor.Tensor{xL1Var, lamCol, mu}},
		{"group_lasso", un(func(x *ad.Var) *ad.Var { return prox.GroupLasso(x, lam, groups) }),
			[]*tensor.Tensor{until(func() *tensor.Tensor { return scaledRows(g, 4, 7) }, rowsOK(7, groupNormsOK))}},
		{"weighted_group_lasso", un(func(x *ad.Var) *ad.Var {
			return prox.WeightedGroupLasso(x, []float64{lam, 0, 1.3 * lam}, [][]int{{0, 3}, {1, 2}, {4, 5, 6}})
		}), []*tensor.Tensor{until(func() *tensor.Tensor { return scaledRows(g, 3, 7) }, rowsOK(7, func(row []float64) bool {
			return math.Abs(norm([]float64{row[0], row[3]})-lam) > 0.1 && math.Abs(norm(row[4:])-1.3*lam) > 0.1
		}))}},
		{"group_lasso_1d", un(func(x *ad.Var) *ad.Var { return prox.GroupLasso(x, lam, groups) }),
			[]*tensor.Tensor{until(func() *tensor.Tensor { return scaledRows(g, 1, 7).Reshape(7) }, rowsOK(7, groupNormsOK))}},
		{"hinge", withSmooth(func(x *ad.Var) *ad.Var { return prox.Hinge(x, lam) }),
			[]*tensor.Tensor{awayFrom(g, -2, 3, 0.05, []float64{1 - lam, 1}, 3, 4)}},
		{"box", withSmooth(func(x *ad.Var) *ad.Var { return prox.ProjBox(x, -0.5, 1) }),
			[]*tensor.Tensor{awayFrom(g, -2, 2, 0.05, []float64{-0.5, 1}, 3, 4)}},
		{"box_var", withSmooth3(prox.ProjBoxVar), []*tensor.Tensor{xBox, loCol, vec([]float64{0.8}, []int{}...)}},
		{"box_var_rows", func(v ...*ad.Var) *ad.Var { return prox.ProjBoxVar(v[0], v[1], v[2]) },
			[]*tensor.Tensor{xBox, loCol, vec([]float64{0.8, 0.9, 1}, 3, 1)}},
		{"nonneg", withSmooth(prox.ProjNonNeg),
			[]*tensor.Tensor{awayFrom(g, -2, 2, 0.05, []float64{0}, 3, 4)}},
		{"l2_ball", un(func(x *ad.Var) *ad.Var { return prox.ProjL2Ball(x, r) }),
			[]*tensor.Tensor{until(func() *tensor.Tensor { return scaledRows(g, 5, 4) }, rowsOK(4, l2OK))}},
		{"l2_ball_1d_out", un(func(x *ad.Var) *ad.Var { return prox.ProjL2Ball(x, r) }),
			[]*tensor.Tensor{vec([]float64{2, -1, 0.5})}},
		{"simplex", withSmooth(func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, r) }),
			[]*tensor.Tensor{until(func() *tensor.Tensor { return g.Normal(tensor.Float64, 3, 6) }, rowsOK(6, simplexOK))}},
		{"simplex_3d", un(func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, r) }),
			[]*tensor.Tensor{until(func() *tensor.Tensor { return g.Normal(tensor.Float64, 2, 2, 5) }, rowsOK(5, simplexOK))}},
		{"l1_ball", withSmooth(func(x *ad.Var) *ad.Var { return prox.ProjL1Ball(x, r) }),
			[]*tensor.Tensor{until(func() *tensor.Tensor { return scaledRows(g, 4, 5) }, rowsOK(5, l1BallOK))}},
	}
}

// Away from kinks every operator's rules agree with finite differences in
// reverse and forward mode, with each other, and at second order.
func TestRulesAwayFromKinks(t *testing.T) {
	for _, c := range derivCases() {
		t.Run(c.name, func(t *testing.T) {
			st := &ad.Stats{}
			_, _, err := ad.JVP(c.f, consts(c.xs), consts(onesLike(c.xs)), &ad.Options{Stats: st})
			if err != nil {
				t.Fatal(err)
			}
			if k := st.TotalKinks(); k != 0 {
				t.Fatalf("%d kinks at a point chosen away from kinks: %v", k, st.Kinks)
			}
			if err := check.All(c.f, c.xs, &check.Options{Name: c.name, Seed: 3}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func consts(ts []*tensor.Tensor) []*ad.Var {
	vs := make([]*ad.Var, len(ts))
	for i, x := range ts {
		vs[i] = ad.Const(x)
	}
	return vs
}

func onesLike(ts []*tensor.Tensor) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ts))
	for i, x := range ts {
		out[i] = tensor.OnesLike(x)
	}
	return out
}

// jacobian returns the Jacobian of the one-input f at x in both modes,
// checking that they agree, as a row-major [m][n] matrix.
func jacobian(t *testing.T, f func(*ad.Var) *ad.Var, x *tensor.Tensor, pol ad.Policy) [][]float64 {
	t.Helper()
	var out [2][]float64
	for k, mode := range []ad.JacobianMode{ad.Reverse, ad.ForwardMode} {
		j, err := ad.Jacobian(f, ad.Const(x), mode, &ad.Options{Policy: pol})
		if err != nil {
			t.Fatal(err)
		}
		out[k] = j.Value().Float64s()
	}
	if e := maxDiff(out[0], out[1]); e > 1e-14 {
		t.Fatalf("reverse and forward Jacobians differ by %v", e)
	}
	n := x.Size()
	m := len(out[0]) / n
	rows := make([][]float64, m)
	for i := range rows {
		rows[i] = out[0][i*n : (i+1)*n]
	}
	return rows
}

func matDiff(a, b [][]float64) float64 {
	m := 0.0
	for i := range a {
		m = max(m, maxDiff(a[i], b[i]))
	}
	return m
}

// The Jacobians equal their closed forms, computed independently from
// the solution's support: diag(m) − σσᵀ/|S| for the simplex and the l1
// ball, (r/‖x‖)(I − x xᵀ/‖x‖²) for the l2 ball, the block formula of the
// group lasso.
func TestJacobianClosedForms(t *testing.T) {
	g := tensor.NewRNG(5)
	for range 20 {
		d := 2 + g.IntN(6)
		x := g.Normal(tensor.Float64, d)
		x = tensor.Scale(x, 2)
		xs := x.Float64s()

		// simplex: support of the bisection reference
		s := 0.5 + g.Float64()
		z := slowSimplex(xs, s)
		want := supportJac(z, nil)
		got := jacobian(t, func(v *ad.Var) *ad.Var { return prox.ProjSimplex(v, s) }, x, ad.Policy{})
		if e := matDiff(got, want); e > 1e-15 {
			t.Fatalf("simplex Jacobian at %v: got %v, want %v", xs, got, want)
		}

		// l1 ball (outside for these radii unless x is small)
		z = slowL1Ball(xs, s)
		got = jacobian(t, func(v *ad.Var) *ad.Var { return prox.ProjL1Ball(v, s) }, x, ad.Policy{})
		l1 := 0.0
		for _, v := range xs {
			l1 += math.Abs(v)
		}
		if l1 < s {
			want = identity(d)
		} else {
			want = supportJac(z, xs)
		}
		if e := matDiff(got, want); e > 1e-15 {
			t.Fatalf("l1-ball Jacobian at %v: got %v, want %v", xs, got, want)
		}

		// l2 ball
		n := norm(xs)
		got = jacobian(t, func(v *ad.Var) *ad.Var { return prox.ProjL2Ball(v, s) }, x, ad.Policy{})
		want = identity(d)
		if n > s {
			for i := range want {
				for k := range want[i] {
					want[i][k] = (s / n) * (want[i][k] - xs[i]*xs[k]/(n*n))
				}
			}
		}
		if e := matDiff(got, want); e > 1e-14 {
			t.Fatalf("l2-ball Jacobian at %v: got %v, want %v", xs, got, want)
		}

		// group lasso with one group holding all positions but the last
		lam := 0.5 + g.Float64()
		grp := make([]int, d-1)
		for i := range grp {
			grp[i] = i
		}
		got = jacobian(t, func(v *ad.Var) *ad.Var { return prox.GroupLasso(v, lam, [][]int{grp}) }, x, ad.Policy{})
		want = make([][]float64, d)
		for i := range want {
			want[i] = make([]float64, d)
		}
		want[d-1][d-1] = 1
		ng := norm(xs[:d-1])
		if ng > lam {
			for i := range d - 1 {
				for k := range d - 1 {
					want[i][k] = lam * xs[i] * xs[k] / (ng * ng * ng)
					if i == k {
						want[i][k] += 1 - lam/ng
					}
				}
			}
		}
		if e := matDiff(got, want); e > 1e-14 {
			t.Fatalf("group-lasso Jacobian at %v: got %v, want %v", xs, got, want)
		}
	}
}

func identity(d int) [][]float64 {
	m := make([][]float64, d)
	for i := range m {
		m[i] = make([]float64, d)
		m[i][i] = 1
	}
	return m
}

// supportJac is diag(m) − σσᵀ/|S| for the support S of z (σ = sign(x) on
// S, or 1 when x is nil).
func supportJac(z, x []float64) [][]float64 {
	d := len(z)
	sig := make([]float64, d)
	cnt := 0.0
	for i, v := range z {
		if v != 0 {
			sig[i] = 1
			if x != nil && x[i] < 0 {
				sig[i] = -1
			}
			cnt++
		}
	}
	j := make([][]float64, d)
	for i := range j {
		j[i] = make([]float64, d)
		for k := range j[i] {
			j[i][k] = -sig[i] * sig[k] / cnt
		}
		if sig[i] != 0 {
			j[i][i]++
		}
	}
	return j
}

// A batch is processed row by row: values and derivatives equal those of
// the rows taken one at a time.
func TestBatchedEqualsRows(t *testing.T) {
	g := tensor.NewRNG(9)
	ops := map[string]func(*ad.Var) *ad.Var{
		"simplex":     func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, 1) },
		"l1_ball":     func(x *ad.Var) *ad.Var { return prox.ProjL1Ball(x, 1.5) },
		"l2_ball":     func(x *ad.Var) *ad.Var { return prox.ProjL2Ball(x, 1.5) },
		"group_lasso": func(x *ad.Var) *ad.Var { return prox.GroupLasso(x, 0.8, [][]int{{0, 2}, {1, 3}}) },
	}
	names := make([]string, 0, len(ops))
	for n := range ops {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		f := ops[name]
		x := scaledRows(g, 6, 5)
		u := g.Normal(tensor.Float64, 6, 5)
		y := val(un(f), x)
		gb := vjp(t, un(f), []*tensor.Tensor{x}, u, ad.Policy{})[0]
		for i := range 6 {
			xr := tensor.Slice(x, 0, i, i+1).Reshape(5)
			ur := tensor.Slice(u, 0, i, i+1).Reshape(5)
			if e := maxDiff(val(un(f), xr), y[i*5:(i+1)*5]); e != 0 {
				t.Fatalf("%s: row %d value differs by %v", name, i, e)
			}
			gr := vjp(t, un(f), []*tensor.Tensor{xr}, ur, ad.Policy{})[0]
			if e := maxDiff(gr, gb[i*5:(i+1)*5]); e > 1e-15 {
				t.Fatalf("%s: row %d gradient differs by %v", name, i, e)
			}
		}
	}
}

// Float32 inputs give float32 outputs and derivatives that pass the
// checker at float32 tolerances.
func TestFloat32(t *testing.T) {
	for _, c := range derivCases() {
		xs := make([]*tensor.Tensor, len(c.xs))
		for i, x := range c.xs {
			xs[i] = x.AsType(tensor.Float32)
		}
		y := c.f(consts(xs)...)
		if y.DType() != tensor.Float32 {
			t.Fatalf("%s: float32 input gave %v", c.name, y.DType())
		}
		if err := check.Gradient(c.f, xs, &check.Options{Name: c.name}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
}

// The scaling recipe of the package documentation gives derivatives with
// respect to a radius that match the closed forms: ∂P/∂r = x/‖x‖ outside
// the l2 ball, m/|S| for the simplex with sum r (m the support).
func TestDifferentiableRadius(t *testing.T) {
	x := vec([]float64{2, -1, 0.5, 1.25})
	r := ad.Scalar(tensor.Float64, 1.5)
	for _, c := range []struct {
		name string
		f    ad.Func
		want func(x []float64, r float64) []float64
	}{
		{"l2_ball", func(v ...*ad.Var) *ad.Var { return ad.Mul(v[1], prox.ProjL2Ball(ad.Div(v[0], v[1]), 1)) },
			func(x []float64, r float64) []float64 {
				n := norm(x)
				d := make([]float64, len(x))
				for i := range x {
					d[i] = x[i] / n
				}
				return d
			}},
		{"simplex", func(v ...*ad.Var) *ad.Var { return ad.Mul(v[1], prox.ProjSimplex(ad.Div(v[0], v[1]), 1)) },
			func(x []float64, r float64) []float64 {
				z := slowSimplex(x, r)
				d := make([]float64, len(x))
				cnt := 0.0
				for _, e := range z {
					if e > 0 {
						cnt++
					}
				}
				for i, e := range z {
					if e > 0 {
						d[i] = 1 / cnt
					}
				}
				return d
			}},
	} {
		_, tan, err := ad.JVP(c.f, []*ad.Var{ad.Const(x), r}, []*ad.Var{ad.Const(tensor.ZerosLike(x)), ad.Scalar(tensor.Float64, 1)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := c.want(x.Float64s(), r.Item()); maxDiff(tan.Value().Float64s(), want) > 1e-14 {
			t.Errorf("%s: ∂P/∂r = %v, want %v", c.name, tan.Value().Float64s(), want)
		}
		if err := check.All(c.f, []*tensor.Tensor{x, r.Value()}, &check.Options{Name: c.name}); err != nil {
			t.Error(err)
		}
	}
}

// The first-order rules run plain loops; inside an outer differentiation
// they run Var operations. Both give the same derivative.
func TestDirectRulesMatchTraced(t *testing.T) {
	g := tensor.NewRNG(17)
	ops := []struct {
		name string
		f    func(*ad.Var) *ad.Var
	}{
		{"simplex", func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, 1) }},
		{"l1_ball", func(x *ad.Var) *ad.Var { return prox.ProjL1Ball(x, 1.5) }},
		{"l2_ball", func(x *ad.Var) *ad.Var { return prox.ProjL2Ball(x, 1.5) }},
		{"group_lasso", func(x *ad.Var) *ad.Var {
			return prox.WeightedGroupLasso(x, []float64{0.8, 1.5}, [][]int{{0, 2}, {1, 3, 4}})
		}},
	}
	for _, op := range ops {
		for _, pol := range []ad.Policy{{}, {SortTie: ad.TieSplit, Clamp: 0.3, SoftThreshold0: 0.6}} {
			x := scaledRows(g, 6, 6)
			u := ad.Const(g.Normal(tensor.Float64, 6, 6))
			o := &ad.Options{Policy: pol}
			_, fast, err := ad.VJP(un(op.f), []*ad.Var{ad.Const(x)}, u, o)
			if err != nil {
				t.Fatal(err)
			}
			inner := func(v ...*ad.Var) *ad.Var {
				_, gs, err := ad.VJP(un(op.f), v, u, o)
				if err != nil {
					t.Fatal(err)
				}
				return gs[0]
			}
			slow, _, err := ad.JVP(inner, []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(tensor.OnesLike(x))}, o)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxDiff(fast[0].Value().Float64s(), slow.Value().Float64s()); e > 1e-13 {
				t.Errorf("%s: direct and traced rules differ by %v", op.name, e)
			}
		}
	}
}

// At the constructed kinks too, the direct and traced rules agree for
// every Policy choice.
func TestDirectRulesMatchTracedAtKinks(t *testing.T) {
	g := tensor.NewRNG(18)
	for _, c := range kinkCases() {
		y := c.f(consts(c.xs)...)
		u := ad.Const(g.Normal(tensor.Float64, y.Value().Size()).Reshape(y.Shape()...))
		for _, w := range []float64{0, 0.5, 1} {
			o := &ad.Options{Policy: c.pol(w)}
			_, fast, err := ad.VJP(c.f, consts(c.xs), u, o)
			if err != nil {
				t.Fatal(err)
			}
			inner := func(v ...*ad.Var) *ad.Var {
				_, gs, err := ad.VJP(c.f, v, u, o)
				if err != nil {
					t.Fatal(err)
				}
				return gs[0]
			}
			slow, _, err := ad.JVP(inner, consts(c.xs), consts(onesLike(c.xs)), o)
			if err != nil {
				t.Fatal(err)
			}
			if e := maxDiff(fast[0].Value().Float64s(), slow.Value().Float64s()); e > 1e-13 {
				t.Errorf("%s, choice %v: direct and traced rules differ by %v", c.name, w, e)
			}
		}
	}
}
