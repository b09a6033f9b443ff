package kernels

import (
	"fmt"
	"strings"
	"sync/atomic"
)

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

// A kernelChoice is one family of micro-kernels for both element types.
type kernelChoice struct {
	name string
	k64  *kernelSet[float64]
	k32  *kernelSet[float32]
}

var (
	active64 atomic.Pointer[kernelSet[float64]]
	active32 atomic.Pointer[kernelSet[float32]]
)

func kernels64() *kernelSet[float64] { return active64.Load() }
func kernels32() *kernelSet[float32] { return active32.Load() }

// portableChoice is the pure-Go kernel family, used on CPUs without the
// assembly kernels, under the purego build tag, and by tests.
var portableChoice = kernelChoice{
	name: "go",
	k64: &kernelSet[float64]{
		name: "go 4x4", mr: 4, nr: 4, mc: 64, kc: 256, nc: 1024,
		micro: microGo4x4[float64],
	},
	k32: &kernelSet[float32]{
		name: "go 4x4", mr: 4, nr: 4, mc: 64, kc: 256, nc: 1024,
		micro: microGo4x4[float32],
	},
}

func init() {
	c := kernelChoices()[0]
	active64.Store(c.k64)
	active32.Store(c.k32)
}

// KernelName reports the micro-kernels in use, e.g. "avx2-fma 6x8 / avx2-fma 6x16"
// (float64 / float32).
func KernelName() string {
	return kernels64().name + " / " + kernels32().name
}

// KernelFamilies lists the kernel families this CPU can run, best first:
// some of "avx512", "avx2" (AVX2+FMA) and always "go" (portable).
func KernelFamilies() []string {
	var names []string
	for _, c := range kernelChoices() {
		names = append(names, c.name)
	}
	return names
}

// UseKernels selects a kernel family by name ("best" or one of
// KernelFamilies) for all later products in the process and returns the
// previous family's name. The best family for the CPU is chosen at start-up;
// this switch exists for benchmarks and tests. Products already running
// finish with the kernels they started with.
func UseKernels(name string) (previous string, err error) {
	cur := kernels64()
	previous = "go"
	choices := kernelChoices()
	for _, c := range choices {
		if c.k64 == cur {
			previous = c.name
		}
	}
	if name == "best" {
		name = choices[0].name
	}
	for _, c := range choices {
		if c.name == name {
			active64.Store(c.k64)
			active32.Store(c.k32)
			return previous, nil
		}
	}
	return previous, fmt.Errorf("kernels: unknown or unsupported kernel family %q (have %s)", name, strings.Join(KernelFamilies(), ", "))
}
