package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The elementwise benchmarks run each kernel on one thread at the size of
// the first CNN activation (batch 128 · 32 channels · 26 · 26), which
// streams from memory, and at 1000 elements, which stay in L1. The anchor
// is "old", the scalar Go loop each kernel replaces (the references of
// elementwise_test.go); "asm" is the kernel as dispatched, "go" its
// portable path. SetBytes counts the bytes read and written per call.

var elemSizes = []int{128 * 32 * 26 * 26, 1000}

// elemBench runs the three variants of one kernel; bytes is the traffic
// per element.
func elemBench(b *testing.B, bytes int, kernel, old func(n int) func()) {
	sizedBench(b, elemSizes, bytes, kernel, old)
}

// sizedBench runs the old loop, the Go path and the dispatched kernel at
// each of sizes.
func sizedBench(b *testing.B, sizes []int, bytes int, kernel, old func(n int) func()) {
	for _, n := range sizes {
		for _, v := range []string{"old", "go", "asm"} {
			b.Run(fmt.Sprintf("n=%d/%s", n, v), func(b *testing.B) {
				prev := setElemAsm(v == "asm")
				defer setElemAsm(prev)
				f := kernel(n)
				if v == "old" {
					f = old(n)
				}
				b.SetBytes(int64(bytes * n))
				b.ResetTimer()
				for range b.N {
					f()
				}
			})
		}
	}
}

func elemBenchData(n, seed int) []float32 {
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

var elemSinkInt int
var elemSinkF32 float32

func BenchmarkReluCount32(b *testing.B) {
	elemBench(b, 8,
		func(n int) func() {
			x, z := elemBenchData(n, 1), make([]float32, n)
			return func() { elemSinkInt = ReluCount32(z, x) }
		},
		func(n int) func() {
			x, z := elemBenchData(n, 1), make([]float32, n)
			return func() { elemSinkInt = refReluCount(z, x) }
		})
}

func BenchmarkStepMul32(b *testing.B) {
	tbl := [4]float32{0, 1, 0, float32(elemNaN())}
	elemBench(b, 12,
		func(n int) func() {
			g, x, z := elemBenchData(n, 1), elemBenchData(n, 2), make([]float32, n)
			return func() { StepMul32(z, g, x, 0, tbl) }
		},
		func(n int) func() {
			g, x, z := elemBenchData(n, 1), elemBenchData(n, 2), make([]float32, n)
			return func() { refStepMul(z, g, x, 0, tbl) }
		})
}

func elemNaN() float32 { var z float32; return z / z }

func BenchmarkColSum32(b *testing.B) {
	rowsOf := func(n int) int {
		if n < 128*64 {
			return 8
		}
		return 128
	}
	elemBench(b, 4,
		func(n int) func() {
			rows := rowsOf(n)
			src, d := elemBenchData(n/rows*rows, 1), make([]float32, n/rows)
			return func() { ColSum32(d, src, rows, n/rows) }
		},
		func(n int) func() {
			rows := rowsOf(n)
			src, d := elemBenchData(n/rows*rows, 1), make([]float32, n/rows)
			return func() { refColSum(d, src, rows, n/rows) }
		})
}

func BenchmarkSGD32(b *testing.B) {
	k := SGDCoef32{GSign: 1, Decay: 1, NegLR: -1e-9}
	elemBench(b, 12,
		func(n int) func() {
			p, g := elemBenchData(n, 1), elemBenchData(n, 2)
			return func() { SGD32(p, g, &k) }
		},
		func(n int) func() {
			p, g := elemBenchData(n, 1), elemBenchData(n, 2)
			return func() { refSGD(p, g, k) }
		})
}

func BenchmarkSGDMomentum32(b *testing.B) {
	k := SGDCoef32{GSign: 1, Decay: 1, NegLR: -1e-9, Mu: 0.9, OneMinusDamp: 1}
	elemBench(b, 20,
		func(n int) func() {
			p, g, buf := elemBenchData(n, 1), elemBenchData(n, 2), elemBenchData(n, 3)
			return func() { SGDMomentum32(p, g, buf, &k) }
		},
		func(n int) func() {
			p, g, buf := elemBenchData(n, 1), elemBenchData(n, 2), elemBenchData(n, 3)
			return func() { refMomentum(p, g, buf, k) }
		})
}

func BenchmarkAdam32(b *testing.B) {
	k := AdamCoef32{GSign: 1, Decay: 1, Beta1: 0.9, OneMinusBeta1: 0.1, Beta2: 0.999,
		OneMinusBeta2: 0.001, SqrtBC2: 1, Eps: 1e-8, NegStep: -1e-9}
	elemBench(b, 28,
		func(n int) func() {
			p, g, m, v := elemBenchData(n, 1), elemBenchData(n, 2), elemBenchData(n, 3), make([]float32, n)
			return func() { Adam32(p, g, m, v, &k) }
		},
		func(n int) func() {
			p, g, m, v := elemBenchData(n, 1), elemBenchData(n, 2), elemBenchData(n, 3), make([]float32, n)
			return func() { refAdam(p, g, m, v, k) }
		})
}
