package problems

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// RidgeSpectrum returns A (m×n, m ≥ n) such that AᵀA + λI has eigenvalues
// evenly spaced in [mu, L]: A = Q₁ diag(√(eᵢ − λ)) Q₂ᵀ with Q₁ the first n
// columns of the Q factor of an m×n standard normal matrix and Q₂ that of
// an n×n one (both drawn row-major, in this order).
func RidgeSpectrum(rng Source, m, n int, lam, mu, L float64) *mat.Dense {
	var q1, q2 mat.Dense
	var qr mat.QR
	qr.Factorize(mat.NewDense(m, n, normals(rng, m*n)))
	qr.QTo(&q1)
	qr.Factorize(mat.NewDense(n, n, normals(rng, n*n)))
	qr.QTo(&q2)
	s := make([]float64, n)
	for i := range s {
		e := mu + (L-mu)*float64(i)/float64(n-1)
		s[i] = math.Sqrt(e - lam)
	}
	var a mat.Dense
	a.Mul(q1.Slice(0, m, 0, n), mat.NewDiagDense(n, s))
	a.Mul(&a, q2.T())
	return &a
}
