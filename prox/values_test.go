package prox_test

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/prox"
	"github.com/gradus-ml/gradus/tensor"
)

// inSubdiffAbs reports whether r ∈ λ·∂|·|(z), to tolerance tol.
func inSubdiffAbs(r, z, lambda, tol float64) bool {
	switch {
	case z > 0:
		return math.Abs(r-lambda) <= tol
	case z < 0:
		return math.Abs(r+lambda) <= tol
	}
	return math.Abs(r) <= lambda+tol
}

// The prox operators satisfy their optimality conditions x − z ∈ ∂g(z).
func TestProxOptimality(t *testing.T) {
	g := tensor.NewRNG(1)
	const tol = 1e-12
	for trial := range 20 {
		x := g.Normal(tensor.Float64, 4, 7)
		x = tensor.Scale(x, 1.5)
		xs := x.Float64s()
		lambda := 0.2 + g.Float64()
		mu := g.Float64()

		z := val(func(v ...*ad.Var) *ad.Var { return prox.L1(v[0], lambda) }, x)
		for i := range xs {
			if !inSubdiffAbs(xs[i]-z[i], z[i], lambda, tol) {
				t.Fatalf("trial %d: L1: x=%v z=%v λ=%v", trial, xs[i], z[i], lambda)
			}
		}

		z = val(func(v ...*ad.Var) *ad.Var { return prox.ElasticNet(v[0], lambda, mu) }, x)
		for i := range xs {
			if !inSubdiffAbs(xs[i]-(1+mu)*z[i], z[i], lambda, tol) {
				t.Fatalf("trial %d: ElasticNet: x=%v z=%v λ=%v μ=%v", trial, xs[i], z[i], lambda, mu)
			}
		}

		// L1Var and ElasticNetVar with one threshold per column
		lam := g.Uniform(tensor.Float64, 0.1, 1.5, 7)
		ls := lam.Float64s()
		z = val(func(v ...*ad.Var) *ad.Var { return prox.L1Var(v[0], v[1]) }, x, lam)
		z2 := val(func(v ...*ad.Var) *ad.Var {
			return prox.ElasticNetVar(v[0], v[1], ad.Scalar(tensor.Float64, mu))
		}, x, lam)
		for i := range xs {
			l := ls[i%7]
			if !inSubdiffAbs(xs[i]-z[i], z[i], l, tol) {
				t.Fatalf("trial %d: L1Var: x=%v z=%v λ=%v", trial, xs[i], z[i], l)
			}
			if !inSubdiffAbs(xs[i]-(1+mu)*z2[i], z2[i], l, tol) {
				t.Fatalf("trial %d: ElasticNetVar: x=%v z=%v λ=%v", trial, xs[i], z2[i], l)
			}
		}

		// group lasso: x_g − z_g = λ z_g/‖z_g‖ if z_g ≠ 0, else ‖x_g‖ ≤ λ;
		// position 6 is ungrouped and unchanged
		groups := [][]int{{0, 3}, {1, 2, 5}, {4}}
		lg := 1 + 2*g.Float64()
		z = val(func(v ...*ad.Var) *ad.Var { return prox.GroupLasso(v[0], lg, groups) }, x)
		for row := range 4 {
			off := row * 7
			if z[off+6] != xs[off+6] {
				t.Fatalf("GroupLasso changed an ungrouped position")
			}
			for _, grp := range groups {
				var xg, zg []float64
				for _, k := range grp {
					xg = append(xg, xs[off+k])
					zg = append(zg, z[off+k])
				}
				nz := norm(zg)
				if nz == 0 {
					if norm(xg) > lg+tol {
						t.Fatalf("GroupLasso zeroed a group of norm %v > λ = %v", norm(xg), lg)
					}
					continue
				}
				for j := range xg {
					if math.Abs(xg[j]-zg[j]-lg*zg[j]/nz) > 1e-12 {
						t.Fatalf("GroupLasso: optimality fails in group %v: x %v z %v", grp, xg, zg)
					}
				}
			}
		}

		// hinge: (x − z)/λ ∈ ∂h(z), h(z) = max(0, 1 − z): −1 for z < 1,
		// [−1, 0] at z = 1, 0 for z > 1
		lh := 0.1 + 2*g.Float64()
		z = val(func(v ...*ad.Var) *ad.Var { return prox.Hinge(v[0], lh) }, x)
		for i := range xs {
			r := (xs[i] - z[i]) / lh
			ok := (z[i] < 1 && math.Abs(r+1) <= 1e-12) || (z[i] > 1 && math.Abs(r) <= 1e-12) ||
				(z[i] == 1 && r >= -1-1e-12 && r <= 1e-12)
			if !ok {
				t.Fatalf("Hinge: x=%v z=%v λ=%v", xs[i], z[i], lh)
			}
		}
	}
}

// feasible samples a random point of each convex set.
type setCase struct {
	name      string
	proj      func(*ad.Var) *ad.Var
	member    func(z []float64) bool
	sample    func(g *tensor.RNG, d int) []float64
	reference func(x []float64) []float64 // nil: none
}

// Projections: feasibility, the variational inequality
// ⟨x − P(x), z − P(x)⟩ ≤ 0 for feasible z, and independent references.
func TestProjectionOptimality(t *testing.T) {
	const (
		r   = 1.7
		lo  = -0.5
		hi  = 0.8
		tol = 1e-12
	)
	l1 := func(z []float64) float64 {
		s := 0.0
		for _, v := range z {
			s += math.Abs(v)
		}
		return s
	}
	simplexSample := func(g *tensor.RNG, d int, s float64) []float64 {
		z := make([]float64, d)
		if g.IntN(3) == 0 { // a vertex
			z[g.IntN(d)] = s
			return z
		}
		sum := 0.0
		for i := range z {
			z[i] = -math.Log(1 - g.Float64())
			sum += z[i]
		}
		for i := range z {
			z[i] *= s / sum
		}
		return z
	}
	cases := []setCase{
		{"box", func(x *ad.Var) *ad.Var { return prox.ProjBox(x, lo, hi) },
			func(z []float64) bool {
				for _, v := range z {
					if v < lo || v > hi {
						return false
					}
				}
				return true
			},
			func(g *tensor.RNG, d int) []float64 {
				z := make([]float64, d)
				for i := range z {
					z[i] = lo + (hi-lo)*g.Float64()
				}
				return z
			}, nil},
		{"nonneg", prox.ProjNonNeg,
			func(z []float64) bool {
				for _, v := range z {
					if v < 0 {
						return false
					}
				}
				return true
			},
			func(g *tensor.RNG, d int) []float64 {
				z := make([]float64, d)
				for i := range z {
					z[i] = math.Abs(g.NormFloat64())
				}
				return z
			}, nil},
		{"l2_ball", func(x *ad.Var) *ad.Var { return prox.ProjL2Ball(x, r) },
			func(z []float64) bool { return norm(z) <= r*(1+tol) },
			func(g *tensor.RNG, d int) []float64 {
				z := make([]float64, d)
				for i := range z {
					z[i] = g.NormFloat64()
				}
				s := r * math.Pow(g.Float64(), 0.3) / norm(z)
				for i := range z {
					z[i] *= s
				}
				return z
			},
			func(x []float64) []float64 {
				n := norm(x)
				z := make([]float64, len(x))
				for i := range x {
					z[i] = x[i] * min(1, r/n)
				}
				return z
			}},
		{"simplex", func(x *ad.Var) *ad.Var { return prox.ProjSimplex(x, r) },
			func(z []float64) bool {
				s := 0.0
				for _, v := range z {
					if v < 0 {
						return false
					}
					s += v
				}
				return math.Abs(s-r) <= 1e-12
			},
			func(g *tensor.RNG, d int) []float64 { return simplexSample(g, d, r) },
			func(x []float64) []float64 { return slowSimplex(x, r) }},
		{"l1_ball", func(x *ad.Var) *ad.Var { return prox.ProjL1Ball(x, r) },
			func(z []float64) bool { return l1(z) <= r*(1+tol) },
			func(g *tensor.RNG, d int) []float64 {
				z := simplexSample(g, d, r*g.Float64())
				for i := range z {
					if g.IntN(2) == 0 {
						z[i] = -z[i]
					}
				}
				return z
			},
			func(x []float64) []float64 { return slowL1Ball(x, r) }},
	}
	g := tensor.NewRNG(7)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for trial := range 30 {
				d := 1 + g.IntN(9)
				scale := []float64{0.1, 1, 5}[trial%3]
				x := g.Normal(tensor.Float64, 3, d)
				x = tensor.Scale(x, scale)
				p := val(func(v ...*ad.Var) *ad.Var { return c.proj(v[0]) }, x)
				xs := x.Float64s()
				for row := range 3 {
					xr, pr := xs[row*d:(row+1)*d], p[row*d:(row+1)*d]
					if !c.member(pr) {
						t.Fatalf("P(%v) = %v is not feasible", xr, pr)
					}
					res := make([]float64, d)
					for i := range res {
						res[i] = xr[i] - pr[i]
					}
					for range 20 {
						z := c.sample(g, d)
						for i := range z {
							z[i] -= pr[i]
						}
						if v := dot(res, z); v > 1e-12*(1+norm(res)*norm(z)) {
							t.Fatalf("⟨x − P(x), z − P(x)⟩ = %v > 0 at x = %v", v, xr)
						}
					}
					if c.reference != nil {
						if e := maxDiff(pr, c.reference(xr)); e > 1e-12*(1+scale) {
							t.Fatalf("P(%v) = %v, reference %v (error %v)", xr, pr, c.reference(xr), e)
						}
					}
				}
			}
		})
	}
}

func TestSimplexSmallCases(t *testing.T) {
	for _, c := range []struct {
		x    []float64
		s    float64
		want []float64
	}{
		{[]float64{0.2, 0.3, 0.5}, 1, []float64{0.2, 0.3, 0.5}}, // already in
		{[]float64{2, 1, 0}, 1, []float64{1, 0, 0}},
		{[]float64{1, 1}, 1, []float64{0.5, 0.5}},
		{[]float64{-3}, 2, []float64{2}},
		{[]float64{5, 5, 5, 5}, 2, []float64{0.5, 0.5, 0.5, 0.5}},
		{[]float64{0, 0, 0, 10}, 4, []float64{0, 0, 0, 4}},
	} {
		got := val(func(v ...*ad.Var) *ad.Var { return prox.ProjSimplex(v[0], c.s) }, vec(c.x))
		if maxDiff(got, c.want) > 1e-15 {
			t.Errorf("ProjSimplex(%v, %v) = %v, want %v", c.x, c.s, got, c.want)
		}
	}
	got := val(func(v ...*ad.Var) *ad.Var {
		return prox.WeightedGroupLasso(v[0], []float64{1, 0, 10}, [][]int{{0, 1}, {2}, {3, 4}})
	}, vec([]float64{3, 4, -0.1, 5, 5}))
	if want := []float64{2.4, 3.2, -0.1, 0, 0}; maxDiff(got, want) > 1e-15 {
		t.Errorf("WeightedGroupLasso = %v, want %v", got, want)
	}
	got = val(func(v ...*ad.Var) *ad.Var { return prox.ProjL1Ball(v[0], 1) }, vec([]float64{2, -1, 0.5}))
	if want := []float64{1, 0, 0}; maxDiff(got, want) > 0 {
		t.Errorf("ProjL1Ball = %v, want %v", got, want)
	}
	got = val(func(v ...*ad.Var) *ad.Var {
		return prox.ProjBoxVar(v[0], ad.Const(vec([]float64{0, -1, 0}, 3, 1)), ad.Scalar(tensor.Float64, 0.5))
	}, vec([]float64{-1, 0.25, 2, -1, 0.25, 2, -1, 0.25, 2}, 3, 3))
	if want := []float64{0, 0.25, 0.5, -1, 0.25, 0.5, 0, 0.25, 0.5}; maxDiff(got, want) > 0 {
		t.Errorf("ProjBoxVar = %v, want %v", got, want)
	}
	got = val(func(v ...*ad.Var) *ad.Var { return prox.Hinge(v[0], 0.5) }, vec([]float64{-1, 0.5, 0.7, 1, 2}))
	if want := []float64{-0.5, 1, 1, 1, 2}; maxDiff(got, want) > 0 {
		t.Errorf("Hinge = %v, want %v", got, want)
	}
}

// The pivoting threshold search agrees with bisection on many rows,
// including long rows and rows with many ties.
func TestSimplexStress(t *testing.T) {
	g := tensor.NewRNG(23)
	for trial := range 300 {
		d := 1 + g.IntN(60)
		x := make([]float64, d)
		ties := trial%2 == 0
		for i := range x {
			if ties {
				x[i] = float64(g.IntN(4)) / 2
			} else {
				x[i] = 3 * g.NormFloat64()
			}
		}
		s := 0.25 * float64(1+g.IntN(12))
		got := val(func(v ...*ad.Var) *ad.Var { return prox.ProjSimplex(v[0], s) }, vec(x))
		if e := maxDiff(got, slowSimplex(x, s)); e > 1e-12 {
			t.Fatalf("ProjSimplex(%v, %v) = %v, bisection %v", x, s, got, slowSimplex(x, s))
		}
		got = val(func(v ...*ad.Var) *ad.Var { return prox.ProjL1Ball(v[0], s) }, vec(x))
		if e := maxDiff(got, slowL1Ball(x, s)); e > 1e-12 {
			t.Fatalf("ProjL1Ball(%v, %v) = %v, bisection %v", x, s, got, slowL1Ball(x, s))
		}
	}
}
