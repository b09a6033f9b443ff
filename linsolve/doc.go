// Package linsolve solves linear systems A·x = b on flat []float64 vectors,
// with A given as an operator (a function computing A·x, plus Aᵀ·x where a
// method needs it) or as a dense matrix.
//
// Iterative methods: CG and MINRES for symmetric A (CG needs A positive
// definite, MINRES accepts indefinite A), CGLS (conjugate gradients on the
// normal equations, for least squares), restarted GMRES(m) and BiCGStab for
// general square A, and the Neumann series for I − M with spectral radius
// of M below one. Dense direct methods (LU, Cholesky, QR) use gonum's LAPACK.
//
// Every solver returns a Result carrying the solution, the iteration count,
// the final residual norm (recomputed from the returned x, not the
// recurrence's estimate), a Converged flag and the Method. Options hold a
// relative tolerance, an absolute tolerance, an iteration limit, a ridge
// (the system actually solved is (A + ridge·I)·x = b), the GMRES restart
// length and an initial guess; the zero value means defaults.
//
// Not converging within MaxIter is not an error: it is reported by
// Converged == false. Errors are returned for invalid input (dimension
// mismatch, NaN or Inf in b, a negative ridge), for a matrix that is not
// positive definite in Cholesky, a singular matrix in LU, and for a Krylov
// breakdown (ErrBreakdown, together with the best iterate found).
package linsolve
