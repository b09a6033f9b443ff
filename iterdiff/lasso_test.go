package iterdiff

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/internal/problems"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

// lassoSetup is paper 8's Lasso: A m×n Gaussian (m > n), λ = 0.1‖Aᵀy‖∞,
// step 1/L, forward-backward, θ = y.
type lassoSetup struct {
	A          *mat.Dense
	y          []float64
	lam, gamma float64
	xstar      []float64
	support    []int
	Jstar      *mat.Dense // n×m closed form on the support
	step       Step
	x0         *ad.Var
}

func newLasso(t *testing.T, seed uint64, m, n int) *lassoSetup {
	A, y := problems.NewLasso(newRNG(seed), m, n)
	s := &lassoSetup{A: A, y: y}
	aty := mat.NewVecDense(n, nil)
	aty.MulVec(s.A.T(), mat.NewVecDense(m, s.y))
	s.lam = 0.1 * mat.Norm(aty, math.Inf(1))
	_, L := extremeEig(s.A, 0)
	s.gamma = 1 / L
	s.xstar = fbElasticNet(s.A, s.y, 0, s.lam, s.gamma, make([]float64, n), 0, 200000)
	for i, v := range s.xstar {
		if v != 0 {
			s.support = append(s.support, i)
		}
	}
	// J* = (A_SᵀA_S)⁻¹A_Sᵀ on the support rows, zero elsewhere
	as := mat.NewDense(m, len(s.support), nil)
	for j, i := range s.support {
		for r := 0; r < m; r++ {
			as.Set(r, j, s.A.At(r, i))
		}
	}
	var js mat.Dense
	js.Mul(gramInv(as, 0), as.T())
	s.Jstar = mat.NewDense(n, m, nil)
	for j, i := range s.support {
		s.Jstar.SetRow(i, js.RawRowView(j))
	}
	Av := matVar(s.A)
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		return MatVec(Av, ad.Sub(MatVec(Av, x, false), th[0]), true)
	}
	s.step = ProximalGradient(grad, L1Prox(s.lam), Constant(s.gamma))
	s.x0 = vecVar(make([]float64, n))
	return s
}

func (s *lassoSetup) jacobian(t *testing.T, mode Mode, jm ad.JacobianMode) (*mat.Dense, *Info) {
	var info *Info
	f := func(y *ad.Var) *ad.Var {
		x, in, err := FixedPoint(s.step, []*ad.Var{s.x0}, []*ad.Var{y}, Options{Mode: mode, Tol: 1e-15, MaxIter: 100000})
		if err != nil {
			t.Fatal(err)
		}
		info = in
		return x[0]
	}
	return jacobian(t, f, vecVar(s.y), jm, nil), info
}

// TestLassoJacobian: the piggyback Jacobian of the Lasso solution in y
// converges to the closed form (A_SᵀA_S)⁻¹A_Sᵀ on the support (zero off it)
// to 1e-10, implicit mode gives the same, and the derivative error decays
// at the rate of the iterate error (paper 8, target 1).
func TestLassoJacobian(t *testing.T) {
	m, n := 40, 20
	if slow() {
		m, n = 100, 50
	}
	s := newLasso(t, 8, m, n)
	t.Logf("Lasso %d×%d: λ = %.4g, |S| = %d", m, n, s.lam, len(s.support))
	for _, c := range []struct {
		mode Mode
		jm   ad.JacobianMode
	}{{Piggyback{}, ad.ForwardMode}, {Implicit{}, ad.Reverse}, {Implicit{}, ad.ForwardMode}} {
		J, info := s.jacobian(t, c.mode, c.jm)
		d := maxAbsDiff(J, s.Jstar)
		t.Logf("%s (%v): max|J − J*| = %.3g (%d iterations; deriv residual %.3g after %d; linear %s %d its, residual %.3g)",
			ModeName(c.mode), c.jm, d, info.Iterations, info.DerivResidual, info.DerivIterations, info.LinearMethod, info.LinearIterations, info.LinearResidual)
		if d > 1e-10 {
			t.Errorf("%s: Jacobian error %.3g > 1e-10", ModeName(c.mode), d)
		}
	}

	// error curves along one direction v: ‖x_k − x*‖ and ‖J_k v − J* v‖
	rng := newRNG(9)
	v := randVec(rng, m)
	jv := mat.NewVecDense(n, nil)
	jv.MulVec(s.Jstar, mat.NewVecDense(m, v))
	K := 800
	var ks, ex, ej []float64
	o := Options{Mode: Piggyback{}, Tol: -1, MaxIter: K}
	o.TangentCallback = func(k int, x, dx *tensor.Tensor) {
		e1 := norm(sub(x.Float64s(), s.xstar))
		e2 := norm(sub(dx.Float64s(), jv.RawVector().Data))
		if e1 > 1e-12 && e1 < 1e-4 && e2 > 1e-12 && e2 < 1e-4 {
			ks = append(ks, float64(k))
			ex = append(ex, math.Log(e1))
			ej = append(ej, math.Log(e2))
		}
	}
	_, _, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
		x, _, err := FixedPoint(s.step, []*ad.Var{s.x0}, xs, o)
		if err != nil {
			t.Fatal(err)
		}
		return x[0]
	}, []*ad.Var{vecVar(s.y)}, []*ad.Var{vecVar(v)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) < 20 {
		t.Fatalf("only %d iterations in the fitting window", len(ks))
	}
	sx, sj := slope(ks, ex), slope(ks, ej)
	t.Logf("semi-log slopes over %d iterations: iterate error %.4g, derivative error %.4g (ratio %.3f)", len(ks), sx, sj, sj/sx)
	if r := sj / sx; r < 0.8 || r > 1.2 {
		t.Errorf("derivative error rate %.4g vs iterate error rate %.4g: ratio %.3f outside [0.8, 1.2]", sj, sx, r)
	}
}

// TestDouglasRachfordLasso (paper 8, target 2): Douglas-Rachford on the
// same Lasso, differentiated by piggyback: the derivative converges
// linearly at the rate of the iterates, and its limit, mapped to x =
// prox_{γf}(z), is the closed form (A_SᵀA_S)⁻¹A_Sᵀ·v (the implicit formula).
func TestDouglasRachfordLasso(t *testing.T) {
	m, n := 40, 20
	s := newLasso(t, 8, m, n)
	gamma := s.gamma
	// prox of γ·½‖A· − y‖²: M(v + γAᵀy), M = (I + γAᵀA)⁻¹
	var M mat.Dense
	M.Mul(s.A.T(), s.A)
	M.Scale(gamma, &M)
	for i := 0; i < n; i++ {
		M.Set(i, i, M.At(i, i)+1)
	}
	if err := M.Inverse(&M); err != nil {
		t.Fatal(err)
	}
	Mv, Av := matVar(&M), matVar(s.A)
	proxF := func(v *ad.Var, g float64, th []*ad.Var) *ad.Var {
		return MatVec(Mv, ad.Add(v, ad.Scale(MatVec(Av, th[0], true), gamma)), false)
	}
	T := DouglasRachford(proxF, L1Prox(s.lam), gamma)
	rng := newRNG(19)
	v := randVec(rng, m)
	K := 4000
	zs := make([][]float64, 0, K)
	dzs := make([][]float64, 0, K)
	o := Options{Mode: Piggyback{}, Tol: -1, MaxIter: K, TangentCallback: func(k int, z, dz *tensor.Tensor) {
		zs = append(zs, z.Float64s())
		dzs = append(dzs, dz.Float64s())
	}}
	_, dx, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
		z, _, err := FixedPoint(T, []*ad.Var{vecVar(make([]float64, n))}, xs, o)
		if err != nil {
			t.Fatal(err)
		}
		return proxF(z[0], gamma, xs)
	}, []*ad.Var{vecVar(s.y)}, []*ad.Var{vecVar(v)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jv := mat.NewVecDense(n, nil)
	jv.MulVec(s.Jstar, mat.NewVecDense(m, v))
	d := maxAbsDiffVec(dx.Value().Float64s(), jv.RawVector().Data)
	t.Logf("DR piggyback derivative of x = prox_γf(z) after %d iterations vs closed form: %.3g", K, d)
	if d > 1e-10 {
		t.Errorf("DR derivative limit differs from the closed form by %.3g", d)
	}
	zstar, dzstar := zs[K-1], dzs[K-1]
	var ks, ez, ed []float64
	for k := 0; k < K-1; k++ {
		e1, e2 := norm(sub(zs[k], zstar)), norm(sub(dzs[k], dzstar))
		if e1 > 1e-11 && e1 < 1e-4 && e2 > 1e-11 && e2 < 1e-4 {
			ks, ez, ed = append(ks, float64(k)), append(ez, math.Log(e1)), append(ed, math.Log(e2))
		}
	}
	if len(ks) < 20 {
		t.Fatalf("only %d iterations in the fitting window", len(ks))
	}
	sz, sd := slope(ks, ez), slope(ks, ed)
	t.Logf("DR semi-log slopes over %d iterations: iterates %.4g, derivatives %.4g (ratio %.3f)", len(ks), sz, sd, sd/sz)
	if r := sd / sz; r < 0.8 || r > 1.2 {
		t.Errorf("DR: derivative rate %.4g vs iterate rate %.4g", sd, sz)
	}
}
