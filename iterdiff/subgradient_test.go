package iterdiff

import (
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// powerSubgradient is the derivative of |x|^p/p: sign(x)·|x|^{p−1}.
func powerSubgradient(p float64) Gradient {
	return func(x *ad.Var, _ []*ad.Var) *ad.Var {
		return ad.Mul(ad.Sign(x), ad.PowScalar(ad.Abs(x), p-1))
	}
}

// TestInexactSubgradient (paper 3, target 1): the subgradient method on
// |x|^p/p with adversarial errors of size ε (pointing away from the
// minimizer) ends at distance ε^{1/(p−1)}: log-log slopes 1 (p = 2) and 1/3
// (p = 4). Random errors stay within that distance; on the sharp |x| a
// constant step leaves a band of width γ(1 − ε), a vanishing one goes to 0.
func TestInexactSubgradient(t *testing.T) {
	epss := []float64{1e-1, 1e-2, 1e-3, 1e-4}
	if slow() {
		epss = append(epss, 1e-5)
	}
	for _, c := range []struct {
		p, want, tol float64
	}{{2, 1, 0.1}, {4, 1.0 / 3, 0.05}} {
		var xs, ys []float64
		for _, eps := range epss {
			T := InexactSubgradient(powerSubgradient(c.p), Constant(0.1), AdversarialError(eps))
			x, info, err := FixedPoint(T, []*ad.Var{scalarVec(1)}, nil, Options{Mode: Detach{}, Tol: 1e-15, MaxIter: 2000000})
			if err != nil {
				t.Fatal(err)
			}
			d := math.Abs(x[0].Item())
			xs, ys = append(xs, math.Log(eps)), append(ys, math.Log(d))
			t.Logf("p = %g, ε = %g: final distance %.5g (ε^{1/(p−1)} = %.5g) after %d iterations", c.p, eps, d, math.Pow(eps, 1/(c.p-1)), info.Iterations)
		}
		s := slope(xs, ys)
		t.Logf("p = %g: log-log slope %.4f (expected %.4f)", c.p, s, c.want)
		if math.Abs(s-c.want) > c.tol {
			t.Errorf("p = %g: slope %.4f, want %.4f ± %g", c.p, s, c.want, c.tol)
		}
	}
	// random errors of size ε stay within the adversarial distance
	eps := 1e-2
	T := InexactSubgradient(powerSubgradient(2), Constant(0.1), RandomError(eps, tensor.NewRNG(1)))
	x, _, err := FixedPoint(T, []*ad.Var{scalarVec(1)}, nil, Options{Mode: Detach{}, Tol: -1, MaxIter: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(x[0].Item()); d > eps*(1+1e-9) {
		t.Errorf("random errors: distance %.3g > ε", d)
	}
	// sharp case |x|
	gamma, e := 0.01, 0.5
	var band float64
	cb := Options{Mode: Detach{}, Tol: -1, MaxIter: 1000}
	Ts := InexactSubgradient(func(x *ad.Var, _ []*ad.Var) *ad.Var { return ad.Sign(x) }, Constant(gamma), AdversarialError(e))
	var last []float64
	cb.Callback = func(k int, _ float64) {}
	T2 := func(k int, x, th []*ad.Var) []*ad.Var {
		if k >= 900 {
			last = append(last, math.Abs(x[0].Item()))
		}
		return Ts(k, x, th)
	}
	if _, _, err := FixedPoint(T2, []*ad.Var{scalarVec(1)}, nil, cb); err != nil {
		t.Fatal(err)
	}
	for _, v := range last {
		band = math.Max(band, v)
	}
	t.Logf("|x|, constant step γ = %g, ε = %g: band max|x| = %.4g (γ(1−ε) = %.4g)", gamma, e, band, gamma*(1-e))
	if band > gamma*(1-e)*(1+1e-9) || band < 0.3*gamma*(1-e) {
		t.Errorf("sharp case: band %.4g, expected about γ(1−ε) = %.4g", band, gamma*(1-e))
	}
	Tv := InexactSubgradient(func(x *ad.Var, _ []*ad.Var) *ad.Var { return ad.Sign(x) }, InverseK(1, 10), AdversarialError(e))
	xv, _, err := FixedPoint(Tv, []*ad.Var{scalarVec(1)}, nil, Options{Mode: Detach{}, Tol: -1, MaxIter: 20000})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("|x|, vanishing steps 1/(k+10): final distance %.3g", math.Abs(xv[0].Item()))
	if d := math.Abs(xv[0].Item()); d > 1e-4 {
		t.Errorf("vanishing steps: distance %.3g should go to 0", d)
	}
}
