package main

import "golang.org/x/sys/unix"

// threadCPUTime returns the CPU time of the calling OS thread in seconds.
func threadCPUTime() (float64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return float64(ts.Nano()) / 1e9, true
}
