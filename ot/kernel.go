package ot

import (
	"math"
	"sync"
	"sync/atomic"
)

// Value-level kernels of the Sinkhorn iterations on float64 slices.

// softmin returns −ε·log Σ_j exp((h_j − c_j)/ε) = −(M + ε·log Σ_j
// exp((h_j − c_j − M)/ε)) with M = max_j (h_j − c_j): the stabilized
// log-sum-exp of one row. It returns +Inf for an empty row or when every
// h_j − c_j is −Inf.
func softmin(c, h []float64, eps, invEps float64) float64 {
	c = c[:len(h)]
	m := maxDiff(c, h)
	if math.IsInf(m, -1) {
		return math.Inf(1)
	}
	if math.IsNaN(m) {
		return m
	}
	s := sumExp(c, h, m, invEps)
	return -(m + eps*math.Log(s))
}

// fmax is max for non-NaN operands that propagates a NaN in a (the loops
// only see NaN when the input has one).
func fmax(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
}

// parallelRows runs body over [0, n) with at most workers goroutines (the
// calling one included) that take chunks of rows from a shared counter,
// so that a goroutine descheduled by a busy machine does not hold the
// others up.
func parallelRows(n, workers int, body func(lo, hi int)) {
	if workers <= 1 || n < 64 {
		body(0, n)
		return
	}
	chunk := max(16, n/(8*workers))
	var next atomic.Int64
	run := func() {
		for {
			hi := int(next.Add(int64(chunk)))
			lo := hi - chunk
			if lo >= n {
				return
			}
			body(lo, min(hi, n))
		}
	}
	var wg sync.WaitGroup
	for w := 0; w < workers-1; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
	run()
	wg.Wait()
}

// sumExpGo returns Σ_j exp((h_j − c_j − m)·invEps) for arguments ≤ 0 (m is
// the maximum of h − c). It is fastExp written into the loop; arguments
// below expLo (whose exponentials are below 1e−307, negligible against the
// largest term, 1) contribute exp(expLo).
func sumExpGo(c, h []float64, m, invEps float64) float64 {
	c = c[:len(h)]
	var s0, s1 float64
	j := 0
	for ; j+2 <= len(h); j += 2 {
		x0 := (h[j] - c[j] - m) * invEps
		x1 := (h[j+1] - c[j+1] - m) * invEps
		x0 = fmax(x0, expLo)
		x1 = fmax(x1, expLo)
		t0 := x0*expInvLn2N + expShifter
		t1 := x1*expInvLn2N + expShifter
		k0 := math.Float64bits(t0)
		k1 := math.Float64bits(t1)
		kf0 := t0 - expShifter
		kf1 := t1 - expShifter
		r0 := (x0 - kf0*expLn2NHi) - kf0*expLn2NLo
		r1 := (x1 - kf1*expLn2NHi) - kf1*expLn2NLo
		p0 := r0 * (1 + r0*(1.0/2+r0*(1.0/6+r0*(1.0/24+r0*(1.0/120+r0*(1.0/720))))))
		p1 := r1 * (1 + r1*(1.0/2+r1*(1.0/6+r1*(1.0/24+r1*(1.0/120+r1*(1.0/720))))))
		e0 := math.Float64frombits(expTable[k0&(expN-1)] + uint64(int64(k0)>>expTableBits)<<52)
		e1 := math.Float64frombits(expTable[k1&(expN-1)] + uint64(int64(k1)>>expTableBits)<<52)
		s0 += e0 + e0*p0
		s1 += e1 + e1*p1
	}
	for ; j < len(h); j++ {
		s0 += fastExp(fmax((h[j]-c[j]-m)*invEps, expLo))
	}
	return s0 + s1
}

// maxDiffGo returns max_j (h_j − c_j) (−Inf for an empty row).
func maxDiffGo(c, h []float64) float64 {
	c = c[:len(h)]
	m := math.Inf(-1)
	m0, m1, m2, m3 := m, m, m, m
	j := 0
	for ; j+4 <= len(h); j += 4 {
		m0 = fmax(m0, h[j]-c[j])
		m1 = fmax(m1, h[j+1]-c[j+1])
		m2 = fmax(m2, h[j+2]-c[j+2])
		m3 = fmax(m3, h[j+3]-c[j+3])
	}
	for ; j < len(h); j++ {
		m0 = fmax(m0, h[j]-c[j])
	}
	return fmax(fmax(m0, m1), fmax(m2, m3))
}

// lseRows computes ε·log Σ_j exp((h_j − C_ij)/ε) for the rows of C in
// successive Sinkhorn updates, warm-starting the stabilizer: with ℓ_i the
// value of the previous call and Δ = max_j (h_j − h_j^prev), ℓ_i + Δ is an
// upper bound of max_j (h_j − C_ij) (ε·LSE bounds the maximum for any ε),
// so every exponential is at most 1 and the maximum pass over the row is
// skipped. When the bound is too loose (the sum falls below 1e−250) the
// row is recomputed with its exact maximum.
type lseRows struct {
	hPrev []float64
	lse   []float64
}

// softmin sets out[i] = −scale·ε·log Σ_j exp((h_j − C_ij)/ε) for the r
// rows of the row-major r×len(h) matrix c.
func (r *lseRows) softmin(out, c, h []float64, eps, scale float64, workers int) {
	L := len(h)
	invEps := 1 / eps
	warm := r.hPrev != nil
	delta := math.Inf(-1)
	if warm {
		for j, v := range h {
			if p := r.hPrev[j]; !math.IsInf(p, -1) || !math.IsInf(v, -1) {
				delta = math.Max(delta, v-p)
			}
		}
		if !finite(delta) {
			warm = false
		}
	} else {
		r.hPrev = make([]float64, L)
		r.lse = make([]float64, len(out))
	}
	parallelRows(len(out), workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := c[i*L : (i+1)*L]
			var v float64
			if m := r.lse[i] + delta; warm && finite(m) {
				if s := sumExp(row, h, m, invEps); s >= 1e-250 && s <= float64(L)*1.01 {
					v = m + eps*math.Log(s)
				} else {
					v = -softmin(row, h, eps, invEps)
				}
			} else {
				v = -softmin(row, h, eps, invEps)
			}
			r.lse[i] = v
			out[i] = -scale * v
		}
	})
	copy(r.hPrev, h)
}
