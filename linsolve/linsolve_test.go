package linsolve

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// orthogonal returns a random n×n orthogonal matrix (Q of a Gaussian matrix).
func orthogonal(rng *rand.Rand, n int) *mat.Dense {
	g := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// withEigen returns Q·diag(eig)·Qᵀ for a random orthogonal Q.
func withEigen(rng *rand.Rand, eig []float64) *mat.Dense {
	n := len(eig)
	q := orthogonal(rng, n)
	var a mat.Dense
	a.Mul(q, mat.NewDiagDense(n, eig))
	a.Mul(&a, q.T())
	// symmetrize exactly
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			v := (a.At(i, j) + a.At(j, i)) / 2
			a.Set(i, j, v)
			a.Set(j, i, v)
		}
	}
	return &a
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func mulVec(a mat.Matrix, x []float64) []float64 {
	r, _ := a.Dims()
	b := make([]float64, r)
	MatOperator(a)(b, x)
	return b
}

func maxDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

func linspace(lo, hi float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return v
}

// TestKnownSolutions solves systems with a known solution and prescribed
// spectrum by every applicable method.
func TestKnownSolutions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 40
	spd := withEigen(rng, linspace(1, 100, n))
	indef := withEigen(rng, append(linspace(-10, -1, n/2), linspace(1, 10, n/2)...))
	nonsym := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			nonsym.Set(i, j, rng.NormFloat64()/math.Sqrt(float64(n)))
		}
		nonsym.Set(i, i, nonsym.At(i, i)+3)
	}
	xs := randVec(rng, n)
	type solver func(a mat.Matrix, b []float64) (Result, error)
	iter := func(f func(Operator, []float64, *Options) (Result, error)) solver {
		return func(a mat.Matrix, b []float64) (Result, error) { return f(MatOperator(a), b, &Options{Tol: 1e-12}) }
	}
	dense := func(f func(mat.Matrix, []float64, *Options) (Result, error)) solver {
		return func(a mat.Matrix, b []float64) (Result, error) { return f(a, b, nil) }
	}
	cases := []struct {
		name string
		a    mat.Matrix
		s    solver
		tol  float64
	}{
		{"cg/spd", spd, iter(CG), 1e-9},
		{"minres/spd", spd, iter(MINRES), 1e-9},
		{"minres/indefinite", indef, iter(MINRES), 1e-9},
		{"gmres/nonsym", nonsym, iter(GMRES), 1e-9},
		{"gmres/indefinite", indef, iter(GMRES), 1e-9},
		{"bicgstab/nonsym", nonsym, iter(BiCGStab), 1e-9},
		{"lu/nonsym", nonsym, dense(LU), 1e-12},
		{"cholesky/spd", spd, dense(Cholesky), 1e-11},
		{"qr/nonsym", nonsym, dense(QR), 1e-12},
		{"cgls/nonsym", nonsym, func(a mat.Matrix, b []float64) (Result, error) {
			return CGLS(MatOperator(a), MatTOperator(a), n, b, &Options{Tol: 1e-13})
		}, 1e-9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mulVec(c.a, xs)
			r, err := c.s(c.a, b)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Converged {
				t.Fatalf("not converged: %+v", r.Residual)
			}
			if d := maxDiff(r.X, xs); d > c.tol {
				t.Errorf("max|x − x*| = %.3g > %g (iterations %d, residual %.3g)", d, c.tol, r.Iterations, r.Residual)
			}
			if want := mulVec(c.a, r.X); maxDiff(want, b) > 1e-8 && r.Method != MethodCGLS {
				t.Errorf("residual inconsistent")
			}
		})
	}
}

// TestCGFiniteTermination: CG converges in at most (number of distinct
// eigenvalues) iterations, here 6 for n = 60, and in at most n always.
func TestCGFiniteTermination(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 60
	eig := make([]float64, n)
	vals := []float64{1, 2, 5, 10, 20, 50}
	for i := range eig {
		eig[i] = vals[i%len(vals)]
	}
	a := withEigen(rng, eig)
	b := randVec(rng, n)
	r, err := CG(MatOperator(a), b, &Options{Tol: 1e-10})
	if err != nil || !r.Converged {
		t.Fatal(err, r.Converged)
	}
	if r.Iterations > len(vals)+1 {
		t.Errorf("CG took %d iterations for %d distinct eigenvalues", r.Iterations, len(vals))
	}
	a2 := withEigen(rng, linspace(1, 1e3, n))
	r2, err := CG(MatOperator(a2), b, &Options{Tol: 1e-8})
	if err != nil || !r2.Converged || r2.Iterations > n+5 {
		t.Errorf("κ=1e3: iterations %d (n = %d), converged %v, err %v", r2.Iterations, n, r2.Converged, err)
	}
	t.Logf("distinct eigenvalues 6: %d iterations; κ = 1e3, n = %d: %d iterations", r.Iterations, n, r2.Iterations)
}

// TestRidgeIsShift: the Ridge option equals solving the shifted system.
func TestRidgeIsShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 30
	a := withEigen(rng, linspace(0, 10, n)) // singular without the ridge
	ridge := 0.7
	shiftedA := mat.DenseCopyOf(a)
	for i := 0; i < n; i++ {
		shiftedA.Set(i, i, shiftedA.At(i, i)+ridge)
	}
	b := randVec(rng, n)
	ref, err := LU(shiftedA, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := &Options{Ridge: ridge, Tol: 1e-13}
	for _, m := range []Method{MethodCG, MethodMINRES, MethodGMRES, MethodBiCGStab, MethodLU, MethodCholesky} {
		r, err := Solve(m, MatOperator(a), nil, b, o)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if d := maxDiff(r.X, ref.X); d > 1e-9 {
			t.Errorf("%s with ridge: max diff %.3g from the shifted solve", m, d)
		}
	}
	// CGLS with ridge = Tikhonov least squares, against QR with ridge and
	// against the normal equations.
	rect := mat.NewDense(50, 20, nil)
	for i := 0; i < 50; i++ {
		for j := 0; j < 20; j++ {
			rect.Set(i, j, rng.NormFloat64())
		}
	}
	bb := randVec(rng, 50)
	q, err := QR(rect, bb, &Options{Ridge: ridge})
	if err != nil {
		t.Fatal(err)
	}
	var ata mat.Dense
	ata.Mul(rect.T(), rect)
	atb := make([]float64, 20)
	MatTOperator(rect)(atb, bb)
	ne, err := Cholesky(&ata, atb, &Options{Ridge: ridge})
	if err != nil {
		t.Fatal(err)
	}
	c, err := CGLS(MatOperator(rect), MatTOperator(rect), 20, bb, &Options{Ridge: ridge, Tol: 1e-13})
	if err != nil || !c.Converged {
		t.Fatal(err)
	}
	if d := maxDiff(q.X, ne.X); d > 1e-11 {
		t.Errorf("QR ridge vs normal equations: %.3g", d)
	}
	if d := maxDiff(c.X, ne.X); d > 1e-10 {
		t.Errorf("CGLS ridge vs normal equations: %.3g", d)
	}
}

// TestLeastSquares: CGLS against QR on an overdetermined system.
func TestLeastSquares(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	m, n := 80, 25
	a := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	b := randVec(rng, m)
	q, err := QR(a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := CGLS(MatOperator(a), MatTOperator(a), n, b, &Options{Tol: 1e-13})
	if err != nil || !c.Converged {
		t.Fatal(err, c)
	}
	if d := maxDiff(q.X, c.X); d > 1e-10 {
		t.Errorf("CGLS vs QR: %.3g", d)
	}
	if q.Residual > 1e-10 || c.Residual > 1e-10 {
		t.Errorf("normal residuals %.3g %.3g", q.Residual, c.Residual)
	}
}

// TestNeumann: the series for I − M with ρ(M) = 0.5 matches LU.
func TestNeumann(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	n := 20
	m := withEigen(rng, linspace(-0.5, 0.5, n))
	ima := mat.NewDense(n, n, nil)
	ima.Sub(mat.NewDiagDense(n, linspace(1, 1, n)), m)
	b := randVec(rng, n)
	ref, _ := LU(ima, b, nil)
	r, err := Neumann(MatOperator(m), b, &Options{Tol: 1e-12})
	if err != nil || !r.Converged {
		t.Fatal(err, r)
	}
	if d := maxDiff(r.X, ref.X); d > 1e-11 {
		t.Errorf("Neumann vs LU: %.3g", d)
	}
	// the rate is ρ = 0.5: about log(1e-12)/log(0.5) ≈ 40 terms
	if r.Iterations < 30 || r.Iterations > 50 {
		t.Errorf("Neumann took %d terms, expected ≈ 40 at rate 0.5", r.Iterations)
	}
}

func TestGMRESRestart(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := 60
	a := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a.Set(i, j, rng.NormFloat64()/math.Sqrt(float64(n)))
		}
		a.Set(i, i, a.At(i, i)+2.5)
	}
	b := randVec(rng, n)
	ref, _ := LU(a, b, nil)
	for _, m := range []int{5, 10, 60} {
		r, err := GMRES(MatOperator(a), b, &Options{Restart: m, Tol: 1e-12})
		if err != nil || !r.Converged {
			t.Fatal(m, err, r.Residual)
		}
		if d := maxDiff(r.X, ref.X); d > 1e-10 {
			t.Errorf("GMRES(%d): %.3g", m, d)
		}
	}
}

func TestErrors(t *testing.T) {
	id := mat.NewDiagDense(3, []float64{1, 1, 1})
	op := MatOperator(id)
	if _, err := CG(op, []float64{1, math.NaN(), 0}, nil); !errors.Is(err, ErrNaN) {
		t.Errorf("NaN in b: %v", err)
	}
	if _, err := LU(id, []float64{1, 2}, nil); !errors.Is(err, ErrDimension) {
		t.Errorf("dimension: %v", err)
	}
	if _, err := GMRES(op, []float64{1, 2, 3}, &Options{X0: []float64{1}}); !errors.Is(err, ErrDimension) {
		t.Errorf("X0 dimension: %v", err)
	}
	if _, err := CG(op, []float64{1, 2, 3}, &Options{Ridge: -1}); !errors.Is(err, ErrOption) {
		t.Errorf("negative ridge: %v", err)
	}
	neg := mat.NewDiagDense(3, []float64{-1, -2, -3})
	if _, err := Cholesky(neg, []float64{1, 2, 3}, nil); !errors.Is(err, ErrNotSPD) {
		t.Errorf("Cholesky of a negative definite matrix: %v", err)
	}
	if _, err := CG(MatOperator(neg), []float64{1, 2, 3}, nil); !errors.Is(err, ErrNotSPD) {
		t.Errorf("CG on a negative definite matrix: %v", err)
	}
	nonsym := mat.NewDense(2, 2, []float64{1, 2, 0, 1})
	if _, err := Cholesky(nonsym, []float64{1, 2}, nil); !errors.Is(err, ErrNotSPD) {
		t.Errorf("Cholesky of a nonsymmetric matrix: %v", err)
	}
	sing := mat.NewDense(2, 2, []float64{1, 2, 2, 4})
	if _, err := LU(sing, []float64{1, 2}, nil); !errors.Is(err, ErrSingular) {
		t.Errorf("LU of a singular matrix: %v", err)
	}
	// not converging is not an error
	rng := rand.New(rand.NewPCG(1, 1))
	a := withEigen(rng, linspace(1, 1e4, 30))
	r, err := CG(MatOperator(a), randVec(rng, 30), &Options{MaxIter: 3})
	if err != nil || r.Converged || r.Iterations != 3 {
		t.Errorf("MaxIter 3: err %v converged %v iterations %d", err, r.Converged, r.Iterations)
	}
	// an exact initial guess needs no iteration
	xs := randVec(rng, 30)
	r, err = CG(MatOperator(a), mulVec(a, xs), &Options{X0: xs})
	if err != nil || !r.Converged || r.Iterations != 0 {
		t.Errorf("exact X0: %v %v %d", err, r.Converged, r.Iterations)
	}
	// zero right-hand side
	for _, m := range []Method{MethodCG, MethodMINRES, MethodGMRES, MethodBiCGStab, MethodNeumann} {
		r, err := Solve(m, func(d, x []float64) { copy(d, x); d[0] *= 0.5 }, nil, make([]float64, 4), nil)
		if err != nil || !r.Converged || maxDiff(r.X, make([]float64, 4)) != 0 {
			t.Errorf("%s with b = 0: %v %+v", m, err, r)
		}
	}
}
