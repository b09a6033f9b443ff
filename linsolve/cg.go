package linsolve

import (
	"fmt"
	"math"
	"slices"
)

// CG solves (A + ridge·I)·x = b by conjugate gradients, for A symmetric
// positive definite (or positive semidefinite with ridge > 0). In exact
// arithmetic it converges in at most n iterations. When the recurrence
// residual meets the tolerance, the true residual is recomputed and the
// recurrence restarted from it if it has drifted above the tolerance.
// A direction of nonpositive curvature returns ErrNotSPD with the current
// iterate.
func CG(a Operator, b []float64, o *Options) (Result, error) {
	n := len(b)
	s, x, err := start(b, n, o)
	if err != nil {
		return Result{Method: MethodCG}, err
	}
	A := shifted(a, s.ridge)
	r := make([]float64, n)
	rn := residual(r, A, x, b)
	thr := s.threshold(norm(b))
	res := Result{X: x, Method: MethodCG}
	p := slices.Clone(r)
	ap := make([]float64, n)
	rr := rn * rn
	for rn > thr && res.Iterations < s.maxIter {
		A(ap, p)
		pap := dot(p, ap)
		if !(pap > 0) {
			res.Residual = residual(r, A, x, b)
			if pap <= 0 || math.IsNaN(pap) {
				return res, fmt.Errorf("%w: CG found pᵀAp = %v at iteration %d", ErrNotSPD, pap, res.Iterations)
			}
		}
		alpha := rr / pap
		axpy(alpha, p, x)
		axpy(-alpha, ap, r)
		res.Iterations++
		rrNew := dot(r, r)
		rn = math.Sqrt(rrNew)
		if rn <= thr {
			// residual replacement: trust only the true residual
			rn = residual(r, A, x, b)
			if rn > thr {
				copy(p, r)
				rr = rn * rn
				continue
			}
			break
		}
		beta := rrNew / rr
		rr = rrNew
		for i := range p {
			p[i] = r[i] + beta*p[i]
		}
	}
	res.Residual = residual(r, A, x, b)
	res.Converged = res.Residual <= thr
	return res, nil
}
