package problems

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Kink is an elastic-net problem ½‖Ax − θ‖² + λ‖x‖₁ + μ/2‖x‖² whose
// solution has one coordinate exactly on the soft-threshold kink.
type Kink struct {
	A      *mat.Dense // M×N, integer entries in [−2, 2]
	R      []float64  // integer residual θ − Ax* in [−3, 3]ᴹ
	Lambda float64    // λ = |(Aᵀr)_j|
	Mu     float64    // μ
	X      []float64  // the solution x*
	Theta  []float64  // θ = Ax* + r
	Coord  int        // the kink coordinate j
}

// ErrNoKink is returned by NewKink when no construction was found.
var ErrNoKink = errors.New("problems: no kink construction found")

// NewKink builds an integer m×n A (rng.IntN(5) − 2, row-major), then draws
// integer residuals r (rng.IntN(7) − 3, up to 1000 tries) until c = Aᵀr has
// a coordinate j with |c_j| ≠ 0 unique and at least 2 and at most n − 3
// coordinates strictly above it; λ = |c_j|, x*_i = (c_i − λ sign c_i)/μ on
// {i : |c_i| > λ} (zero elsewhere) and θ = Ax* + r. For a step γ that is a
// power of 2 (with μ dyadic), u_j = x*_j − γ∇_j f = γ c_j sits exactly on
// the threshold γλ, all in exact arithmetic.
func NewKink(rng Source, m, n int, mu float64) (*Kink, error) {
	A := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			A.Set(i, j, float64(rng.IntN(5)-2))
		}
	}
	var c, r []float64
	lam, kink := 0.0, -1
	for try := 0; try < 1000 && kink < 0; try++ {
		r = make([]float64, m)
		for i := range r {
			r[i] = float64(rng.IntN(7) - 3)
		}
		cv := mat.NewVecDense(n, nil)
		cv.MulVec(A.T(), mat.NewVecDense(m, r))
		c = cv.RawVector().Data
		for j := range c {
			above, equal := 0, 0
			for _, ci := range c {
				if math.Abs(ci) > math.Abs(c[j]) {
					above++
				}
				if math.Abs(ci) == math.Abs(c[j]) {
					equal++
				}
			}
			if equal == 1 && above >= 2 && above <= n-3 && c[j] != 0 {
				kink, lam = j, math.Abs(c[j])
				break
			}
		}
	}
	if kink < 0 {
		return nil, ErrNoKink
	}
	xs := make([]float64, n)
	for i, ci := range c {
		if math.Abs(ci) > lam {
			xs[i] = (ci - lam*math.Copysign(1, ci)) / mu
		}
	}
	axs := mat.NewVecDense(m, nil)
	axs.MulVec(A, mat.NewVecDense(n, xs))
	th := make([]float64, m)
	for i := range th {
		th[i] = axs.AtVec(i) + r[i]
	}
	return &Kink{A: A, R: r, Lambda: lam, Mu: mu, X: xs, Theta: th, Coord: kink}, nil
}

// MinSingularValue returns the smallest singular value of I − D(I − γH),
// H = AᵀA + μI, over trials random diagonal D ∈ [0,1]ⁿ (the strong
// monotonicity of the elastic-net forward-backward map): on even trials
// the entries of D are rng.IntN(2) ∈ {0, 1}, on odd ones rng.Float64()
// (a Float64 is drawn for every entry in both cases).
func MinSingularValue(rng Source, A *mat.Dense, gamma, mu float64, trials int) float64 {
	_, n := A.Dims()
	var H mat.Dense
	H.Mul(A.T(), A)
	minSV := math.Inf(1)
	for trial := 0; trial < trials; trial++ {
		M := mat.NewDense(n, n, nil)
		for i := 0; i < n; i++ {
			d := rng.Float64()
			if trial%2 == 0 {
				d = float64(rng.IntN(2))
			}
			for j := 0; j < n; j++ {
				g := -gamma * H.At(i, j)
				if i == j {
					g += 1 - gamma*mu
				}
				M.Set(i, j, -d*g)
			}
			M.Set(i, i, M.At(i, i)+1)
		}
		var svd mat.SVD
		svd.Factorize(M, mat.SVDNone)
		sv := svd.Values(nil)
		minSV = math.Min(minSV, sv[len(sv)-1])
	}
	return minSV
}
