package prox_test

import (
	"math"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/prox"
	"github.com/gradus-ml/gradus/tensor"
)

// Invalid parameters panic with a message naming the operator.
func TestPanics(t *testing.T) {
	x := ad.Const(vec([]float64{1, 2, 3}))
	s0 := ad.Scalar(tensor.Float64, 0)
	nan := math.NaN()
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"l1_negative", "prox.L1", func() { prox.L1(x, -1) }},
		{"l1_nan", "prox.L1", func() { prox.L1(x, nan) }},
		{"elastic_mu", "prox.ElasticNet", func() { prox.ElasticNet(x, 1, -0.5) }},
		{"l1var_negative", "prox.L1Var", func() { prox.L1Var(x, ad.Scalar(tensor.Float64, -1)) }},
		{"l1var_shape", "prox.L1Var", func() { prox.L1Var(x, ad.Const(vec([]float64{1, 2}))) }},
		{"l1var_grow", "prox.L1Var", func() { prox.L1Var(x, ad.Const(tensor.Ones(tensor.Float64, 2, 3))) }},
		{"l1var_dtype", "prox.L1Var", func() { prox.L1Var(x, ad.Scalar(tensor.Float32, 1)) }},
		{"elastic_var_mu", "prox.ElasticNetVar", func() { prox.ElasticNetVar(x, s0, ad.Scalar(tensor.Float64, -2)) }},
		{"group_range", "prox.GroupLasso", func() { prox.GroupLasso(x, 1, [][]int{{0, 3}}) }},
		{"group_overlap", "prox.GroupLasso", func() { prox.GroupLasso(x, 1, [][]int{{0, 1}, {1, 2}}) }},
		{"group_0d", "prox.GroupLasso", func() { prox.GroupLasso(s0, 1, [][]int{{0}}) }},
		{"box", "prox.ProjBox", func() { prox.ProjBox(x, 2, 1) }},
		{"box_nan", "prox.ProjBox", func() { prox.ProjBox(x, nan, 1) }},
		{"boxvar_order", "prox.ProjBoxVar", func() { prox.ProjBoxVar(x, ad.Scalar(tensor.Float64, 1), s0) }},
		{"boxvar_shape", "prox.ProjBoxVar", func() { prox.ProjBoxVar(x, ad.Const(vec([]float64{0, 0})), s0) }},
		{"boxvar_dtype", "prox.ProjBoxVar", func() { prox.ProjBoxVar(x, s0, ad.Scalar(tensor.Float32, 1)) }},
		{"l2_radius", "prox.ProjL2Ball", func() { prox.ProjL2Ball(x, math.Inf(1)) }},
		{"l2_0d", "prox.ProjL2Ball", func() { prox.ProjL2Ball(s0, 1) }},
		{"simplex_zero", "prox.ProjSimplex", func() { prox.ProjSimplex(x, 0) }},
		{"simplex_0d", "prox.ProjSimplex", func() { prox.ProjSimplex(s0, 1) }},
		{"l1ball_negative", "prox.ProjL1Ball", func() { prox.ProjL1Ball(x, -1) }},
		{"hinge_negative", "prox.Hinge", func() { prox.Hinge(x, -1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if msg, ok := r.(string); !ok || !strings.Contains(msg, c.want) {
					t.Fatalf("panic %v does not name %s", r, c.want)
				}
			}()
			c.f()
		})
	}
}

// Degenerate parameters: a zero threshold is the identity, a zero radius
// projects onto {0}; NaN inputs give NaN outputs.
func TestDegenerate(t *testing.T) {
	x := vec([]float64{0.5, -2, 0})
	for name, f := range map[string]func(*ad.Var) *ad.Var{
		"l1":          func(v *ad.Var) *ad.Var { return prox.L1(v, 0) },
		"elastic_net": func(v *ad.Var) *ad.Var { return prox.ElasticNet(v, 0, 0) },
		"group_lasso": func(v *ad.Var) *ad.Var { return prox.GroupLasso(v, 0, [][]int{{0, 1, 2}}) },
		"hinge":       func(v *ad.Var) *ad.Var { return prox.Hinge(v, 0) },
		"l1_ball_big": func(v *ad.Var) *ad.Var { return prox.ProjL1Ball(v, 10) },
		"l2_ball_big": func(v *ad.Var) *ad.Var { return prox.ProjL2Ball(v, 10) },
	} {
		if got := val(un(f), x); maxDiff(got, x.Float64s()) != 0 {
			t.Errorf("%s: %v, want the identity", name, got)
		}
		j := jacobian(t, f, vec([]float64{0.5, -2, 0.25}), ad.Policy{})
		if matDiff(j, identity(3)) != 0 {
			t.Errorf("%s: Jacobian %v, want I", name, j)
		}
	}
	if got := val(un(func(v *ad.Var) *ad.Var { return prox.ProjL2Ball(v, 0) }), x); maxDiff(got, []float64{0, 0, 0}) != 0 {
		t.Errorf("ProjL2Ball(x, 0) = %v", got)
	}
	xn := vec([]float64{1, math.NaN(), 2})
	for name, f := range map[string]func(*ad.Var) *ad.Var{
		"l1_var":      func(v *ad.Var) *ad.Var { return prox.L1Var(v, ad.Scalar(tensor.Float64, 0.5)) },
		"group_lasso": func(v *ad.Var) *ad.Var { return prox.GroupLasso(v, 0.5, [][]int{{0, 1}}) },
		"hinge":       func(v *ad.Var) *ad.Var { return prox.Hinge(v, 0.5) },
		"l2_ball":     func(v *ad.Var) *ad.Var { return prox.ProjL2Ball(v, 1) },
		"simplex":     func(v *ad.Var) *ad.Var { return prox.ProjSimplex(v, 1) },
		"l1_ball":     func(v *ad.Var) *ad.Var { return prox.ProjL1Ball(v, 1) },
	} {
		got := val(un(f), xn)
		if !math.IsNaN(got[1]) {
			t.Errorf("%s: NaN input gave %v", name, got)
		}
		_, gs, err := ad.VJP(un(f), []*ad.Var{ad.Const(xn)}, ad.Const(tensor.OnesLike(xn)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !math.IsNaN(gs[0].Value().AtFlat(1)) {
			t.Errorf("%s: NaN input gave the derivative %v", name, gs[0].Value().Float64s())
		}
	}
}
