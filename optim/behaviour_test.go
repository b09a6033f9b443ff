package optim

import (
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// makers builds one optimizer of each kind with settings suited to the
// convex quadratics of these tests.
func makers(prec Precision) map[string]func() Optimizer {
	return map[string]func() Optimizer{
		"SGD":          func() Optimizer { return must(NewSGD(SGDConfig{LR: 0.1, State: prec})) },
		"SGD-momentum": func() Optimizer { return must(NewSGD(SGDConfig{LR: 0.05, Momentum: 0.9, State: prec})) },
		"SGD-nesterov": func() Optimizer {
			return must(NewSGD(SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-3, State: prec}))
		},
		"RMSprop": func() Optimizer { return must(NewRMSprop(RMSpropConfig{LR: 0.01, State: prec})) },
		"RMSprop-centered-momentum": func() Optimizer {
			return must(NewRMSprop(RMSpropConfig{LR: 0.005, Momentum: 0.5, Centered: true, State: prec}))
		},
		"Adam":     func() Optimizer { return must(NewAdam(AdamConfig{LR: 0.05, L2: 1e-3, State: prec})) },
		"AdamW":    func() Optimizer { return must(NewAdamW(AdamWConfig{LR: 0.05, State: prec})) },
		"INNA":     func() Optimizer { return must(NewINNA(INNAConfig{LR: 0.05, Alpha: 0.5, Beta: 0.1, State: prec})) },
		"INNAprop": func() Optimizer { return must(NewINNAprop(INNApropConfig{LR: 0.01, State: prec})) },
		"INNAprop-2-2": func() Optimizer {
			return must(NewINNAprop(INNApropConfig{LR: 0.05, Alpha: 2, Beta: 2, Sigma: 0.99, WeightDecay: Zero, State: prec}))
		},
	}
}

func TestAllDecreaseConvexQuadratic(t *testing.T) {
	rng := tensor.NewRNG(11)
	q := newQuad(rng, 20)
	th0 := randVec(rng, 20)
	f0 := q.f(th0) - q.min()
	for name, mk := range makers(State32) {
		for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16} {
			p := q.run(t, mk(), d, th0, 400)
			f := q.f(p.Float64s()) - q.min()
			if !(f < 0.05*f0) {
				t.Errorf("%s %v: f − f* went from %.4g to %.4g in 400 steps", name, d, f0, f)
			}
		}
	}
}

func TestFloat32MatchesFloat64(t *testing.T) {
	rng := tensor.NewRNG(5)
	q := newQuad(rng, 16)
	th0 := randVec(rng, 16)
	for name, mk := range makers(State64) {
		ref := q.run(t, mk(), tensor.Float64, th0, 30).Data64()
		for _, prec := range []Precision{State32, State64} {
			mk32 := makers(prec)[name]
			got := q.run(t, mk32(), tensor.Float32, th0, 30).Float64s()
			for i := range got {
				if d := math.Abs(got[i] - ref[i]); d > 2e-5*math.Max(1, math.Abs(ref[i])) {
					t.Errorf("%s float32 params, %v state: θ[%d] = %.9g, float64 run %.9g", name, prec, i, got[i], ref[i])
				}
			}
			// float64 parameters with float32 state.
			got64 := q.run(t, mk32(), tensor.Float64, th0, 30).Data64()
			for i := range got64 {
				if d := math.Abs(got64[i] - ref[i]); d > 2e-5*math.Max(1, math.Abs(ref[i])) {
					t.Errorf("%s float64 params, %v state: θ[%d] = %.9g, float64 run %.9g", name, prec, i, got64[i], ref[i])
				}
			}
		}
	}
}

func TestHalfParametersStayRounded(t *testing.T) {
	rng := tensor.NewRNG(9)
	q := newQuad(rng, 64)
	th0 := randVec(rng, 64)
	for name, mk := range makers(State32) {
		for _, d := range []tensor.DType{tensor.Float16, tensor.BFloat16} {
			p := q.run(t, mk(), d, th0, 5)
			for i, x := range p.Data32() {
				if float64(x) != d.Round(float64(x)) {
					t.Fatalf("%s %v: θ[%d] = %v is not a %v value", name, d, i, x, d)
				}
			}
		}
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	rng := tensor.NewRNG(2)
	params := []*tensor.Tensor{rng.Normal(tensor.Float32, 30, 20), rng.Normal(tensor.Float32, 20), rng.Normal(tensor.Float16, 7)}
	grads := []*tensor.Tensor{rng.Normal(tensor.Float32, 30, 20), rng.Normal(tensor.Float32, 20), rng.Normal(tensor.Float16, 7)}
	for _, prec := range []Precision{State32, State64} {
		for name, mk := range makers(prec) {
			o := mk()
			if err := o.Step(params, grads); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(20, func() {
				o.SetLR(o.LR() * 0.999)
				if err := o.Step(params, grads); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s %v: Step allocates %v times", name, prec, allocs)
			}
		}
	}
}

func TestConfigValidation(t *testing.T) {
	errs := []struct {
		err  error
		want string
	}{
		{second(NewINNAprop(INNApropConfig{LR: 0.9})), "LR = 0.9, want a value < Beta = 0.9"},
		{second(NewINNAprop(INNApropConfig{LR: 2, Beta: 1.5})), "LR = 2"},
		{second(NewINNAprop(INNApropConfig{LR: -1})), "LR = -1"},
		{second(NewINNAprop(INNApropConfig{Sigma: 1})), "Sigma = 1"},
		{second(NewINNAprop(INNApropConfig{Eps: -1})), "Eps = -1"},
		{second(NewINNAprop(INNApropConfig{WeightDecay: -0.1})), "WeightDecay = -0.1"},
		{second(NewINNAprop(INNApropConfig{Alpha: math.NaN()})), "Alpha = NaN"},
		{second(NewINNAprop(INNApropConfig{Beta: -1})), "Beta = -1"},
		{second(NewINNAprop(INNApropConfig{State: 7})), "State"},
		{second(NewINNA(INNAConfig{Beta: Zero})), "Beta = 0"},
		{second(NewAdamW(AdamWConfig{Beta1: 1})), "Beta1 = 1"},
		{second(NewAdam(AdamConfig{Beta2: -0.5})), "Beta2 = -0.5"},
		{second(NewAdam(AdamConfig{LR: math.Inf(1)})), "LR = +Inf"},
		{second(NewSGD(SGDConfig{Nesterov: true})), "with Nesterov"},
		{second(NewSGD(SGDConfig{Momentum: 0.9, Nesterov: true, Dampening: 0.1})), "Dampening"},
		{second(NewSGD(SGDConfig{Dampening: 2})), "Dampening = 2"},
		{second(NewRMSprop(RMSpropConfig{Alpha: 1})), "Alpha = 1"},
		{second(NewRMSprop(RMSpropConfig{Momentum: -1})), "Momentum = -1"},
	}
	for _, e := range errs {
		if e.err == nil || !strings.Contains(e.err.Error(), e.want) {
			t.Errorf("got error %v, want one containing %q", e.err, e.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestDefaultsAndZero(t *testing.T) {
	c := must(NewINNAprop(INNApropConfig{})).Config()
	if c != (INNApropConfig{LR: 1e-3, Alpha: 0.1, Beta: 0.9, Sigma: 0.999, Eps: 1e-8, WeightDecay: 0.01}) {
		t.Errorf("INNAprop defaults %+v", c)
	}
	c = must(NewINNAprop(INNApropConfig{WeightDecay: Zero, Eps: Zero, Alpha: Zero})).Config()
	if c.WeightDecay != 0 || c.Eps != 0 || c.Alpha != 0 {
		t.Errorf("Zero not honoured: %+v", c)
	}
	if w := must(NewAdamW(AdamWConfig{})).Config(); w != (AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}) {
		t.Errorf("AdamW defaults %+v", w)
	}
	if w := must(NewAdamW(AdamWConfig{WeightDecay: Zero, Beta1: Zero})).Config(); w.WeightDecay != 0 || w.Beta1 != 0 {
		t.Errorf("AdamW Zero %+v", w)
	}
	if a := must(NewAdam(AdamConfig{})).Config(); a.WeightDecay != 0 || a.L2 != 0 || a.LR != 1e-3 {
		t.Errorf("Adam defaults %+v", a)
	}
	if i := must(NewINNA(INNAConfig{})).Config(); i != (INNAConfig{LR: 0.01, Alpha: 0.1, Beta: 0.1}) {
		t.Errorf("INNA defaults %+v", i)
	}
	if r := must(NewRMSprop(RMSpropConfig{})).Config(); r != (RMSpropConfig{LR: 0.01, Alpha: 0.99, Eps: 1e-8}) {
		t.Errorf("RMSprop defaults %+v", r)
	}
}

func TestStepErrors(t *testing.T) {
	p := tensor.New(tensor.Float32, 3)
	g := tensor.New(tensor.Float32, 3)
	o := must(NewINNAprop(INNApropConfig{}))
	o.SetLR(0.95)
	if err := o.Step([]*tensor.Tensor{p}, []*tensor.Tensor{g}); err == nil || !strings.Contains(err.Error(), "< Beta") {
		t.Errorf("lr ≥ β: got %v", err)
	}
	if o.Steps() != 0 {
		t.Errorf("failed step counted")
	}
	o.SetLR(0.01)
	for _, tc := range []struct {
		params, grads []*tensor.Tensor
		want          string
	}{
		{[]*tensor.Tensor{p}, nil, "1 parameters and 0 gradients"},
		{[]*tensor.Tensor{p}, []*tensor.Tensor{tensor.New(tensor.Float32, 4)}, "shape [3], its gradient [4]"},
		{[]*tensor.Tensor{p}, []*tensor.Tensor{tensor.New(tensor.Float64, 3)}, "is float32, its gradient float64"},
		{[]*tensor.Tensor{nil}, []*tensor.Tensor{g}, "nil"},
	} {
		if err := o.Step(tc.params, tc.grads); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	if err := o.Step([]*tensor.Tensor{p}, []*tensor.Tensor{g}); err != nil {
		t.Fatal(err)
	}
	q := tensor.New(tensor.Float32, 2)
	if err := o.Step([]*tensor.Tensor{p, q}, []*tensor.Tensor{g, q}); err == nil || !strings.Contains(err.Error(), "got 2 parameters, the state has 1") {
		t.Errorf("parameter count change: %v", err)
	}
	if err := o.Step([]*tensor.Tensor{q}, []*tensor.Tensor{q}); err == nil || !strings.Contains(err.Error(), "shape [2], the state has [3]") {
		t.Errorf("shape change: %v", err)
	}
}

// ψ is initialised at the first Step, from the parameters at that moment
// (innaprop.md §5: weights loaded after construction must be used).
func TestPsiInitialisedAtFirstStep(t *testing.T) {
	o := must(NewINNAprop(INNApropConfig{State: State64}))
	p := tensor.FromFloat64s(tensor.Float64, []float64{1, 2})
	p.CopyFrom(tensor.FromFloat64s(tensor.Float64, []float64{3, -4}))
	step1(t, o, p, tensor.New(tensor.Float64, 2))
	// zero gradient, ψ₀ = (1−αβ)θ₀ = 0.91θ₀: ψ₁ = ψ₀(1−γ/β) + γ(1/β−α)θ₀(1−γλ)
	lr, a, b, wd := 1e-3, 0.1, 0.9, 0.01
	for i, th := range []float64{3, -4} {
		want := 0.91*th*(1-lr/b) + lr*(1/b-a)*th*(1-lr*wd)
		if got := o.bufs[0][1].Data64()[i]; math.Abs(got-want) > 1e-15 {
			t.Errorf("ψ[%d] = %v, want %v", i, got, want)
		}
	}
}

// Maximize with gradient −g takes exactly the steps of minimizing with g.
func TestMaximize(t *testing.T) {
	rng := tensor.NewRNG(4)
	q := newQuad(rng, 9)
	th0 := randVec(rng, 9)
	neg := quad{h: make([]float64, 9), b: make([]float64, 9)}
	for i := range q.h {
		neg.h[i], neg.b[i] = -q.h[i], -q.b[i]
	}
	pairs := map[string][2]Optimizer{
		"SGD": {must(NewSGD(SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, L2: 0.01})),
			must(NewSGD(SGDConfig{LR: 0.05, Momentum: 0.9, Nesterov: true, L2: 0.01, Maximize: true}))},
		"RMSprop": {must(NewRMSprop(RMSpropConfig{Momentum: 0.5, Centered: true})),
			must(NewRMSprop(RMSpropConfig{Momentum: 0.5, Centered: true, Maximize: true}))},
		"Adam":     {must(NewAdam(AdamConfig{LR: 0.05})), must(NewAdam(AdamConfig{LR: 0.05, Maximize: true}))},
		"AdamW":    {must(NewAdamW(AdamWConfig{LR: 0.05})), must(NewAdamW(AdamWConfig{LR: 0.05, Maximize: true}))},
		"INNA":     {must(NewINNA(INNAConfig{})), must(NewINNA(INNAConfig{Maximize: true}))},
		"INNAprop": {must(NewINNAprop(INNApropConfig{LR: 0.01})), must(NewINNAprop(INNApropConfig{LR: 0.01, Maximize: true}))},
	}
	for name, p := range pairs {
		a := q.run(t, p[0], tensor.Float64, th0, 20)
		b := neg.run(t, p[1], tensor.Float64, th0, 20)
		if !sameBits(a, b) {
			t.Errorf("%s: maximize run differs: %v vs %v", name, b.Data64(), a.Data64())
		}
	}
}

// Large steps are split between goroutines; the result must not depend on
// it, and the steady state must still allocate nothing.
func TestParallelStepMatchesSerial(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	shapes := [][]int{{300, 200}, {5}, {10000}, {0}, {3, 3}}
	mk := func(d tensor.DType, seed uint64) []*tensor.Tensor {
		rng := tensor.NewRNG(seed)
		var ts []*tensor.Tensor
		for _, s := range shapes {
			ts = append(ts, rng.Normal(d, s...))
		}
		return ts
	}
	for name, mkOpt := range makers(State32) {
		for _, d := range []tensor.DType{tensor.Float32, tensor.BFloat16} {
			var results [2][]*tensor.Tensor
			for k, procs := range []int{1, 4} {
				runtime.GOMAXPROCS(procs)
				params, grads := mk(d, 1), mk(d, 2)
				o := mkOpt()
				for range 3 {
					if err := o.Step(params, grads); err != nil {
						t.Fatal(err)
					}
				}
				if procs > 1 {
					if a := testing.AllocsPerRun(5, func() { _ = o.Step(params, grads) }); a != 0 {
						t.Errorf("%s: parallel Step allocates %v times", name, a)
					}
					o = mkOpt()
					params = mk(d, 1)
					for range 3 {
						_ = o.Step(params, grads)
					}
				}
				results[k] = params
			}
			for i := range results[0] {
				if !sameBits(results[0][i], results[1][i]) {
					t.Errorf("%s %v: parameter %d differs between 1 and 4 threads", name, d, i)
				}
			}
		}
	}
}
