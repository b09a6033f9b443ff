package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RNG is an explicit, seeded random number generator (PCG from
// math/rand/v2). The same seed gives the same sequence of numbers and
// tensors on every platform. An RNG is not safe for concurrent use: give
// each goroutine its own, made with Split.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	// The second PCG word is derived from the seed so that seeds differing
	// in one bit give unrelated streams.
	return newRNG(seed, splitmix(seed^0x6a09e667f3bcc909))
}

func newRNG(s1, s2 uint64) *RNG {
	src := rand.NewPCG(s1, s2)
	return &RNG{src: src, r: rand.New(src)}
}

// splitmix is the SplitMix64 finalizer, a bijective bit mixer.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Split returns a new generator derived deterministically from g, and
// advances g. The two then produce independent-looking streams; use Split
// to hand generators to goroutines without sharing one.
func (g *RNG) Split() *RNG {
	a, b := g.src.Uint64(), g.src.Uint64()
	return newRNG(splitmix(a), splitmix(b^0xbb67ae8584caa73b))
}

// Uint64 returns a uniformly distributed 64-bit value.
func (g *RNG) Uint64() uint64 { return g.src.Uint64() }

// Float64 returns a uniform number in [0, 1).
func (g *RNG) Float64() float64 { return g.r.Float64() }

// NormFloat64 returns a standard normal number.
func (g *RNG) NormFloat64() float64 { return g.r.NormFloat64() }

// IntN returns a uniform integer in [0, n). It panics if n ≤ 0.
func (g *RNG) IntN(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("tensor.RNG.IntN: n = %d, want n > 0", n))
	}
	return g.r.IntN(n)
}

// Perm returns a uniformly random permutation of 0, …, n−1.
func (g *RNG) Perm(n int) []int {
	if n < 0 {
		panic(fmt.Sprintf("tensor.RNG.Perm: negative n = %d", n))
	}
	return g.r.Perm(n)
}

// Shuffle permutes n elements uniformly at random by calling swap (Fisher–Yates).
func (g *RNG) Shuffle(n int, swap func(i, j int)) {
	if n < 0 {
		panic(fmt.Sprintf("tensor.RNG.Shuffle: negative n = %d", n))
	}
	g.r.Shuffle(n, swap)
}

// Normal returns a tensor of standard normal samples, drawn in float64 and
// rounded to d.
func (g *RNG) Normal(d DType, shape ...int) *Tensor {
	t := New(d, shape...)
	g.fill(t, g.r.NormFloat64)
	return t
}

// Uniform returns a tensor of samples uniform in [lo, hi), drawn in float64
// and rounded to d (rounding can give hi itself when d is coarser than the
// spacing near hi). It panics unless lo ≤ hi, both finite.
func (g *RNG) Uniform(d DType, lo, hi float64, shape ...int) *Tensor {
	if !(lo <= hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsInf(hi-lo, 0) {
		panic(fmt.Sprintf("tensor.RNG.Uniform: invalid interval [%v, %v) for shape %v", lo, hi, shape))
	}
	t := New(d, shape...)
	w := hi - lo
	g.fill(t, func() float64 { return lo + w*g.r.Float64() })
	return t
}

// fill sets the elements of t in row-major order from draw.
func (g *RNG) fill(t *Tensor, draw func() float64) {
	if t.dtype.is64() {
		for i := range t.f64 {
			t.f64[i] = draw()
		}
		return
	}
	for i := range t.f32 {
		t.f32[i] = float32(draw())
	}
	roundSlice(t.dtype, t.f32)
}
