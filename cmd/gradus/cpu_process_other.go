//go:build !unix

package main

// processCPUSeconds returns 0: the process CPU time is not known here.
func processCPUSeconds() float64 { return 0 }
