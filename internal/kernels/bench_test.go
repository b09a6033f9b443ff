package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmark shapes: square n=1024 and the products of one training step
// of the 784-512-512-10 MLP at batch 128 (forward X·W, backward
// dW = Xᵀ·dY and dX = dY·Wᵀ). The anchor is OpenBLAS on the same machine:
// `go test -tags openblas -bench .` runs BenchmarkOpenBLAS* beside these,
// and `gradus bench gemm` interleaves the two.
type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

var benchShapes = []benchShape{
	{"n1024", false, false, 1024, 1024, 1024},
	{"fwd128x784x512", false, false, 128, 512, 784},
	{"fwd128x512x512", false, false, 128, 512, 512},
	{"dW784x128x512", true, false, 784, 512, 128},
	{"dX128x512x784", false, true, 128, 784, 512},
}

// benchOperands returns stored A, B and C for a shape with tight leading
// dimensions.
func (s benchShape) operands() (a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	rng := rand.New(rand.NewPCG(1, 1))
	lda, ldb, ldc = s.k, s.n, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return randSlice(rng, s.m*s.k), lda, randSlice(rng, s.k*s.n), ldb, make([]float64, s.m*s.n), ldc
}

func runGemmBench(b *testing.B, dtype string, threads int, f64 func(s benchShape, a []float64, lda int, bb []float64, ldb int, c []float64, ldc int), f32 func(s benchShape, a []float32, lda int, bb []float32, ldb int, c []float32, ldc int)) {
	for _, s := range benchShapes {
		name := fmt.Sprintf("%s/%s/t%d", s.name, dtype, threads)
		b.Run(name, func(b *testing.B) {
			a, lda, bm, ldb, c, ldc := s.operands()
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
			if dtype == "f64" {
				f64(s, a, lda, bm, ldb, c, ldc)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					f64(s, a, lda, bm, ldb, c, ldc)
				}
			} else {
				a32, b32, c32 := to32(a), to32(bm), to32(c)
				f32(s, a32, lda, b32, ldb, c32, ldc)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					f32(s, a32, lda, b32, ldb, c32, ldc)
				}
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func gradus64(s benchShape, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	Gemm64(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, ldc)
}

func gradus32(s benchShape, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	Gemm32(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, ldc)
}

// BenchmarkGemm measures the best kernels for this CPU, 1 and 2 threads.
func BenchmarkGemm(b *testing.B) {
	for _, dt := range []string{"f32", "f64"} {
		for _, th := range []int{1, 2} {
			old := SetThreads(th)
			runGemmBench(b, dt, th, gradus64, gradus32)
			SetThreads(old)
		}
	}
}

// BenchmarkGemmPortable measures the pure-Go micro-kernel (single thread).
func BenchmarkGemmPortable(b *testing.B) {
	prev, _ := UseKernels("go")
	defer UseKernels(prev)
	old := SetThreads(1)
	defer SetThreads(old)
	for _, dt := range []string{"f32", "f64"} {
		runGemmBench(b, dt, 1, gradus64, gradus32)
	}
}
