package ot

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// shiftedCost returns C(θ)_ij = ‖x_i − y_j − θe₁‖² as a Var of θ.
func shiftedCost(x, y *tensor.Tensor, theta *ad.Var) *ad.Var {
	n := y.Dim(0)
	e1 := tensor.Zeros(tensor.Float64, n, 2)
	for j := 0; j < n; j++ {
		e1.Set(1, j, 0)
	}
	ys := ad.Add(ad.Const(y), ad.Mul(theta, ad.Const(e1)))
	return SqEuclidean(ad.Const(x), ys)
}

// slope fits log10(e_k) = α + s·k by least squares over the k with
// lo ≤ e_k ≤ hi and returns s and the number of points.
func slope(e []float64, lo, hi float64) (float64, int) {
	var sk, se, skk, ske, cnt float64
	for k, v := range e {
		if v < lo || v > hi {
			continue
		}
		l := math.Log10(v)
		sk += float64(k)
		se += l
		skk += float64(k * k)
		ske += float64(k) * l
		cnt++
	}
	if cnt < 3 {
		return math.NaN(), int(cnt)
	}
	return (cnt*ske - sk*se) / (cnt*skk - sk*sk), int(cnt)
}

// TestPaper6 reproduces the target of Pauwels & Vaiter (2022) for paper 6
// of reference/paper-targets.md: for n = m = 50 random points and the cost
// shifted by θ, the kernel Sinkhorn iterates P_k and their forward-mode
// derivatives dP_k/dθ converge linearly to P* and dP*/dθ with the same
// rate, slower for smaller ε, and the derivatives of the marginals go to 0.
func TestPaper6(t *testing.T) {
	rng := tensor.NewRNG(6)
	x := rng.Uniform(tensor.Float64, 0, 1, 50, 2)
	y := rng.Uniform(tensor.Float64, 0, 1, 50, 2)
	theta := 0.1
	rates := map[float64][2]float64{}
	for _, eps := range []float64{0.1, 0.05} {
		// reference: implicit derivative at a solve converged to 1e-15
		ref := Options{Eps: eps, Tol: 1e-15, MaxIter: 100000, Mode: iterdiff.Implicit{}}
		Pstar, dPstar, err := ad.JVP(func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(shiftedCost(x, y, xs[0]), nil, nil, ref)
			if err != nil {
				t.Fatal(err)
			}
			return res.Plan
		}, []*ad.Var{ad.Scalar(tensor.Float64, theta)}, []*ad.Var{ad.Scalar(tensor.Float64, 1)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// cross-check the reference with central differences
		h := 1e-6
		plus, _ := Sinkhorn(shiftedCost(x, y, ad.Scalar(tensor.Float64, theta+h)), nil, nil, ref)
		minus, _ := Sinkhorn(shiftedCost(x, y, ad.Scalar(tensor.Float64, theta-h)), nil, nil, ref)
		fd := tensor.Scale(tensor.Sub(plus.Plan.Value(), minus.Plan.Value()), 1/(2*h))
		if d := maxAbsDiff(fd, dPstar.Value()); d > 1e-7 {
			t.Fatalf("ε=%g: implicit dP*/dθ differs from finite differences by %.3g", eps, d)
		}
		// forward-mode derivatives along the kernel iterations
		fw, err := ad.NewForward(nil)
		if err != nil {
			t.Fatal(err)
		}
		th, _ := fw.Seed(ad.Scalar(tensor.Float64, theta), ad.Scalar(tensor.Float64, 1))
		var eP, eD []float64
		var rowD, colD float64
		err = Iterate(shiftedCost(x, y, th), nil, nil, Options{Eps: eps, Method: Kernel}, 3000, func(k int, P *ad.Var) bool {
			p, dp := fw.Tangent(P)
			eP = append(eP, norm(tensor.Sub(p.Value(), Pstar.Value())))
			eD = append(eD, norm(tensor.Sub(dp.Value(), dPstar.Value())))
			rowD = norm(tensor.Sum(dp.Value(), []int{1}, false))
			colD = norm(tensor.Sum(dp.Value(), []int{0}, false))
			return eP[len(eP)-1] > 1e-13 || eD[len(eD)-1] > 1e-12
		})
		fw.Close()
		if err != nil {
			t.Fatal(err)
		}
		sP, nP := slope(eP, 1e-12, 1e-6)
		sD, nD := slope(eD, 1e-12, 1e-6)
		rates[eps] = [2]float64{sP, sD}
		t.Logf("ε=%g: %d iterations; log10-slope of ‖P_k−P*‖ %.5f (%d pts), of ‖dP_k−dP*‖ %.5f (%d pts), ratio %.3f; final ‖Σ_j dP_ij‖ %.1e, ‖Σ_i dP_ij‖ %.1e",
			eps, len(eP), sP, nP, sD, nD, sD/sP, rowD, colD)
		if !(math.Abs(sD/sP-1) <= 0.2) {
			t.Errorf("ε=%g: rates differ by more than 20%%: %.5f vs %.5f", eps, sP, sD)
		}
		if rowD > 1e-11 || colD > 1e-11 {
			t.Errorf("ε=%g: marginal derivatives do not vanish: %.3g, %.3g", eps, rowD, colD)
		}
	}
	if !(rates[0.05][0] > rates[0.1][0] && rates[0.05][1] > rates[0.1][1]) {
		t.Errorf("smaller ε should converge more slowly: slopes %v", rates)
	}
}

func norm(x *tensor.Tensor) float64 {
	s := 0.0
	for i := 0; i < x.Size(); i++ {
		s += x.AtFlat(i) * x.AtFlat(i)
	}
	return math.Sqrt(s)
}
