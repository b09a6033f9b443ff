package linsolve

import (
	"fmt"
	"math"
)

// CGLS solves the least-squares problem min ‖A·x − b‖² + ridge·‖x‖² by
// conjugate gradients on the normal equations (AᵀA + ridge·I)·x = Aᵀb,
// without forming AᵀA. A is m×n with m = len(b); a computes A·x (x of
// length n) and at computes Aᵀ·y. It stops when the normal-equation
// residual ‖Aᵀ(b − Ax) − ridge·x‖ is at most max(Tol·‖Aᵀb‖, Atol), and
// reports that residual.
func CGLS(a, at Operator, n int, b []float64, o *Options) (Result, error) {
	m := len(b)
	s, err := o.settings(n)
	res := Result{Method: MethodCGLS}
	if err != nil {
		return res, err
	}
	if err := checkVec("b", b, m); err != nil {
		return res, err
	}
	x := make([]float64, n)
	if o != nil && o.X0 != nil {
		if err := checkVec("X0", o.X0, n); err != nil {
			return res, err
		}
		copy(x, o.X0)
	}
	res.X = x
	r := make([]float64, m)
	residual(r, a, x, b)
	sv := make([]float64, n)
	normal := func() float64 {
		at(sv, r)
		axpy(-s.ridge, x, sv)
		return norm(sv)
	}
	atb := make([]float64, n)
	at(atb, b)
	thr := s.threshold(norm(atb))
	sn := normal()
	p := make([]float64, n)
	copy(p, sv)
	q := make([]float64, m)
	gamma := sn * sn
	for sn > thr && res.Iterations < s.maxIter {
		a(q, p)
		delta := dot(q, q) + s.ridge*dot(p, p)
		if !(delta > 0) {
			res.Residual = sn
			return res, fmt.Errorf("%w: CGLS found ‖Ap‖² = %v at iteration %d", ErrBreakdown, delta, res.Iterations)
		}
		alpha := gamma / delta
		axpy(alpha, p, x)
		axpy(-alpha, q, r)
		res.Iterations++
		sn = normal()
		g := sn * sn
		if sn <= thr {
			// recompute r from scratch before trusting the test
			residual(r, a, x, b)
			if sn = normal(); sn > thr {
				copy(p, sv)
				gamma = sn * sn
				continue
			}
			break
		}
		beta := g / gamma
		gamma = g
		for i := range p {
			p[i] = sv[i] + beta*p[i]
		}
	}
	residual(r, a, x, b)
	res.Residual = normal()
	res.Converged = res.Residual <= thr && !math.IsNaN(res.Residual)
	return res, nil
}
