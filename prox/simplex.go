package prox

import (
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Projections onto the simplex and the l1 ball (Held, Wolfe and Crowder
// 1974; Duchi, Shalev-Shwartz, Singer and Chandra 2008): the threshold τ
// from the cumulative sums of the sorted entries, here found by pivoting. Both are piecewise affine; on each piece
// the Jacobian is diag(m) − w wᵀ/|S| for the support S (m its indicator,
// w = sign(x)·m), a constant, so second derivatives are 0.

const (
	simplexName = "proj_simplex"
	l1BallName  = "proj_l1_ball"
)

// sortParams are the constant parameters of the two projections: the sum
// s of the simplex or the radius of the l1 ball.
type sortParams struct {
	s    float64
	ball bool
}

// threshold returns τ such that Σᵢ max(aᵢ − τ, 0) = s, for s > 0 (NaN if
// a has a NaN), working in buf. In the order of decreasing values u₁ ≥ u₂
// ≥ …, τ = (c_ρ − s)/ρ with c_k = u₁ + … + u_k and ρ the largest k with
// u_k > (c_k − s)/k (a condition that holds exactly for k ≤ ρ). Instead
// of sorting, it finds ρ by partitioning around pivots, as quickselect
// does (expected O(d)): all the entries ≥ a pivot p are in the support
// iff the condition holds at the last of them, and a block of equal
// entries is either wholly in the support or wholly out.
func threshold(a []float64, s float64, buf []float64) float64 {
	u := append(buf[:0], a...)
	for _, v := range u {
		if v != v {
			return v
		}
	}
	sum, cnt := 0.0, 0
	for len(u) > 0 {
		p := median3(u[0], u[len(u)/2], u[len(u)-1])
		// u[:ng] ≥ p > u[ng:], and u[:ngt] > p within the first part
		ng, gs := 0, 0.0
		for j, v := range u {
			if v >= p {
				u[ng], u[j] = v, u[ng]
				gs += v
				ng++
			}
		}
		if p > (sum+gs-s)/float64(cnt+ng) {
			sum, cnt = sum+gs, cnt+ng
			u = u[ng:]
			continue
		}
		ngt := 0
		for j, v := range u[:ng] {
			if v > p {
				u[ngt], u[j] = v, u[ngt]
				ngt++
			}
		}
		u = u[:ngt]
	}
	return (sum - s) / float64(cnt)
}

// median3 returns the median of three numbers.
func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}

// rowKind says where a row of the l1-ball projection lies.
type rowKind uint8

const (
	rowOut    rowKind = iota // outside: thresholded (always, for the simplex)
	rowIn                    // strictly inside the l1 ball: identity
	rowSphere                // exactly on the sphere ‖x‖₁ = r
)

// sortRow is the analysis of one row: where it lies, the threshold τ, and
// the values a compared with τ (x for the simplex, |x| for the l1 ball).
type sortRow struct {
	kind rowKind
	tau  float64
}

// analyze computes, for every row of x, its kind and τ.
func (p sortParams) analyze(x []float64, n, d int) []sortRow {
	out := make([]sortRow, n)
	buf := make([]float64, d)
	abs := make([]float64, d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		if !p.ball {
			out[i] = sortRow{rowOut, threshold(row, p.s, buf)}
			continue
		}
		l1 := 0.0
		for k, v := range row {
			abs[k] = math.Abs(v)
			l1 += abs[k]
		}
		switch {
		case l1 < p.s:
			out[i] = sortRow{kind: rowIn}
		case l1 == p.s:
			out[i] = sortRow{kind: rowSphere}
		default: // outside, or NaN (τ is then NaN)
			out[i] = sortRow{rowOut, threshold(abs, p.s, buf)}
		}
	}
	return out
}

// value is the entry compared with τ: x for the simplex, |x| for the ball.
func (p sortParams) value(v float64) float64 {
	if p.ball {
		return math.Abs(v)
	}
	return v
}

func (p sortParams) name() string {
	if p.ball {
		return l1BallName
	}
	return simplexName
}

func sortEval(in []*tensor.Tensor, pa any) *tensor.Tensor {
	p := pa.(sortParams)
	x := in[0]
	n, d := rows(p.name(), x.Shape())
	v := x.Float64s()
	for i, r := range p.analyze(v, n, d) {
		if r.kind != rowOut {
			continue
		}
		for k := i * d; k < (i+1)*d; k++ {
			a := p.value(v[k]) - r.tau
			switch {
			case a > 0:
				if p.ball && v[k] < 0 {
					a = -a
				}
				v[k] = a
			case a <= 0:
				v[k] = 0
			default:
				v[k] = a // NaN
			}
		}
	}
	return tensor.FromFloat64s(x.DType(), v, x.Shape()...)
}

func sortKinks(in []*tensor.Tensor, pa any) int {
	p := pa.(sortParams)
	n, d := rows(p.name(), in[0].Shape())
	v := in[0].Float64s()
	k := 0
	for i, r := range p.analyze(v, n, d) {
		switch r.kind {
		case rowSphere:
			k++
		case rowOut:
			for _, e := range v[i*d : (i+1)*d] {
				if p.value(e) == r.tau {
					k++
				}
			}
		}
	}
	return k
}

// sortJac is the Jacobian of a projection at x, per row a diagonal minus
// at most two rank-one terms: diag(a) − Σ_k b_k w_k w_kᵀ.
type sortJac struct {
	a      []float64    // [n·d]
	w      [2][]float64 // [n·d] each
	b      [2][]float64 // [n] each
	active [2]bool      // term k is nonzero in some row
}

// jacobian builds the Jacobian of the projection at x under pol.
func (p sortParams) jacobian(x []float64, n, d int, pol *ad.Policy) sortJac {
	j := sortJac{a: make([]float64, n*d)}
	for k := range j.w {
		j.w[k] = make([]float64, n*d)
		j.b[k] = make([]float64, n)
	}
	tie := pol.SortTie
	if tie == ad.TieDefault {
		tie = ad.TieFirst
	}
	// piece adds weight α times the Jacobian with support
	// {i : value(xᵢ) > τ} (or ≥ τ when weak) as term k of row i.
	piece := func(i, k int, tau, alpha float64, weak bool) {
		cnt := 0
		for e := i * d; e < (i+1)*d; e++ {
			a := p.value(x[e])
			if a > tau || (weak && a == tau) {
				cnt++
			}
		}
		if cnt == 0 {
			return
		}
		for e := i * d; e < (i+1)*d; e++ {
			a := p.value(x[e])
			if a > tau || (weak && a == tau) {
				j.a[e] += alpha
				w := 1.0
				if p.ball && x[e] < 0 {
					w = -1
				}
				j.w[k][e] = w
			}
		}
		j.b[k][i] = alpha / float64(cnt)
		j.active[k] = true
	}
	for i, r := range p.analyze(x, n, d) {
		switch r.kind {
		case rowIn:
			for e := i * d; e < (i+1)*d; e++ {
				j.a[e] = 1
			}
		case rowSphere:
			// c·I plus (1 − c) times the limit from outside (τ → 0⁺),
			// whose support is the nonzero entries
			c := pol.Clamp
			for e := i * d; e < (i+1)*d; e++ {
				j.a[e] = c
			}
			if c != 1 {
				piece(i, 0, 0, 1-c, false)
			}
		case rowOut:
			if r.tau != r.tau {
				for e := i * d; e < (i+1)*d; e++ {
					j.a[e] = math.NaN()
				}
				continue
			}
			onB := false
			for e := i * d; e < (i+1)*d; e++ {
				onB = onB || p.value(x[e]) == r.tau
			}
			switch {
			case !onB || tie == ad.TieFirst:
				piece(i, 0, r.tau, 1, false)
			case tie == ad.TieLast:
				piece(i, 0, r.tau, 1, true)
			default: // TieSplit: the average of the two
				piece(i, 0, r.tau, 0.5, false)
				piece(i, 1, r.tau, 0.5, true)
			}
		}
	}
	return j
}

// sortRule applies the (symmetric, constant) Jacobian at c.In[0] to t.
func sortRule(c *ad.Call, t *ad.Var) *ad.Var {
	p := c.Params.(sortParams)
	xv := c.In[0].Value()
	shape := xv.Shape()
	dt := xv.DType()
	n, d := rows(p.name(), shape)
	j := p.jacobian(xv.Float64s(), n, d, c.Policy)
	if direct(c.In[0], t) {
		tv := t.Value().Float64s()
		out := make([]float64, len(tv))
		for i := range n {
			row := tv[i*d : (i+1)*d]
			for e, v := range row {
				out[i*d+e] = j.a[i*d+e] * v
			}
			for k := range j.w {
				if !j.active[k] || j.b[k][i] == 0 {
					continue
				}
				w := j.w[k][i*d : (i+1)*d]
				s := 0.0
				for e, v := range row {
					s += w[e] * v
				}
				s *= j.b[k][i]
				for e := range row {
					out[i*d+e] -= w[e] * s
				}
			}
		}
		return constOf(dt, out, shape)
	}
	r := ad.Mul(t, constOf(dt, j.a, shape))
	rs := rowShape(shape)
	for k := range j.w {
		if !j.active[k] {
			continue
		}
		w := constOf(dt, j.w[k], shape)
		r = ad.Sub(r, ad.Mul(w, ad.Mul(sumLast(ad.Mul(w, t)), constOf(dt, j.b[k], rs))))
	}
	return r
}

func sortPrim(name string) *ad.Prim {
	return &ad.Prim{
		Name:  name,
		Eval:  sortEval,
		JVP:   func(c *ad.Call, t []*ad.Var) *ad.Var { return sortRule(c, t[0]) },
		VJP:   func(c *ad.Call, g *ad.Var) []*ad.Var { return []*ad.Var{sortRule(c, g)} },
		Kinks: sortKinks,
		Flops: func(in []*tensor.Tensor, out *tensor.Tensor, _ any) ad.Cost {
			n := float64(out.Size())
			// a sort per row: about log₂ d compares per element
			_, d := rows(name, out.Shape())
			return ad.Cost{Fwd: n * (4 + math.Log2(float64(max(d, 2)))), JVP: 6 * n, VJP: 6 * n}
		},
	}
}

var (
	simplexPrim = sortPrim(simplexName)
	l1BallPrim  = sortPrim(l1BallName)
)

// ProjSimplex returns the Euclidean projection of each row of x (each slice
// along the last axis, batched over the leading axes) onto the simplex
// {z : zᵢ ≥ 0, Σᵢ zᵢ = s}, s > 0 (s = 1: probability vectors):
//
//	P(x) = max(x − τ, 0),  τ such that Σᵢ max(xᵢ − τ, 0) = s,
//
// with τ the threshold of the sort-based algorithm, found in expected O(d)
// operations per row by partitioning around pivots. On the support
// S = {i : xᵢ > τ} the Jacobian is I − 11ᵀ/|S|, and it is 0 off S:
// J = diag(m) − m mᵀ/|S| with m the indicator of S. It is symmetric and
// constant on each piece.
//
// The kinks are the entries exactly at the threshold, xᵢ = τ (counted
// under "proj_simplex"); there the support may or may not include them,
// and Policy.SortTie decides: TieFirst (the default) leaves them out
// (S = {xᵢ > τ}, the smallest support, the one-sided derivative of a
// decrease of those entries), TieLast puts them in (S = {xᵢ ≥ τ}, the
// largest support, that of an increase), and TieSplit takes the average
// of the two Jacobians. Ties between entries away from τ do not matter.
// It panics for a 0-d x or an s that is not finite and > 0.
func ProjSimplex(x *ad.Var, s float64) *ad.Var {
	checkParam("ProjSimplex", "s", s, true)
	rows("ProjSimplex", x.Shape())
	return ad.Apply(simplexPrim, sortParams{s: s}, x)
}

// ProjL1Ball returns the Euclidean projection of each row of x (batched
// over the leading axes) onto the l1 ball {z : ‖z‖₁ ≤ r}, r > 0:
//
//	P(x) = x if ‖x‖₁ ≤ r, else sign(x)·max(|x| − τ, 0) with
//	τ > 0 such that Σᵢ max(|xᵢ| − τ, 0) = r
//
// (the simplex projection of |x|). Its Jacobian is I inside
// the ball and, outside, diag(m) − σσᵀ/|S| on the support
// S = {i : |xᵢ| > τ}, with m the indicator of S and σ = sign(x)·m.
//
// Kinks (counted under "proj_l1_ball"): an entry with |xᵢ| = τ outside the
// ball, resolved by Policy.SortTie as in ProjSimplex (TieFirst, the
// default: left out of S; TieLast: put in; TieSplit: the average); and a
// row exactly on the sphere ‖x‖₁ = r, counted once, where the Jacobian is
// c·I + (1 − c)(diag(m) − σσᵀ/|S|) with S the nonzero entries and
// c = Policy.Clamp, as in ProjL2Ball: the default 0 is the one-sided
// derivative from outside, 1 that from inside. It panics for a 0-d x or an
// r that is not finite and > 0.
func ProjL1Ball(x *ad.Var, r float64) *ad.Var {
	checkParam("ProjL1Ball", "radius", r, true)
	rows("ProjL1Ball", x.Shape())
	return ad.Apply(l1BallPrim, sortParams{s: r, ball: true}, x)
}
