package tensor

import (
	"fmt"
	"slices"
)

// BroadcastShapes returns the NumPy broadcast of the given shapes, or an
// error naming them when they are incompatible.
func BroadcastShapes(shapes ...[]int) ([]int, error) {
	n := 0
	for _, s := range shapes {
		n = max(n, len(s))
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := n - len(s)
		for i, d := range s {
			switch {
			case out[off+i] == d || d == 1:
			case out[off+i] == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %v are not broadcastable", shapes)
			}
		}
	}
	return out, nil
}

func mustBroadcast(op string, shapes ...[]int) []int {
	s, err := BroadcastShapes(shapes...)
	if err != nil {
		panic(fmt.Sprintf("tensor.%s: shape mismatch: %v", op, err))
	}
	return s
}

// bstrides returns the element strides of a tensor of shape s when viewed
// with the broadcast shape out: broadcast dimensions get stride 0.
func bstrides(s, out []int) []int {
	st := make([]int, len(out))
	off := len(out) - len(s)
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] != 1 {
			st[off+i] = acc
		}
		acc *= s[i]
	}
	return st
}

// forBroadcast calls f(o, ia, ib, n) for runs of the broadcast iteration:
// output elements o..o+n-1 use a at ia+k·sa and b at ib+k·sb, where sa and sb
// are the inner strides returned first. It lets binary kernels run tight
// inner loops over the last dimension.
func forBroadcast(out, sa, sb []int, f func(o, ia, ib, n int)) {
	nd := len(out)
	if nd == 0 {
		f(0, 0, 0, 1)
		return
	}
	inner := out[nd-1]
	total := 1
	for _, d := range out {
		total *= d
	}
	if total == 0 {
		return
	}
	idx := make([]int, nd)
	ia, ib := 0, 0
	for o := 0; o < total; o += inner {
		f(o, ia, ib, inner)
		// advance the multi-index over dimensions 0..nd-2
		for d := nd - 2; d >= 0; d-- {
			idx[d]++
			ia += sa[d]
			ib += sb[d]
			if idx[d] < out[d] {
				break
			}
			ia -= sa[d] * out[d]
			ib -= sb[d] * out[d]
			idx[d] = 0
		}
	}
}

// BroadcastTo returns t expanded to shape (a copy).
func BroadcastTo(t *Tensor, shape ...int) *Tensor {
	out := mustBroadcast("BroadcastTo", t.shape, shape)
	if !slices.Equal(out, shape) {
		panic(fmt.Sprintf("tensor.BroadcastTo: cannot broadcast shape %v to %v", t.shape, shape))
	}
	if slices.Equal(t.shape, shape) {
		return t.Clone()
	}
	r := t.like(shape)
	if r.dtype.is64() {
		broadcastRuns(shape, t.shape, t.shape, func(o, ia, _, n, ka, _ int) { fillRun(r.f64[o:o+n], t.f64[ia:], ka) })
	} else {
		broadcastRuns(shape, t.shape, t.shape, func(o, ia, _, n, ka, _ int) { fillRun(r.f32[o:o+n], t.f32[ia:], ka) })
	}
	return r
}

// fillRun copies src (inner stride 1) or repeats src[0] (stride 0) into dst.
func fillRun[T float](dst, src []T, stride int) {
	if stride == 1 {
		copy(dst, src[:len(dst)])
		return
	}
	v := src[0]
	for i := range dst {
		dst[i] = v
	}
}

// SumTo sums t over broadcast dimensions so that the result has shape
// shape: the adjoint of BroadcastTo. shape must broadcast to t's shape.
func SumTo(t *Tensor, shape ...int) *Tensor {
	if slices.Equal(t.shape, shape) {
		return t.Clone()
	}
	b := mustBroadcast("SumTo", t.shape, shape)
	if !slices.Equal(b, t.shape) {
		panic(fmt.Sprintf("tensor.SumTo: shape %v does not broadcast to %v", shape, t.shape))
	}
	off := len(t.shape) - len(shape)
	var axes []int
	for i := range t.shape {
		if i < off || (shape[i-off] == 1 && t.shape[i] != 1) {
			axes = append(axes, i)
		}
	}
	return Sum(t, axes, false).Reshape(shape...)
}

// broadcastRuns iterates over the broadcast of shapes sa and sb to out in
// runs: f(o, ia, ib, n, ka, kb) covers the output elements o..o+n−1, which
// read a at ia+k·ka and b at ib+k·kb (ka and kb are 0 or 1). Dimensions of
// size 1 are dropped and adjacent dimensions that both inputs traverse
// contiguously (or both repeat) are merged first, so the runs are as long
// as the layout allows: a [B, N] + [N] bias add is B runs of N, [B, N] +
// [B, 1] is B runs of N reading one element of b, and inputs that only
// differ by leading 1s are a single run.
func broadcastRuns(out, sa, sb []int, f func(o, ia, ib, n, ka, kb int)) {
	p, ok := planRuns(out, sa, sb)
	if !ok {
		sta, stb := bstrides(sa, out), bstrides(sb, out)
		var ka, kb int
		if len(out) > 0 {
			ka, kb = sta[len(out)-1], stb[len(out)-1]
		}
		forBroadcast(out, sta, stb, func(o, ia, ib, n int) { f(o, ia, ib, n, ka, kb) })
		return
	}
	p.exec(0, p.runs, f)
}

// broadcastRunsPar is broadcastRuns with the runs split across goroutines
// when the output is large; f must write only its own output range.
func broadcastRunsPar(out, sa, sb []int, f func(o, ia, ib, n, ka, kb int)) {
	p, ok := planRuns(out, sa, sb)
	if !ok || p.runs < 2 {
		broadcastRuns(out, sa, sb, f)
		return
	}
	parallelChunksMin(p.runs, max(1, parMin/max(1, p.inner)), func(lo, hi int) { p.exec(lo, hi, f) })
}

// runPlan is a broadcast iteration with its dimensions collapsed: runs
// runs of inner elements, over the outer dimensions dims[:nd−1] with input
// strides da and db.
type runPlan struct {
	nd            int
	dims, da, db  [maxFastDims]int
	inner, ka, kb int
	runs          int
}

// planRuns collapses the broadcast of sa and sb to out; ok is false when
// more than maxFastDims dimensions remain.
func planRuns(out, sa, sb []int) (p runPlan, ok bool) {
	total := 1
	for _, d := range out {
		total *= d
	}
	sta, stb := bstrides(sa, out), bstrides(sb, out)
	for i, d := range out {
		if d == 1 {
			continue
		}
		if p.nd > 0 {
			j := p.nd - 1
			if p.da[j] == sta[i]*d && p.db[j] == stb[i]*d {
				p.dims[j] *= d
				p.da[j], p.db[j] = sta[i], stb[i]
				continue
			}
		}
		if p.nd == maxFastDims {
			return p, false
		}
		p.dims[p.nd], p.da[p.nd], p.db[p.nd] = d, sta[i], stb[i]
		p.nd++
	}
	if p.nd == 0 {
		// a single element (or none)
		p.nd, p.dims[0] = 1, total
	}
	p.inner, p.ka, p.kb = p.dims[p.nd-1], p.da[p.nd-1], p.db[p.nd-1]
	if p.inner > 0 {
		p.runs = total / p.inner
	}
	return p, true
}

// exec calls f for the runs r0..r1−1.
func (p *runPlan) exec(r0, r1 int, f func(o, ia, ib, n, ka, kb int)) {
	if r0 >= r1 {
		return
	}
	var idx [maxFastDims]int
	ia, ib := 0, 0
	r := r0
	for d := p.nd - 2; d >= 0; d-- {
		idx[d] = r % p.dims[d]
		r /= p.dims[d]
		ia += idx[d] * p.da[d]
		ib += idx[d] * p.db[d]
	}
	for run := r0; run < r1; run++ {
		f(run*p.inner, ia, ib, p.inner, p.ka, p.kb)
		for d := p.nd - 2; d >= 0; d-- {
			idx[d]++
			ia += p.da[d]
			ib += p.db[d]
			if idx[d] < p.dims[d] {
				break
			}
			ia -= p.da[d] * p.dims[d]
			ib -= p.db[d] * p.dims[d]
			idx[d] = 0
		}
	}
}

// maxFastDims bounds the collapsed rank broadcastRuns handles with fixed
// arrays; higher ranks take the general iteration.
const maxFastDims = 8
