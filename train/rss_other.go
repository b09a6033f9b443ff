//go:build !unix

package train

// PeakRSSMB returns 0: the peak resident set size is not known here.
func PeakRSSMB() float64 { return 0 }
