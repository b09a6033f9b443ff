package ode

import (
	"errors"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
	"gonum.org/v1/gonum/mat"
)

func vec(v ...float64) *ad.Var { return ad.Const(tensor.FromFloat64s(tensor.Float64, v, len(v))) }

// linear returns the field x' = A x with A = θ[0] (n×n).
func linear(t float64, x *ad.Var, th []*ad.Var) *ad.Var {
	return ad.Reshape(ad.MatMul(th[0], ad.Reshape(x, -1, 1)), -1)
}

// expmTimes returns exp(tA)·x0 by gonum's matrix exponential.
func expmTimes(A *tensor.Tensor, x0 []float64, t float64) []float64 {
	n := len(x0)
	var E mat.Dense
	E.Exp(mat.NewDense(n, n, tensor.Scale(A, t).Float64s()))
	var y mat.VecDense
	y.MulVec(&E, mat.NewVecDense(n, x0))
	return y.RawVector().Data
}

func relErr(got, want []float64) float64 {
	var num, den float64
	for i := range got {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num / den)
}

// TestLinearSystem: Dopri5 reaches the requested tolerance on x' = Ax
// against the matrix exponential, at the final time and (dense output) at
// intermediate ones; the fixed-step methods converge at their orders.
func TestLinearSystem(t *testing.T) {
	A := tensor.FromFloat64s(tensor.Float64, []float64{
		-0.5, 2, 0, 0,
		-2, -0.5, 0, 0,
		0, 0, -0.1, 1,
		0.3, 0, -1, -0.2,
	}, 4, 4)
	x0 := []float64{1, 0, 0.5, -1}
	T := 5.0
	save := []float64{0.7, 1.9, 3.33, T}
	for _, tol := range []float64{1e-4, 1e-6, 1e-8, 1e-10} {
		sol, err := Solve(linear, vec(x0...), []*ad.Var{ad.Const(A)}, 0, T, Options{RTol: tol, ATol: tol, SaveAt: save})
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, s := range save {
			worst = math.Max(worst, relErr(sol.At(i).Value().Float64s(), expmTimes(A, x0, s)))
		}
		st := sol.Stats
		t.Logf("dopri5 tol %.0e: max relative error %.2e over %d outputs; %d steps (%d accepted, %d rejected), %d evaluations", tol, worst, len(save), st.Steps, st.Accepted, st.Rejected, st.FEvals)
		if worst > 50*tol {
			t.Errorf("tol %g: error %.3g", tol, worst)
		}
	}
	for _, m := range []struct {
		m     Method
		order float64
	}{{Euler, 1}, {Heun, 2}, {RK4, 4}} {
		var errs []float64
		for _, h := range []float64{0.02, 0.01} {
			sol, err := Solve(linear, vec(x0...), []*ad.Var{ad.Const(A)}, 0, T, Options{Method: m.m, Step: h})
			if err != nil {
				t.Fatal(err)
			}
			errs = append(errs, relErr(sol.Final().Value().Float64s(), expmTimes(A, x0, T)))
		}
		order := math.Log2(errs[0] / errs[1])
		t.Logf("%v: error %.2e at h=0.02, %.2e at h=0.01: observed order %.2f", m.m, errs[0], errs[1], order)
		if math.Abs(order-m.order) > 0.2 {
			t.Errorf("%v: observed order %.2f, want %v", m.m, order, m.order)
		}
	}
}

// TestLotkaVolterra: Dopri5 keeps the conserved quantity
// V = δx − γ log x + βy − α log y of x' = αx − βxy, y' = δxy − γy to the
// requested tolerance over several periods; step counts are logged.
func TestLotkaVolterra(t *testing.T) {
	al, be, ga, de := 1.5, 1.0, 3.0, 1.0
	f := func(t float64, z *ad.Var, th []*ad.Var) *ad.Var {
		x := ad.SliceAxis(z, 0, 0, 1)
		y := ad.SliceAxis(z, 0, 1, 2)
		xy := ad.Mul(x, y)
		return ad.Concat(0, ad.Sub(ad.Scale(x, al), ad.Scale(xy, be)), ad.Sub(ad.Scale(xy, de), ad.Scale(y, ga)))
	}
	V := func(z []float64) float64 {
		return de*z[0] - ga*math.Log(z[0]) + be*z[1] - al*math.Log(z[1])
	}
	z0 := []float64{1, 1}
	var saves []float64
	for s := 1.0; s <= 20; s++ {
		saves = append(saves, s)
	}
	for _, tol := range []float64{1e-6, 1e-9, 1e-12} {
		sol, err := Solve(f, vec(z0...), nil, 0, 20, Options{RTol: tol, ATol: tol, SaveAt: saves})
		if err != nil {
			t.Fatal(err)
		}
		drift := 0.0
		for i := range saves {
			drift = math.Max(drift, math.Abs(V(sol.At(i).Value().Float64s())-V(z0))/math.Abs(V(z0)))
		}
		st := sol.Stats
		t.Logf("tol %.0e: max relative drift of V over t ∈ [0, 20]: %.2e; %d steps (%d accepted, %d rejected), %d evaluations", tol, drift, st.Steps, st.Accepted, st.Rejected, st.FEvals)
		if drift > 100*tol {
			t.Errorf("tol %g: V drifts by %.3g", tol, drift)
		}
	}
}

// TestBackwardInTime: integrating from t0 to t1 < t0 inverts the flow,
// and its gradient matches the forward-sensitivity one.
func TestBackwardInTime(t *testing.T) {
	A := tensor.FromFloat64s(tensor.Float64, []float64{0, 1, -1, -0.1}, 2, 2)
	x0 := []float64{1, 0.5}
	fwd, err := Solve(linear, vec(x0...), []*ad.Var{ad.Const(A)}, 0, 3, Options{RTol: 1e-11, ATol: 1e-12})
	if err != nil {
		t.Fatal(err)
	}
	back, err := Solve(linear, fwd.Final(), []*ad.Var{ad.Const(A)}, 3, 0, Options{RTol: 1e-11, ATol: 1e-12, SaveAt: []float64{1.5, 0}})
	if err != nil {
		t.Fatal(err)
	}
	if e := relErr(back.Final().Value().Float64s(), x0); e > 1e-9 {
		t.Errorf("backward integration error %.3g", e)
	}
	if e := relErr(back.At(0).Value().Float64s(), expmTimes(A, x0, 1.5)); e > 1e-9 {
		t.Errorf("backward dense output error %.3g", e)
	}
}

// TestErrors: bad options are errors; MaxSteps and a blow-up are reported.
func TestErrors(t *testing.T) {
	x0 := vec(1)
	for name, o := range map[string]Options{
		"no step":     {Method: Euler},
		"bad method":  {Method: Method(9)},
		"bad save":    {SaveAt: []float64{0.5, 0.2}},
		"save beyond": {SaveAt: []float64{2}},
	} {
		if _, err := Solve(negAbs, x0, nil, 0, 1, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Solve(negAbs, x0, nil, 0, 1, Options{Method: Euler, Step: 1e-3, MaxSteps: 10}); !errors.Is(err, ErrMaxSteps) {
		t.Errorf("MaxSteps: %v", err)
	}
	blowup := func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.Mul(x, x) }
	if _, err := Solve(blowup, x0, nil, 0, 2, Options{}); !errors.Is(err, ErrStepSize) && !errors.Is(err, ErrMaxSteps) {
		t.Errorf("blow-up of x' = x² at t = 1: %v", err)
	}
	// a field capturing a traced Var instead of taking it in theta
	tp, _ := ad.NewTape(nil)
	k := tp.Watch(vec(2))
	capturing := func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.Neg(ad.Mul(k, x)) }
	if _, err := Solve(capturing, x0, nil, 0, 1, Options{}); err == nil {
		t.Error("captured traced Var: no error")
	}
	tp.Close()
	wrong := func(t float64, x *ad.Var, th []*ad.Var) *ad.Var { return ad.Concat(0, x, x) }
	if _, err := Solve(wrong, x0, nil, 0, 1, Options{}); err == nil {
		t.Error("wrong output shape: no error")
	}
}

// TestBacksolveFixedStep: the backsolve adjoint with a fixed-step method
// approaches the discrete adjoint as the step shrinks (both converge to
// the true gradient).
func TestBacksolveFixedStep(t *testing.T) {
	A := tensor.FromFloat64s(tensor.Float64, []float64{-0.3, 1, -1, -0.2}, 2, 2)
	x0 := vec(1, 0.5)
	grad := func(o Options) *tensor.Tensor {
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			sol, err := Solve(linear, x0, xs, 0, 2, o)
			if err != nil {
				t.Fatal(err)
			}
			return ad.SumAll(sol.Final())
		}, []*ad.Var{ad.Const(A)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g[0].Value()
	}
	var diffs []float64
	for _, h := range []float64{0.1, 0.05} {
		gd := grad(Options{Method: RK4, Step: h})
		gb := grad(Options{Method: RK4, Step: h, Adjoint: Backsolve{}})
		diffs = append(diffs, maxDiff(gd, gb))
	}
	t.Logf("RK4 backsolve vs discrete adjoint: %.2e (h=0.1), %.2e (h=0.05): ratio %.1f", diffs[0], diffs[1], diffs[0]/diffs[1])
	if !(diffs[0]/diffs[1] > 10) || diffs[1] > 1e-5 {
		t.Errorf("backsolve with RK4 does not converge at order 4: %v", diffs)
	}
}
