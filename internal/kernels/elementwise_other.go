//go:build !amd64 || purego

package kernels

// Without the assembly every elementwise kernel runs its Go loop: the
// bulk functions below process nothing.

func reluCount32Asm(z, x []float32) (done, zeros int)                { return 0, 0 }
func stepMul32Asm(z, g, x []float32, k float32, tbl *[4]float32) int { return 0 }
func colSum32Asm(dst, src []float32, rows, stride int) int           { return 0 }
func sgd32Asm(p, g []float32, k *SGDCoef32) int                      { return 0 }
func sgdMomentum32Asm(p, g, buf []float32, k *SGDCoef32) int         { return 0 }
func adam32Asm(p, g, m, v []float32, k *AdamCoef32) int              { return 0 }

func setElemAsm(bool) bool { return false }
