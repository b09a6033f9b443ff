package kernels

import (
	"testing"
)

// The optimizer-update benchmarks run on one thread at the size of a
// 784×512 weight (streams from L2/L3) and at 1000 elements (in L1). "old"
// is the scalar Go loop each kernel replaces (the references of
// optim_update_test.go), "asm" the kernel as dispatched, "go" its portable
// path. SetBytes counts the bytes read and written per call.

var optSizes = []int{784 * 512, 1000}

func optBench(b *testing.B, bytes int, kernel, old func(n int) func()) {
	sizedBench(b, optSizes, bytes, kernel, old)
}

func optBenchV(n int) []float32 {
	v := elemBenchData(n, 4)
	for i := range v {
		v[i] *= v[i] * 1e-4
	}
	return v
}

func BenchmarkINNAprop32(b *testing.B) {
	k := testINNApropCoef(1e-3, 0.1, 0.9, 0.999, 1e-8, 0.01, 10, false)
	optBench(b, 28,
		func(n int) func() {
			p, g, v, psi := elemBenchData(n, 1), elemBenchData(n, 2), optBenchV(n), elemBenchData(n, 3)
			return func() { INNAprop32(p, g, v, psi, &k) }
		},
		func(n int) func() {
			p, g, v, psi := elemBenchData(n, 1), elemBenchData(n, 2), optBenchV(n), elemBenchData(n, 3)
			return func() { refINNAprop(p, g, v, psi, k) }
		})
}

func BenchmarkINNA32(b *testing.B) {
	k := INNACoef32{GSign: 1, Decay: 1, ThetaCoef: 0.1 - 10, PsiCoef: 10, NegLR: -0.01, Beta: 0.1}
	optBench(b, 20,
		func(n int) func() {
			p, g, psi := elemBenchData(n, 1), elemBenchData(n, 2), elemBenchData(n, 3)
			return func() { INNA32(p, g, psi, &k) }
		},
		func(n int) func() {
			p, g, psi := elemBenchData(n, 1), elemBenchData(n, 2), elemBenchData(n, 3)
			return func() { refINNA(p, g, psi, k) }
		})
}

func BenchmarkRMSprop32(b *testing.B) {
	k := RMSpropCoef32{GSign: 1, Decay: 1, Alpha: 0.99, OneMinusAlpha: 0.01, Eps: 1e-8, NegLR: -1e-6}
	optBench(b, 20,
		func(n int) func() {
			p, g, v := elemBenchData(n, 1), elemBenchData(n, 2), optBenchV(n)
			return func() { RMSprop32(p, g, v, nil, nil, &k) }
		},
		func(n int) func() {
			p, g, v := elemBenchData(n, 1), elemBenchData(n, 2), optBenchV(n)
			return func() { refRMSprop(p, g, v, nil, nil, k) }
		})
}
