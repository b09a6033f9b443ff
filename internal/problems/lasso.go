package problems

import "gonum.org/v1/gonum/mat"

// NewLasso draws the data of the Lasso min ½‖Ax − y‖² + λ‖x‖₁: A m×n
// standard normal (row-major), then y ∈ Rᵐ standard normal. The callers
// set λ = 0.1‖Aᵀy‖∞.
func NewLasso(rng Source, m, n int) (A *mat.Dense, y []float64) {
	A = mat.NewDense(m, n, normals(rng, m*n))
	return A, normals(rng, m)
}
