package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Error bound. For every element the test requires
//
//	|C − Cref| ≤ (k+4)·ε·(|α|·(|A|·|B|)ᵢⱼ + |β|·|C₀ᵢⱼ|) + tiny
//
// with ε the machine epsilon of the dtype (2⁻⁵² for float64, 2⁻²³ for
// float32) and Cref computed in float64 from the same inputs. This is the
// classical dot-product bound γₖ ≤ k·u/(1−k·u) (u = ε/2) with room for the
// scaling by α and the update with β.

func slowTests() bool { return os.Getenv("GRADUS_SLOW") == "1" }

// gemmCase describes one product; lda, ldb, ldc are padded row lengths.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float64
	padA, padB     int
	padC           int
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%g beta=%g pad=%d/%d/%d",
		g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.beta, g.padA, g.padB, g.padC)
}

// operands builds the stored matrices of a case in float64.
func (g gemmCase) operands(rng *rand.Rand) (a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	ra, ca := g.m, g.k
	if g.transA {
		ra, ca = g.k, g.m
	}
	rb, cb := g.k, g.n
	if g.transB {
		rb, cb = g.n, g.k
	}
	lda, ldb, ldc = ca+g.padA, cb+g.padB, g.n+g.padC
	a = randSlice(rng, ra*lda)
	b = randSlice(rng, rb*ldb)
	c = randSlice(rng, g.m*ldc)
	if g.beta == 0 {
		for i := range c {
			c[i] = math.NaN()
		}
	}
	return
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.Float64()*2 - 1
	}
	return s
}

// reference computes alpha·op(A)·op(B) + beta·C in float64 and the bound
// matrix |alpha|·|op(A)|·|op(B)| + |beta·C|.
func (g gemmCase) reference(a []float64, lda int, b []float64, ldb int, c []float64, ldc int) (want, bound []float64) {
	want = make([]float64, g.m*g.n)
	bound = make([]float64, g.m*g.n)
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, sa float64
			for p := 0; p < g.k; p++ {
				var av, bv float64
				if g.transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if g.transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
				sa += math.Abs(av * bv)
			}
			w := g.alpha * s
			e := math.Abs(g.alpha) * sa
			if g.beta != 0 && g.k > 0 && g.alpha != 0 || g.beta != 0 {
				w += g.beta * c[i*ldc+j]
				e += math.Abs(g.beta * c[i*ldc+j])
			}
			want[i*g.n+j] = w
			bound[i*g.n+j] = e
		}
	}
	return
}

func to32(s []float64) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(v)
	}
	return r
}

func to64(s []float32) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = float64(v)
	}
	return r
}

// check runs one case in float64 and float32 and reports mismatches.
func (g gemmCase) check(t *testing.T, rng *rand.Rand) {
	t.Helper()
	a, lda, b, ldb, c, ldc := g.operands(rng)
	// float64
	{
		want, bound := g.reference(a, lda, b, ldb, c, ldc)
		got := append([]float64(nil), c...)
		Gemm64(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, got, ldc)
		compare(t, "Gemm64", g, got, ldc, c, want, bound, 0x1p-52)
	}
	// float32: the reference uses the float32-rounded inputs.
	{
		a32, b32, c32 := to32(a), to32(b), to32(c)
		want, bound := g.reference(to64(a32), lda, to64(b32), ldb, to64(c32), ldc)
		got := append([]float32(nil), c32...)
		Gemm32(g.transA, g.transB, g.m, g.n, g.k, float32(g.alpha), a32, lda, b32, ldb, float32(g.beta), got, ldc)
		compare(t, "Gemm32", g, to64(got), ldc, to64(c32), want, bound, 0x1p-23)
	}
}

func compare(t *testing.T, name string, g gemmCase, got []float64, ldc int, orig, want, bound []float64, eps float64) {
	t.Helper()
	bad := 0
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			v, w := got[i*ldc+j], want[i*g.n+j]
			tol := float64(g.k+4)*eps*bound[i*g.n+j] + 1e-300
			if !(math.Abs(v-w) <= tol) {
				if bad < 3 {
					t.Errorf("%s %v: C[%d,%d] = %g, want %g (tol %g)", name, g, i, j, v, w, tol)
				}
				bad++
			}
		}
		// padding columns of C must be untouched
		for j := g.n; j < ldc && i*ldc+j < len(got); j++ {
			if math.Float64bits(got[i*ldc+j]) != math.Float64bits(orig[i*ldc+j]) {
				t.Fatalf("%s %v: padding C[%d,%d] changed", name, g, i, j)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s %v: %d wrong elements", name, g, bad)
	}
}

// bothPaths runs f with every kernel family this CPU supports (the
// assembly kernels and the portable Go kernels).
func bothPaths(t *testing.T, f func(t *testing.T)) {
	for _, name := range KernelFamilies() {
		t.Run(name, func(t *testing.T) {
			prev, err := UseKernels(name)
			if err != nil {
				t.Fatal(err)
			}
			defer UseKernels(prev)
			f(t)
		})
	}
}

var alphaBeta = [][2]float64{{1, 0}, {1, 1}, {-0.7, 0.3}, {2.5, 0}, {0, 0.5}, {0.5, -1}}

// TestGemmSizes sweeps every size 0..70 in each dimension with the other
// two fixed to a few values, over the four transposition cases, rotating
// through alpha/beta variants and leading-dimension paddings.
func TestGemmSizes(t *testing.T) {
	others := []int{1, 6, 17, 40}
	if testing.Short() || raceEnabled {
		others = []int{1, 17}
	}
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		iter := 0
		for dim := 0; dim < 3; dim++ {
			step := 1
			if raceEnabled {
				step = 5 // the race run is about concurrency; keep it short
			}
			for size := 0; size <= 70; size += step {
				for _, o1 := range others {
					for _, o2 := range others {
						for tr := 0; tr < 4; tr++ {
							d := [3]int{o1, o2, o2}
							d[dim] = size
							d[(dim+1)%3] = o1
							d[(dim+2)%3] = o2
							ab := alphaBeta[iter%len(alphaBeta)]
							g := gemmCase{
								transA: tr&1 != 0, transB: tr&2 != 0,
								m: d[0], n: d[1], k: d[2], alpha: ab[0], beta: ab[1],
								padA: iter % 3, padB: (iter / 3) % 3, padC: (iter / 9) % 2,
							}
							iter++
							g.check(t, rng)
						}
					}
				}
			}
		}
	})
}

// TestGemmAlphaBeta runs all alpha/beta variants and transpositions on a
// few shapes that cross the micro-tile and cache-block boundaries.
func TestGemmAlphaBeta(t *testing.T) {
	shapes := [][3]int{{7, 9, 300}, {13, 33, 5}, {150, 20, 260}, {6, 16, 1}, {50, 70, 513}}
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, s := range shapes {
			for _, ab := range alphaBeta {
				for tr := 0; tr < 4; tr++ {
					gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: s[0], n: s[1], k: s[2],
						alpha: ab[0], beta: ab[1], padA: 1, padB: 2, padC: 3}.check(t, rng)
				}
			}
		}
	})
}

// TestGemmLarge covers large odd sizes, which exercise several cache
// blocks and the threaded split, with 1, 2 and 3 threads.
func TestGemmLarge(t *testing.T) {
	shapes := [][3]int{{127, 255, 513}, {513, 127, 255}, {255, 513, 127}, {1000, 127, 255}, {127, 1000, 63}}
	if slowTests() {
		shapes = append(shapes, [3]int{1000, 1000, 1000}, [3]int{513, 1000, 255}, [3]int{255, 513, 1000})
	}
	if raceEnabled || testing.Short() {
		shapes = shapes[:2]
	}
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, nt := range []int{1, 2, 3} {
			old := SetThreads(nt)
			for i, s := range shapes {
				ab := alphaBeta[i%len(alphaBeta)]
				tr := i + nt
				gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: s[0], n: s[1], k: s[2],
					alpha: ab[0], beta: ab[1], padA: i, padB: 2 * i, padC: 1}.check(t, rng)
			}
			SetThreads(old)
		}
	})
}

// TestGemmThreadedSmall forces threading on small products so that the
// parallel split meets edge tiles, several k-blocks and more threads than
// micro-tiles.
func TestGemmThreadedSmall(t *testing.T) {
	oldVol := minVolumePerThread
	defer func() { minVolumePerThread = oldVol }()
	minVolumePerThread = 1
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, nt := range []int{2, 3, 4} {
			old := SetThreads(nt)
			for it := 0; it < 40; it++ {
				ab := alphaBeta[it%len(alphaBeta)]
				k := 1 + rng.IntN(70)
				if it%5 == 0 {
					k = 300 + rng.IntN(300) // several k-blocks
				}
				g := gemmCase{transA: it&1 != 0, transB: it&2 != 0,
					m: 1 + rng.IntN(70), n: 1 + rng.IntN(70), k: k,
					alpha: ab[0], beta: ab[1], padA: it % 2, padB: it % 3, padC: it % 2}
				g.check(t, rng)
			}
			SetThreads(old)
		}
	})
}

// TestGemmTransposeLarge runs the four transposition cases on one shape big
// enough to be threaded.
func TestGemmTransposeLarge(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for tr := 0; tr < 4; tr++ {
			gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: 200, n: 130, k: 300,
				alpha: 1, beta: 0}.check(t, rng)
		}
	})
}

// TestGemmNaNPropagation checks that NaN and Inf in B reach C even where A
// is zero, and that NaN in C does not leak when beta == 0.
func TestGemmNaNPropagation(t *testing.T) {
	bothPaths(t, func(t *testing.T) {
		for _, s := range [][3]int{{3, 8, 3}, {20, 30, 40}, {130, 140, 150}} {
			m, n, k := s[0], s[1], s[2]
			a := make([]float64, m*k) // all zeros
			b := make([]float64, k*n)
			b[n+2] = math.NaN() // row 1, column 2
			b[2*n+5] = math.Inf(1)
			c := make([]float64, m*n)
			for i := range c {
				c[i] = math.NaN()
			}
			Gemm64(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			a32, b32, c32 := to32(a), to32(b), to32(c)
			Gemm32(false, false, m, n, k, 1, a32, k, b32, n, 0, c32, n)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					nan := j == 2 || j == 5 // 0·NaN and 0·Inf are NaN
					for _, v := range []float64{c[i*n+j], float64(c32[i*n+j])} {
						if nan != math.IsNaN(v) || (!nan && v != 0) {
							t.Fatalf("%v: C[%d,%d] = %g, want NaN=%v", s, i, j, v, nan)
						}
					}
				}
			}
		}
	})
}

// TestGemmConcurrent runs products from many goroutines at once.
func TestGemmConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for it := 0; it < 4; it++ {
				g := gemmCase{transA: w&1 != 0, transB: w&2 != 0, m: 60 + 13*w, n: 90 + it, k: 70 + 7*it, alpha: 1, beta: 0.5}
				a, lda, b, ldb, c, ldc := g.operands(rng)
				want, bound := g.reference(a, lda, b, ldb, c, ldc)
				Gemm64(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc)
				for i := range want {
					r, col := i/g.n, i%g.n
					if math.Abs(c[r*ldc+col]-want[i]) > float64(g.k+4)*0x1p-52*bound[i] {
						errs <- fmt.Sprintf("%v: wrong C[%d]", g, i)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestGemmGoroutines checks that repeated threaded products do not grow the
// number of goroutines: the pool's workers are started once and reused.
func TestGemmGoroutines(t *testing.T) {
	old := SetThreads(2)
	defer SetThreads(old)
	n := 200
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	Gemm32(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		Gemm32(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		Gemm32(true, true, n, n, n, 1, a, n, b, n, 1, c, n)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines grew from %d to %d", before, after)
	}
}

// TestGemmAllocs checks that steady-state products allocate nothing.
func TestGemmAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	old := SetThreads(2)
	defer SetThreads(old)
	n := 160
	a, b, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	Gemm64(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	allocs := testing.AllocsPerRun(50, func() {
		Gemm64(false, true, n, n, n, 1, a, n, b, n, 0, c, n)
	})
	// A garbage collection during the run may empty the buffer pools once.
	if allocs > 0.1 {
		t.Fatalf("Gemm64 allocates %.2f times per call", allocs)
	}
}

// TestGemmPanics checks the messages for inconsistent arguments.
func TestGemmPanics(t *testing.T) {
	cases := []struct {
		name string
		f    func()
		msg  string
	}{
		{"short A", func() {
			Gemm64(false, false, 2, 2, 2, 1, make([]float64, 3), 2, make([]float64, 4), 2, 0, make([]float64, 4), 2)
		}, "A has 3 elements"},
		{"short C", func() {
			Gemm32(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
		}, "C has 3 elements"},
		{"bad ldb", func() {
			Gemm64(false, true, 2, 3, 2, 1, make([]float64, 4), 2, make([]float64, 6), 1, 0, make([]float64, 6), 3)
		}, "leading dimension of B"},
		{"negative", func() { Gemm64(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }, "negative dimension"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.msg) {
					t.Fatalf("panic %v, want message containing %q", r, c.msg)
				}
			}()
			c.f()
		})
	}
}

// TestGemmSmallBlocks shrinks the cache blocks (mc, kc, nc) of every kernel
// family so that small products run through several row, column and k
// blocks of the driver, including uneven last blocks.
func TestGemmSmallBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, ch := range kernelChoices() {
		k64, k32 := *ch.k64, *ch.k32
		k64.mc, k64.kc, k64.nc = 2*k64.mr, 7, 3*k64.nr
		k32.mc, k32.kc, k32.nc = 3*k32.mr, 5, 2*k32.nr
		for it := 0; it < 60; it++ {
			g := gemmCase{transA: it&1 != 0, transB: it&2 != 0,
				m: 1 + rng.IntN(80), n: 1 + rng.IntN(120), k: 1 + rng.IntN(40),
				alpha: 1.5, beta: []float64{0, 1, -0.5}[it%3], padA: it % 3, padB: 1, padC: it % 2}
			a, lda, b, ldb, c, ldc := g.operands(rng)
			want, bound := g.reference(a, lda, b, ldb, c, ldc)
			got := append([]float64(nil), c...)
			gemmPacked(&k64, g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, got, ldc)
			compare(t, ch.name+" f64", g, got, ldc, c, want, bound, 0x1p-52)

			a32, b32, c32 := to32(a), to32(b), to32(c)
			want, bound = g.reference(to64(a32), lda, to64(b32), ldb, to64(c32), ldc)
			got32 := append([]float32(nil), c32...)
			gemmPacked(&k32, g.transA, g.transB, g.m, g.n, g.k, float32(g.alpha), a32, lda, b32, ldb, float32(g.beta), got32, ldc)
			compare(t, ch.name+" f32", g, to64(got32), ldc, to64(c32), want, bound, 0x1p-23)
		}
	}
}
