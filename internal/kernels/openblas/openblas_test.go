//go:build openblas && cgo

package openblas_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/internal/kernels/openblas"
)

// TestAgreesWithKernels checks that the anchor and gradus compute the same
// products (within float32 rounding) in all transposition cases.
func TestAgreesWithKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	m, n, k := 70, 50, 90
	for tr := 0; tr < 4; tr++ {
		ta, tb := tr&1 != 0, tr&2 != 0
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		for i := range a {
			a[i] = rng.Float32()*2 - 1
		}
		for i := range b {
			b[i] = rng.Float32()*2 - 1
		}
		lda, ldb := k, n
		if ta {
			lda = m
		}
		if tb {
			ldb = k
		}
		c1, c2 := make([]float32, m*n), make([]float32, m*n)
		openblas.Gemm32(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0, c1, n)
		kernels.Gemm32(ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0, c2, n)
		for i := range c1 {
			if math.Abs(float64(c1[i]-c2[i])) > 1e-4 {
				t.Fatalf("tA=%v tB=%v: C[%d] = %g (openblas) vs %g (gradus)", ta, tb, i, c1[i], c2[i])
			}
		}
	}
}

// BenchmarkOpenBLAS is the anchor of kernels.BenchmarkGemm (same shapes).
func BenchmarkOpenBLAS(b *testing.B) {
	b.Log(openblas.Config())
	shapes := []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"n1024", false, false, 1024, 1024, 1024},
		{"fwd128x784x512", false, false, 128, 512, 784},
		{"fwd128x512x512", false, false, 128, 512, 512},
		{"dW784x128x512", true, false, 784, 512, 128},
		{"dX128x512x784", false, true, 128, 784, 512},
	}
	for _, dt := range []string{"f32", "f64"} {
		for _, th := range []int{1, 2} {
			openblas.SetThreads(th)
			for _, s := range shapes {
				b.Run(fmt.Sprintf("%s/%s/t%d", s.name, dt, th), func(b *testing.B) {
					lda, ldb := s.k, s.n
					if s.transA {
						lda = s.m
					}
					if s.transB {
						ldb = s.k
					}
					if dt == "f64" {
						a, bb, c := make([]float64, s.m*s.k), make([]float64, s.k*s.n), make([]float64, s.m*s.n)
						for i := 0; i < b.N; i++ {
							openblas.Gemm64(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
						}
					} else {
						a, bb, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
						for i := 0; i < b.N; i++ {
							openblas.Gemm32(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)
						}
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
