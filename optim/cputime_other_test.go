//go:build !linux

package optim

func processCPU() int64 { return -1 }
