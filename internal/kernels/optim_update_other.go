//go:build !amd64 || purego

package kernels

// Without the assembly the optimizer updates run their Go loops alone.

func innaprop32Asm(p, g, v, psi []float32, k *INNApropCoef32) int    { return 0 }
func inna32Asm(p, g, psi []float32, k *INNACoef32) int               { return 0 }
func rmsprop32Asm(p, g, v, mom, avg []float32, k *RMSpropCoef32) int { return 0 }
