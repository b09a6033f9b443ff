//go:build linux

package kernels

// TestTune is the block-size tuner used to choose mc and kc (see
// micro_amd64.go). It runs only when GRADUS_TUNE names a kernel family,
// e.g. GRADUS_TUNE=avx2 go test -run TestTune -v ./internal/kernels/,
// and prints the best GFLOP/s of each (dtype, kc, mc) on the benchmark
// shapes, single-threaded and timed by the thread's CPU time so that other
// load on the machine disturbs it little.

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// threadCPU returns the calling OS thread's CPU time in seconds.
func threadCPU() float64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return float64(ts.Nano()) / 1e9
}

func TestTune(t *testing.T) {
	fam := os.Getenv("GRADUS_TUNE")
	if fam == "" {
		t.Skip()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	old := SetThreads(1)
	defer SetThreads(old)
	var ch kernelChoice
	for _, x := range kernelChoices() {
		if x.name == fam {
			ch = x
		}
	}
	type cfg struct {
		dt     string
		kc, mc int
	}
	var cfgs []cfg
	for _, dt := range []string{"f32", "f64"} {
		for _, kc := range []int{128, 192, 256, 320, 384, 512} {
			for _, mc := range []int{72, 144, 240, 480} {
				cfgs = append(cfgs, cfg{dt, kc, mc})
			}
		}
	}
	ops := make([][3][]float64, len(benchShapes))
	ops32 := make([][3][]float32, len(benchShapes))
	for i, s := range benchShapes {
		a, _, b, _, c, _ := s.operands()
		ops[i] = [3][]float64{a, b, c}
		ops32[i] = [3][]float32{to32(a), to32(b), to32(c)}
	}
	best := make([][]float64, len(cfgs))
	for i := range best {
		best[i] = make([]float64, len(benchShapes))
	}
	for round := 0; round < 4; round++ {
		for i, c := range cfgs {
			for si, s := range benchShapes {
				_, lda, _, ldb, _, ldc := s.operands()
				start := threadCPU()
				if c.dt == "f32" {
					ks := *ch.k32
					ks.kc, ks.mc = c.kc, c.mc
					o := ops32[si]
					gemmPacked(&ks, s.transA, s.transB, s.m, s.n, s.k, 1, o[0], lda, o[1], ldb, 0, o[2], ldc)
				} else {
					ks := *ch.k64
					ks.kc, ks.mc = c.kc, c.mc
					o := ops[si]
					gemmPacked(&ks, s.transA, s.transB, s.m, s.n, s.k, 1, o[0], lda, o[1], ldb, 0, o[2], ldc)
				}
				g := 2 * float64(s.m*s.n*s.k) / (threadCPU() - start) / 1e9
				best[i][si] = max(best[i][si], g)
			}
		}
	}
	for i, c := range cfgs {
		fmt.Printf("%s %s kc=%d mc=%d", fam, c.dt, c.kc, c.mc)
		for si := range benchShapes {
			fmt.Printf(" %6.1f", best[i][si])
		}
		fmt.Println()
	}
}
