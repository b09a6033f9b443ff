//go:build !amd64 || purego

package kernels

import "unsafe"

func packRows64(dst, src unsafe.Pointer, rows, stride int) { packRows64Go(dst, src, rows, stride) }

func bestKernels() (*kernelSet[float64], *kernelSet[float32]) {
	return portable64, portable32
}
