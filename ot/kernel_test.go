package ot

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
)

// TestSoftmin checks the row kernel against a direct float64 evaluation
// with math.Exp, including weights of −Inf (zero-mass entries).
func TestSoftmin(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, L := range []int{1, 2, 3, 5, 8, 17, 1000} {
		for _, eps := range []float64{1e-3, 0.05, 1, 100} {
			c := make([]float64, L)
			h := make([]float64, L)
			for j := range c {
				c[j] = r.Float64() * 2
				h[j] = r.NormFloat64()
			}
			if L > 3 {
				h[1] = math.Inf(-1)
			}
			m := math.Inf(-1)
			for j := range c {
				m = math.Max(m, h[j]-c[j])
			}
			var s float64
			for j := range c {
				s += math.Exp((h[j] - c[j] - m) / eps)
			}
			want := -(m + eps*math.Log(s))
			got := softmin(c, h, eps, 1/eps)
			if math.Abs(got-want) > 4e-16*math.Max(1, math.Abs(want)) {
				t.Errorf("L=%d ε=%g: softmin %v, want %v", L, eps, got, want)
			}
		}
	}
	if v := softmin([]float64{1, 2}, []float64{math.Inf(-1), math.Inf(-1)}, 1, 1); !math.IsInf(v, 1) {
		t.Errorf("all −Inf row: %v, want +Inf", v)
	}
	if v := softmin([]float64{1, 2}, []float64{math.NaN(), 0}, 1, 1); !math.IsNaN(v) {
		t.Errorf("NaN row: %v, want NaN", v)
	}
}

func BenchmarkSoftminRow(b *testing.B) {
	L := 1000
	c := make([]float64, L)
	h := make([]float64, L)
	for j := range c {
		c[j] = float64(j%37) / 37
		h[j] = float64(j%11) / 11
	}
	for b.Loop() {
		softmin(c, h, 0.05, 20)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*L), "ns/elem")
}

func cpuNow() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkSoftminRowCPU(b *testing.B) {
	L := 1000
	c := make([]float64, L)
	h := make([]float64, L)
	for j := range c {
		c[j] = float64(j%37) / 37
		h[j] = float64(j%11) / 11
	}
	t0 := cpuNow()
	for b.Loop() {
		softmin(c, h, 0.05, 20)
	}
	b.ReportMetric((cpuNow()-t0)/float64(b.N*L), "cpu-ns/elem")
}
