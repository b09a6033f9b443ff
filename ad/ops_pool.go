package ad

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// Pooling primitives over the spatial axes of NCHW tensors.
//
// max_pool2d picks the largest element of each window. Its derivative
// routes the incoming tangent or cotangent from each window's winner; when
// the maximum is attained more than once (a tie, counted as a kink),
// Policy.PoolTie names the winner: TieFirst (the default, as PyTorch) the
// first tied element in row-major window order, TieLast the last, TieSplit
// shares equally among all tied elements. The routing is a constant of the
// evaluation point, so the rules are the linear maps max_pool2d_gather
// (tangents: out[o] = Σ weight·t[winner]) and max_pool2d_scatter
// (cotangents, its adjoint), each the other's derivative.
//
// avg_pool2d averages each window, padding included in the count (as
// PyTorch's default count_include_pad=True); it is linear, with adjoint
// avg_pool2d_adjoint.

// Pool2dOptions are the geometry of a pooling window per spatial axis
// (height, width). A zero Stride entry means the kernel size (PyTorch's
// default). Padding may be at most half the kernel size.
type Pool2dOptions struct {
	Kernel  [2]int
	Stride  [2]int
	Padding [2]int
}

type poolGeom struct {
	n, c, h, w     int
	kh, kw, sh, sw int
	ph, pw, oh, ow int
}

func (g poolGeom) inSize() int  { return g.n * g.c * g.h * g.w }
func (g poolGeom) outSize() int { return g.n * g.c * g.oh * g.ow }

func newPoolGeom(op string, xs []int, o Pool2dOptions) poolGeom {
	if len(xs) != 4 {
		panic(fmt.Sprintf("ad.%s: input %v is not [N, C, H, W]", op, xs))
	}
	for i := 0; i < 2; i++ {
		if o.Stride[i] == 0 {
			o.Stride[i] = o.Kernel[i]
		}
		if o.Kernel[i] < 1 || o.Stride[i] < 1 || o.Padding[i] < 0 || 2*o.Padding[i] > o.Kernel[i] {
			panic(fmt.Sprintf("ad.%s: invalid window %+v (kernel ≥ 1, stride ≥ 1, 0 ≤ padding ≤ kernel/2)", op, o))
		}
	}
	g := poolGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], kh: o.Kernel[0], kw: o.Kernel[1],
		sh: o.Stride[0], sw: o.Stride[1], ph: o.Padding[0], pw: o.Padding[1]}
	if g.h+2*g.ph < g.kh || g.w+2*g.pw < g.kw {
		panic(fmt.Sprintf("ad.%s: window %v does not fit input %v with padding %v", op, o.Kernel, xs, o.Padding))
	}
	g.oh = (g.h+2*g.ph-g.kh)/g.sh + 1
	g.ow = (g.w+2*g.pw-g.kw)/g.sw + 1
	return g
}

// window returns the input rows [y0, y1) and columns [x0, x1) of output
// (oy, ox), clipped to the input.
func (g poolGeom) window(oy, ox int) (y0, y1, x0, x1 int) {
	y0, x0 = oy*g.sh-g.ph, ox*g.sw-g.pw
	y1, x1 = min(y0+g.kh, g.h), min(x0+g.kw, g.w)
	return max(y0, 0), y1, max(x0, 0), x1
}

// poolParams parameterize max_pool2d and avg_pool2d.
type poolParams struct {
	geo   poolGeom
	cache *poolCache // max_pool2d: the first winners found by the evaluation
}

// poolCache keeps, for input x, the first winner of every window (the
// TieFirst routing) and the number of windows with ties, found while
// evaluating.
type poolCache struct {
	mu   sync.Mutex
	x    *tensor.Tensor
	idx  []int32
	ties int
}

func (c *poolCache) get(x *tensor.Tensor) ([]int32, int, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idx, c.ties, c.x == x && c.idx != nil
}

// poolRoute is the routing of max_pool2d's derivative: output o takes
// w[r]·t[idx[r]] for r in [off[o], off[o+1]) (off nil: r = o; w nil: 1).
type poolRoute struct {
	in, out []int
	idx     []int32
	off     []int32
	w       []float64
	// rows2x2 is the vertical stride of 2×2 windows with horizontal stride
	// 2, no overlap and no padding (0 otherwise): with one route per output
	// the scatter then writes whole rows of windows
	rows2x2 int
}

var maxPool2dPrim, maxPoolGatherPrim, maxPoolScatterPrim, avgPool2dPrim, avgPoolAdjointPrim *Prim

func init() {
	maxPool2dPrim = register(&Prim{
		Name: "max_pool2d",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			pp := p.(poolParams)
			return maxPoolTensor(in[0], pp.geo, pp.cache)
		},
		JVP: func(c *Call, t []*Var) *Var { return Apply(maxPoolGatherPrim, maxPoolRoute(c), t[0]) },
		VJP: func(c *Call, g *Var) []*Var {
			return []*Var{Apply(maxPoolScatterPrim, maxPoolRoute(c), g)}
		},
		Kinks: func(in []*tensor.Tensor, p any) int {
			pp := p.(poolParams)
			if _, ties, ok := pp.cache.get(in[0]); ok {
				return ties
			}
			_, ties := maxPoolScan(in[0], pp.geo, TieFirst, nil)
			return ties
		},
		Flops: func(in []*tensor.Tensor, out *tensor.Tensor, p any) Cost {
			g := p.(poolParams).geo
			n := float64(out.Size())
			return Cost{Fwd: n * float64(g.kh*g.kw), JVP: n, VJP: n}
		},
	})
	maxPoolGatherPrim = register(&Prim{
		Name: "max_pool2d_gather",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return routeGather(in[0], p.(*poolRoute)) },
		JVP:  func(c *Call, t []*Var) *Var { return Apply(maxPoolGatherPrim, c.Params, t[0]) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{Apply(maxPoolScatterPrim, c.Params, g)} },
		Flops: func(_ []*tensor.Tensor, out *tensor.Tensor, _ any) Cost {
			n := float64(out.Size())
			return Cost{Fwd: n, JVP: n, VJP: n}
		},
	})
	maxPoolScatterPrim = register(&Prim{
		Name: "max_pool2d_scatter",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return routeScatter(in[0], p.(*poolRoute)) },
		JVP:  func(c *Call, t []*Var) *Var { return Apply(maxPoolScatterPrim, c.Params, t[0]) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{Apply(maxPoolGatherPrim, c.Params, g)} },
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, _ any) Cost {
			n := float64(in[0].Size())
			return Cost{Fwd: n, JVP: n, VJP: n}
		},
	})
	avgPool2dPrim = register(&Prim{
		Name: "avg_pool2d",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			return avgPoolTensor(in[0], p.(poolParams).geo, false)
		},
		JVP: func(c *Call, t []*Var) *Var { return Apply(avgPool2dPrim, c.Params, t[0]) },
		VJP: func(c *Call, g *Var) []*Var { return []*Var{Apply(avgPoolAdjointPrim, c.Params, g)} },
		Flops: func(_ []*tensor.Tensor, out *tensor.Tensor, p any) Cost {
			g := p.(poolParams).geo
			n := float64(out.Size() * g.kh * g.kw)
			return Cost{Fwd: n, JVP: n, VJP: n}
		},
	})
	avgPoolAdjointPrim = register(&Prim{
		Name: "avg_pool2d_adjoint",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor { return avgPoolTensor(in[0], p.(poolParams).geo, true) },
		JVP:  func(c *Call, t []*Var) *Var { return Apply(avgPoolAdjointPrim, c.Params, t[0]) },
		VJP:  func(c *Call, g *Var) []*Var { return []*Var{Apply(avgPool2dPrim, c.Params, g)} },
		Flops: func(in []*tensor.Tensor, _ *tensor.Tensor, p any) Cost {
			g := p.(poolParams).geo
			n := float64(in[0].Size() * g.kh * g.kw)
			return Cost{Fwd: n, JVP: n, VJP: n}
		},
	})
}

// MaxPool2d returns the maximum of every window of x [N, C, H, W] (padding
// counts as −Inf), shaped [N, C, OH, OW] with OH = ⌊(H + 2·ph − kh)/sh⌋ + 1
// (and OW alike), as torch.nn.functional.max_pool2d. A NaN in a window
// wins it. Ties follow Policy.PoolTie (see the file comment). It panics on
// an invalid window or a non-4-D input.
func MaxPool2d(x *Var, o Pool2dOptions) *Var {
	g := newPoolGeom("MaxPool2d", x.Shape(), o)
	var cache *poolCache
	if x.tr != nil {
		cache = &poolCache{}
	}
	return Apply(maxPool2dPrim, poolParams{geo: g, cache: cache}, x)
}

// AvgPool2d returns the mean of every window of x [N, C, H, W], padding
// included in the count (torch.nn.functional.avg_pool2d with
// count_include_pad=True).
func AvgPool2d(x *Var, o Pool2dOptions) *Var {
	g := newPoolGeom("AvgPool2d", x.Shape(), o)
	return Apply(avgPool2dPrim, poolParams{geo: g}, x)
}

// maxPoolRoute returns the routing of a max_pool2d application under the
// call's Policy.
func maxPoolRoute(c *Call) *poolRoute {
	pp := c.Params.(poolParams)
	g := pp.geo
	x := c.In[0].val
	r := &poolRoute{in: slices.Clone(x.Shape()), out: []int{g.n, g.c, g.oh, g.ow}}
	if g.kh == 2 && g.kw == 2 && g.sw == 2 && g.sh >= 2 && g.ph == 0 && g.pw == 0 {
		r.rows2x2 = g.sh
	}
	tie := c.Policy.PoolTie.resolve(TieFirst)
	if idx, _, ok := pp.cache.get(x); ok && tie == TieFirst {
		r.idx = idx
		return r
	}
	maxPoolScan(x, g, tie, r)
	return r
}

// maxPoolTensor evaluates max pooling; with a cache it records the first
// winners and the tie count. The result and the index cache come from x's
// arena, if any.
func maxPoolTensor(x *tensor.Tensor, g poolGeom, cache *poolCache) *tensor.Tensor {
	ar := tensor.ArenaOf(x)
	var idx []int32
	if cache != nil {
		idx = ar.Int32s(g.outSize())
	}
	// every element is written; the maxima are elements of x, already in
	// its dtype
	out := ar.Empty(x.DType(), g.n, g.c, g.oh, g.ow)
	var ties int
	if x.DType() == tensor.Float64 {
		ties = maxPoolKernel(x.Data64(), g, out.Data64(), idx)
	} else {
		ties = maxPoolKernel(x.Data32(), g, out.Data32(), idx)
	}
	if cache != nil {
		cache.mu.Lock()
		cache.x, cache.idx, cache.ties = x, idx, ties
		cache.mu.Unlock()
	}
	return out
}

// maxPoolKernel writes the window maxima to out and, when idx is not nil,
// the flat input index of each window's first maximum; it returns the
// number of windows whose maximum is attained more than once.
func maxPoolKernel[T float32 | float64](x []T, g poolGeom, out []T, idx []int32) int {
	// planes in parallel chunks
	planes := g.n * g.c
	chunk := max(1, planes/16)
	var ties atomic.Int64
	parallelFor((planes+chunk-1)/chunk, func(i int) {
		lo, hi := i*chunk, min((i+1)*chunk, planes)
		if g.kh == 2 && g.kw == 2 && g.ph == 0 && g.pw == 0 {
			ties.Add(int64(maxPool2x2(x, g, out, idx, lo, hi)))
		} else {
			ties.Add(int64(maxPoolPlanes(x, g, out, idx, lo, hi)))
		}
	})
	return int(ties.Load())
}

// maxPoolPlanes is maxPoolKernel for the planes [lo, hi).
func maxPoolPlanes[T float32 | float64](x []T, g poolGeom, out []T, idx []int32, lo, hi int) int {
	hw, ohw := g.h*g.w, g.oh*g.ow
	ties := 0
	for pl := lo; pl < hi; pl++ {
		xp := x[pl*hw:][:hw]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				y0, y1, x0, x1 := g.window(oy, ox)
				// the window is never empty (padding ≤ kernel/2): start from
				// its first element
				bi := y0*g.w + x0
				best, cnt := xp[bi], 1
			scan:
				for iy := y0; iy < y1; iy++ {
					row := xp[iy*g.w+x0 : iy*g.w+x1]
					for k, v := range row {
						switch {
						case best != best: // a NaN won
							break scan
						case v > best:
							best, bi, cnt = v, iy*g.w+x0+k, 1
						case v == best:
							cnt++
						case v != v:
							best, bi, cnt = v, iy*g.w+x0+k, 1
							break scan
						}
					}
				}
				if bi == y0*g.w+x0 && cnt > 1 {
					cnt-- // the first element was counted against itself
				}
				o := pl*ohw + oy*g.ow + ox
				out[o] = best
				if idx != nil {
					idx[o] = int32(pl*hw + bi)
				}
				if cnt > 1 {
					ties++
				}
			}
		}
	}
	return ties
}

// maxPool2x2 is maxPoolPlanes for 2×2 windows without padding:
// kernels.MaxPool2x2Rows32 (vectorized, a plane per call) for float32 with
// horizontal stride 2, else a branch-light scalar loop a row at a time.
// Both write the first winning element, as maxPoolPlanes does.
func maxPool2x2[T float32 | float64](x []T, g poolGeom, out []T, idx []int32, lo, hi int) int {
	hw, ohw := g.h*g.w, g.oh*g.ow
	ties := 0
	var scratch []int32
	if idx == nil {
		scratch = make([]int32, ohw)
	}
	x32, is32 := any(x).([]float32)
	out32, _ := any(out).([]float32)
	for pl := lo; pl < hi; pl++ {
		ip := scratch
		if idx != nil {
			ip = idx[pl*ohw:][:ohw]
		}
		if is32 && g.sw == 2 {
			ties += kernels.MaxPool2x2Rows32(x32[pl*hw:][:hw], out32[pl*ohw:][:ohw], ip, g.oh, g.ow, g.w, g.sh*g.w, pl*hw)
			continue
		}
		for oy := 0; oy < g.oh; oy++ {
			i0 := pl*hw + oy*g.sh*g.w
			o0 := pl*ohw + oy*g.ow
			ir := ip[oy*g.ow:][:g.ow]
			ties += kernels.MaxPool2x2RowGo(x[i0:][:g.w], x[i0+g.w:][:g.w], out[o0:][:g.ow], ir, i0, g.w, g.sw)
		}
	}
	return ties
}

// maxPoolScan finds the winners of every window of x under the tie rule;
// when r is not nil it fills r's routing. It returns the number of windows
// with ties.
func maxPoolScan(x *tensor.Tensor, g poolGeom, tie TieRule, r *poolRoute) (route *poolRoute, ties int) {
	v := x.Float64s()
	hw := g.h * g.w
	nout := g.outSize()
	var idx, off []int32
	var w []float64
	if r != nil {
		idx = make([]int32, 0, nout)
		if tie == TieSplit {
			off = make([]int32, 1, nout+1)
			w = make([]float64, 0, nout)
		}
	}
	hits := make([]int32, 0, g.kh*g.kw)
	for pl := 0; pl < g.n*g.c; pl++ {
		xp := v[pl*hw:][:hw]
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				y0, y1, x0, x1 := g.window(oy, ox)
				best := math.Inf(-1)
				hits = hits[:0]
				nan := false
				for iy := y0; iy < y1 && !nan; iy++ {
					for ix := x0; ix < x1; ix++ {
						e := xp[iy*g.w+ix]
						switch {
						case e != e:
							hits, nan = append(hits[:0], int32(pl*hw+iy*g.w+ix)), true
						case e > best || len(hits) == 0:
							best, hits = e, append(hits[:0], int32(pl*hw+iy*g.w+ix))
						case e == best:
							hits = append(hits, int32(pl*hw+iy*g.w+ix))
						}
						if nan {
							break
						}
					}
				}
				if len(hits) > 1 {
					ties++
				}
				if r == nil {
					continue
				}
				switch tie {
				case TieLast:
					idx = append(idx, hits[len(hits)-1])
				case TieSplit:
					for _, h := range hits {
						idx = append(idx, h)
						w = append(w, 1/float64(len(hits)))
					}
					off = append(off, int32(len(idx)))
				default:
					idx = append(idx, hits[0])
				}
			}
		}
	}
	if r != nil {
		r.idx, r.off, r.w = idx, off, w
	}
	return r, ties
}

// routeGather is out[o] = Σ w·t[idx] over o's routes.
func routeGather(t *tensor.Tensor, r *poolRoute) *tensor.Tensor {
	out := tensor.ArenaOf(t).Empty(t.DType(), r.out...)
	if t.DType() == tensor.Float64 {
		gatherKernel(t.Data64(), r, out.Data64())
	} else {
		gatherKernel(t.Data32(), r, out.Data32())
		if r.off != nil {
			roundHalf(t.DType(), out.Data32())
		}
	}
	return out
}

// routeScatter is the adjoint of routeGather: dx[idx] += w·g[o].
func routeScatter(g *tensor.Tensor, r *poolRoute) *tensor.Tensor {
	dx := tensor.ArenaOf(g).Empty(g.DType(), r.in...)
	if g.DType() == tensor.Float64 {
		scatterKernel(g.Data64(), r, dx.Data64())
	} else {
		scatterKernel(g.Data32(), r, dx.Data32())
		if r.off != nil {
			roundHalf(g.DType(), dx.Data32())
		}
	}
	return dx
}

// roundHalf rounds s in place to the 16-bit dtype d (nothing for Float32).
func roundHalf(d tensor.DType, s []float32) {
	switch d {
	case tensor.Float16:
		for i, v := range s {
			s[i] = tensor.RoundFloat16(v)
		}
	case tensor.BFloat16:
		for i, v := range s {
			s[i] = tensor.RoundBFloat16(v)
		}
	}
}

// byPlanes runs f over the planes of r in parallel chunks: f(p0, p1) owns
// the planes [p0, p1) of the input and of the output (every route stays
// within its plane, so the chunks touch disjoint memory).
func (r *poolRoute) byPlanes(f func(p0, p1 int)) {
	planes := r.out[0] * r.out[1]
	chunk := max(1, planes/16)
	parallelFor((planes+chunk-1)/chunk, func(i int) {
		f(i*chunk, min((i+1)*chunk, planes))
	})
}

// gatherKernel writes every element of out.
func gatherKernel[T float32 | float64](t []T, r *poolRoute, out []T) {
	ohw := r.out[2] * r.out[3]
	r.byPlanes(func(p0, p1 int) {
		lo, hi := p0*ohw, p1*ohw
		if r.off == nil {
			for o, i := range r.idx[lo:hi] {
				out[lo+o] = t[i]
			}
			return
		}
		for o := lo; o < hi; o++ {
			var s T
			for k := r.off[o]; k < r.off[o+1]; k++ {
				s += T(r.w[k]) * t[r.idx[k]]
			}
			out[o] = s
		}
	})
}

// scatterKernel writes every element of dx: plane by plane, it clears the
// plane (in cache) and adds the routed cotangents into it, or, for 2×2
// windows without overlap and one route per output, writes each element
// once (scatter2x2).
func scatterKernel[T float32 | float64](g []T, r *poolRoute, dx []T) {
	ohw, hw := r.out[2]*r.out[3], r.in[2]*r.in[3]
	r.byPlanes(func(p0, p1 int) {
		for pl := p0; pl < p1; pl++ {
			if r.rows2x2 > 0 && r.off == nil {
				scatter2x2(g, r, dx, pl)
				continue
			}
			clear(dx[pl*hw:][:hw])
			lo, hi := pl*ohw, (pl+1)*ohw
			if r.off == nil {
				for o, i := range r.idx[lo:hi] {
					dx[i] += g[lo+o]
				}
				continue
			}
			for o := lo; o < hi; o++ {
				v := g[o]
				for k := r.off[o]; k < r.off[o+1]; k++ {
					dx[r.idx[k]] += T(r.w[k]) * v
				}
			}
		}
	})
}

// scatter2x2 is scatterKernel's plane pl for 2×2 windows with horizontal
// stride 2, vertical stride r.rows2x2 and one route per output: the window
// rows are written whole (kernels.MaxPoolScatter2x2Rows32: the routed
// value plus zero, or zero) and the elements no window covers are cleared,
// which gives what clearing and accumulating gives.
func scatter2x2[T float32 | float64](g []T, r *poolRoute, dx []T, pl int) {
	h, w, oh, ow, sh := r.in[2], r.in[3], r.out[2], r.out[3], r.rows2x2
	hw, ohw := h*w, oh*ow
	gp, ip, dp := g[pl*ohw:][:ohw], r.idx[pl*ohw:][:ohw], dx[pl*hw:][:hw]
	if g32, ok := any(gp).([]float32); ok {
		kernels.MaxPoolScatter2x2Rows32(g32, ip, any(dp).([]float32), oh, ow, w, sh*w, pl*hw)
	} else {
		kernels.MaxPoolScatter2x2RowsGo(gp, ip, dp, oh, ow, w, sh*w, pl*hw)
	}
	for i := 0; i < oh; i++ {
		y := i * sh
		if 2*ow < w { // the columns right of the last window
			for _, seg := range [2][]T{dp[y*w+2*ow : (y+1)*w], dp[(y+1)*w+2*ow : (y+2)*w]} {
				for k := range seg {
					seg[k] = 0
				}
			}
		}
		// the rows below the window row, up to the next one (or the end)
		end := min(y+sh, h)
		if i == oh-1 {
			end = h
		}
		if y+2 < end {
			clear(dp[(y+2)*w : end*w])
		}
	}
}

func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// avgPoolTensor evaluates average pooling, or its adjoint (spreading each
// output's value over its window) when adjoint is set.
func avgPoolTensor(x *tensor.Tensor, g poolGeom, adjoint bool) *tensor.Tensor {
	shape := []int{g.n, g.c, g.oh, g.ow}
	size := g.outSize()
	if adjoint {
		shape, size = []int{g.n, g.c, g.h, g.w}, g.inSize()
	}
	if x.DType() == tensor.Float64 {
		out := make([]float64, size)
		avgPoolKernel(x.Data64(), g, out, adjoint)
		return tensor.Wrap64(out, shape...)
	}
	out := make([]float32, size)
	avgPoolKernel(x.Data32(), g, out, adjoint)
	return wrap32(x.DType(), out, shape...)
}

func avgPoolKernel[T float32 | float64](x []T, g poolGeom, out []T, adjoint bool) {
	hw, ohw := g.h*g.w, g.oh*g.ow
	inv := 1 / T(g.kh*g.kw)
	for pl := 0; pl < g.n*g.c; pl++ {
		for oy := 0; oy < g.oh; oy++ {
			for ox := 0; ox < g.ow; ox++ {
				y0, y1, x0, x1 := g.window(oy, ox)
				o := pl*ohw + oy*g.ow + ox
				if adjoint {
					v := x[o] * inv
					for iy := y0; iy < y1; iy++ {
						row := out[pl*hw+iy*g.w:]
						for ix := x0; ix < x1; ix++ {
							row[ix] += v
						}
					}
					continue
				}
				var s T
				for iy := y0; iy < y1; iy++ {
					row := x[pl*hw+iy*g.w:]
					for ix := x0; ix < x1; ix++ {
						s += row[ix]
					}
				}
				out[o] = s * inv
			}
		}
	}
}
