package iterdiff

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/internal/problems"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

// sgdProblem is paper 2's least squares: y_i(θ) = ⟨a_i, w⟩ + θ·z_i + s·e_i,
// f_i(x, θ) = ½(⟨a_i, x⟩ − y_i(θ))², single-sample SGD, θ scalar; the
// derivative reference is J* = (AᵀA)⁻¹Aᵀz (and x*(θ) the least-squares
// solution).
type sgdProblem struct {
	n, d   int
	rows   []*ad.Var // a_i
	base   []float64 // ⟨a_i, w⟩ + s·e_i
	z      []float64
	xstar  []float64 // at θ = 0
	Jstar  []float64
	maxA2  float64
	mu     float64 // λ_min(AᵀA/n)
	grad   StochasticGradient
	x0     *ad.Var
	theta0 *ad.Var
}

// newSGDProblem builds the problem; zMode is "random" or "interp" (z_i =
// ⟨a_i, u⟩, so that the derivatives interpolate too).
func newSGDProblem(seed uint64, n, d int, s float64, zMode string) *sgdProblem {
	ls := problems.NewLeastSquares(newRNG(seed), n, d, s, zMode == "interp")
	A := ls.A
	p := &sgdProblem{n: n, d: d, base: ls.Base, z: ls.Z, maxA2: ls.MaxA2}
	for i := 0; i < n; i++ {
		p.rows = append(p.rows, vecVar(append([]float64(nil), A.RawRowView(i)...)))
	}
	G := gramInv(A, 0)
	xs, js := mat.NewVecDense(d, nil), mat.NewVecDense(d, nil)
	atb, atz := mat.NewVecDense(d, nil), mat.NewVecDense(d, nil)
	atb.MulVec(A.T(), mat.NewVecDense(n, p.base))
	atz.MulVec(A.T(), mat.NewVecDense(n, p.z))
	xs.MulVec(G, atb)
	js.MulVec(G, atz)
	p.xstar, p.Jstar = xs.RawVector().Data, js.RawVector().Data
	lo, _ := extremeEig(A, 0)
	p.mu = lo / float64(n)
	p.grad = func(i int, x *ad.Var, th []*ad.Var) *ad.Var {
		yi := ad.AddScalar(ad.Scale(th[0], p.z[i]), p.base[i])
		return ad.Mul(p.rows[i], ad.Sub(ad.SumAll(ad.Mul(p.rows[i], x)), yi))
	}
	p.x0 = vecVar(make([]float64, d))
	p.theta0 = scalarVar(0)
	return p
}

// run does K SGD steps with samples drawn from seed and the schedule, in
// piggyback mode with tangent 1 on θ, and calls rec(k, ‖x_k − x*‖²,
// ‖J_k − J*‖²) at every iteration.
func (p *sgdProblem) run(t *testing.T, seed uint64, K int, gamma Schedule, rec func(k int, ex, ej float64)) {
	rng := tensor.NewRNG(seed)
	samples := make([]int, K)
	for i := range samples {
		samples[i] = rng.IntN(p.n)
	}
	o := Options{Mode: Piggyback{}, Tol: -1, MaxIter: K}
	o.TangentCallback = func(k int, x, dx *tensor.Tensor) {
		ex := norm(sub(x.Data64(), p.xstar))
		ej := norm(sub(dx.Data64(), p.Jstar))
		rec(k, ex*ex, ej*ej)
	}
	step := SGD(p.grad, samples, gamma)
	_, _, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
		x, _, err := FixedPoint(step, []*ad.Var{p.x0}, xs, o)
		if err != nil {
			t.Fatal(err)
		}
		return x[0]
	}, []*ad.Var{p.theta0}, []*ad.Var{scalarVar(1)}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// TestSGDConstantStepPlateau (paper 2, target 1): with a constant step the
// derivative error of SGD plateaus in a noise ball; halving the step
// lowers the plateau by about 2.
func TestSGDConstantStepPlateau(t *testing.T) {
	n, d, seeds, K := 200, 5, 6, 3000
	if slow() {
		n, d, seeds, K = 1000, 10, 20, 8000
	}
	p := newSGDProblem(1, n, d, 1, "random")
	eta := 0.5 / p.maxA2
	plateau := func(step float64) float64 {
		var sum float64
		var cnt int
		for s := 0; s < seeds; s++ {
			p.run(t, uint64(100+s), K, Constant(step), func(k int, _, ej float64) {
				if k > K/2 {
					sum += ej
					cnt++
				}
			})
		}
		return sum / float64(cnt)
	}
	p1, p2 := plateau(eta), plateau(eta/2)
	t.Logf("constant step η = %.4g: derivative MSE plateau %.4g; η/2: %.4g; ratio %.3f", eta, p1, p2, p1/p2)
	if r := p1 / p2; r < 1.5 || r > 3 {
		t.Errorf("plateau ratio %.3f outside [1.5, 3]", r)
	}
}

// TestSGDDecreasingStep (paper 2, target 2): with η_k = η₀/(k + k₀),
// η₀μ > 1, the derivative MSE decays with log-log slope about −1.
func TestSGDDecreasingStep(t *testing.T) {
	n, d, seeds, K := 200, 5, 6, 10000
	lo, hi := 100, 10000
	if slow() {
		n, d, seeds, K, lo, hi = 1000, 10, 20, 100000, 1000, 100000
	}
	p := newSGDProblem(2, n, d, 1, "random")
	eta0 := 2 / p.mu
	k0 := eta0 / (0.5 / p.maxA2)
	checkpoints := map[int]bool{}
	for e := math.Log10(float64(lo)); e <= math.Log10(float64(hi))+1e-9; e += 0.25 {
		checkpoints[int(math.Round(math.Pow(10, e)))] = true
	}
	mse := map[int]float64{}
	for s := 0; s < seeds; s++ {
		p.run(t, uint64(200+s), K, InverseK(eta0, k0), func(k int, _, ej float64) {
			if checkpoints[k] {
				mse[k] += ej / float64(seeds)
			}
		})
	}
	var xs, ys []float64
	for k := range checkpoints {
		xs = append(xs, math.Log(float64(k)))
		ys = append(ys, math.Log(mse[k]))
	}
	sl := slope(xs, ys)
	t.Logf("η_k = %.3g/(k + %.3g), η₀μ = %.2f: log-log slope of the derivative MSE over k ∈ [%d, %d] = %.3f", eta0, k0, eta0*p.mu, lo, hi, sl)
	if sl < -1.25 || sl > -0.7 {
		t.Errorf("slope %.3f outside [-1.25, -0.7]", sl)
	}
}

// TestSGDInterpolation (paper 2, target 3): with double interpolation
// (s = 0, z_i = ⟨a_i, u⟩) iterates and derivatives both converge
// exponentially with a constant step; with simple interpolation (s = 0, z
// random) the iterates still do but the derivatives plateau.
func TestSGDInterpolation(t *testing.T) {
	n, d, K := 200, 5, 4000
	for _, c := range []struct {
		mode          string
		derivConverge bool
	}{{"interp", true}, {"random", false}} {
		p := newSGDProblem(3, n, d, 0, c.mode)
		eta := 0.5 / p.maxA2
		var ks, lx, lj []float64
		var lastX, lastJ float64
		p.run(t, 300, K, Constant(eta), func(k int, ex, ej float64) {
			lastX, lastJ = ex, ej
			if k%100 == 0 && k >= 500 && ex > 1e-28 {
				ks = append(ks, float64(k))
				lx = append(lx, math.Log(ex))
				lj = append(lj, math.Log(math.Max(ej, 1e-300)))
			}
		})
		sx, sj := slope(ks, lx), slope(ks, lj)
		t.Logf("%s interpolation: final ‖x − x*‖² = %.3g (semi-log slope %.4f), ‖J − J*‖² = %.3g (slope %.4f)", map[bool]string{true: "double", false: "simple"}[c.derivConverge], lastX, sx, lastJ, sj)
		if lastX > 1e-20 || sx > -0.005 {
			t.Errorf("%s: iterates should converge exponentially", c.mode)
		}
		if c.derivConverge && (lastJ > 1e-20 || sj > -0.005) {
			t.Errorf("double interpolation: derivatives should converge exponentially")
		}
		if !c.derivConverge && (lastJ < 1e-6 || math.Abs(sj) > 1e-3) {
			t.Errorf("simple interpolation: derivative error should plateau, got %.3g (slope %.4g)", lastJ, sj)
		}
	}
}
