//go:build !unix

package iterdiff

import "time"

var start = time.Now()

// cpuTime falls back to wall time where getrusage is unavailable.
func cpuTime() float64 { return time.Since(start).Seconds() }
