//go:build unix

package train

import (
	"runtime"
	"syscall"
)

// PeakRSSMB returns the peak resident set size of the process in MiB (0
// where the system does not say).
func PeakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	b := float64(ru.Maxrss) * 1024 // kilobytes on Linux and the BSDs
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		b = float64(ru.Maxrss) // bytes
	}
	return b / (1 << 20)
}
