package linsolve

import (
	"fmt"
	"math"
)

// MINRES solves (A + ridge·I)·x = b for A symmetric, possibly indefinite,
// by the minimal residual method of Paige and Saunders: each iterate
// minimizes ‖b − A·x‖ over the Krylov space, so the residual norm never
// increases.
func MINRES(a Operator, b []float64, o *Options) (Result, error) {
	n := len(b)
	s, x, err := start(b, n, o)
	if err != nil {
		return Result{Method: MethodMINRES}, err
	}
	A := shifted(a, s.ridge)
	res := Result{X: x, Method: MethodMINRES}
	r1 := make([]float64, n)
	beta1 := residual(r1, A, x, b)
	thr := s.threshold(norm(b))
	if beta1 <= thr {
		res.Residual, res.Converged = beta1, true
		return res, nil
	}
	y := make([]float64, n)
	copy(y, r1)
	r2 := make([]float64, n)
	copy(r2, r1)
	v := make([]float64, n)
	w := make([]float64, n)
	w1 := make([]float64, n)
	w2 := make([]float64, n)
	var oldb, dbar, epsln float64
	beta, phibar := beta1, beta1
	cs, sn := -1.0, 0.0
	for res.Iterations < s.maxIter {
		res.Iterations++
		sc := 1 / beta
		for i := range v {
			v[i] = sc * y[i]
		}
		A(y, v)
		if res.Iterations >= 2 {
			axpy(-beta/oldb, r1, y)
		}
		alfa := dot(v, y)
		axpy(-alfa/beta, r2, y)
		r1, r2 = r2, r1
		copy(r2, y)
		oldb = beta
		beta = norm(y)
		oldeps := epsln
		delta := cs*dbar + sn*alfa
		gbar := sn*dbar - cs*alfa
		epsln = sn * beta
		dbar = -cs * beta
		gamma := math.Hypot(gbar, beta)
		if gamma == 0 {
			gamma = math.SmallestNonzeroFloat64
		}
		cs, sn = gbar/gamma, beta/gamma
		phi := cs * phibar
		phibar *= sn
		w1, w2, w = w2, w, w1
		for i := range w {
			w[i] = (v[i] - oldeps*w1[i] - delta*w2[i]) / gamma
		}
		axpy(phi, w, x)
		if !finite(phibar) {
			res.Residual = residual(r1, A, x, b)
			return res, fmt.Errorf("%w: MINRES at iteration %d", ErrBreakdown, res.Iterations)
		}
		if phibar <= thr || beta == 0 {
			break
		}
	}
	res.Residual = residual(y, A, x, b)
	res.Converged = res.Residual <= thr
	return res, nil
}
