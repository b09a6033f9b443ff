package problems

import "math"

// LogisticReg is the ℓ2 weight e^{−5} of paper 4's logistic regression
// Σᵢ wᵢ log(1 + e^{−yᵢxᵢᵀβ}) + LogisticReg/2‖β‖².
var LogisticReg = math.Exp(-5)

// Logistic is the data of paper 4's weighted ℓ2-logistic regression.
type Logistic struct {
	N, D int       // N = 2n₁ samples, D = p + 1 columns (the last one the intercept)
	X    []float64 // N×D design, row-major
	Y    []float64 // labels ±1
	W    []float64 // sample weights, all 1/N
}

// NewLogistic draws two Gaussian classes of n1 samples each in Rᵖ with
// means ±1/√p (label +1 for the first n1 rows, −1 for the others),
// standardizes every feature (mean 0, population variance 1), appends an
// intercept column of ones and sets uniform weights 1/n. The draws are
// rng.NormFloat64() row by row.
func NewLogistic(rng Source, n1, p int) *Logistic {
	n, d := 2*n1, p+1
	X := make([]float64, n*d)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		c := 1.0
		if i >= n1 {
			c = -1
		}
		y[i] = c
		for j := 0; j < p; j++ {
			X[i*d+j] = rng.NormFloat64() + c/math.Sqrt(float64(p))
		}
	}
	for j := 0; j < p; j++ { // standardize
		var m, s float64
		for i := 0; i < n; i++ {
			m += X[i*d+j]
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			s += (X[i*d+j] - m) * (X[i*d+j] - m)
		}
		s = math.Sqrt(s / float64(n))
		for i := 0; i < n; i++ {
			X[i*d+j] = (X[i*d+j] - m) / s
		}
	}
	for i := 0; i < n; i++ {
		X[i*d+p] = 1
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(n)
	}
	return &Logistic{N: n, D: d, X: X, Y: y, W: w}
}
