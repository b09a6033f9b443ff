package iterdiff

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

// Test helpers: random problems, closed forms with gonum, Jacobians
// through the ad functional API.

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

func randMat(rng *rand.Rand, m, n int) *mat.Dense {
	a := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	return a
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func matVar(a *mat.Dense) *ad.Var {
	r, c := a.Dims()
	return ad.Const(tensor.FromFloat64s(tensor.Float64, mat.DenseCopyOf(a).RawMatrix().Data, r, c))
}

func vecVar(v []float64) *ad.Var { return ad.Const(tensor.FromFloat64s(tensor.Float64, v)) }

func scalarVar(v float64) *ad.Var { return ad.Scalar(tensor.Float64, v) }

func vals(v *ad.Var) []float64 { return v.Value().Float64s() }

// jacobian returns ∂f/∂x as a gonum matrix (rows: outputs).
func jacobian(t *testing.T, f func(x *ad.Var) *ad.Var, x *ad.Var, mode ad.JacobianMode, o *ad.Options) *mat.Dense {
	t.Helper()
	j, err := ad.Jacobian(f, x, mode, o)
	if err != nil {
		t.Fatal(err)
	}
	m := f(ad.StopGradient(x)).Value().Size()
	n := x.Value().Size()
	return mat.NewDense(m, n, j.Value().Float64s())
}

func maxAbsDiff(a, b mat.Matrix) float64 {
	r, c := a.Dims()
	d := 0.0
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			d = math.Max(d, math.Abs(a.At(i, j)-b.At(i, j)))
		}
	}
	return d
}

func maxAbsDiffVec(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// gramInv returns (AᵀA + λI)⁻¹.
func gramInv(a *mat.Dense, lam float64) *mat.Dense {
	_, n := a.Dims()
	var g mat.Dense
	g.Mul(a.T(), a)
	for i := 0; i < n; i++ {
		g.Set(i, i, g.At(i, i)+lam)
	}
	var inv mat.Dense
	if err := inv.Inverse(&g); err != nil {
		panic(err)
	}
	return &inv
}

// lipschitz returns the largest eigenvalue of AᵀA + λI and the smallest.
func extremeEig(a *mat.Dense, lam float64) (lo, hi float64) {
	_, n := a.Dims()
	var g mat.Dense
	g.Mul(a.T(), a)
	sym := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			sym.SetSym(i, j, g.At(i, j))
		}
	}
	var e mat.EigenSym
	e.Factorize(sym, false)
	v := e.Values(nil)
	return v[0] + lam, v[n-1] + lam
}
