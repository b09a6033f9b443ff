package iterdiff

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/internal/problems"
	"gonum.org/v1/gonum/mat"
)

// TestRidgeOneStepAndKStep (paper 4, targets 2 and 3): for gradient descent
// x⁺ = x − γ(Aᵀ(Ax − y) + λx) the one-step Jacobian in y is γAᵀ and its
// error equals −(I − γH)J* to 1e-10, so it does not vanish with the
// number of iterations; it grows with κ; the k-step error decays like ρ^k.
func TestRidgeOneStepAndKStep(t *testing.T) {
	m, n, lam := 15, 6, 0.1
	prevRel := 0.0
	for _, kappa := range []float64{2, 10, 100} {
		mu, L := 1.0, kappa
		A := problems.RidgeSpectrum(newRNG(uint64(kappa)), m, n, lam, mu, L)
		gamma := 1 / L
		rho := 1 - mu/L
		Av := matVar(A)
		grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
			return ad.Add(MatVec(Av, ad.Sub(MatVec(Av, x, false), th[0]), true), ad.Scale(x, lam))
		}
		T := GradientDescent(grad, Constant(gamma))
		rng := newRNG(uint64(kappa) + 100)
		y := vecVar(randVec(rng, m))
		x0 := vecVar(make([]float64, n))
		var Jstar mat.Dense
		Jstar.Mul(gramInv(A, lam), A.T())
		// H = AᵀA + λI; predicted error −(I − γH)J*
		var H mat.Dense
		H.Mul(A.T(), A)
		pred := mat.NewDense(n, n, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				v := -gamma * (H.At(i, j))
				if i == j {
					v += 1 - gamma*lam
				}
				pred.Set(i, j, v)
			}
		}
		var predErr mat.Dense
		predErr.Mul(pred, &Jstar)
		predErr.Scale(-1, &predErr)
		jacOf := func(mode Mode, maxIter int, tol float64) *mat.Dense {
			f := func(y *ad.Var) *ad.Var {
				x, _, err := FixedPoint(T, []*ad.Var{x0}, []*ad.Var{y}, Options{Mode: mode, Tol: tol, MaxIter: maxIter})
				if err != nil {
					t.Fatal(err)
				}
				return x[0]
			}
			return jacobian(t, f, y, ad.Reverse, nil)
		}
		for _, iters := range []int{200, 5000} {
			J1 := jacOf(OneStep{}, iters, -1)
			var e mat.Dense
			e.Sub(J1, &Jstar)
			d := maxAbsDiff(&e, &predErr)
			rel := mat.Norm(&e, 2) / mat.Norm(&Jstar, 2)
			t.Logf("κ = %g, %d iterations: ‖J̃ − J*‖/‖J*‖ = %.4g (ρ = %.4g); max|(J̃ − J*) − (−(I−γH)J*)| = %.3g", kappa, iters, rel, rho, d)
			if iters == 5000 {
				if d > 1e-10 {
					t.Errorf("κ = %g: one-step error differs from −(I − γH)J* by %.3g", kappa, d)
				}
				if rel > rho+1e-12 || rel < prevRel {
					t.Errorf("κ = %g: relative one-step error %.4g should be ≤ ρ = %.4g and grow with κ (previous %.4g)", kappa, rel, rho, prevRel)
				}
				prevRel = rel
			}
		}
		// k-step: error decays like ρ^k (fit the semi-log slope)
		if kappa == 10 {
			var ks, logs []float64
			for _, k := range []int{5, 10, 20, 30, 40} {
				Jk := jacOf(KStep{K: k}, 3000, 1e-15)
				var e mat.Dense
				e.Sub(Jk, &Jstar)
				ks = append(ks, float64(k))
				logs = append(logs, math.Log(mat.Norm(&e, 2)))
			}
			s := slope(ks, logs)
			t.Logf("κ = %g: k-step error semi-log slope %.4f, log ρ = %.4f", kappa, s, math.Log(rho))
			if math.Abs(s/math.Log(rho)-1) > 0.1 {
				t.Errorf("k-step slope %.4f not within 10%% of log ρ = %.4f", s, math.Log(rho))
			}
		}
	}
}
