package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// PackedA.Gemm and GemmSerial must give exactly what the threaded Gemm32 /
// Gemm64 give on the packed path (the grid only splits rows and columns,
// so every element sums the same kc blocks in the same order), for every
// kernel family, transposes, odd sizes and k beyond one kc block.
func TestPackedAMatchesGemm(t *testing.T) {
	prev, _ := UseKernels("best")
	defer UseKernels(prev)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, fam := range KernelFamilies() {
		if _, err := UseKernels(fam); err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < 40; trial++ {
			g := gemmCase{transA: rng.IntN(2) == 0, transB: rng.IntN(2) == 0,
				m: 6 + rng.IntN(90), n: 6 + rng.IntN(150), k: 6 + rng.IntN(600),
				alpha: []float64{1, 0.5}[rng.IntN(2)], beta: []float64{0, 1, -0.5}[rng.IntN(3)],
				padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3)}
			a, lda, b, ldb, c, ldc := g.operands(rng)
			a32, b32, c32 := to32(a), to32(b), to32(c)
			want := append([]float32(nil), c32...)
			Gemm32(g.transA, g.transB, g.m, g.n, g.k, float32(g.alpha), a32, lda, b32, ldb, float32(g.beta), want, ldc)
			var pa PackedA[float32]
			pa.Pack(g.transA, g.m, g.k, a32, lda)
			got := append([]float32(nil), c32...)
			pa.Gemm(g.transB, g.n, float32(g.alpha), b32, ldb, float32(g.beta), got, ldc)
			got2 := append([]float32(nil), c32...)
			GemmSerial(g.transA, g.transB, g.m, g.n, g.k, float32(g.alpha), a32, lda, b32, ldb, float32(g.beta), got2, ldc)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(got2[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%s %v: element %d: packed %v, serial %v, Gemm32 %v", fam, g, i, got[i], got2[i], want[i])
				}
			}
			want64 := append([]float64(nil), c...)
			Gemm64(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, want64, ldc)
			var pa64 PackedA[float64]
			pa64.Pack(g.transA, g.m, g.k, a, lda)
			got64 := append([]float64(nil), c...)
			pa64.Gemm(g.transB, g.n, g.alpha, b, ldb, g.beta, got64, ldc)
			for i := range want64 {
				if math.Float64bits(got64[i]) != math.Float64bits(want64[i]) {
					t.Fatalf("%s %v float64: element %d: packed %v, Gemm64 %v", fam, g, i, got64[i], want64[i])
				}
			}
		}
	}
}

// BenchmarkConvShapes times the per-sample products of nn's CNN (layer 2:
// forward 64×289·289×121, input gradient 288×64·64×121, weight gradient
// 288×121·(64×121)ᵀ; layer 1: forward 32×10·10×676) on one goroutine.
func BenchmarkConvShapes(b *testing.B) {
	for _, s := range []struct {
		name    string
		m, n, k int
		transB  bool
		prepack bool
	}{
		{"l2fwd", 64, 121, 289, false, true},
		{"l2igrad", 288, 121, 64, false, true},
		{"l2wgrad", 288, 64, 121, true, false},
		{"l1fwd", 32, 676, 10, false, true},
		{"l1wgrad", 9, 32, 676, true, false},
	} {
		b.Run(s.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			a := to32(randSlice(rng, s.m*s.k))
			bm := to32(randSlice(rng, s.k*s.n))
			c := make([]float32, s.m*s.n)
			ldb := s.n
			if s.transB {
				ldb = s.k
			}
			var pa PackedA[float32]
			pa.Pack(false, s.m, s.k, a, s.k)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if s.prepack {
					pa.Gemm(s.transB, s.n, 1, bm, ldb, 0, c, s.n)
				} else {
					GemmSerial(false, s.transB, s.m, s.n, s.k, 1, a, s.k, bm, ldb, 1, c, s.n)
				}
			}
			b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
