package iterdiff

import (
	"math"
	"runtime"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// contraction is a cheap nonlinear step x⁺ = 0.9·x − 0.05·sin(x) + θ on a
// vector state.
func contraction(k int, x, th []*ad.Var) []*ad.Var {
	return []*ad.Var{ad.Add(ad.Sub(ad.Scale(x[0], 0.9), ad.Scale(ad.Sin(x[0]), 0.05)), th[0])}
}

// TestUnrollCheckpointMemory: over K = 10,000 steps, Unroll with recursive
// checkpointing keeps O(log K) (Checkpoints: 2) or O(√K) (the default)
// states, counted in Info.StoredStates, against K+1 without, and its
// gradient equals plain Unroll's to 1e-12.
func TestUnrollCheckpointMemory(t *testing.T) {
	K := 10000
	rng := newRNG(10)
	th := vecVar(randVec(rng, 4))
	x0 := vecVar(randVec(rng, 4))
	grad := func(mode Mode) ([]float64, *Info) {
		var info *Info
		g, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
			x, in, err := FixedPoint(contraction, []*ad.Var{xs[0]}, xs[1:], Options{Mode: mode, Tol: -1, MaxIter: K})
			if err != nil {
				t.Fatal(err)
			}
			info = in
			return ad.SumAll(ad.Mul(x[0], x[0]))
		}, []*ad.Var{x0, th}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return append(vals(g[0]), vals(g[1])...), info
	}
	ref, info := grad(Unroll{Checkpoints: CheckpointNone})
	t.Logf("Unroll{Checkpoints: CheckpointNone}, K = %d: %d stored states, %d steps replayed", K, info.StoredStates, info.Recomputed)
	if info.StoredStates != K+1 {
		t.Errorf("plain Unroll stored %d states, expected K+1", info.StoredStates)
	}
	for _, c := range []struct {
		ck    int
		limit int
	}{{2, 3*int(math.Ceil(math.Log2(float64(K)))) + 3}, {CheckpointSqrt, 2*int(math.Ceil(math.Sqrt(float64(K)))) + 2}, {10, 10*int(math.Ceil(math.Log(float64(K))/math.Log(10))) + 11}} {
		g, info := grad(Unroll{Checkpoints: c.ck})
		d := maxAbsDiffVec(g, ref)
		t.Logf("Unroll{Checkpoints: %d}: %d stored states (limit %d), %d steps replayed (%.2f·K), max gradient diff from plain %.3g", c.ck, info.StoredStates, c.limit, info.Recomputed, float64(info.Recomputed)/float64(K), d)
		if info.StoredStates > c.limit {
			t.Errorf("Checkpoints %d: %d states > %d", c.ck, info.StoredStates, c.limit)
		}
		if d > 1e-12*math.Max(1, norm(ref)) {
			t.Errorf("Checkpoints %d: gradient differs from plain Unroll by %.3g", c.ck, d)
		}
	}
}

// heapProbe wraps a step to sample the live heap (after a GC) every period
// calls and keep the peak.
type heapProbe struct {
	period, calls int
	peak          uint64
}

func (h *heapProbe) wrap(T Step) Step {
	return func(k int, x, th []*ad.Var) []*ad.Var {
		h.calls++
		if h.calls%h.period == 0 {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			h.peak = max(h.peak, ms.HeapAlloc)
		}
		return T(k, x, th)
	}
}

// TestMemoryDoesNotGrow measures the peak live heap during a gradient
// through K = 100 and K = 1000 iterations of a step on a 1000-element
// state: it grows by about (K₂−K₁)·(bytes per step) for Unroll without
// checkpoints, like √K with the default checkpointing, and not at all for
// Piggyback (forward mode), Piggyback's reverse mode and Implicit (both
// directions) — their memory does not depend on the number of iterations.
func TestMemoryDoesNotGrow(t *testing.T) {
	n := 1000
	rng := newRNG(11)
	th := vecVar(randVec(rng, n))
	x0 := vecVar(make([]float64, n))
	measure := func(mode Mode, K int, forward bool) uint64 {
		h := &heapProbe{period: 50}
		T := h.wrap(contraction)
		f := func(xs ...*ad.Var) *ad.Var {
			x, _, err := FixedPoint(T, []*ad.Var{x0}, xs, Options{Mode: mode, Tol: -1, MaxIter: K, AllowUnconverged: true})
			if err != nil {
				t.Fatal(err)
			}
			return ad.SumAll(x[0])
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		var err error
		if forward {
			_, _, err = ad.JVP(f, []*ad.Var{th}, []*ad.Var{ad.Const(tensor.OnesLike(th.Value()))}, nil)
		} else {
			_, err = ad.Grad(f, []*ad.Var{th}, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.peak < base {
			return 0
		}
		return h.peak - base
	}
	step := uint64(n * 8)
	const linear, sqrt, constant = 0, 1, 2
	var linearGrowth float64
	for _, c := range []struct {
		name    string
		mode    Mode
		forward bool
		kind    int
	}{
		{"unroll, no checkpoints (reverse)", Unroll{Checkpoints: CheckpointNone}, false, linear},
		{"unroll, √K checkpoints (reverse)", Unroll{}, false, sqrt},
		{"piggyback (forward)", Piggyback{}, true, constant},
		{"piggyback (reverse)", Piggyback{}, false, constant},
		{"implicit (reverse)", Implicit{}, false, constant},
		{"implicit (forward)", Implicit{}, true, constant},
		{"unroll (forward)", Unroll{}, true, constant},
	} {
		m1, m2 := measure(c.mode, 100, c.forward), measure(c.mode, 1000, c.forward)
		growth := float64(int64(m2)-int64(m1)) / float64(step)
		t.Logf("%-34s peak live heap above baseline: K = 100: %8.1f KiB, K = 1000: %8.1f KiB; growth %6.1f state-sizes", c.name, float64(m1)/1024, float64(m2)/1024, growth)
		switch c.kind {
		case linear:
			linearGrowth = growth
			if growth < 900 {
				t.Errorf("%s: expected growth of at least 900 state-sizes, got %.1f", c.name, growth)
			}
		case sqrt:
			// 2√K states: from 20 to 64, times the tensors kept per step
			if growth > linearGrowth/10 {
				t.Errorf("%s: memory grew by %.1f state-sizes, more than a tenth of the unbounded %.1f", c.name, growth, linearGrowth)
			}
		case constant:
			if growth > 20 {
				t.Errorf("%s: memory grew by %.1f state-sizes", c.name, growth)
			}
		}
	}
}
