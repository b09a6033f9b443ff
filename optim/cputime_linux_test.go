package optim

import "syscall"

// threadCPU returns the CPU time used by the calling OS thread, in ns (the
// benchmarks lock their goroutine to its thread), so that the per-parameter
// cost can be read on a loaded machine.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
