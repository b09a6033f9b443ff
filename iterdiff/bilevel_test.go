package iterdiff

import (
	"bufio"
	"compress/gzip"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

// readGzTable reads a gzipped whitespace-separated table of numbers.
func readGzTable(t *testing.T, path string) [][]float64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		fields := strings.Fields(strings.ReplaceAll(sc.Text(), ",", " "))
		if len(fields) == 0 {
			continue
		}
		row := make([]float64, len(fields))
		for i, s := range fields {
			if row[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// diabetes returns the standardized features and the standardized target
// of the diabetes table (testdata/README.md).
func diabetes(t *testing.T) (*mat.Dense, []float64) {
	xs := readGzTable(t, "testdata/diabetes_data_raw.csv.gz")
	ys := readGzTable(t, "testdata/diabetes_target.csv.gz")
	n, p := len(xs), len(xs[0])
	if n != 442 || p != 10 || len(ys) != 442 {
		t.Fatalf("diabetes: %d×%d, %d targets", n, p, len(ys))
	}
	X := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	standardize := func(get func(i int) float64, set func(i int, v float64)) {
		var m, s float64
		for i := 0; i < n; i++ {
			m += get(i)
		}
		m /= float64(n)
		for i := 0; i < n; i++ {
			s += (get(i) - m) * (get(i) - m)
		}
		s = math.Sqrt(s / float64(n))
		for i := 0; i < n; i++ {
			set(i, (get(i)-m)/s)
		}
	}
	for j := 0; j < p; j++ {
		standardize(func(i int) float64 { return xs[i][j] }, func(i int, v float64) { X.Set(i, j, v) })
	}
	standardize(func(i int) float64 { return ys[i][0] }, func(i int, v float64) { y[i] = v })
	return X, y
}

// ridgeBilevel: inner x*(θ) = argmin 1/(2n)‖Ax − y‖² + e^θ/2‖x‖² on the
// training rows, outer ½·mean((A_v x* − y_v)²) on the validation rows.
type ridgeBilevel struct {
	A, Av *mat.Dense
	y, yv []float64
}

func (r *ridgeBilevel) closedForm(theta float64) []float64 {
	n, p := r.A.Dims()
	G := gramInv(r.A, float64(n)*math.Exp(theta))
	aty := mat.NewVecDense(p, nil)
	aty.MulVec(r.A.T(), mat.NewVecDense(n, r.y))
	x := mat.NewVecDense(p, nil)
	x.MulVec(G, aty)
	return x.RawVector().Data
}

func (r *ridgeBilevel) outerValue(x []float64) float64 {
	nv, p := r.Av.Dims()
	res := mat.NewVecDense(nv, nil)
	res.MulVec(r.Av, mat.NewVecDense(p, x))
	var s float64
	for i := 0; i < nv; i++ {
		d := res.AtVec(i) - r.yv[i]
		s += d * d
	}
	return s / (2 * float64(nv))
}

// TestBilevelRidgeDiabetes: the hypergradient of the validation loss in
// θ = log λ of ridge regression on the diabetes table, by Implicit (CG),
// Piggyback, checkpointed Unroll (gradient descent) and Root (dense
// solver), equals central finite differences of the closed form.
func TestBilevelRidgeDiabetes(t *testing.T) {
	X, y := diabetes(t)
	ntr := 300
	r := &ridgeBilevel{
		A: mat.DenseCopyOf(X.Slice(0, ntr, 0, 10)), Av: mat.DenseCopyOf(X.Slice(ntr, 442, 0, 10)),
		y: y[:ntr], yv: y[ntr:],
	}
	theta := math.Log(0.1)
	h := 1e-5
	fd := (r.outerValue(r.closedForm(theta+h)) - r.outerValue(r.closedForm(theta-h))) / (2 * h)

	Atr, Aval := matVar(r.A), matVar(r.Av)
	ytr, yval := vecVar(r.y), vecVar(r.yv)
	n := float64(ntr)
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		g := ad.Scale(MatVec(Atr, ad.Sub(MatVec(Atr, x, false), ytr), true), 1/n)
		return ad.Add(g, ad.Mul(ad.Exp(th[0]), x))
	}
	_, L := extremeEig(r.A, 0)
	L = L/n + 0.1
	T := GradientDescent(grad, Constant(1/L))
	outer := func(x *ad.Var) *ad.Var {
		d := ad.Sub(MatVec(Aval, x, false), yval)
		return ad.Scale(ad.SumAll(ad.Square(d)), 0.5/float64(len(r.yv)))
	}
	x0 := vecVar(make([]float64, 10))
	hyper := func(name string, f func(th *ad.Var) *ad.Var) float64 {
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return outer(f(xs[0])) }, []*ad.Var{scalarVar(theta)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g[0].Item()
	}
	fixed := func(mode Mode) func(th *ad.Var) *ad.Var {
		return func(th *ad.Var) *ad.Var {
			x, info, err := FixedPoint(T, []*ad.Var{x0}, []*ad.Var{th}, Options{Mode: mode, Tol: 1e-13, MaxIter: 100000})
			if err != nil {
				t.Fatal(err)
			}
			if info.Iterations > 20000 {
				t.Logf("%d iterations", info.Iterations)
			}
			return x[0]
		}
	}
	root := func(th *ad.Var) *ad.Var {
		solve := func(p []*tensor.Tensor) ([]*tensor.Tensor, error) {
			return []*tensor.Tensor{tensor.FromFloat64s(tensor.Float64, r.closedForm(p[0].Item()))}, nil
		}
		F := func(x, p []*ad.Var) []*ad.Var { return []*ad.Var{grad(x[0], p)} }
		x, _, err := Root(F, solve, []*ad.Var{th}, Options{Mode: Implicit{Solver: linsolve.MethodCholesky}})
		if err != nil {
			t.Fatal(err)
		}
		return x[0]
	}
	for _, c := range []struct {
		name string
		f    func(th *ad.Var) *ad.Var
		tol  float64
	}{
		{"implicit (CG)", fixed(Implicit{Solver: linsolve.MethodCG}), 1e-8},
		{"piggyback", fixed(Piggyback{}), 1e-8},
		{"unroll (√K checkpoints)", fixed(Unroll{}), 1e-8},
		{"root (Cholesky)", root, 1e-8},
		{"one-step", fixed(OneStep{}), math.Inf(1)},
	} {
		g := hyper(c.name, c.f)
		rel := math.Abs(g-fd) / math.Abs(fd)
		t.Logf("diabetes ridge, λ = 0.1: d(validation loss)/d log λ by %-24s %+.10f  (FD %+.10f, rel diff %.2g)", c.name, g, fd, rel)
		if rel > c.tol {
			t.Errorf("%s: hypergradient %.10g vs FD %.10g", c.name, g, fd)
		}
	}
}

// TestBilevelLassoSynthetic: the hypergradient of a validation loss in
// θ = log λ of the Lasso on synthetic sparse data (the threshold is a Var,
// so λ is differentiable), by Implicit and Piggyback, equals central finite
// differences of an independent float64 solver.
func TestBilevelLassoSynthetic(t *testing.T) {
	rng := newRNG(21)
	m, n := 60, 15
	A, Av := randMat(rng, m, n), randMat(rng, m, n)
	w := make([]float64, n)
	for i := 0; i < 4; i++ {
		w[i] = 2 * rng.NormFloat64()
	}
	mk := func(M *mat.Dense) []float64 {
		v := mat.NewVecDense(m, nil)
		v.MulVec(M, mat.NewVecDense(n, w))
		out := v.RawVector().Data
		for i := range out {
			out[i] += 0.5 * rng.NormFloat64()
		}
		return out
	}
	y, yv := mk(A), mk(Av)
	_, L := extremeEig(A, 0)
	gamma := 1 / L
	theta := math.Log(3.0)
	outerVal := func(x []float64) float64 {
		r := mat.NewVecDense(m, nil)
		r.MulVec(Av, mat.NewVecDense(n, x))
		var s float64
		for i := range yv {
			s += (r.AtVec(i) - yv[i]) * (r.AtVec(i) - yv[i])
		}
		return s / (2 * float64(m))
	}
	xs := fbElasticNet(A, y, 0, math.Exp(theta), gamma, make([]float64, n), 2e-16, 1000000)
	h := 1e-6
	fd := (outerVal(fbElasticNet(A, y, 0, math.Exp(theta+h), gamma, xs, 2e-16, 1000000)) -
		outerVal(fbElasticNet(A, y, 0, math.Exp(theta-h), gamma, xs, 2e-16, 1000000))) / (2 * h)
	Avar, Avv, yvar, yvv := matVar(A), matVar(Av), vecVar(y), vecVar(yv)
	grad := func(x *ad.Var, th []*ad.Var) *ad.Var {
		return MatVec(Avar, ad.Sub(MatVec(Avar, x, false), yvar), true)
	}
	// prox of γλ‖·‖₁ with λ = e^θ a Var: relu(v − γλ) − relu(−v − γλ)
	prox := func(v *ad.Var, g float64, th []*ad.Var) *ad.Var {
		tt := ad.Scale(ad.Exp(th[0]), g)
		return ad.Sub(ad.Relu(ad.Sub(v, tt)), ad.Relu(ad.Sub(ad.Neg(v), tt)))
	}
	T := ProximalGradient(grad, prox, Constant(gamma))
	for _, mode := range []Mode{Implicit{}, Piggyback{}, Unroll{Checkpoints: 8}} {
		g, err := ad.Grad(func(th ...*ad.Var) *ad.Var {
			x, _, err := FixedPoint(T, []*ad.Var{vecVar(make([]float64, n))}, th, Options{Mode: mode, Tol: 1e-14, MaxIter: 100000})
			if err != nil {
				t.Fatal(err)
			}
			d := ad.Sub(MatVec(Avv, x[0], false), yvv)
			return ad.Scale(ad.SumAll(ad.Square(d)), 0.5/float64(m))
		}, []*ad.Var{scalarVar(theta)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rel := math.Abs(g[0].Item()-fd) / math.Abs(fd)
		t.Logf("lasso, λ = 3: hypergradient by %-10s %+.10f (FD %+.10f, rel diff %.2g)", ModeName(mode), g[0].Item(), fd, rel)
		if rel > 1e-6 {
			t.Errorf("%s: hypergradient %.10g vs FD %.10g", ModeName(mode), g[0].Item(), fd)
		}
	}
}
