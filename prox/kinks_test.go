package prox_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/prox"
	"github.com/gradus-ml/gradus/tensor"
)

// kinkCase is a point exactly at a kink of an operator and a direction
// crossing it. pol(w) is the Policy whose kink choice is w ∈ [0, 1] (for
// SortTie: 0 TieFirst, 1 TieLast, ½ TieSplit); w = 1 must give the
// one-sided derivative from the side oneIs (+1 right: x + εv, −1 left:
// x − εv), and w = 0 that from the other side.
type kinkCase struct {
	name   string
	f      ad.Func
	xs, vs []*tensor.Tensor
	pol    func(w float64) ad.Policy
	oneIs  float64
	prim   string
	kinks  int
}

func sortTie(w float64) ad.Policy {
	switch w {
	case 0:
		return ad.Policy{SortTie: ad.TieFirst}
	case 1:
		return ad.Policy{SortTie: ad.TieLast}
	}
	return ad.Policy{SortTie: ad.TieSplit}
}

func kinkCases() []kinkCase {
	v := func(x ...float64) *tensor.Tensor { return vec(x) }
	one := func(x *tensor.Tensor) []*tensor.Tensor { return []*tensor.Tensor{x} }
	soft := func(w float64) ad.Policy { return ad.Policy{SoftThreshold0: w} }
	clamp := func(w float64) ad.Policy { return ad.Policy{Clamp: w} }
	return []kinkCase{
		{"l1", un(func(x *ad.Var) *ad.Var { return prox.L1(x, 0.5) }),
			one(v(0.5, -0.5, 2, 0.1)), one(v(1, -1, 1, 1)), soft, +1, "soft_threshold", 2},
		{"l1_var_lambda", func(x ...*ad.Var) *ad.Var { return prox.L1Var(x[0], x[1]) },
			[]*tensor.Tensor{v(0.5, -0.5, 2), vec([]float64{0.5}, []int{}...)},
			[]*tensor.Tensor{v(0, 0, 0), vec([]float64{1}, []int{}...)}, soft, -1, "prox_l1", 2},
		{"l1_var_both", func(x ...*ad.Var) *ad.Var { return prox.L1Var(x[0], x[1]) },
			[]*tensor.Tensor{v(0.5, -0.25, 2), v(0.5, 0.25, 1)},
			[]*tensor.Tensor{v(1, -0.5, -1), v(-1, 0.25, 2)}, soft, +1, "prox_l1", 2},
		{"elastic_net", un(func(x *ad.Var) *ad.Var { return prox.ElasticNet(x, 0.5, 1) }),
			one(v(0.5, -0.5, 2)), one(v(1, -1, 1)), soft, +1, "soft_threshold", 2},
		{"group_lasso", un(func(x *ad.Var) *ad.Var { return prox.GroupLasso(x, 1.25, [][]int{{0, 2}, {1}}) }),
			one(v(0.75, 5, 1, 0.1)), one(v(0.3, 1, 0.7, 1)), soft, +1, "prox_group_lasso", 1},
		{"group_lasso_rows", un(func(x *ad.Var) *ad.Var { return prox.GroupLasso(x, 1.25, [][]int{{0, 1}}) }),
			one(vec([]float64{0.75, 1, 1, -0.75, 0.1, 0.2}, 3, 2)), one(vec([]float64{1, 0.5, 0.5, -0.3, 1, 1}, 3, 2)), soft, +1, "prox_group_lasso", 2},
		{"l2_ball", un(func(x *ad.Var) *ad.Var { return prox.ProjL2Ball(x, 5) }),
			one(vec([]float64{3, 4, 0.5, 0.5}, 2, 2)), one(vec([]float64{1, 0.5, 1, 1}, 2, 2)), clamp, -1, "proj_l2_ball", 1},
		{"box", un(func(x *ad.Var) *ad.Var { return prox.ProjBox(x, -0.5, 1) }),
			one(v(-0.5, 1, 0.25)), one(v(1, -1, 1)), clamp, +1, "clamp", 2},
		{"box_var_x", func(x ...*ad.Var) *ad.Var { return prox.ProjBoxVar(x[0], x[1], x[2]) },
			[]*tensor.Tensor{v(-0.5, 1, 0.25), v(-0.5, 0, 0), v(1)}, []*tensor.Tensor{v(1, -1, 1), v(0, 0, 0), v(0)},
			clamp, +1, "proj_box", 2},
		{"box_var_bounds", func(x ...*ad.Var) *ad.Var { return prox.ProjBoxVar(x[0], x[1], x[2]) },
			[]*tensor.Tensor{v(-0.5, 1, 0.25), v(-0.5, 0, 0), v(1)}, []*tensor.Tensor{v(0, 0, 0), v(1, 0, 0), v(-1)},
			clamp, -1, "proj_box", 2},
		{"nonneg", un(prox.ProjNonNeg), one(v(0, 2, -1)), one(v(1, 1, 1)), clamp, +1, "clamp", 1},
		{"simplex", un(func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, 1) }),
			one(v(2, 1, 1, 0)), one(v(0, 1, 1, 0)), sortTie, +1, "proj_simplex", 2},
		{"simplex_one", un(func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, 1) }),
			one(v(2, 1, 0)), one(v(0.25, 1, -1)), sortTie, +1, "proj_simplex", 1},
		{"simplex_rows", un(func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, 1) }),
			one(vec([]float64{2, 1, 0, 0.2, 0.3, 0.1}, 2, 3)), one(vec([]float64{0, 1, 0, 1, 2, 3}, 2, 3)), sortTie, +1, "proj_simplex", 1},
		{"l1_ball", un(func(x *ad.Var) *ad.Var { return prox.ProjL1Ball(x, 1) }),
			one(v(2, -1, 0.5)), one(v(0, -1, 0)), sortTie, +1, "proj_l1_ball", 1},
		{"l1_ball_sphere", un(func(x *ad.Var) *ad.Var { return prox.ProjL1Ball(x, 1) }),
			one(v(0.5, -0.25, 0, 0.25)), one(v(0.5, -0.25, 0, 0.25)), clamp, -1, "proj_l1_ball", 1},
		{"l1_ball_sphere_tangent", un(func(x *ad.Var) *ad.Var { return prox.ProjL1Ball(x, 1) }),
			one(v(0.5, -0.25, 0, 0.25)), one(v(1, 0, 0, 0)), clamp, -1, "proj_l1_ball", 1},
		{"hinge", un(func(x *ad.Var) *ad.Var { return prox.Hinge(x, 0.5) }),
			one(v(0.5, 1, 0.75, -1, 3)), one(v(-1, 1, 1, 1, 1)), func(w float64) ad.Policy { return ad.Policy{Hinge0: w} },
			+1, "prox_hinge", 2},
	}
}

// At a constructed kink the two extreme Policy choices give the two
// one-sided derivatives (one-sided finite differences), the midpoint gives
// their average, forward and reverse mode use the same element, and the
// kinks are counted.
func TestPolicyAtKinks(t *testing.T) {
	g := tensor.NewRNG(4)
	for _, c := range kinkCases() {
		t.Run(c.name, func(t *testing.T) {
			right := oneSided(c.f, c.xs, c.vs, +1)
			left := oneSided(c.f, c.xs, c.vs, -1)
			if maxDiff(right, left) < 0.05 {
				t.Fatalf("not a kink along v: one-sided derivatives %v and %v", right, left)
			}
			side1, side0 := right, left
			if c.oneIs < 0 {
				side1, side0 = left, right
			}
			y := val(c.f, c.xs...)
			u := g.Normal(tensor.Float64, len(y)).Reshape(c.f(consts(c.xs)...).Shape()...)
			for _, w := range []float64{0, 1, 0.5} {
				want := make([]float64, len(side1))
				for i := range want {
					want[i] = w*side1[i] + (1-w)*side0[i]
				}
				st := &ad.Stats{}
				got := jvp(t, c.f, c.xs, c.vs, c.pol(w), st)
				if e := maxDiff(got, want); e > 1e-8 {
					t.Errorf("choice %v: JVP %v, want %v (right %v, left %v)", w, got, want, right, left)
				}
				if k := st.Kinks[c.prim]; k != c.kinks {
					t.Errorf("choice %v: %d kinks under %q, want %d (%v)", w, k, c.prim, c.kinks, st.Kinks)
				}
				// ⟨u, J v⟩ through VJP
				gs := vjp(t, c.f, c.xs, u, c.pol(w))
				a := dot(u.Float64s(), got)
				b := 0.0
				for i := range gs {
					b += dot(gs[i], c.vs[i].Float64s())
				}
				if math.Abs(a-b) > 1e-12*(1+math.Abs(a)) {
					t.Errorf("choice %v: ⟨u, JVP(v)⟩ = %v but ⟨VJP(u), v⟩ = %v", w, a, b)
				}
			}
		})
	}
}

// Sort ties away from the threshold are not kinks: the projection is
// smooth there and every tie rule gives the same derivative.
func TestSortTiesAwayFromThreshold(t *testing.T) {
	x := vec([]float64{2, 2, -1, 0.5, 0.5})
	for _, name := range []string{"simplex", "l1_ball"} {
		f := func(v *ad.Var) *ad.Var { return prox.ProjSimplex(v, 1) }
		if name == "l1_ball" {
			f = func(v *ad.Var) *ad.Var { return prox.ProjL1Ball(v, 1) }
		}
		var first [][]float64
		for _, tie := range []ad.TieRule{ad.TieFirst, ad.TieLast, ad.TieSplit, ad.TieDefault} {
			st := &ad.Stats{}
			_, _, err := ad.JVP(un(f), []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(tensor.OnesLike(x))}, &ad.Options{Stats: st})
			if err != nil {
				t.Fatal(err)
			}
			if st.TotalKinks() != 0 {
				t.Fatalf("%s: %v kinks", name, st.Kinks)
			}
			j := jacobian(t, f, x, ad.Policy{SortTie: tie})
			if first == nil {
				first = j
			} else if matDiff(j, first) != 0 {
				t.Fatalf("%s: tie rule %v changes the Jacobian", name, tie)
			}
		}
	}
}

// Policies belong to each differentiation: goroutines differentiating the
// same operator at the same kink under different choices do not interfere.
func TestPoliciesConcurrent(t *testing.T) {
	x := vec([]float64{2, 1, 1, 0})
	v := vec([]float64{0, 1, 1, 0})
	f := un(func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, 1) })
	want := map[ad.TieRule][]float64{
		ad.TieFirst: {0, 0, 0, 0},
		ad.TieLast:  {-2.0 / 3, 1.0 / 3, 1.0 / 3, 0},
	}
	errs := make(chan error, 8)
	for k := range 8 {
		tie := []ad.TieRule{ad.TieFirst, ad.TieLast}[k%2]
		go func() {
			for range 50 {
				_, tan, err := ad.JVP(f, []*ad.Var{ad.Const(x)}, []*ad.Var{ad.Const(v)}, &ad.Options{Policy: ad.Policy{SortTie: tie}})
				if err == nil && maxDiff(tan.Value().Float64s(), want[tie]) > 1e-15 {
					err = fmt.Errorf("%v: %v, want %v", tie, tan.Value().Float64s(), want[tie])
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
