//go:build !linux

package main

// threadCPUTime is not available on this system.
func threadCPUTime() (float64, bool) { return 0, false }
