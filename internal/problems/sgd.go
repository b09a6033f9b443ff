package problems

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// LeastSquares is the finite-sum least-squares problem of the SGD
// experiments: f(x, θ) = 1/(2n) Σᵢ (⟨aᵢ, x⟩ − θᵢ)² with θ = Base + t·Z.
type LeastSquares struct {
	A     *mat.Dense // n×d, standard normal
	Base  []float64  // ⟨aᵢ, w⟩ + s·noise
	Z     []float64  // direction of θ: ⟨aᵢ, u⟩ (interpolating) or standard normal
	MaxA2 float64    // maxᵢ ‖aᵢ‖²
}

// NewLeastSquares draws A (n×d, row-major), then w and u in Rᵈ, then per
// row i the noise of Base[i] (scaled by s) and, unless interp, Z[i]. With
// interp, Z[i] = ⟨aᵢ, u⟩ so that the derivatives interpolate too.
func NewLeastSquares(rng Source, n, d int, s float64, interp bool) *LeastSquares {
	A := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			A.Set(i, j, rng.NormFloat64())
		}
	}
	w, u := normals(rng, d), normals(rng, d)
	p := &LeastSquares{A: A, Base: make([]float64, n), Z: make([]float64, n)}
	for i := 0; i < n; i++ {
		row := A.RawRowView(i)
		var aw, au, a2 float64
		for j := range row {
			aw += row[j] * w[j]
			au += row[j] * u[j]
			a2 += row[j] * row[j]
		}
		p.Base[i] = aw + s*rng.NormFloat64()
		if interp {
			p.Z[i] = au
		} else {
			p.Z[i] = rng.NormFloat64()
		}
		p.MaxA2 = math.Max(p.MaxA2, a2)
	}
	return p
}

func normals(rng Source, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}
