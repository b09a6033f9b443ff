package iterdiff

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/linsolve"
	"github.com/gradus-ml/gradus/tensor"
)

func halfStep(k int, x, th []*ad.Var) []*ad.Var {
	return []*ad.Var{ad.Add(ad.Scale(x[0], 0.5), th[0])}
}

// TestCapturedVarIsAnError: a step that closes over a traced Var instead of
// taking it in theta is refused (its derivative would be silently lost).
func TestCapturedVarIsAnError(t *testing.T) {
	var gotErr error
	_, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
		captured := xs[0]
		T := func(k int, x, th []*ad.Var) []*ad.Var {
			return []*ad.Var{ad.Add(ad.Scale(x[0], 0.5), captured)}
		}
		x, _, err := FixedPoint(T, []*ad.Var{vecVar([]float64{0})}, nil, Options{})
		gotErr = err
		if err != nil {
			return ad.SumAll(xs[0])
		}
		return ad.SumAll(x[0])
	}, []*ad.Var{vecVar([]float64{1})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(gotErr, ErrCapturedVar) {
		t.Errorf("captured traced Var: got %v, want ErrCapturedVar", gotErr)
	}
	// the same parameter passed explicitly works: x* = 2θ, dx*/dθ = 2
	g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
		x, _, err := FixedPoint(halfStep, []*ad.Var{vecVar([]float64{0})}, xs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return ad.SumAll(x[0])
	}, []*ad.Var{vecVar([]float64{1})}, nil)
	if err != nil || math.Abs(g[0].Item()-2) > 1e-9 {
		t.Errorf("explicit parameter: %v %v", g, err)
	}
}

func TestBadInputs(t *testing.T) {
	th := []*ad.Var{vecVar([]float64{1})}
	x0 := []*ad.Var{vecVar([]float64{0})}
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"nil step", func() error { _, _, err := FixedPoint(nil, x0, th, Options{}); return err }, nil},
		{"empty state", func() error { _, _, err := FixedPoint(halfStep, nil, th, Options{}); return err }, nil},
		{"nil theta", func() error { _, _, err := FixedPoint(halfStep, x0, []*ad.Var{nil}, Options{}); return err }, nil},
		{"bad KStep", func() error { _, _, err := FixedPoint(halfStep, x0, th, Options{Mode: KStep{}}); return err }, nil},
		{"bad checkpoints", func() error {
			_, _, err := FixedPoint(halfStep, x0, th, Options{Mode: Unroll{Checkpoints: 1}})
			return err
		}, nil},
		{"negative ridge", func() error {
			_, _, err := FixedPoint(halfStep, x0, th, Options{Mode: Implicit{Ridge: -1}})
			return err
		}, nil},
		{"state changes shape", func() error {
			T := func(k int, x, th []*ad.Var) []*ad.Var { return []*ad.Var{ad.Concat(0, x[0], x[0])} }
			_, _, err := FixedPoint(T, x0, th, Options{})
			return err
		}, ErrState},
		{"state loses a part", func() error {
			T := func(k int, x, th []*ad.Var) []*ad.Var { return x[:1] }
			_, _, err := FixedPoint(T, []*ad.Var{x0[0], x0[0]}, th, Options{})
			return err
		}, ErrState},
		{"implicit needs float64", func() error {
			_, _, err := FixedPoint(halfStep, []*ad.Var{ad.Const(tensor.Zeros(tensor.Float32, 1))}, th, Options{})
			return err
		}, nil},
		{"canceled context", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			n := 0
			T := func(k int, x, th []*ad.Var) []*ad.Var {
				if n++; n == 10 {
					cancel()
				}
				return halfStep(k, x, th)
			}
			_, _, err := FixedPoint(T, x0, th, Options{Context: ctx, Tol: -1, MaxIter: 100})
			return err
		}, context.Canceled},
		{"root with a piggyback mode", func() error {
			_, _, err := Root(func(x, th []*ad.Var) []*ad.Var { return x }, func([]*tensor.Tensor) ([]*tensor.Tensor, error) { return nil, nil }, th, Options{Mode: Piggyback{}})
			return err
		}, nil},
		{"root solver error", func() error {
			_, _, err := Root(func(x, th []*ad.Var) []*ad.Var { return x }, func([]*tensor.Tensor) ([]*tensor.Tensor, error) {
				return nil, errors.New("boom")
			}, th, Options{})
			if err == nil || !strings.Contains(err.Error(), "boom") {
				return errors.New("solver error not propagated")
			}
			return err
		}, nil},
	}
	for _, c := range cases {
		err := c.run()
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestImplicitRefusesUnconverged: Implicit mode returns ErrNotConverged
// (with the state and Info) when the forward iteration did not converge,
// unless AllowUnconverged; other modes flag it in Info only. An
// unconverged linear solve is flagged in Info and by Info.Err.
func TestImplicitRefusesUnconverged(t *testing.T) {
	th := []*ad.Var{vecVar([]float64{1})}
	x0 := []*ad.Var{vecVar([]float64{0})}
	x, info, err := FixedPoint(halfStep, x0, th, Options{MaxIter: 5})
	if !errors.Is(err, ErrNotConverged) || x == nil || info == nil || info.Converged {
		t.Errorf("implicit, 5 iterations: err %v, info %+v", err, info)
	}
	if _, info, err = FixedPoint(halfStep, x0, th, Options{MaxIter: 5, AllowUnconverged: true}); err != nil || info.Err() == nil {
		t.Errorf("AllowUnconverged: err %v, Info.Err %v", err, info.Err())
	}
	if _, info, err = FixedPoint(halfStep, x0, th, Options{MaxIter: 5, Mode: Unroll{}}); err != nil || info.Converged {
		t.Errorf("unroll, 5 iterations: err %v, converged %v", err, info.Converged)
	}
	// a linear solve limited to one iteration on a 3-D problem
	rng := newRNG(40)
	A := matVar(randMat(rng, 3, 3))
	T := func(k int, x, th []*ad.Var) []*ad.Var {
		return []*ad.Var{ad.Add(ad.Scale(ad.Tanh(MatVec(A, x[0], false)), 0.3), th[0])}
	}
	var linfo *Info
	_, err = ad.Grad(func(xs ...*ad.Var) *ad.Var {
		x, in, err := FixedPoint(T, []*ad.Var{vecVar(make([]float64, 3))}, xs, Options{Mode: Implicit{Solver: linsolve.MethodGMRES, MaxIter: 1}})
		if err != nil {
			t.Fatal(err)
		}
		linfo = in
		return ad.SumAll(x[0])
	}, []*ad.Var{vecVar(randVec(rng, 3))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if linfo.LinearConverged || linfo.LinearSolves != 1 || linfo.Err() == nil {
		t.Errorf("linear solve with MaxIter 1: converged %v, solves %d, Err %v", linfo.LinearConverged, linfo.LinearSolves, linfo.Err())
	} else {
		t.Logf("flagged: %v", linfo.Err())
	}
}

// TestMultiPartState: a state of tensors of different shapes (a matrix and
// a vector) is packed and unpacked transparently, in every mode.
func TestMultiPartState(t *testing.T) {
	// X⁺ = 0.5·X + θ₀ (2×2), v⁺ = 0.25·v + sum(X)·θ₁ (3): X* = 2θ₀,
	// v* = (4/3)·sum(X*)·θ₁
	T := func(k int, x, th []*ad.Var) []*ad.Var {
		X := ad.Add(ad.Scale(x[0], 0.5), th[0])
		v := ad.Add(ad.Scale(x[1], 0.25), ad.Mul(ad.SumAll(x[0]), th[1]))
		return []*ad.Var{X, v}
	}
	th0 := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3, 4}, 2, 2))
	th1 := vecVar([]float64{1, -1, 0.5})
	x0 := []*ad.Var{ad.Const(tensor.Zeros(tensor.Float64, 2, 2)), vecVar(make([]float64, 3))}
	for _, mode := range allModes {
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			x, _, err := FixedPoint(T, x0, xs, Options{Mode: mode, Tol: 1e-14, MaxIter: 500})
			if err != nil {
				t.Fatal(err)
			}
			if !equalShape(x[0].Shape(), []int{2, 2}) || !equalShape(x[1].Shape(), []int{3}) {
				t.Fatalf("shapes %v %v", x[0].Shape(), x[1].Shape())
			}
			return ad.Add(ad.SumAll(x[0]), ad.SumAll(x[1]))
		}, []*ad.Var{th0, th1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// d/dθ₀ [sum X* + sum v*] = 2 + (4/3)·2·sum(θ₁) = 2 + (8/3)·0.5; d/dθ₁ = (4/3)·sum(X*) = (4/3)·20
		want0, want1 := 2+8.0/3*0.5, 4.0/3*20
		switch mode.(type) {
		case Detach:
			want0, want1 = 0, 0
		case OneStep, KStep:
			continue
		case Implicit:
			if mode.(Implicit).Ridge > 0 {
				continue // a ridge changes the derivative on purpose
			}
		}
		if d := math.Max(math.Abs(g[0].Value().AtFlat(3)-want0), math.Abs(g[1].Value().AtFlat(0)-want1)); d > 1e-8 {
			t.Errorf("%s: gradient (%.10g, %.10g), want (%.10g, %.10g)", modeLabel(mode), g[0].Value().AtFlat(3), g[1].Value().AtFlat(0), want0, want1)
		}
	}
}

// TestFloat32State: the modes that need no linear solve run on Float32.
func TestFloat32State(t *testing.T) {
	T := func(k int, x, th []*ad.Var) []*ad.Var { return []*ad.Var{ad.Add(ad.Scale(x[0], 0.5), th[0])} }
	th := ad.Const(tensor.FromFloat64s(tensor.Float32, []float64{1, 2}))
	x0 := ad.Const(tensor.Zeros(tensor.Float32, 2))
	for _, mode := range []Mode{Unroll{}, Piggyback{}, OneStep{}} {
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			x, _, err := FixedPoint(T, []*ad.Var{x0}, xs, Options{Mode: mode, Tol: 1e-6})
			if err != nil {
				t.Fatal(err)
			}
			return ad.SumAll(x[0])
		}, []*ad.Var{th}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := 2.0
		if _, ok := mode.(OneStep); ok {
			want = 1
		}
		if math.Abs(g[0].Value().AtFlat(0)-want) > 1e-5 {
			t.Errorf("%s float32: %v, want %v", ModeName(mode), g[0].Value().AtFlat(0), want)
		}
	}
}
