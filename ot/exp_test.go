package ot

import (
	"math"
	"math/rand/v2"
	"testing"
)

func ulpDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / (math.Nextafter(math.Abs(b), math.Inf(1)) - math.Abs(b))
}

func TestExpAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	check := func(x float64) {
		got, want := fastExp(x), math.Exp(x)
		if d := ulpDiff(got, want); d > worst {
			worst = d
		}
	}
	for i := 0; i < 1_000_000; i++ {
		check(-745 + 1454*r.Float64())
		check(-50 * r.Float64())
		check(1e-3 * (2*r.Float64() - 1))
	}
	for _, x := range []float64{0, -0.0, 1, -1, math.Ln2, -708, -708.5, -745, -746, -1e300, 709, 710, math.Inf(-1), math.Inf(1)} {
		check(x)
	}
	if worst > 2 {
		t.Fatalf("fastExp: worst error %.2f ulp", worst)
	}
	t.Logf("fastExp: worst error %.2f ulp (math.Exp as reference)", worst)
	if !math.IsNaN(fastExp(math.NaN())) {
		t.Fatal("fastExp(NaN) is not NaN")
	}
}

func BenchmarkExp(b *testing.B) {
	xs := make([]float64, 1024)
	for i := range xs {
		xs[i] = -40 * float64(i) / 1024
	}
	b.Run("fast", func(b *testing.B) {
		s := 0.0
		for b.Loop() {
			for _, x := range xs {
				s += fastExp(x)
			}
		}
		_ = s
	})
	b.Run("math", func(b *testing.B) {
		s := 0.0
		for b.Loop() {
			for _, x := range xs {
				s += math.Exp(x)
			}
		}
		_ = s
	})
}
