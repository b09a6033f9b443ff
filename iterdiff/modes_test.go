package iterdiff

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

var allModes = []Mode{
	Unroll{}, Unroll{Checkpoints: 2}, Unroll{Checkpoints: CheckpointNone},
	Piggyback{}, Piggyback{Delay: 5},
	Implicit{}, Implicit{Solver: linsolve.MethodBiCGStab}, Implicit{Solver: linsolve.MethodLU, Ridge: 1e-3},
	OneStep{}, KStep{K: 3}, Detach{},
}

func modeLabel(m Mode) string { return fmt.Sprintf("%s%+v", ModeName(m), m) }

// dotT returns ⟨a, b⟩ over tensors.
func dotT(a, b *tensor.Tensor) float64 {
	var s float64
	for i := 0; i < a.Size(); i++ {
		s += a.AtFlat(i) * b.AtFlat(i)
	}
	return s
}

// TestJVPEqualsVJP: for every mode, ⟨u, J·v⟩ computed by forward mode
// equals ⟨Jᵀ·u, v⟩ computed by reverse mode, on heavy ball (a two-part
// state) for a smooth nonquadratic objective, with tangents on θ and on the
// initial state.
func TestJVPEqualsVJP(t *testing.T) {
	rng := newRNG(12)
	n := 4
	A := randMat(rng, 6, n)
	Av := matVar(A)
	// f(x, θ) = ½‖Ax − θ₀‖² + Σ log cosh-like softplus(x) · θ₁
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		g := MatVec(Av, ad.Sub(MatVec(Av, x, false), th[0]), true)
		return ad.Add(g, ad.Mul(ad.Sigmoid(x), th[1]))
	}
	_, L := extremeEig(A, 1)
	T := HeavyBall(grad, 1/L, 0.3)
	x0 := vecVar(randVec(rng, n))
	xp := vecVar(randVec(rng, n))
	th0 := vecVar(randVec(rng, 6))
	th1 := vecVar([]float64{0.3, 0.2, 0.1, 0.4})
	in := []*ad.Var{x0, xp, th0, th1}
	v := []*ad.Var{vecVar(randVec(rng, n)), vecVar(randVec(rng, n)), vecVar(randVec(rng, 6)), vecVar(randVec(rng, n))}
	u := vecVar(randVec(rng, 2*n))
	for _, mode := range allModes {
		f := func(xs ...*ad.Var) *ad.Var {
			x, _, err := FixedPoint(T, xs[:2], xs[2:], Options{Mode: mode, Tol: 1e-14, MaxIter: 5000})
			if err != nil {
				t.Fatal(err)
			}
			return ad.Concat(0, x[0], x[1])
		}
		_, jv, err := ad.JVP(f, in, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, jtu, err := ad.VJP(f, in, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		lhs := dotT(u.Value(), jv.Value())
		var rhs float64
		for i := range in {
			rhs += dotT(jtu[i].Value(), v[i].Value())
		}
		rel := math.Abs(lhs-rhs) / math.Max(1, math.Abs(lhs))
		t.Logf("%-40s ⟨u, Jv⟩ = %+.12f  ⟨Jᵀu, v⟩ = %+.12f  rel diff %.2g", modeLabel(mode), lhs, rhs, rel)
		if rel > 1e-9 {
			t.Errorf("%s: JVP and VJP disagree: %.3g", modeLabel(mode), rel)
		}
	}
}

// algorithmCase is an algorithm on a small problem with a reference
// derivative of the solution in θ (nil: only the modes are compared).
type algorithmCase struct {
	name   string
	step   Step
	x0     []*ad.Var
	theta  *ad.Var
	out    func(x []*ad.Var, th []*ad.Var) *ad.Var // the solution from the state
	ref    *mat.Dense                              // ∂solution/∂θ
	tol    float64
	iters  int
	finite bool // a finite-horizon algorithm (SGD, inexact): compare Unroll and Piggyback only
}

func algorithmCases(t *testing.T) []algorithmCase {
	rng := newRNG(13)
	m, n, lam := 8, 4, 0.5
	A := randMat(rng, m, n)
	Av := matVar(A)
	y := randVec(rng, m)
	mu, L := extremeEig(A, lam)
	ridgeGrad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		return ad.Add(MatVec(Av, ad.Sub(MatVec(Av, x, false), th[0]), true), ad.Scale(x, lam))
	}
	var ridgeJ mat.Dense
	ridgeJ.Mul(gramInv(A, lam), A.T())
	zero := func() *ad.Var { return vecVar(make([]float64, n)) }
	first := func(x []*ad.Var, _ []*ad.Var) *ad.Var { return x[0] }

	// Lasso (m > n, generic): closed form on the support
	ls := newLasso(t, 14, 12, 5)
	lassoGrad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		la := matVar(ls.A)
		return MatVec(la, ad.Sub(MatVec(la, x, false), th[0]), true)
	}
	la := matVar(ls.A)
	_, Ll := extremeEig(ls.A, 0)
	// prox of γ·½‖A· − θ‖²: (I + γAᵀA)⁻¹(v + γAᵀθ), with the inverse
	// precomputed for the one γ used
	drGamma := 1 / Ll
	var ata mat.Dense
	ata.Mul(ls.A.T(), ls.A)
	ata.Scale(drGamma, &ata)
	for i := 0; i < 5; i++ {
		ata.Set(i, i, ata.At(i, i)+1)
	}
	var inv mat.Dense
	if err := inv.Inverse(&ata); err != nil {
		t.Fatal(err)
	}
	invV := matVar(&inv)
	proxLS := func(v *ad.Var, gamma float64, th []*ad.Var) *ad.Var {
		if gamma != drGamma {
			panic("proxLS: unexpected step")
		}
		return MatVec(invV, ad.Add(v, ad.Scale(MatVec(la, th[0], true), gamma)), false)
	}

	// entropic mirror descent: min ⟨θ, x⟩ + Σ x log x on the simplex,
	// solution softmax(−θ)
	thMD := []float64{0.3, -0.2, 0.5, 0.1}
	p := make([]float64, 4)
	var zs float64
	for i, v := range thMD {
		p[i] = math.Exp(-v)
		zs += p[i]
	}
	for i := range p {
		p[i] /= zs
	}
	mdJ := mat.NewDense(4, 4, nil) // ∂softmax(−θ)/∂θ = −(diag p − ppᵀ)
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			v := p[i] * p[j]
			if i == j {
				v -= p[i]
			}
			mdJ.Set(i, j, v)
		}
	}
	mdGrad := func(x *ad.Var, th []*ad.Var) *ad.Var { return ad.AddScalar(ad.Add(th[0], ad.Log(x)), 1) }

	// logistic Newton: reference from Root on ∇f = 0 below (nil here)
	lg := newLogistic(15, 10, 3)

	samples := make([]int, 300)
	for i := range samples {
		samples[i] = rng.IntN(m)
	}
	rows := make([]*ad.Var, m)
	for i := range rows {
		rows[i] = vecVar(append([]float64(nil), A.RawRowView(i)...))
	}
	sgdGrad := func(i int, x *ad.Var, th []*ad.Var) *ad.Var {
		yi := ad.SliceAxis(th[0], 0, i, i+1)
		return ad.Mul(rows[i], ad.Sub(ad.SumAll(ad.Mul(rows[i], x)), ad.Reshape(yi)))
	}

	return []algorithmCase{
		{name: "gradient descent", step: GradientDescent(ridgeGrad, Constant(1/L)), x0: []*ad.Var{zero()}, theta: vecVar(y), out: first, ref: &ridgeJ, tol: 1e-8, iters: 5000},
		{name: "heavy ball", step: HeavyBall(ridgeGrad, 1/L, 0.5), x0: []*ad.Var{zero(), zero()}, theta: vecVar(y), out: first, ref: &ridgeJ, tol: 1e-8, iters: 5000},
		{name: "nesterov", step: Nesterov(ridgeGrad, 1/L, Constant((math.Sqrt(L)-math.Sqrt(mu))/(math.Sqrt(L)+math.Sqrt(mu)))), x0: []*ad.Var{zero(), zero()}, theta: vecVar(y), out: first, ref: &ridgeJ, tol: 1e-8, iters: 5000},
		{name: "newton", step: lg.step, x0: []*ad.Var{lg.b0}, theta: lg.w, out: first, tol: 1e-8, iters: 50},
		{name: "proximal gradient", step: ProximalGradient(lassoGrad, L1Prox(ls.lam), Constant(ls.gamma)), x0: []*ad.Var{vecVar(make([]float64, 5))}, theta: vecVar(ls.y), out: first, ref: ls.Jstar, tol: 1e-8, iters: 20000},
		{name: "fista", step: FISTA(lassoGrad, L1Prox(ls.lam), ls.gamma), x0: []*ad.Var{vecVar(make([]float64, 5)), vecVar(make([]float64, 5))}, theta: vecVar(ls.y), out: first, ref: ls.Jstar, tol: 1e-7, iters: 20000},
		{name: "douglas-rachford", step: DouglasRachford(proxLS, L1Prox(ls.lam), drGamma), x0: []*ad.Var{vecVar(make([]float64, 5))}, theta: vecVar(ls.y),
			out: func(z []*ad.Var, th []*ad.Var) *ad.Var { return proxLS(z[0], drGamma, th) }, ref: ls.Jstar, tol: 1e-8, iters: 20000},
		{name: "admm", step: ADMM(proxLS, L1Prox(ls.lam), 1/drGamma), x0: []*ad.Var{vecVar(make([]float64, 5)), vecVar(make([]float64, 5))}, theta: vecVar(ls.y), out: first, ref: ls.Jstar, tol: 1e-8, iters: 20000},
		{name: "mirror descent", step: MirrorDescent(mdGrad, Constant(0.5)), x0: []*ad.Var{vecVar([]float64{0.25, 0.25, 0.25, 0.25})}, theta: vecVar(thMD), out: first, ref: mdJ, tol: 1e-8, iters: 5000},
		{name: "sgd", step: SGD(sgdGrad, samples, InverseK(1, 10)), x0: []*ad.Var{zero()}, theta: vecVar(y), out: first, iters: 300, finite: true},
		{name: "inexact subgradient", step: InexactSubgradient(ridgeGrad, Constant(1/L), RandomError(0.01, tensor.NewRNG(3))), x0: []*ad.Var{zero()}, theta: vecVar(y), out: first, iters: 200, finite: true},
	}
}

// TestAlgorithmsEveryMode runs every algorithm with every mode. Modes that
// are exact at convergence (Unroll, Piggyback, Implicit) match the closed
// form Jacobian of the solution (or, for Newton, the implicit derivative of
// ∇f = 0 by Root); for finite-horizon algorithms (SGD, inexact subgradient)
// Unroll's reverse mode and Piggyback's forward mode agree exactly; the
// other modes run and Detach gives zero.
func TestAlgorithmsEveryMode(t *testing.T) {
	for _, c := range algorithmCases(t) {
		ref := c.ref
		if c.name == "newton" {
			lg := newLogistic(15, 10, 3)
			f := func(w *ad.Var) *ad.Var {
				solve := func(th []*tensor.Tensor) ([]*tensor.Tensor, error) {
					b, _, err := FixedPoint(lg.step, []*ad.Var{lg.b0}, consts(th), Options{Mode: Detach{}, Tol: 1e-13, MaxIter: 50})
					return []*tensor.Tensor{b[0].Value()}, err
				}
				F := func(x, th []*ad.Var) []*ad.Var { return []*ad.Var{lg.grad(x[0], th)} }
				b, _, err := Root(F, solve, []*ad.Var{w}, Options{Mode: Implicit{Solver: linsolve.MethodMINRES}})
				if err != nil {
					t.Fatal(err)
				}
				return b[0]
			}
			ref = jacobianOnce(t, f, lg.w, nil)
		}
		var unrollJ *mat.Dense
		for _, mode := range allModes {
			if c.finite {
				if _, ok := mode.(Implicit); ok {
					continue // no fixed point
				}
			}
			var info *Info
			f := func(th *ad.Var) *ad.Var {
				x, in, err := FixedPoint(c.step, c.x0, []*ad.Var{th}, Options{Mode: mode, Tol: map[bool]float64{true: -1, false: 1e-14}[c.finite], MaxIter: c.iters})
				if err != nil && !errors.Is(err, ErrNotConverged) {
					t.Fatal(err)
				}
				if err != nil {
					t.Fatalf("%s %s: %v", c.name, modeLabel(mode), err)
				}
				info = in
				return c.out(x, []*ad.Var{th})
			}
			var J *mat.Dense
			if _, ok := mode.(Piggyback); ok {
				J = jacobian(t, f, c.theta, ad.ForwardMode, nil)
				// reverse piggyback: the transposed recursion (converged)
				// or the exact transpose by replay (finite horizon)
				Jr := jacobianOnce(t, f, c.theta, nil)
				if d := maxAbsDiff(J, Jr); d > math.Max(c.tol, 1e-10) {
					t.Errorf("%s %s: forward and reverse piggyback differ by %.3g", c.name, modeLabel(mode), d)
				}
			} else {
				J = jacobianOnce(t, f, c.theta, nil)
			}
			exact := false
			switch m := mode.(type) {
			case Unroll, Piggyback:
				exact = true
			case Implicit:
				exact = m.Ridge == 0
			}
			if _, ok := mode.(Detach); ok {
				if c.name != "douglas-rachford" && mat.Norm(J, math.Inf(1)) != 0 {
					t.Errorf("%s: Detach gave a nonzero derivative", c.name)
				}
				continue
			}
			if c.finite {
				if pm, ok := mode.(Piggyback); ok && pm.Delay > 0 {
					continue // a different derivative (started at the delay)
				}
				if _, ok := mode.(Unroll); ok && unrollJ == nil {
					unrollJ = J
				}
				if exact && unrollJ != nil {
					if d := maxAbsDiff(J, unrollJ); d > 1e-10 {
						t.Errorf("%s %s: differs from Unroll by %.3g", c.name, modeLabel(mode), d)
					}
				}
				continue
			}
			if exact {
				d := maxAbsDiff(J, ref)
				if d > c.tol {
					t.Errorf("%s %s: max|J − J*| = %.3g (%d iterations, converged %v)", c.name, modeLabel(mode), d, info.Iterations, info.Converged)
				} else if testing.Verbose() {
					t.Logf("%-20s %-44s max|J − J*| = %.2g (%d iterations)", c.name, modeLabel(mode), d, info.Iterations)
				}
			} else if !mat.Equal(J, J) { // NaN check
				t.Errorf("%s %s: NaN in the Jacobian", c.name, modeLabel(mode))
			}
		}
	}
}

// TestPiggybackFiniteHorizon: on a finite horizon (SGD with a 1/k schedule,
// Tol < 0) forward and reverse piggyback are exact transposes, reverse
// replays the iterations with √K checkpoints (Info.DerivReplayed), and
// both equal Unroll's derivative, with and without a delay.
func TestPiggybackFiniteHorizon(t *testing.T) {
	p := newSGDProblem(7, 50, 3, 1, "random")
	rng := tensor.NewRNG(7)
	samples := make([]int, 400)
	for i := range samples {
		samples[i] = rng.IntN(p.n)
	}
	step := SGD(p.grad, samples, InverseK(1, 20))
	in := []*ad.Var{vecVar([]float64{0.1, -0.2, 0.3}), scalarVar(0.5)}
	v := []*ad.Var{vecVar([]float64{1, 2, -1}), scalarVar(1)}
	u := vecVar([]float64{0.5, -1, 2})
	for _, mode := range []Mode{Piggyback{}, Piggyback{Delay: 50}, Unroll{}} {
		var info *Info
		f := func(xs ...*ad.Var) *ad.Var {
			x, in, err := FixedPoint(step, xs[:1], xs[1:], Options{Mode: mode, Tol: -1, MaxIter: 400})
			if err != nil {
				t.Fatal(err)
			}
			info = in
			return x[0]
		}
		_, jv, err := ad.JVP(f, in, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, jtu, err := ad.VJP(f, in, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		lhs := dotT(u.Value(), jv.Value())
		rhs := dotT(jtu[0].Value(), v[0].Value()) + dotT(jtu[1].Value(), v[1].Value())
		t.Logf("%-22s ⟨u, Jv⟩ = %+.14f  ⟨Jᵀu, v⟩ = %+.14f  replayed %v, stored states %d", modeLabel(mode), lhs, rhs, info.DerivReplayed, info.StoredStates)
		if math.Abs(lhs-rhs) > 1e-12*math.Max(1, math.Abs(lhs)) {
			t.Errorf("%s: forward and reverse disagree", modeLabel(mode))
		}
	}
}
