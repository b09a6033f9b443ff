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

// TestLSERowsWarmStart: the warm-started reductions equal the exact ones
// over a sequence of updates with small and large changes of h (including
// −Inf entries and a change of ε).
func TestLSERowsWarmStart(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	rows, L := 7, 21
	c := make([]float64, rows*L)
	for i := range c {
		c[i] = 2 * r.Float64()
	}
	h := make([]float64, L)
	var red lseRows
	out := make([]float64, rows)
	for it, shift := range []float64{0, 1e-3, 0.5, -3, 40, -200, 1e-9, 5} {
		eps := 0.05
		if it >= 5 {
			eps = 0.01
		}
		for j := range h {
			h[j] += shift * r.NormFloat64()
		}
		h[3] = math.Inf(-1)
		red.softmin(out, c, h, eps, 0.9, 2)
		for i := 0; i < rows; i++ {
			want := 0.9 * softmin(c[i*L:(i+1)*L], h, eps, 1/eps)
			if math.Abs(out[i]-want) > 1e-14*math.Max(1, math.Abs(want)) {
				t.Errorf("update %d row %d: %v, want %v", it, i, out[i], want)
			}
		}
	}
}

// TestSumExpAccuracy compares the vectorized sum of exponentials with
// math.Exp over random arguments, one nonzero term at a time (the others
// at −Inf, which the kernel raises to exp(−708) ≈ 3e−308) and in blocks.
func TestSumExpAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	worst := 0.0
	c := make([]float64, 16)
	h := make([]float64, 16)
	for it := 0; it < 200000; it++ {
		x := -700 * r.Float64()
		if it%2 == 0 {
			x = -5 * r.Float64()
		}
		for j := range h {
			h[j] = math.Inf(-1)
		}
		k := it % 16
		h[k] = x
		got := sumExp(c, h, 0, 1)
		want := math.Exp(x)
		if d := ulpDiff(got, want); d > worst && want > 1e-290 {
			worst = d
		}
	}
	if worst > 2 {
		t.Errorf("single terms: worst error %.2f ulp", worst)
	}
	t.Logf("sumExp single terms: worst %.2f ulp against math.Exp", worst)
	for it := 0; it < 20000; it++ {
		var want float64
		for j := range h {
			h[j] = -30 * r.Float64()
			want += math.Exp(h[j])
		}
		got := sumExp(c, h, 0, 1)
		if math.Abs(got-want) > 1e-15*want { // summation order differs
			t.Fatalf("block sum %v, want %v", got, want)
		}
	}
}
