//go:build !amd64 || purego

package kernels

func bestKernels() (*kernelSet[float64], *kernelSet[float32]) {
	return portable64, portable32
}
