//go:build !unix

package nn_test

// cpuTime is unavailable here: the CPU metric is not reported.
func cpuTime() float64 { return 0 }
