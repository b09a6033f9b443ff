package linsolve

import (
	"errors"
	"fmt"
	"math"
)

// Operator computes dst = A·x. It must not retain dst or x, and must write
// every element of dst.
type Operator func(dst, x []float64)

// Method names a solver.
type Method string

// The solvers.
const (
	MethodCG       Method = "cg"
	MethodMINRES   Method = "minres"
	MethodCGLS     Method = "cgls"
	MethodGMRES    Method = "gmres"
	MethodBiCGStab Method = "bicgstab"
	MethodNeumann  Method = "neumann"
	MethodLU       Method = "lu"
	MethodCholesky Method = "cholesky"
	MethodQR       Method = "qr"
)

// Options configure a solve. The zero value means defaults.
type Options struct {
	// Tol is the relative tolerance: iterative methods stop when
	// ‖b − (A + ridge·I)x‖ ≤ max(Tol·‖b‖, Atol). Default 1e-10.
	Tol float64
	// Atol is the absolute tolerance. Default 0.
	Atol float64
	// MaxIter limits the iterations (matrix-vector products for Krylov
	// methods, terms for Neumann). Default 10·n, at least 100.
	MaxIter int
	// Ridge adds ridge·I to A (damping): the solvers solve
	// (A + ridge·I)·x = b, CGLS minimizes ‖Ax − b‖² + ridge·‖x‖², Neumann
	// solves (I − M + ridge·I)·x = b. It must be ≥ 0.
	Ridge float64
	// Restart is the GMRES restart length m. Default min(n, 30).
	Restart int
	// X0 is the initial guess of iterative methods (default zero). It is
	// not modified.
	X0 []float64
}

// Result is the outcome of a solve.
type Result struct {
	// X is the solution (a new slice).
	X []float64
	// Iterations is the number of iterations done (0 for direct methods).
	Iterations int
	// Residual is ‖b − (A + ridge·I)·x‖ for the returned x; for CGLS it is
	// the normal-equation residual ‖Aᵀ(b − Ax) − ridge·x‖, which vanishes at
	// the least-squares solution.
	Residual float64
	// Converged reports whether the stopping test was met (always true for
	// a successful direct solve).
	Converged bool
	// Method is the solver used.
	Method Method
}

// Errors.
var (
	// ErrDimension reports inconsistent lengths of b, X0 or a matrix.
	ErrDimension = errors.New("linsolve: dimension mismatch")
	// ErrNaN reports a NaN or Inf in the right-hand side or initial guess.
	ErrNaN = errors.New("linsolve: NaN or Inf in the input")
	// ErrNotSPD reports a matrix that is not symmetric positive definite
	// (Cholesky) or a negative curvature found by CG.
	ErrNotSPD = errors.New("linsolve: matrix is not symmetric positive definite")
	// ErrSingular reports a singular or rank-deficient matrix.
	ErrSingular = errors.New("linsolve: matrix is singular")
	// ErrBreakdown reports a breakdown of a Krylov recurrence; the Result
	// holds the best iterate found.
	ErrBreakdown = errors.New("linsolve: Krylov breakdown")
	// ErrOption reports an invalid option (negative ridge or tolerance).
	ErrOption = errors.New("linsolve: invalid option")
)

// settings are Options with defaults filled in.
type settings struct {
	tol, atol, ridge float64
	maxIter, restart int
}

func (o *Options) settings(n int) (settings, error) {
	var oo Options
	if o != nil {
		oo = *o
	}
	if oo.Tol < 0 || oo.Atol < 0 || oo.Ridge < 0 || math.IsNaN(oo.Tol+oo.Atol+oo.Ridge) || oo.MaxIter < 0 || oo.Restart < 0 {
		return settings{}, fmt.Errorf("%w: Tol %v, Atol %v, Ridge %v, MaxIter %d, Restart %d", ErrOption, oo.Tol, oo.Atol, oo.Ridge, oo.MaxIter, oo.Restart)
	}
	s := settings{tol: oo.Tol, atol: oo.Atol, ridge: oo.Ridge, maxIter: oo.MaxIter, restart: oo.Restart}
	if s.tol == 0 {
		s.tol = 1e-10
	}
	if s.maxIter == 0 {
		s.maxIter = max(10*n, 100)
	}
	if s.restart == 0 {
		s.restart = min(n, 30)
	}
	if s.restart < 1 {
		s.restart = 1
	}
	return s, nil
}

// checkVec returns an error if v has the wrong length or a non-finite entry.
func checkVec(name string, v []float64, n int) error {
	if len(v) != n {
		return fmt.Errorf("%w: %s has length %d, want %d", ErrDimension, name, len(v), n)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: %s[%d] = %v", ErrNaN, name, i, x)
		}
	}
	return nil
}

// start validates b and X0 and returns the settings and the initial x.
func start(b []float64, n int, o *Options) (settings, []float64, error) {
	s, err := o.settings(n)
	if err != nil {
		return s, nil, err
	}
	if err := checkVec("b", b, n); err != nil {
		return s, nil, err
	}
	x := make([]float64, n)
	if o != nil && o.X0 != nil {
		if err := checkVec("X0", o.X0, n); err != nil {
			return s, nil, err
		}
		copy(x, o.X0)
	}
	return s, x, nil
}

// shifted returns the operator x ↦ A·x + ridge·x.
func shifted(a Operator, ridge float64) Operator {
	if ridge == 0 {
		return a
	}
	return func(dst, x []float64) {
		a(dst, x)
		for i, v := range x {
			dst[i] += ridge * v
		}
	}
}

// threshold is the residual norm at which a solve has converged.
func (s settings) threshold(bnorm float64) float64 { return max(s.tol*bnorm, s.atol) }

// residual sets r = b − A·x (using tmp for A·x) and returns ‖r‖.
func residual(r []float64, a Operator, x, b []float64) float64 {
	a(r, x)
	for i := range r {
		r[i] = b[i] - r[i]
	}
	return norm(r)
}

func dot(x, y []float64) float64 {
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func norm(x []float64) float64 {
	// scaled to avoid overflow
	var scale, ssq float64 = 0, 1
	for _, v := range x {
		if v == 0 {
			continue
		}
		a := math.Abs(v)
		if scale < a {
			ssq = 1 + ssq*(scale/a)*(scale/a)
			scale = a
		} else {
			ssq += (a / scale) * (a / scale)
		}
	}
	if math.IsInf(scale, 0) {
		return scale
	}
	return scale * math.Sqrt(ssq)
}

// axpy sets y += a·x.
func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
