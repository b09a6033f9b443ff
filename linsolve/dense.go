package linsolve

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Dense materializes the n×n operator a as a matrix, column by column (n
// applications of a).
func Dense(a Operator, n int) *mat.Dense {
	if n == 0 {
		return &mat.Dense{}
	}
	d := mat.NewDense(n, n, nil)
	e := make([]float64, n)
	col := make([]float64, n)
	for j := 0; j < n; j++ {
		e[j] = 1
		a(col, e)
		e[j] = 0
		d.SetCol(j, col)
	}
	return d
}

// MatOperator returns the operator x ↦ A·x of a gonum matrix.
func MatOperator(a mat.Matrix) Operator {
	return func(dst, x []float64) {
		r, _ := a.Dims()
		mat.NewVecDense(r, dst).MulVec(a, mat.NewVecDense(len(x), x))
	}
}

// MatTOperator returns the operator y ↦ Aᵀ·y of a gonum matrix.
func MatTOperator(a mat.Matrix) Operator {
	return func(dst, y []float64) {
		_, c := a.Dims()
		mat.NewVecDense(c, dst).MulVec(a.T(), mat.NewVecDense(len(y), y))
	}
}

// shiftedDense returns a copy of the square matrix a plus ridge·I.
func shiftedDense(a mat.Matrix, ridge float64) *mat.Dense {
	d := mat.DenseCopyOf(a)
	if ridge != 0 {
		r, _ := d.Dims()
		for i := 0; i < r; i++ {
			d.Set(i, i, d.At(i, i)+ridge)
		}
	}
	return d
}

func squareDims(a mat.Matrix, b []float64) (int, error) {
	r, c := a.Dims()
	if r != c || r != len(b) {
		return 0, fmt.Errorf("%w: matrix %d×%d, b of length %d", ErrDimension, r, c, len(b))
	}
	return r, nil
}

// finish fills the residual of a direct solve.
func finish(res *Result, a mat.Matrix, ridge float64, b []float64) {
	r := make([]float64, len(b))
	res.Residual = residual(r, shifted(MatOperator(a), ridge), res.X, b)
	res.Converged = finite(res.Residual)
}

// LU solves (A + ridge·I)·x = b for a square matrix by LU factorization
// with partial pivoting (LAPACK dgetrf). An exactly singular matrix returns
// ErrSingular. Options other than Ridge are ignored.
func LU(a mat.Matrix, b []float64, o *Options) (Result, error) {
	res := Result{Method: MethodLU}
	n, err := squareDims(a, b)
	if err != nil {
		return res, err
	}
	s, err := o.settings(n)
	if err != nil {
		return res, err
	}
	if err := checkVec("b", b, n); err != nil {
		return res, err
	}
	if n == 0 {
		res.X, res.Converged = []float64{}, true
		return res, nil
	}
	var lu mat.LU
	lu.Factorize(shiftedDense(a, s.ridge))
	if math.IsInf(lu.Cond(), 1) {
		return res, fmt.Errorf("%w: LU found a zero pivot", ErrSingular)
	}
	x := mat.NewVecDense(n, nil)
	if err := lu.SolveVecTo(x, false, mat.NewVecDense(n, append([]float64(nil), b...))); err != nil {
		if _, ok := err.(mat.Condition); !ok {
			return res, fmt.Errorf("%w: %v", ErrSingular, err)
		}
	}
	res.X = x.RawVector().Data
	finish(&res, a, s.ridge, b)
	return res, nil
}

// Cholesky solves (A + ridge·I)·x = b for a symmetric positive definite
// matrix (LAPACK dpotrf). A matrix that is not symmetric (to a relative
// 1e-12) or not positive definite returns ErrNotSPD.
func Cholesky(a mat.Matrix, b []float64, o *Options) (Result, error) {
	res := Result{Method: MethodCholesky}
	n, err := squareDims(a, b)
	if err != nil {
		return res, err
	}
	s, err := o.settings(n)
	if err != nil {
		return res, err
	}
	if err := checkVec("b", b, n); err != nil {
		return res, err
	}
	if n == 0 {
		res.X, res.Converged = []float64{}, true
		return res, nil
	}
	d := shiftedDense(a, s.ridge)
	sym := mat.NewSymDense(n, nil)
	scale := mat.Norm(d, math.Inf(1))
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			if math.Abs(d.At(i, j)-d.At(j, i)) > 1e-12*scale {
				return res, fmt.Errorf("%w: A[%d,%d] = %v but A[%d,%d] = %v", ErrNotSPD, i, j, d.At(i, j), j, i, d.At(j, i))
			}
			sym.SetSym(i, j, (d.At(i, j)+d.At(j, i))/2)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(sym) {
		return res, fmt.Errorf("%w: Cholesky factorization failed", ErrNotSPD)
	}
	x := mat.NewVecDense(n, nil)
	if err := ch.SolveVecTo(x, mat.NewVecDense(n, append([]float64(nil), b...))); err != nil {
		if _, ok := err.(mat.Condition); !ok {
			return res, fmt.Errorf("%w: %v", ErrNotSPD, err)
		}
	}
	res.X = x.RawVector().Data
	finish(&res, a, s.ridge, b)
	return res, nil
}

// QR solves min ‖A·x − b‖² + ridge·‖x‖² for an m×n matrix with m ≥ n by
// Householder QR (LAPACK dgeqrf); for a square nonsingular A this is the
// solution of A·x = b. The ridge is applied by stacking √ridge·I under A.
// The Residual is ‖b − A·x‖ for a square A and the normal-equation residual
// ‖Aᵀ(b − Ax) − ridge·x‖ otherwise. A rank-deficient A (with ridge 0)
// returns ErrSingular.
func QR(a mat.Matrix, b []float64, o *Options) (Result, error) {
	res := Result{Method: MethodQR}
	m, n := a.Dims()
	if m != len(b) || m < n {
		return res, fmt.Errorf("%w: QR needs an m×n matrix with m ≥ n and b of length m, got %d×%d and %d", ErrDimension, m, n, len(b))
	}
	s, err := o.settings(n)
	if err != nil {
		return res, err
	}
	if err := checkVec("b", b, m); err != nil {
		return res, err
	}
	if n == 0 {
		res.X, res.Converged = []float64{}, true
		return res, nil
	}
	A := mat.DenseCopyOf(a)
	rhs := append([]float64(nil), b...)
	if s.ridge > 0 {
		aug := mat.NewDense(m+n, n, nil)
		aug.Slice(0, m, 0, n).(*mat.Dense).Copy(A)
		sr := math.Sqrt(s.ridge)
		for i := 0; i < n; i++ {
			aug.Set(m+i, i, sr)
		}
		A = aug
		rhs = append(rhs, make([]float64, n)...)
	}
	var qr mat.QR
	qr.Factorize(A)
	x := mat.NewVecDense(n, nil)
	if err := qr.SolveVecTo(x, false, mat.NewVecDense(len(rhs), rhs)); err != nil {
		if _, ok := err.(mat.Condition); !ok || math.IsInf(float64(err.(mat.Condition)), 1) {
			return res, fmt.Errorf("%w: %v", ErrSingular, err)
		}
	}
	res.X = x.RawVector().Data
	if m == n {
		finish(&res, a, s.ridge, b)
		return res, nil
	}
	r := make([]float64, m)
	residual(r, MatOperator(a), res.X, b)
	g := make([]float64, n)
	MatTOperator(a)(g, r)
	axpy(-s.ridge, res.X, g)
	res.Residual = norm(g)
	res.Converged = finite(res.Residual)
	return res, nil
}
