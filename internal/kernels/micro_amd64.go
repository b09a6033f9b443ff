//go:build amd64 && !purego

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// Assembly micro-kernels (micro_avx2_amd64.s): C tile = alpha·Ap·Bp +
// beta·C over kc steps; C is not read when beta == 0.

//go:noescape
func microAVX2F64(kc int, a, b, c *float64, ldc int, alpha, beta float64)

//go:noescape
func copyRows64(dst, src *byte, rows, stride int)

//go:noescape
func microAVX2F32(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// The wrappers check, once per tile, that the slices cover what the
// assembly touches, so a driver bug panics instead of corrupting memory.

func avx2F64(kc int, a, b, c []float64, ldc int, alpha, beta float64) {
	_ = a[6*kc-1]
	_ = b[8*kc-1]
	_ = c[5*ldc+7]
	microAVX2F64(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

func avx2F32(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[6*kc-1]
	_ = b[16*kc-1]
	_ = c[5*ldc+15]
	microAVX2F32(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// packRows64 copies rows 64-byte rows, stride bytes apart from src, to
// dst contiguously. The caller guarantees the bounds.
func packRows64(dst, src unsafe.Pointer, rows, stride int) {
	if hasAVX2FMA {
		copyRows64((*byte)(dst), (*byte)(src), rows, stride)
		return
	}
	packRows64Go(dst, src, rows, stride)
}

var (
	avx2Set64 = &kernelSet[float64]{
		name: "avx2-fma 6x8", mr: 6, nr: 8, mc: 144, kc: 256, nc: 3072,
		micro: avx2F64,
	}
	avx2Set32 = &kernelSet[float32]{
		name: "avx2-fma 6x16", mr: 6, nr: 16, mc: 144, kc: 256, nc: 3072,
		micro: avx2F32,
	}
)

// hasAVX2FMA reports whether the assembly kernels can run here.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func bestKernels() (*kernelSet[float64], *kernelSet[float32]) {
	if hasAVX2FMA {
		return avx2Set64, avx2Set32
	}
	return portable64, portable32
}
