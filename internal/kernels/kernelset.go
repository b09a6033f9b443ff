package kernels

import "sync/atomic"

// A kernelSet is one register-blocked micro-kernel with the cache block
// sizes that suit it.
//
// micro computes the mr×nr tile C = alpha·Ap·Bp + beta·C where Ap is a packed
// mr×kc micro-panel of A (element (r, p) at a[p*mr+r]) and Bp a packed kc×nr
// micro-panel of B (element (p, j) at b[p*nr+j]); C is row-major with leading
// dimension ldc. With beta == 0 it must not read C.
//
// The blocked driver packs mc×kc blocks of A (sized for L2) and kc×nc
// blocks of B (sized for L3, one nr-wide micro-panel of kc rows sized for
// L1), as in GotoBLAS/BLIS.
type kernelSet[T float32 | float64] struct {
	name       string
	mr, nr     int
	mc, kc, nc int
	micro      func(kc int, a, b, c []T, ldc int, alpha, beta T)
}

var (
	active64 atomic.Pointer[kernelSet[float64]]
	active32 atomic.Pointer[kernelSet[float32]]
)

func kernels64() *kernelSet[float64] { return active64.Load() }
func kernels32() *kernelSet[float32] { return active32.Load() }

// portable kernel sets: pure Go, used on CPUs without the assembly kernels,
// under the purego build tag, and by tests.
var (
	portable64 = &kernelSet[float64]{
		name: "go-4x4", mr: 4, nr: 4, mc: 64, kc: 256, nc: 1024,
		micro: microGo4x4[float64],
	}
	portable32 = &kernelSet[float32]{
		name: "go-4x4", mr: 4, nr: 4, mc: 64, kc: 256, nc: 1024,
		micro: microGo4x4[float32],
	}
)

func init() {
	k64, k32 := bestKernels()
	active64.Store(k64)
	active32.Store(k32)
}

// KernelName reports the micro-kernels in use, e.g. "avx2-fma 6x8 / 6x16".
func KernelName() string {
	return kernels64().name + " / " + kernels32().name
}

// usePortable switches the process to the portable Go kernels (on == true)
// or back to the best kernels for this CPU. It is for tests and benchmarks
// and must not race with running products.
func usePortable(on bool) {
	if on {
		active64.Store(portable64)
		active32.Store(portable32)
		return
	}
	k64, k32 := bestKernels()
	active64.Store(k64)
	active32.Store(k32)
}
