package linsolve

import (
	"fmt"
)

// Solve solves the square system (A + ridge·I)·x = b with the named method.
// at (Aᵀ) is needed by MethodCGLS only; it may be nil otherwise. The
// least-squares methods CGLS and QR treat the ridge as Tikhonov
// regularization, min ‖Ax − b‖² + ridge·‖x‖², whose solution for a square A
// differs from that of the shifted system. The dense methods (LU, Cholesky, QR)
// materialize A with n applications of a. For MethodNeumann, a is M and the
// system solved is (I − M + ridge·I)·x = b. An empty method means GMRES.
func Solve(method Method, a, at Operator, b []float64, o *Options) (Result, error) {
	n := len(b)
	switch method {
	case MethodCG:
		return CG(a, b, o)
	case MethodMINRES:
		return MINRES(a, b, o)
	case MethodCGLS:
		if at == nil {
			return Result{Method: method}, fmt.Errorf("linsolve: Solve: CGLS needs the transpose operator")
		}
		return CGLS(a, at, n, b, o)
	case MethodGMRES, "":
		return GMRES(a, b, o)
	case MethodBiCGStab:
		return BiCGStab(a, b, o)
	case MethodNeumann:
		return Neumann(a, b, o)
	case MethodLU:
		return LU(Dense(a, n), b, o)
	case MethodCholesky:
		return Cholesky(Dense(a, n), b, o)
	case MethodQR:
		return QR(Dense(a, n), b, o)
	}
	return Result{Method: method}, fmt.Errorf("linsolve: Solve: unknown method %q", method)
}
