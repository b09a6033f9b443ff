//go:build !unix

package repro

// cpuTime falls back to wall time where process CPU time is not available.
func cpuTime() float64 { return wallTime() }
