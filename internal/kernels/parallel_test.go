package kernels

import (
	"sync/atomic"
	"testing"
)

func TestParallelForCoversOnce(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	for _, c := range []struct{ n, minN, align int }{
		{0, 1, 1}, {1, 1, 1}, {10, 100, 1}, {1000, 10, 16}, {100003, 1000, 16}, {77, 1, 8},
	} {
		hits := make([]atomic.Int32, c.n)
		ParallelFor(c.n, c.minN, c.align, func(lo, hi int) {
			if lo > hi || lo < 0 || hi > c.n {
				t.Errorf("n=%d: bad range [%d, %d)", c.n, lo, hi)
				return
			}
			if lo%c.align != 0 && lo != c.n {
				t.Errorf("n=%d: bound %d not a multiple of %d", c.n, lo, c.align)
			}
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("n=%d minN=%d align=%d: index %d visited %d times", c.n, c.minN, c.align, i, h)
			}
		}
	}
}
