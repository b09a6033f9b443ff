package ot

import (
	"errors"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/iterdiff"
	"github.com/gradus-ml/gradus/tensor"
)

// TestSmallEpsilon: at ε = 1e-3 with costs in [0.8, 1] the kernel
// exp(−C/ε) underflows to 0; the kernel method stops with ErrNumerical
// and Info.Numerical, and the log-domain method stays finite and
// converges (with and without ε-scaling).
func TestSmallEpsilon(t *testing.T) {
	rng := tensor.NewRNG(11)
	C := ad.Const(tensor.AddScalar(rng.Uniform(tensor.Float64, 0, 0.2, 30, 40), 0.8))
	res, err := Sinkhorn(C, nil, nil, Options{Eps: 1e-3, Method: Kernel, Mode: iterdiff.Detach{}})
	if !errors.Is(err, ErrNumerical) || !res.Info.Numerical || res.Info.Converged || res.Plan != nil {
		t.Fatalf("kernel method at ε=1e-3: err %v, info %+v", err, res.Info)
	}
	t.Logf("kernel: %v", err)
	for _, sc := range []*EpsScaling{nil, {Init: 1, Decay: 0.5}} {
		res, err := Sinkhorn(C, nil, nil, Options{Eps: 1e-3, MaxIter: 20000, Mode: iterdiff.Detach{}, EpsScaling: sc})
		if err != nil {
			t.Fatal(err)
		}
		if res.Plan.Value().HasNaNInf() || res.F.Value().HasNaNInf() || res.G.Value().HasNaNInf() || math.IsNaN(res.Cost.Item()) {
			t.Fatal("log domain produced NaN or Inf")
		}
		if !res.Info.Converged {
			t.Errorf("log domain did not converge: %+v", res.Info)
		}
		t.Logf("log domain, ε-scaling %v: %d iterations in %d stages, marginal error %.2e, cost %.6f",
			sc != nil, res.Info.Iterations, res.Info.EpsStages, res.Info.MarginalError, res.Cost.Item())
	}
}

// TestNotConverged: too few iterations is reported, never a silent NaN;
// Implicit mode refuses to differentiate unless AllowUnconverged.
func TestNotConverged(t *testing.T) {
	C, a, b := smallProblem(20, 20, 3)
	o := Options{Eps: 0.01, MaxIter: 3, Mode: iterdiff.Detach{}}
	res, err := Sinkhorn(ad.Const(C), ad.Const(a), ad.Const(b), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Info.Converged || !errors.Is(res.Info.Err(), ErrNotConverged) || res.Plan.Value().HasNaNInf() {
		t.Fatalf("info %+v, err %v", res.Info, res.Info.Err())
	}
	o.Mode = iterdiff.Implicit{}
	if _, err := Sinkhorn(ad.Const(C), ad.Const(a), ad.Const(b), o); !errors.Is(err, ErrNotConverged) {
		t.Fatalf("implicit at an unconverged solve: err %v", err)
	}
	o.AllowUnconverged = true
	if _, err := Sinkhorn(ad.Const(C), ad.Const(a), ad.Const(b), o); err != nil {
		t.Fatal(err)
	}
}

// TestBadInputs: errors, not panics, for bad inputs.
func TestBadInputs(t *testing.T) {
	C := ad.Const(tensor.Ones(tensor.Float64, 3, 4))
	nan := tensor.Ones(tensor.Float64, 3, 4)
	nan.Set(math.NaN(), 1, 1)
	for name, f := range map[string]func() error{
		"eps 0": func() error { _, err := Sinkhorn(C, nil, nil, Options{}); return err },
		"shape of a": func() error {
			_, err := Sinkhorn(C, ad.Const(tensor.Ones(tensor.Float64, 4)), nil, Options{Eps: 1})
			return err
		},
		"negative a": func() error {
			_, err := Sinkhorn(C, ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{2, -1, 0}, 3)), nil, Options{Eps: 1})
			return err
		},
		"mass mismatch": func() error {
			_, err := Sinkhorn(C, ad.Const(tensor.Ones(tensor.Float64, 3)), nil, Options{Eps: 1})
			return err
		},
		"NaN cost": func() error { _, err := Sinkhorn(ad.Const(nan), nil, nil, Options{Eps: 1}); return err },
		"float32": func() error {
			_, err := Sinkhorn(ad.Const(tensor.Ones(tensor.Float32, 3, 4)), nil, nil, Options{Eps: 1})
			return err
		},
		"vector cost": func() error {
			_, err := Sinkhorn(ad.Const(tensor.Ones(tensor.Float64, 3)), nil, nil, Options{Eps: 1})
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestZeroMass: zero entries of a marginal give zero rows of the plan
// and finite potentials and derivatives.
func TestZeroMass(t *testing.T) {
	C, _, _ := smallProblem(5, 4, 4)
	a := tensor.FromFloat64s(tensor.Float64, []float64{0.5, 0, 0.25, 0.25, 0}, 5)
	for _, m := range []Method{LogDomain, Kernel} {
		gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], xs[1], nil, Options{Eps: 0.1, Method: m, Tol: 1e-13})
			if err != nil {
				t.Fatal(err)
			}
			if res.Plan.Value().At(1, 2) != 0 || res.F.Value().HasNaNInf() {
				t.Fatalf("zero-mass row: plan %v, f %v", res.Plan.Value(), res.F.Value())
			}
			return res.Cost
		}, []*ad.Var{ad.Const(C), ad.Const(a)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if gs[0].Value().HasNaNInf() || gs[1].Value().HasNaNInf() {
			t.Fatalf("%v: non-finite gradient %v %v", m, gs[0].Value(), gs[1].Value())
		}
	}
}

// TestDetach: in Detach mode nothing is differentiated (zero gradients),
// except the cost when Envelope is set.
func TestDetach(t *testing.T) {
	C, a, b := smallProblem(4, 5, 13)
	for _, env := range []bool{false, true} {
		o := Options{Eps: 0.1, Mode: iterdiff.Detach{}, Envelope: env}
		gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			res, err := Sinkhorn(xs[0], ad.Const(a), ad.Const(b), o)
			if err != nil {
				t.Fatal(err)
			}
			return ad.Add(ad.Add(ad.SumAll(res.Plan), res.TransportCost), ad.Add(res.Cost, ad.SumAll(res.F)))
		}, []*ad.Var{ad.Const(C)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := norm(gs[0].Value())
		if env && n == 0 || !env && n != 0 {
			t.Errorf("envelope %v: gradient norm %g", env, n)
		}
	}
}

// TestKernelEpsScaling: ε-scaling with the kernel method gives the
// log-domain plan, and Info.Err reports an implicit linear solve that was
// cut short.
func TestKernelEpsScaling(t *testing.T) {
	C, a, b := smallProblem(9, 7, 14)
	sc := &EpsScaling{Init: 1, Decay: 0.3}
	rk, err := Sinkhorn(ad.Const(C), ad.Const(a), ad.Const(b), Options{Eps: 0.02, Method: Kernel, EpsScaling: sc, Tol: 1e-13, MaxIter: 100000, Mode: iterdiff.Detach{}})
	if err != nil {
		t.Fatal(err)
	}
	rl, err := Sinkhorn(ad.Const(C), ad.Const(a), ad.Const(b), Options{Eps: 0.02, Tol: 1e-13, MaxIter: 100000, Mode: iterdiff.Detach{}})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(rk.Plan.Value(), rl.Plan.Value()); d > 1e-13 || rk.Info.EpsStages < 2 {
		t.Errorf("kernel with ε-scaling: plans differ by %.3g (%d stages)", d, rk.Info.EpsStages)
	}
	o := Options{Eps: 0.02, Tol: 1e-13, MaxIter: 100000, Mode: iterdiff.Implicit{MaxIter: 1}}
	var info *Info
	_, err = ad.Grad(func(xs ...*ad.Var) *ad.Var {
		res, err := Sinkhorn(xs[0], ad.Const(a), ad.Const(b), o)
		if err != nil {
			t.Fatal(err)
		}
		info = res.Info
		return res.TransportCost
	}, []*ad.Var{ad.Const(C)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if info.Err() == nil {
		t.Errorf("a linear solve limited to 1 iteration is not reported: %+v", info.Deriv)
	}
	t.Logf("reported: %v", info.Err())
}
