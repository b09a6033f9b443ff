package ad

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/gradus-ml/gradus/tensor"
)

// Layer normalization over the last axis as one primitive:
//
//	y = x̂·w + b,  x̂ = (x − μ)·r,  r = 1/√(σ² + ε),
//
// with μ and σ² (biased) the mean and variance of each row of x along the
// last axis, and w, b of the last axis' length. The forward kernel makes
// one pass per row. The rules are the closed forms
//
//	x̄ = r·(ḡ − mean(ḡ) − x̂·mean(ḡ·x̂)),  ḡ = g·w,  w̄ = Σ g·x̂,  b̄ = Σ g
//
// (sums over the rows) and their forward-mode counterparts. When nothing is
// traced below the rule (first-order differentiation) they run as fused
// kernels; otherwise they are built from Var operations, so outer levels
// differentiate them again.

// layerNormParams hold ε.
type layerNormParams struct{ eps float64 }

var layerNormPrim *Prim

func init() {
	layerNormPrim = register(&Prim{
		Name: "layer_norm",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			return layerNormTensor(in[0], in[1], in[2], p.(layerNormParams).eps)
		},
		JVP: func(c *Call, t []*Var) *Var {
			eps := c.Params.(layerNormParams).eps
			x, w := c.In[0], c.In[1]
			if untraced(append([]*Var{x, w}, t...)...) {
				return Const(layerNormJVPTensor(x.val, w.val, val(t[0]), val(t[1]), val(t[2]), eps))
			}
			xh, r := layerNormParts(x, eps)
			var y *Var
			if t[0] != nil {
				y = Mul(layerNormDiff(t[0], xh, r), w)
			}
			if t[1] != nil {
				y = plus(y, Mul(xh, t[1]))
			}
			if t[2] != nil {
				y = plus(y, t[2])
			}
			return fit(y, c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			eps := c.Params.(layerNormParams).eps
			x, w := c.In[0], c.In[1]
			d := []int{w.Shape()[0]}
			if untraced(x, w, g) {
				gx, gw, gb := layerNormVJPTensor(x.val, w.val, g.val, eps)
				return []*Var{Const(gx), Const(gw), Const(gb)}
			}
			xh, r := layerNormParts(x, eps)
			return []*Var{layerNormDiff(Mul(g, w), xh, r), SumTo(Mul(g, xh), d...), SumTo(g, d...)}
		},
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(in[0].Size())
			return Cost{Fwd: 8 * n, JVP: 12 * n, VJP: 14 * n}
		},
	})
}

// LayerNorm returns (x − μ)/√(σ² + eps)·w + b over the last axis of x, with
// μ and σ² the mean and biased variance along that axis
// (torch.nn.functional.layer_norm with normalized_shape = [D]). w and b are
// [D]. It panics if the shapes or dtypes do not fit or eps is not ≥ 0.
func LayerNorm(x, w, b *Var, eps float64) *Var {
	s := x.Shape()
	if len(s) == 0 || !slices.Equal(w.Shape(), s[len(s)-1:]) || !slices.Equal(b.Shape(), s[len(s)-1:]) {
		panic(fmt.Sprintf("ad.LayerNorm: input %v, weight %v and bias %v (want [..., D], [D], [D])", s, w.Shape(), b.Shape()))
	}
	if x.DType() != w.DType() || x.DType() != b.DType() {
		panic(fmt.Sprintf("ad.LayerNorm: dtypes %v, %v and %v differ", x.DType(), w.DType(), b.DType()))
	}
	if !(eps >= 0) || math.IsInf(eps, 1) {
		panic(fmt.Sprintf("ad.LayerNorm: eps %v is not finite and ≥ 0", eps))
	}
	return Apply(layerNormPrim, layerNormParams{eps}, x, w, b)
}

// untraced reports whether none of the Vars (nil ones ignored) is traced.
func untraced(vs ...*Var) bool {
	for _, v := range vs {
		if v != nil && v.tr != nil {
			return false
		}
	}
	return true
}

func val(v *Var) *tensor.Tensor {
	if v == nil {
		return nil
	}
	return v.val
}

// layerNormParts returns x̂ and r (kept as [..., 1]) as Var expressions.
func layerNormParts(x *Var, eps float64) (xh, r *Var) {
	ax := []int{len(x.Shape()) - 1}
	xc := Sub(x, Mean(x, ax, true))
	r = Rsqrt(AddScalar(Mean(Mul(xc, xc), ax, true), eps))
	return Mul(xc, r), r
}

// layerNormDiff applies the derivative of x ↦ x̂ (self-adjoint) to u:
// r·(u − mean(u) − x̂·mean(u·x̂)).
func layerNormDiff(u, xh, r *Var) *Var {
	ax := []int{len(u.Shape()) - 1}
	return Mul(r, Sub(Sub(u, Mean(u, ax, true)), Mul(xh, Mean(Mul(u, xh), ax, true))))
}

// ---- fused kernels ----

// lnData returns the float32 or float64 data of t (nil for nil t), with
// 16-bit dtypes read as their float32 storage.
func lnData[T float32 | float64](t *tensor.Tensor) []T {
	if t == nil {
		return nil
	}
	var z T
	if _, ok := any(z).(float64); ok {
		return any(t.Data64()).([]T)
	}
	return any(t.Data32()).([]T)
}

// lnResult wraps data of dtype d and shape.
func lnResult[T float32 | float64](d tensor.DType, data []T, shape []int) *tensor.Tensor {
	switch v := any(data).(type) {
	case []float64:
		return tensor.Wrap64(v, shape...)
	default:
		return wrap32(d, any(data).([]float32), shape...)
	}
}

func layerNormTensor(x, w, b *tensor.Tensor, eps float64) *tensor.Tensor {
	if x.DType() == tensor.Float64 {
		return layerNormFwd[float64](x, w, b, eps)
	}
	return layerNormFwd[float32](x, w, b, eps)
}

// rowStats returns the mean and r = 1/√(σ² + eps) of a row, accumulated in
// float64.
func rowStats[T float32 | float64](row []T, eps float64) (mean, r T) {
	s := 0.0
	for _, v := range row {
		s += float64(v)
	}
	m := s / float64(len(row))
	q := 0.0
	for _, v := range row {
		d := float64(v) - m
		q += d * d
	}
	return T(m), T(1 / math.Sqrt(q/float64(len(row))+eps))
}

func layerNormFwd[T float32 | float64](x, w, b *tensor.Tensor, eps float64) *tensor.Tensor {
	xs, ws, bs := lnData[T](x), lnData[T](w), lnData[T](b)
	d := len(ws)
	out := lend[T](len(xs), x, w, b)
	rows := len(xs) / max(d, 1)
	parallelFor(lnChunks(rows), func(k int) {
		lo, hi := lnChunk(k, rows)
		for i := lo; i < hi; i++ {
			row, y := xs[i*d:][:d], out[i*d:][:d]
			m, r := rowStats(row, eps)
			for j, v := range row {
				y[j] = (v-m)*r*ws[j] + bs[j]
			}
		}
	})
	return lent(x.DType(), out, x.Shape(), x, w, b)
}

// lnChunkRows is the number of rows per task; the partial sums of the
// weight and bias cotangents are formed per task and added in task order,
// so results do not depend on the number of threads.
const lnChunkRows = 64

func lnChunks(rows int) int { return (rows + lnChunkRows - 1) / lnChunkRows }

func lnChunk(k, rows int) (lo, hi int) { return k * lnChunkRows, min((k+1)*lnChunkRows, rows) }

func layerNormVJPTensor(x, w, g *tensor.Tensor, eps float64) (gx, gw, gb *tensor.Tensor) {
	if x.DType() == tensor.Float64 {
		return layerNormVJP[float64](x, w, g, eps)
	}
	return layerNormVJP[float32](x, w, g, eps)
}

func layerNormVJP[T float32 | float64](x, w, g *tensor.Tensor, eps float64) (gxT, gwT, gbT *tensor.Tensor) {
	xs, ws, gs := lnData[T](x), lnData[T](w), lnData[T](g)
	d := len(ws)
	rows := len(xs) / max(d, 1)
	gx := lend[T](len(xs), g, x, w)
	nc := lnChunks(rows)
	part := make([]T, 2*d*nc) // per chunk: Σ g·x̂, then Σ g
	parallelFor(nc, func(k int) {
		lo, hi := lnChunk(k, rows)
		pw, pb := part[2*d*k:][:d], part[2*d*k+d:][:d]
		for i := lo; i < hi; i++ {
			row, gr, out := xs[i*d:][:d], gs[i*d:][:d], gx[i*d:][:d]
			m, r := rowStats(row, eps)
			// m1 = mean(g·w), m2 = mean(g·w·x̂)
			var s1, s2 float64
			for j, v := range row {
				xh := (v - m) * r
				gh := gr[j] * ws[j]
				s1 += float64(gh)
				s2 += float64(gh * xh)
				pw[j] += gr[j] * xh
				pb[j] += gr[j]
			}
			m1, m2 := T(s1/float64(d)), T(s2/float64(d))
			for j, v := range row {
				xh := (v - m) * r
				out[j] = r * (gr[j]*ws[j] - m1 - xh*m2)
			}
		}
	})
	gw, gb := make([]T, d), make([]T, d)
	for k := 0; k < nc; k++ {
		for j := 0; j < d; j++ {
			gw[j] += part[2*d*k+j]
			gb[j] += part[2*d*k+d+j]
		}
	}
	dt := x.DType()
	return lent(dt, gx, x.Shape(), g, x, w), lent(dt, gw, w.Shape(), g, x, w), lent(dt, gb, w.Shape(), g, x, w)
}

func layerNormJVPTensor(x, w, tx, tw, tb *tensor.Tensor, eps float64) *tensor.Tensor {
	if x.DType() == tensor.Float64 {
		return layerNormJVP[float64](x, w, tx, tw, tb, eps)
	}
	return layerNormJVP[float32](x, w, tx, tw, tb, eps)
}

func layerNormJVP[T float32 | float64](x, w, tx, tw, tb *tensor.Tensor, eps float64) *tensor.Tensor {
	xs, ws := lnData[T](x), lnData[T](w)
	txs, tws, tbs := lnData[T](tx), lnData[T](tw), lnData[T](tb)
	d := len(ws)
	rows := len(xs) / max(d, 1)
	out := make([]T, len(xs))
	parallelFor(lnChunks(rows), func(k int) {
		lo, hi := lnChunk(k, rows)
		for i := lo; i < hi; i++ {
			row, y := xs[i*d:][:d], out[i*d:][:d]
			m, r := rowStats(row, eps)
			var m1, m2 T
			if txs != nil {
				var s1, s2 float64
				for j, v := range row {
					t := txs[i*d+j]
					s1 += float64(t)
					s2 += float64(t * (v - m) * r)
				}
				m1, m2 = T(s1/float64(d)), T(s2/float64(d))
			}
			for j, v := range row {
				xh := (v - m) * r
				var e T
				if txs != nil {
					e = r * (txs[i*d+j] - m1 - xh*m2) * ws[j]
				}
				if tws != nil {
					e += xh * tws[j]
				}
				if tbs != nil {
					e += tbs[j]
				}
				y[j] = e
			}
		}
	})
	return lnResult(x.DType(), out, x.Shape())
}

// Batch normalization with batch statistics (training mode) as one
// primitive: for x of shape [N, C, ...] and each channel c,
//
//	y = x̂·w[c] + b[c],  x̂ = (x − μ_c)·r_c,  r_c = 1/√(σ²_c + ε),
//
// with μ_c and σ²_c (biased) the mean and variance over the batch and the
// trailing (spatial) axes. The rules are those of layer_norm with the
// means taken per channel; they run as fused kernels in first-order
// differentiation and as Var expressions otherwise.

// batchNormParams hold ε and, for the application that BatchNorm makes,
// where the evaluation leaves the batch statistics.
type batchNormParams struct {
	eps   float64
	stats *bnStats
}

// bnStats receives the batch mean and unbiased variance from the
// evaluation.
type bnStats struct {
	mu             sync.Mutex
	mean, variance *tensor.Tensor
}

var batchNormPrim *Prim

func init() {
	batchNormPrim = register(&Prim{
		Name: "batch_norm",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			bp := p.(batchNormParams)
			y, m, v := batchNormTensor(in[0], in[1], in[2], bp.eps)
			if bp.stats != nil {
				bp.stats.mu.Lock()
				bp.stats.mean, bp.stats.variance = m, v
				bp.stats.mu.Unlock()
			}
			return y
		},
		JVP: func(c *Call, t []*Var) *Var {
			eps := c.Params.(batchNormParams).eps
			x, w := c.In[0], c.In[1]
			if untraced(append([]*Var{x, w}, t...)...) {
				return Const(batchNormJVPTensor(x.val, w.val, val(t[0]), val(t[1]), val(t[2]), eps))
			}
			xh, r, ax := batchNormParts(x, eps)
			bs := keptShape(x.Shape(), ax)
			var y *Var
			if t[0] != nil {
				y = Mul(normDiff(t[0], xh, r, ax), Reshape(w, bs...))
			}
			if t[1] != nil {
				y = plus(y, Mul(xh, Reshape(t[1], bs...)))
			}
			if t[2] != nil {
				y = plus(y, Reshape(t[2], bs...))
			}
			return fit(y, c.Out.Shape())
		},
		VJP: func(c *Call, g *Var) []*Var {
			eps := c.Params.(batchNormParams).eps
			x, w := c.In[0], c.In[1]
			if untraced(x, w, g) {
				gx, gw, gb := batchNormVJPTensor(x.val, w.val, g.val, eps)
				return []*Var{Const(gx), Const(gw), Const(gb)}
			}
			xh, r, ax := batchNormParts(x, eps)
			wb := Reshape(w, keptShape(x.Shape(), ax)...)
			return []*Var{normDiff(Mul(g, wb), xh, r, ax), Sum(Mul(g, xh), ax, false), Sum(g, ax, false)}
		},
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(in[0].Size())
			return Cost{Fwd: 8 * n, JVP: 12 * n, VJP: 14 * n}
		},
	})
}

// BatchNorm normalizes x [N, C, ...] per channel with the statistics of
// the batch and returns y = (x − μ)/√(σ² + eps)·w + b (w, b of shape [C];
// torch.nn.functional.batch_norm with training=True), together with the
// batch mean and the unbiased batch variance per channel ([C], constants),
// from which running statistics are updated. It panics if the shapes or
// dtypes do not fit, eps is not ≥ 0, or a channel has fewer than two values.
func BatchNorm(x, w, b *Var, eps float64) (y *Var, mean, variance *tensor.Tensor) {
	s := x.Shape()
	if len(s) < 2 || !slices.Equal(w.Shape(), s[1:2]) || !slices.Equal(b.Shape(), s[1:2]) {
		panic(fmt.Sprintf("ad.BatchNorm: input %v, weight %v and bias %v (want [N, C, ...], [C], [C])", s, w.Shape(), b.Shape()))
	}
	if x.DType() != w.DType() || x.DType() != b.DType() {
		panic(fmt.Sprintf("ad.BatchNorm: dtypes %v, %v and %v differ", x.DType(), w.DType(), b.DType()))
	}
	if !(eps >= 0) || math.IsInf(eps, 1) {
		panic(fmt.Sprintf("ad.BatchNorm: eps %v is not finite and ≥ 0", eps))
	}
	if x.val.Size()/max(s[1], 1) < 2 {
		panic(fmt.Sprintf("ad.BatchNorm: input %v has fewer than two values per channel", s))
	}
	st := &bnStats{}
	y = Apply(batchNormPrim, batchNormParams{eps, st}, x, w, b)
	st.mu.Lock()
	defer st.mu.Unlock()
	return y, st.mean, st.variance
}

// batchNormParts returns x̂, r (kept dims) and the reduction axes as Var
// expressions.
func batchNormParts(x *Var, eps float64) (xh, r *Var, ax []int) {
	ax = []int{0}
	for i := 2; i < len(x.Shape()); i++ {
		ax = append(ax, i)
	}
	xc := Sub(x, Mean(x, ax, true))
	r = Rsqrt(AddScalar(Mean(Mul(xc, xc), ax, true), eps))
	return Mul(xc, r), r, ax
}

// normDiff applies the derivative of x ↦ x̂ over axes ax to u.
func normDiff(u, xh, r *Var, ax []int) *Var {
	return Mul(r, Sub(Sub(u, Mean(u, ax, true)), Mul(xh, Mean(Mul(u, xh), ax, true))))
}

// bnGeom returns N, C and the trailing size P of x.
func bnGeom(x *tensor.Tensor) (n, c, p int) {
	s := x.Shape()
	n, c, p = s[0], s[1], 1
	for _, d := range s[2:] {
		p *= d
	}
	return n, c, p
}

// channelStats returns the mean and r = 1/√(σ² + eps) of channel ch, and
// the biased variance, accumulated in float64.
func channelStats[T float32 | float64](xs []T, n, c, p, ch int, eps float64) (mean, r T, v float64) {
	s := 0.0
	for i := 0; i < n; i++ {
		for _, e := range xs[(i*c+ch)*p:][:p] {
			s += float64(e)
		}
	}
	m := s / float64(n*p)
	q := 0.0
	for i := 0; i < n; i++ {
		for _, e := range xs[(i*c+ch)*p:][:p] {
			d := float64(e) - m
			q += d * d
		}
	}
	v = q / float64(n*p)
	return T(m), T(1 / math.Sqrt(v+eps)), v
}

func batchNormTensor(x, w, b *tensor.Tensor, eps float64) (y, mean, variance *tensor.Tensor) {
	if x.DType() == tensor.Float64 {
		return batchNormFwd[float64](x, w, b, eps)
	}
	return batchNormFwd[float32](x, w, b, eps)
}

func batchNormFwd[T float32 | float64](x, w, b *tensor.Tensor, eps float64) (y, mean, variance *tensor.Tensor) {
	xs, ws, bs := lnData[T](x), lnData[T](w), lnData[T](b)
	n, c, p := bnGeom(x)
	out := lend[T](len(xs), x, w, b)
	ms, vs := make([]float64, c), make([]float64, c)
	parallelFor(c, func(ch int) {
		m, r, v := channelStats(xs, n, c, p, ch, eps)
		ms[ch], vs[ch] = float64(m), v*float64(n*p)/float64(max(n*p-1, 1))
		k, sh := r*ws[ch], bs[ch]-m*r*ws[ch]
		for i := 0; i < n; i++ {
			o := (i*c + ch) * p
			for j, e := range xs[o:][:p] {
				out[o+j] = e*k + sh
			}
		}
	})
	d := x.DType()
	return lent(d, out, x.Shape(), x, w, b), tensor.FromFloat64s(d, ms, c), tensor.FromFloat64s(d, vs, c)
}

func batchNormVJPTensor(x, w, g *tensor.Tensor, eps float64) (gx, gw, gb *tensor.Tensor) {
	if x.DType() == tensor.Float64 {
		return batchNormVJP[float64](x, w, g, eps)
	}
	return batchNormVJP[float32](x, w, g, eps)
}

func batchNormVJP[T float32 | float64](x, w, g *tensor.Tensor, eps float64) (gxT, gwT, gbT *tensor.Tensor) {
	xs, ws, gs := lnData[T](x), lnData[T](w), lnData[T](g)
	n, c, p := bnGeom(x)
	gx, gw, gb := lend[T](len(xs), g, x, w), make([]T, c), make([]T, c)
	cnt := float64(n * p)
	parallelFor(c, func(ch int) {
		m, r, _ := channelStats(xs, n, c, p, ch, eps)
		// Σ g and Σ g·x̂ over the channel
		var sg, sgx float64
		for i := 0; i < n; i++ {
			o := (i*c + ch) * p
			gr := gs[o:][:p]
			for j, e := range xs[o:][:p] {
				sg += float64(gr[j])
				sgx += float64(gr[j] * (e - m) * r)
			}
		}
		gw[ch], gb[ch] = T(sgx), T(sg)
		// x̄ = r·w·(g − mean g − x̂·mean(g·x̂))
		k := r * ws[ch]
		m1, m2 := T(sg/cnt), T(sgx/cnt)
		for i := 0; i < n; i++ {
			o := (i*c + ch) * p
			gr, dst := gs[o:][:p], gx[o:][:p]
			for j, e := range xs[o:][:p] {
				dst[j] = k * (gr[j] - m1 - (e-m)*r*m2)
			}
		}
	})
	d := x.DType()
	return lent(d, gx, x.Shape(), g, x, w), lent(d, gw, w.Shape(), g, x, w), lent(d, gb, w.Shape(), g, x, w)
}

func batchNormJVPTensor(x, w, tx, tw, tb *tensor.Tensor, eps float64) *tensor.Tensor {
	if x.DType() == tensor.Float64 {
		return batchNormJVP[float64](x, w, tx, tw, tb, eps)
	}
	return batchNormJVP[float32](x, w, tx, tw, tb, eps)
}

func batchNormJVP[T float32 | float64](x, w, tx, tw, tb *tensor.Tensor, eps float64) *tensor.Tensor {
	xs, ws := lnData[T](x), lnData[T](w)
	txs, tws, tbs := lnData[T](tx), lnData[T](tw), lnData[T](tb)
	n, c, p := bnGeom(x)
	out := make([]T, len(xs))
	cnt := float64(n * p)
	parallelFor(c, func(ch int) {
		m, r, _ := channelStats(xs, n, c, p, ch, eps)
		var m1, m2 T
		if txs != nil {
			var s1, s2 float64
			for i := 0; i < n; i++ {
				o := (i*c + ch) * p
				for j, e := range xs[o:][:p] {
					t := txs[o+j]
					s1 += float64(t)
					s2 += float64(t * (e - m) * r)
				}
			}
			m1, m2 = T(s1/cnt), T(s2/cnt)
		}
		for i := 0; i < n; i++ {
			o := (i*c + ch) * p
			for j, e := range xs[o:][:p] {
				xh := (e - m) * r
				var v T
				if txs != nil {
					v = r * (txs[o+j] - m1 - xh*m2) * ws[ch]
				}
				if tws != nil {
					v += xh * tws[ch]
				}
				if tbs != nil {
					v += tbs[ch]
				}
				out[o+j] = v
			}
		}
	})
	return lnResult(x.DType(), out, x.Shape())
}
