//go:build !amd64 || purego

package kernels

import "unsafe"

func packRows(dst, src unsafe.Pointer, rows, stride, width int) {
	packRowsGo(dst, src, rows, stride, width)
}

// kernelChoices lists the kernel families this CPU can run, best first.
func kernelChoices() []kernelChoice { return []kernelChoice{portableChoice} }

func interleave8Asm[T float32 | float64](src []T, ld, kc int, dst []T, stride int) int { return 0 }

func interleave4Asm[T float32 | float64](src []T, ld, kc int, dst []T, stride int) int { return 0 }
