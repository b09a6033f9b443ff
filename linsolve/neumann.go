package linsolve

// Neumann solves (I − M + ridge·I)·x = b by the Neumann series
// x = Σₖ (M/(1+ridge))ᵏ · b/(1+ridge), i.e. the fixed-point iteration
// x ← (b + M·x)/(1 + ridge). It converges when the spectral radius of M is
// below 1 + ridge, linearly at that rate. Iterations counts the terms.
func Neumann(m Operator, b []float64, o *Options) (Result, error) {
	n := len(b)
	s, x, err := start(b, n, o)
	if err != nil {
		return Result{Method: MethodNeumann}, err
	}
	res := Result{X: x, Method: MethodNeumann}
	thr := s.threshold(norm(b))
	c := 1 + s.ridge
	mx := make([]float64, n)
	r := make([]float64, n)
	for {
		m(mx, x)
		for i := range r {
			r[i] = b[i] + mx[i] - c*x[i]
		}
		res.Residual = norm(r)
		if res.Residual <= thr || res.Iterations >= s.maxIter || !finite(res.Residual) {
			break
		}
		axpy(1/c, r, x)
		res.Iterations++
	}
	res.Converged = res.Residual <= thr
	return res, nil
}
