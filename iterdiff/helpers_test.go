package iterdiff

import (
	"math"
	"math/rand/v2"
	"os"
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
	m := f(ad.StopGradient(x)).Value().Size()
	n := x.Value().Size()
	j, err := ad.Jacobian(f, x, mode, o)
	if err != nil {
		t.Fatal(err)
	}
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

// slow reports whether the long versions of the experiments run.
func slow() bool { return os.Getenv("GRADUS_SLOW") == "1" }

// softThreshold is the scalar prox of t|·|.
func softThreshold(v, t float64) float64 {
	switch {
	case v > t:
		return v - t
	case v < -t:
		return v + t
	}
	return 0
}

// fbElasticNet solves min ½‖Ax − y‖² + μ/2‖x‖² + λ‖x‖₁ by forward-backward
// in plain float64 (an independent reference), from x0, until the update
// is below tol·max(1, ‖x‖∞).
func fbElasticNet(A *mat.Dense, y []float64, mu, lam, gamma float64, x0 []float64, tol float64, maxIter int) []float64 {
	m, n := A.Dims()
	x := append([]float64(nil), x0...)
	r := mat.NewVecDense(m, nil)
	g := mat.NewVecDense(n, nil)
	for k := 0; k < maxIter; k++ {
		r.MulVec(A, mat.NewVecDense(n, x))
		r.SubVec(r, mat.NewVecDense(m, y))
		g.MulVec(A.T(), r)
		var d, sc float64
		for i := range x {
			nx := softThreshold(x[i]-gamma*(g.AtVec(i)+mu*x[i]), gamma*lam)
			d = math.Max(d, math.Abs(nx-x[i]))
			sc = math.Max(sc, math.Abs(nx))
			x[i] = nx
		}
		if d <= tol*math.Max(1, sc) {
			break
		}
	}
	return x
}

// slope returns the least-squares slope of ys against xs.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx
}

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func sub(a, b []float64) []float64 {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}

// jacobianOnce returns ∂f/∂x (rows: outputs) from one evaluation of f on a
// tape and one backward pass per output element.
func jacobianOnce(t *testing.T, f func(x *ad.Var) *ad.Var, x *ad.Var, o *ad.Options) *mat.Dense {
	t.Helper()
	tp, err := ad.NewTape(o)
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Close()
	xw := tp.Watch(x)
	y := f(xw)
	m, n := y.Value().Size(), x.Value().Size()
	J := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		e := tensor.ZerosLike(y.Value())
		e.SetFlat(i, 1)
		g, err := tp.Backward(y, ad.Const(e), xw)
		if err != nil {
			t.Fatal(err)
		}
		J.SetRow(i, g[0].Value().Float64s())
	}
	return J
}
