package iterdiff

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/internal/problems"
	"gonum.org/v1/gonum/mat"
)

// elasticNet is paper 5's problem: x*(θ) = argmin ½‖Ax − θ‖² + μ/2‖x‖² +
// λ‖x‖₁, written as the forward-backward fixed point
// x = prox_{γλ‖·‖₁}(x − γ∇f(x, θ)) (a monotone inclusion 0 ∈ ∇f + λ∂‖·‖₁).
type elasticNet struct {
	A              *mat.Dense
	mu, lam, gamma float64
	step           Step
}

func newElasticNet(A *mat.Dense, mu, lam, gamma float64) *elasticNet {
	e := &elasticNet{A: A, mu: mu, lam: lam, gamma: gamma}
	Av := matVar(A)
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		return ad.Add(MatVec(Av, ad.Sub(MatVec(Av, x, false), th[0]), true), ad.Scale(x, mu))
	}
	e.step = ProximalGradient(grad, L1Prox(lam), Constant(gamma))
	return e
}

// solution returns x*(θ) in the given mode, differentiable in θ.
func (e *elasticNet) solution(t *testing.T, x0 []float64, mode Mode, info **Info) func(th *ad.Var) *ad.Var {
	return func(th *ad.Var) *ad.Var {
		x, in, err := FixedPoint(e.step, []*ad.Var{vecVar(x0)}, []*ad.Var{th}, Options{Mode: mode, Tol: 1e-15, MaxIter: 100000})
		if err != nil {
			t.Fatal(err)
		}
		if info != nil {
			*info = in
		}
		return x[0]
	}
}

// reference solves in plain float64, warm-started.
func (e *elasticNet) reference(th, x0 []float64) []float64 {
	return fbElasticNet(e.A, th, e.mu, e.lam, e.gamma, x0, 2e-16, 1000000)
}

// TestElasticNetImplicitVsFD (paper 5, target 1): at random (generic)
// parameters the implicit conservative Jacobian equals central finite
// differences of an independent float64 solver: in full at a few θ, along
// random directions at 100 θ.
func TestElasticNetImplicitVsFD(t *testing.T) {
	rng := newRNG(5)
	m, n, mu := 30, 20, 0.1
	A := randMat(rng, m, n)
	_, L := extremeEig(A, mu)
	e := newElasticNet(A, mu, 2, 1/L)
	nTheta, nFull := 20, 3
	if slow() {
		nTheta, nFull = 100, 10
	}
	h := 1e-6
	worst, sizes := 0.0, 0
	for it := 0; it < nTheta; it++ {
		th := make([]float64, m)
		for i := range th {
			th[i] = 3 * rng.NormFloat64()
		}
		xs := e.reference(th, make([]float64, n))
		for _, v := range xs {
			if v != 0 {
				sizes++
			}
		}
		J := jacobianOnce(t, e.solution(t, xs, Implicit{}, nil), vecVar(th), nil)
		dirs := 3
		if it < nFull {
			dirs = m // every coordinate
		}
		for d := 0; d < dirs; d++ {
			v := make([]float64, m)
			if it < nFull {
				v[d] = 1
			} else {
				v = randVec(rng, m)
			}
			tp, tm := make([]float64, m), make([]float64, m)
			for i := range th {
				tp[i], tm[i] = th[i]+h*v[i], th[i]-h*v[i]
			}
			xp, xm := e.reference(tp, xs), e.reference(tm, xs)
			jv := mat.NewVecDense(n, nil)
			jv.MulVec(J, mat.NewVecDense(m, v))
			scale := math.Max(1, norm(jv.RawVector().Data))
			for i := 0; i < n; i++ {
				fd := (xp[i] - xm[i]) / (2 * h)
				worst = math.Max(worst, math.Abs(fd-jv.AtVec(i))/scale)
			}
		}
	}
	t.Logf("%d random θ (mean support %.1f of %d): max relative |J·v − FD| = %.3g", nTheta, float64(sizes)/float64(nTheta), n, worst)
	if worst > 1e-6 {
		t.Errorf("implicit Jacobian vs central differences: %.3g > 1e-6", worst)
	}
}

// TestElasticNetKink (paper 5, target 2): at a constructed θ where one
// coordinate sits exactly on the soft-threshold kink (|u_j| = γλ at the
// solution, in exact dyadic arithmetic), the Policy choices
// SoftThreshold0 = 0 and 1 give two different implicit Jacobians, which are
// the one-sided derivatives of the solution map (finite differences of an
// independent solver from each side). The kink is reported in Info.Stats.
// Also target 3: I − D(I − γH) is invertible for random D ∈ [0,1]ⁿ.
func TestElasticNetKink(t *testing.T) {
	rng := newRNG(6)
	m, n := 12, 8
	mu := 0.25
	k, err := problems.NewKink(rng, m, n, mu)
	if err != nil {
		t.Fatal("no kink construction found")
	}
	A, lam, kink, xs, th := k.A, k.Lambda, k.Coord, k.X, k.Theta
	_, L := extremeEig(A, mu)
	gamma := math.Pow(2, -math.Ceil(math.Log2(L)))
	e := newElasticNet(A, mu, lam, gamma)
	// the constructed point is an exact fixed point
	if x1 := e.reference(th, xs); maxAbsDiffVec(x1, xs) != 0 {
		t.Fatalf("constructed point is not an exact fixed point: %.3g", maxAbsDiffVec(x1, xs))
	}
	jac := func(s0 float64) (*mat.Dense, *Info) {
		var info *Info
		J := jacobianOnce(t, e.solution(t, xs, Implicit{}, &info), vecVar(th), &ad.Options{Policy: ad.Policy{SoftThreshold0: s0}})
		return J, info
	}
	J0, info0 := jac(0)
	J1, info1 := jac(1)
	t.Logf("kink at coordinate %d (λ = %g, γ = %g); kink hits counted: %d and %d", kink, lam, gamma, info0.Stats.Kinks["soft_threshold"], info1.Stats.Kinks["soft_threshold"])
	if info0.Stats.Kinks["soft_threshold"] == 0 {
		t.Errorf("the kink was not reported in Info.Stats")
	}
	if d := maxAbsDiff(J0, J1); d < 1e-3 {
		t.Fatalf("the two policies give the same Jacobian (diff %.3g)", d)
	}
	h := 1e-5
	for trial := 0; trial < 5; trial++ {
		v := randVec(rng, m)
		tp, tm := make([]float64, m), make([]float64, m)
		for i := range th {
			tp[i], tm[i] = th[i]+h*v[i], th[i]-h*v[i]
		}
		xp, xm := e.reference(tp, xs), e.reference(tm, xs)
		right, left := make([]float64, n), make([]float64, n)
		for i := range right {
			right[i] = (xp[i] - xs[i]) / h
			left[i] = (xs[i] - xm[i]) / h
		}
		j0v, j1v := mat.NewVecDense(n, nil), mat.NewVecDense(n, nil)
		j0v.MulVec(J0, mat.NewVecDense(m, v))
		j1v.MulVec(J1, mat.NewVecDense(m, v))
		a, b := j0v.RawVector().Data, j1v.RawVector().Data
		m1 := math.Max(maxAbsDiffVec(right, a), maxAbsDiffVec(left, b))
		m2 := math.Max(maxAbsDiffVec(right, b), maxAbsDiffVec(left, a))
		t.Logf("direction %d: one-sided FD vs (J₀v, J₁v): %.3g, vs (J₁v, J₀v): %.3g; |J₀v − J₁v| = %.3g", trial, m1, m2, maxAbsDiffVec(a, b))
		if math.Min(m1, m2) > 1e-6 {
			t.Errorf("direction %d: one-sided derivatives do not match the two policies (%.3g, %.3g)", trial, m1, m2)
		}
	}
	// strong monotonicity: I − D(I − γH) invertible for random D ∈ [0,1]ⁿ
	minSV := problems.MinSingularValue(rng, A, gamma, mu, 200)
	t.Logf("min singular value of I − D(I − γH) over 200 random D: %.4g (γμ = %.4g)", minSV, gamma*mu)
	if !(minSV > 0) {
		t.Errorf("I − D(I − γH) singular for some D")
	}
}
