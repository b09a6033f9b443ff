package linsolve

import (
	"fmt"
	"math"
)

// BiCGStab solves (A + ridge·I)·x = b for a general square A by the
// stabilized biconjugate gradient method of van der Vorst. One iteration
// costs two matrix-vector products. A breakdown (ρ or ω vanishing) returns
// ErrBreakdown with the current iterate.
func BiCGStab(a Operator, b []float64, o *Options) (Result, error) {
	n := len(b)
	s, x, err := start(b, n, o)
	if err != nil {
		return Result{Method: MethodBiCGStab}, err
	}
	A := shifted(a, s.ridge)
	res := Result{X: x, Method: MethodBiCGStab}
	thr := s.threshold(norm(b))
	r := make([]float64, n)
	rn := residual(r, A, x, b)
	rhat := make([]float64, n)
	copy(rhat, r)
	p := make([]float64, n)
	v := make([]float64, n)
	sv := make([]float64, n)
	t := make([]float64, n)
	rho, alpha, omega := 1.0, 1.0, 1.0
	fresh := true // start (or restart) the recurrence from r
	for rn > thr && res.Iterations < s.maxIter {
		rhoNew := dot(rhat, r)
		if rhoNew == 0 || !finite(rhoNew) {
			res.Residual = residual(r, A, x, b)
			return res, fmt.Errorf("%w: BiCGStab: ρ = %v at iteration %d", ErrBreakdown, rhoNew, res.Iterations)
		}
		if fresh {
			copy(p, r)
			fresh = false
		} else {
			beta := (rhoNew / rho) * (alpha / omega)
			for i := range p {
				p[i] = r[i] + beta*(p[i]-omega*v[i])
			}
		}
		rho = rhoNew
		A(v, p)
		alpha = rho / dot(rhat, v)
		for i := range sv {
			sv[i] = r[i] - alpha*v[i]
		}
		res.Iterations++
		if norm(sv) <= thr {
			axpy(alpha, p, x)
			rn = residual(r, A, x, b)
			if rn <= thr {
				break
			}
			copy(rhat, r) // the recurrence drifted: restart it
			fresh = true
			continue
		}
		A(t, sv)
		tt := dot(t, t)
		omega = dot(t, sv) / tt
		if omega == 0 || !finite(omega) {
			axpy(alpha, p, x)
			res.Residual = residual(r, A, x, b)
			return res, fmt.Errorf("%w: BiCGStab: ω = %v at iteration %d", ErrBreakdown, omega, res.Iterations)
		}
		for i := range x {
			x[i] += alpha*p[i] + omega*sv[i]
			r[i] = sv[i] - omega*t[i]
		}
		rn = norm(r)
		if rn <= thr {
			if rn = residual(r, A, x, b); rn > thr {
				copy(rhat, r)
				fresh = true
			}
		}
	}
	res.Residual = residual(r, A, x, b)
	res.Converged = res.Residual <= thr && !math.IsNaN(res.Residual)
	return res, nil
}
