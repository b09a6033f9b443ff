package linsolve

import (
	"fmt"
	"math"
)

// GMRES solves (A + ridge·I)·x = b for a general square A by the restarted
// generalized minimal residual method GMRES(m), m = Options.Restart
// (default min(n, 30)). Each cycle builds an Arnoldi basis by modified
// Gram-Schmidt with one reorthogonalization pass and minimizes the residual
// with Givens rotations. Iterations counts matrix-vector products.
func GMRES(a Operator, b []float64, o *Options) (Result, error) {
	n := len(b)
	s, x, err := start(b, n, o)
	if err != nil {
		return Result{Method: MethodGMRES}, err
	}
	A := shifted(a, s.ridge)
	res := Result{X: x, Method: MethodGMRES}
	thr := s.threshold(norm(b))
	m := min(s.restart, n)
	if m < 1 {
		m = 1
	}
	r := make([]float64, n)
	V := make([][]float64, m+1)
	for i := range V {
		V[i] = make([]float64, n)
	}
	H := make([][]float64, m+1) // H[i][j], column j of the Hessenberg matrix
	for i := range H {
		H[i] = make([]float64, m)
	}
	cs := make([]float64, m)
	sn := make([]float64, m)
	g := make([]float64, m+1)
	yv := make([]float64, m)
	for {
		beta := residual(r, A, x, b)
		if beta <= thr || res.Iterations >= s.maxIter {
			res.Residual = beta
			res.Converged = beta <= thr
			return res, nil
		}
		for i := range r {
			V[0][i] = r[i] / beta
		}
		clear(g)
		g[0] = beta
		j := 0
		lucky := false
		for j < m && res.Iterations < s.maxIter {
			w := V[j+1]
			A(w, V[j])
			res.Iterations++
			for pass := 0; pass < 2; pass++ {
				for i := 0; i <= j; i++ {
					h := dot(w, V[i])
					if pass == 0 {
						H[i][j] = h
					} else {
						H[i][j] += h
					}
					axpy(-h, V[i], w)
				}
			}
			hn := norm(w)
			H[j+1][j] = hn
			for i := 0; i < j; i++ {
				hi, hi1 := H[i][j], H[i+1][j]
				H[i][j] = cs[i]*hi + sn[i]*hi1
				H[i+1][j] = -sn[i]*hi + cs[i]*hi1
			}
			d := math.Hypot(H[j][j], H[j+1][j])
			if d == 0 {
				return res, fmt.Errorf("%w: GMRES: zero Hessenberg column at iteration %d", ErrBreakdown, res.Iterations)
			}
			cs[j], sn[j] = H[j][j]/d, H[j+1][j]/d
			H[j][j], H[j+1][j] = d, 0
			g[j+1] = -sn[j] * g[j]
			g[j] = cs[j] * g[j]
			if hn > 0 {
				sc := 1 / hn
				for i := range w {
					w[i] *= sc
				}
			} else {
				lucky = true
			}
			j++
			if math.Abs(g[j]) <= thr || lucky {
				break
			}
		}
		// back substitution H[:j,:j] y = g[:j]
		for i := j - 1; i >= 0; i-- {
			t := g[i]
			for k := i + 1; k < j; k++ {
				t -= H[i][k] * yv[k]
			}
			yv[i] = t / H[i][i]
		}
		for i := 0; i < j; i++ {
			axpy(yv[i], V[i], x)
		}
		if !finite(norm(x)) {
			res.Residual = math.NaN()
			return res, fmt.Errorf("%w: GMRES produced a non-finite iterate", ErrBreakdown)
		}
	}
}
