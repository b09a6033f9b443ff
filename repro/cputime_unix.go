//go:build unix

package repro

import "golang.org/x/sys/unix"

// cpuTime returns the CPU time used by the process so far, in seconds
// (user + system, all threads): a cost measure that other processes
// competing for the cores do not inflate, unlike wall time.
func cpuTime() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return wallTime()
	}
	return float64(ts.Nano()) / 1e9
}
