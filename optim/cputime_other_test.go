//go:build !linux

package optim

func threadCPU() int64 { return -1 }
