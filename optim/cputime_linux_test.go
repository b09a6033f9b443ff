package optim

import "syscall"

// processCPU returns the CPU time used by the process (all threads), in
// ns, so that the per-parameter work can be read on a loaded machine.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
