package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

func TestSchedules(t *testing.T) {
	cases := []struct {
		name string
		s    Schedule
		at   map[int]float64
	}{
		{"constant", must(Constant(0.3)), map[int]float64{0: 0.3, 1000: 0.3}},
		{"step", must(StepDecay(1, 0.5, 10)), map[int]float64{0: 1, 9: 1, 10: 0.5, 19: 0.5, 20: 0.25, 35: 0.125}},
		{"cosine", must(Cosine(1, 0.1, 100)), map[int]float64{0: 1, 50: 0.55, 25: 0.1 + 0.9*(1+math.Sqrt2/2)/2, 100: 0.1, 500: 0.1}},
		{"warmup-cosine", must(WarmupCosine(6e-4, 6e-5, 2000, 100000)), map[int]float64{
			0: 0, 1000: 3e-4, 2000: 6e-4, 51000: 6e-5 + 0.5*(6e-4-6e-5), 100000: 6e-5, 200000: 6e-5,
		}},
		{"inverse", must(InverseDecay(0.1, 0.5)), map[int]float64{0: 0.1, 3: 0.05, 99: 0.01}},
		{"func", ScheduleFunc(func(s int) float64 { return float64(s) }), map[int]float64{7: 7}},
	}
	for _, tc := range cases {
		for step, want := range tc.at {
			if got := tc.s.LR(step); math.Abs(got-want) > 1e-15 {
				t.Errorf("%s: LR(%d) = %.17g, want %.17g", tc.name, step, got, want)
			}
		}
	}
	for _, e := range []struct {
		err  error
		want string
	}{
		{second(Constant(-1)), "learning rate -1"},
		{second(StepDecay(1, 0.5, 0)), "every = 0"},
		{second(StepDecay(1, math.NaN(), 3)), "gamma NaN"},
		{second(Cosine(1, 2, 10)), "min learning rate 2"},
		{second(Cosine(1, 0, 0)), "steps = 0"},
		{second(WarmupCosine(1, 0, 10, 10)), "more than the 10 warmup steps"},
		{second(WarmupCosine(1, 0, -1, 10)), "warmup = -1"},
		{second(InverseDecay(1, -1)), "power -1"},
	} {
		if e.err == nil || !strings.Contains(e.err.Error(), e.want) {
			t.Errorf("got %v, want %q", e.err, e.want)
		}
	}
}

func TestClipGradNorm(t *testing.T) {
	g1 := tensor.FromFloat64s(tensor.Float64, []float64{3, 0})
	g2 := tensor.FromFloat64s(tensor.Float64, []float64{0, 4})
	norm, err := ClipGradNorm([]*tensor.Tensor{g1, g2}, 1)
	if err != nil || norm != 5 {
		t.Fatalf("norm %v, err %v", norm, err)
	}
	c := 1 / (5 + 1e-6)
	closeTo(t, "clipped g1", g1.Data64(), []float64{3 * c, 0}, 1e-15)
	closeTo(t, "clipped g2", g2.Data64(), []float64{0, 4 * c}, 1e-15)
	if n := GlobalNorm([]*tensor.Tensor{g1, g2}); math.Abs(n-1) > 1e-6 {
		t.Errorf("norm after clipping %v", n)
	}

	// Below the threshold nothing changes; float32 and float16 work.
	h := tensor.FromFloat64s(tensor.Float32, []float64{0.3, -0.4})
	if norm, err := ClipGradNorm([]*tensor.Tensor{h}, 1); err != nil || math.Abs(norm-0.5) > 1e-7 || h.Data32()[0] != float32(0.3) {
		t.Errorf("no-op clip: %v %v %v", norm, err, h.Data32())
	}
	f := tensor.FromFloat64s(tensor.Float16, []float64{30, 40})
	if norm, err := ClipGradNorm([]*tensor.Tensor{f}, 5); err != nil || norm != 50 {
		t.Errorf("float16 clip: %v %v", norm, err)
	}
	for i, x := range f.Data32() {
		if float64(x) != tensor.Float16.Round(float64(x)) || math.Abs(float64(x)-[]float64{3, 4}[i]) > 4e-3 {
			t.Errorf("float16 clipped value %v", x)
		}
	}

	bad := tensor.FromFloat64s(tensor.Float64, []float64{math.Inf(1), 1})
	if norm, err := ClipGradNorm([]*tensor.Tensor{bad}, 1); err == nil || !math.IsInf(norm, 1) || bad.Data64()[1] != 1 {
		t.Errorf("non-finite: %v %v %v", norm, err, bad.Data64())
	}
	if _, err := ClipGradNorm(nil, 0); err == nil || !strings.Contains(err.Error(), "maxNorm = 0") {
		t.Errorf("maxNorm 0: %v", err)
	}
}
