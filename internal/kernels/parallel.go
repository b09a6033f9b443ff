package kernels

import "sync/atomic"

// ParallelFor calls f on disjoint ranges [lo, hi) covering [0, n), on up to
// Threads() goroutines (the caller included), giving each goroutine at
// least minN items; range bounds are multiples of align (so goroutines
// writing neighbouring parts of a slice need not share cache lines). With
// too little work for two goroutines, f(0, n) runs on the caller.
//
// The work is cut into up to 4 chunks per goroutine, claimed from an atomic
// counter, and the caller waits for the chunks rather than for the helper
// goroutines: on a busy machine a helper that is not scheduled in time
// finds no chunk left when it runs and exits, instead of holding the caller
// up. f must be safe to call concurrently on disjoint ranges.
func ParallelFor(n, minN, align int, f func(lo, hi int)) {
	minN = max(minN, 1)
	align = max(align, 1)
	t := min(Threads(), n/minN)
	if t < 2 {
		f(0, n)
		return
	}
	nch := min(n/minN, 4*t)
	bound := func(i int) int {
		if i >= nch {
			return n
		}
		return (i * n / nch) / align * align
	}
	var next, left atomic.Int64
	left.Store(int64(nch))
	done := make(chan struct{})
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= nch {
				return
			}
			f(bound(i), bound(i+1))
			if left.Add(-1) == 0 {
				close(done)
			}
		}
	}
	for h := 1; h < t; h++ {
		go work()
	}
	work()
	<-done
}
