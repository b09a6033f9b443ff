package kernels

import "sync"

// minVolumePerThread is the smallest m·n·k worth handing to one more
// goroutine: below it the wake-up latency of a worker costs more than the
// arithmetic it would take over. A variable so tests can force threading
// on small products.
var minVolumePerThread = 48 * 48 * 64

// gemmPacked runs the blocked algorithm. With several threads the m×n
// result is cut into a tm×tn grid of rectangles, one task each; every task
// packs the parts of A and B it needs and runs the single-threaded blocked
// loops on its rectangle, so tasks share nothing and never wait for each
// other. The price is that one operand is packed by every task of a row
// (or column) of the grid. A variant that packed A and B once, shared,
// and then handed out tiles of C was tried and measured slower on the
// (heavily loaded) 2-core development machine: the threads must wait for
// each other's packing, and a descheduled thread holding a pack unit costs
// more than the duplicated copies.
func gemmPacked[T float32 | float64](ks *kernelSet[T], transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	nt := Threads()
	if v := m * n * k / minVolumePerThread; v < nt {
		nt = max(v, 1)
	}
	tm, tn := 1, 1
	if nt > 1 {
		tm, tn = chooseGrid(nt, m, n, ks.mr, ks.nr)
	}
	g := getCall[T]()
	g.ks, g.transA, g.transB, g.m, g.n, g.k = ks, transA, transB, m, n, k
	g.alpha, g.beta, g.a, g.b, g.c, g.lda, g.ldb, g.ldc = alpha, beta, a, b, c, lda, ldb, ldc
	g.tm, g.tn = tm, tn
	g.job.owner = g
	if tm*tn == 1 {
		g.runTask(0)
		g.recycle()
		return
	}
	g.job.run(tm*tn, tm*tn-1)
	g.recycle()
}

// chooseGrid splits the m×n result into tm×tn rectangles (tm·tn ≤ nt),
// minimising the largest rectangle's work plus the packing it repeats.
func chooseGrid(nt, m, n, mr, nr int) (tm, tn int) {
	pm, pn := ceilDiv(m, mr), ceilDiv(n, nr)
	best := -1
	for t := nt; t >= 1 && best < 0; t-- {
		for a := 1; a <= t; a++ {
			if t%a != 0 {
				continue
			}
			b := t / a
			if a > pm || b > pn {
				continue
			}
			mt, ntl := ceilDiv(pm, a)*mr, ceilDiv(pn, b)*nr
			cost := mt*ntl + 16*(mt+ntl)
			if best < 0 || cost < best {
				best, tm, tn = cost, a, b
			}
		}
	}
	if best < 0 {
		return 1, 1
	}
	return tm, tn
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// gemmCall is the state of one threaded product; it is pooled so that
// steady-state calls allocate nothing.
type gemmCall[T float32 | float64] struct {
	job
	ks             *kernelSet[T]
	transA, transB bool
	m, n, k        int
	alpha, beta    T
	a, b, c        []T
	lda, ldb, ldc  int
	tm, tn         int
}

// freeList is a mutex-guarded stack of reusable objects. Unlike sync.Pool
// it survives garbage collections, so the large packing buffers are not
// reallocated in steady state; it holds at most one object per product
// that ran concurrently at the peak.
type freeList[E any] struct {
	mu    sync.Mutex
	items []*E
}

func (f *freeList[E]) get() *E {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		e := f.items[n-1]
		f.items[n-1] = nil
		f.items = f.items[:n-1]
		return e
	}
	return new(E)
}

func (f *freeList[E]) put(e *E) {
	f.mu.Lock()
	f.items = append(f.items, e)
	f.mu.Unlock()
}

var (
	calls64 freeList[gemmCall[float64]]
	calls32 freeList[gemmCall[float32]]
	bufs64  freeList[packBuf[float64]]
	bufs32  freeList[packBuf[float32]]
)

func getCall[T float32 | float64]() *gemmCall[T] {
	var z T
	if _, ok := any(z).(float64); ok {
		return any(calls64.get()).(*gemmCall[T])
	}
	return any(calls32.get()).(*gemmCall[T])
}

func (g *gemmCall[T]) recycle() {
	g.a, g.b, g.c = nil, nil, nil
	g.ks = nil
	g.job.owner = nil
	switch g := any(g).(type) {
	case *gemmCall[float64]:
		calls64.put(g)
	case *gemmCall[float32]:
		calls32.put(g)
	}
}

// packBuf holds one task's packing buffers.
type packBuf[T float32 | float64] struct {
	a, b, tile []T
}

func getBuf[T float32 | float64]() *packBuf[T] {
	var z T
	if _, ok := any(z).(float64); ok {
		return any(bufs64.get()).(*packBuf[T])
	}
	return any(bufs32.get()).(*packBuf[T])
}

func putBuf[T float32 | float64](p *packBuf[T]) {
	switch p := any(p).(type) {
	case *packBuf[float64]:
		bufs64.put(p)
	case *packBuf[float32]:
		bufs32.put(p)
	}
}

func grow[T float32 | float64](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// span returns the half-open range of part i when n items, grouped in
// blocks of size unit, are shared out among parts as evenly as possible.
func span(n, unit, parts, i int) (lo, hi int) {
	blocks := ceilDiv(n, unit)
	lo = blocks * i / parts * unit
	hi = blocks * (i + 1) / parts * unit
	return min(lo, n), min(hi, n)
}

// runTask computes rectangle i of the tm×tn grid.
func (g *gemmCall[T]) runTask(i int) {
	ks := g.ks
	i0, i1 := span(g.m, ks.mr, g.tm, i/g.tn)
	j0, j1 := span(g.n, ks.nr, g.tn, i%g.tn)
	if i0 >= i1 || j0 >= j1 {
		return
	}
	buf := getBuf[T]()
	gemmBlock(ks, g.transA, g.transB, i0, i1, j0, j1, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc, buf, nil)
	putBuf(buf)
}

// gemmBlock runs the GotoBLAS loops on the result rows i0..i1, columns
// j0..j1: for each nc-wide column block and kc-deep slice of k, pack B once,
// then for each mc-high row block pack A and sweep the micro-kernel over
// the block. Block sizes are evened out so no block is a thin remainder.
// With pre not nil, A is not read: pre holds the rows i0..i1 of op(A)
// already packed, as PackedA lays them out.
func gemmBlock[T float32 | float64](ks *kernelSet[T], transA, transB bool, i0, i1, j0, j1, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, buf *packBuf[T], pre []T) {
	mr, nr := ks.mr, ks.nr
	ms, ns := i1-i0, j1-j0
	kcE := ceilDiv(k, ceilDiv(k, ks.kc))
	ncE := ceilDiv(ceilDiv(ns, ceilDiv(ns, ks.nc)), nr) * nr
	mcE := ceilDiv(ceilDiv(ms, ceilDiv(ms, ks.mc)), mr) * mr
	buf.a = grow(buf.a, mcE*kcE)
	buf.b = grow(buf.b, ncE*kcE)
	buf.tile = grow(buf.tile, mr*nr)
	for jc := j0; jc < j1; jc += ncE {
		nc := min(ncE, j1-jc)
		for pc := 0; pc < k; pc += kcE {
			kc := min(kcE, k-pc)
			packB(transB, b, ldb, pc, kc, jc, nc, nr, buf.b)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := i0; ic < i1; ic += mcE {
				mc := min(mcE, i1-ic)
				ap := buf.a
				if pre != nil {
					ap = pre[packedAOffset(ms, mr, pc, ic-i0, kc):]
				} else {
					packA(transA, a, lda, ic, mc, pc, kc, mr, buf.a)
				}
				macroKernel(ks, mc, nc, kc, ap, buf.b, c[ic*ldc+jc:], ldc, alpha, bet, buf.tile)
			}
		}
	}
}

// macroKernel sweeps the micro-kernel over an mc×nc block of C from packed
// A (mc×kc) and B (kc×nc). Edge tiles are computed into tile and merged.
func macroKernel[T float32 | float64](ks *kernelSet[T], mc, nc, kc int, ap, bp, c []T, ldc int, alpha, beta T, tile []T) {
	mr, nr := ks.mr, ks.nr
	micro := ks.micro
	for jr := 0; jr < nc; jr += nr {
		nn := min(nr, nc-jr)
		bpp := bp[jr*kc:]
		for ir := 0; ir < mc; ir += mr {
			mm := min(mr, mc-ir)
			app := ap[ir*kc:]
			if mm == mr && nn == nr {
				micro(kc, app, bpp, c[ir*ldc+jr:], ldc, alpha, beta)
				continue
			}
			micro(kc, app, bpp, tile, nr, 1, 0)
			for r := 0; r < mm; r++ {
				dst := c[(ir+r)*ldc+jr : (ir+r)*ldc+jr+nn]
				src := tile[r*nr : r*nr+nn]
				if beta == 0 && alpha == 1 {
					copy(dst, src)
				} else if beta == 0 {
					for j, v := range src {
						dst[j] = alpha * v
					}
				} else {
					for j, v := range src {
						dst[j] = alpha*v + beta*dst[j]
					}
				}
			}
		}
	}
}
