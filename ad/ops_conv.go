package ad

import (
	"fmt"
	"math/bits"
	"slices"
	"sync"
	"unsafe"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// Convolution primitives: conv2d of an NCHW input with an OIHW weight, and
// the two bilinear maps its derivative is made of, conv2d_input_grad (the
// transposed convolution, Wᵀ applied to an output cotangent) and
// conv2d_weight_grad (the correlation of the input with an output
// cotangent). With C(x, w) the convolution, I(g, w) the input gradient and
// W(x, g) the weight gradient, the three are related by
//
//	⟨C(x, w), g⟩ = ⟨x, I(g, w)⟩ = ⟨w, W(x, g)⟩,
//
// so every rule of each is written with the others and derivatives of any
// order close over the three primitives.
//
// The kernels lower the convolution to matrix products by im2col, a sample
// at a time: the columns matrix of a sample has a row per (input channel,
// kernel row, kernel column) and a column per output position; the
// forward product is W[O, C·KH·KW]·cols, the input gradient col2im(Wᵀ·G)
// and the weight gradient Σ G·colsᵀ (formed as its transpose), with G a
// sample's output cotangent [O, OH·OW]. Float64 runs in float64; the other
// dtypes run in float32 and 16-bit results are rounded once. Columns
// matrices come from a scratch pool, results from the operands' arena.

// Conv2dOptions are the geometry of a 2-D convolution, per spatial axis
// (height, width). Zero Stride and Dilation entries mean 1.
type Conv2dOptions struct {
	Stride   [2]int
	Padding  [2]int
	Dilation [2]int
}

// normalized returns o with zero strides and dilations set to 1; it panics
// on negative entries.
func (o Conv2dOptions) normalized(op string) Conv2dOptions {
	for i := 0; i < 2; i++ {
		if o.Stride[i] == 0 {
			o.Stride[i] = 1
		}
		if o.Dilation[i] == 0 {
			o.Dilation[i] = 1
		}
		if o.Stride[i] < 0 || o.Dilation[i] < 0 || o.Padding[i] < 0 {
			panic(fmt.Sprintf("ad.%s: negative stride, padding or dilation in %+v", op, o))
		}
	}
	return o
}

// convGeom is the geometry of one convolution.
type convGeom struct {
	n, c, h, w     int // input
	o, kh, kw      int // weight (and c)
	oh, ow         int // output spatial size
	sh, sw, ph, pw int
	dh, dw         int
}

func (g convGeom) p() int   { return g.oh * g.ow }
func (g convGeom) ckk() int { return g.c * g.kh * g.kw }
func (g convGeom) np() int  { return g.n * g.oh * g.ow }

// newConvGeom checks the input and weight shapes and returns the geometry.
func newConvGeom(op string, xs, ws []int, o Conv2dOptions) convGeom {
	if len(xs) != 4 || len(ws) != 4 {
		panic(fmt.Sprintf("ad.%s: input %v and weight %v must be [N, C, H, W] and [O, C, KH, KW]", op, xs, ws))
	}
	if xs[1] != ws[1] {
		panic(fmt.Sprintf("ad.%s: input %v has %d channels, weight %v expects %d", op, xs, xs[1], ws, ws[1]))
	}
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], kh: ws[2], kw: ws[3],
		sh: o.Stride[0], sw: o.Stride[1], ph: o.Padding[0], pw: o.Padding[1], dh: o.Dilation[0], dw: o.Dilation[1]}
	eh := g.dh*(g.kh-1) + 1
	ew := g.dw*(g.kw-1) + 1
	if g.kh < 1 || g.kw < 1 || g.h+2*g.ph < eh || g.w+2*g.pw < ew {
		panic(fmt.Sprintf("ad.%s: kernel %v (dilation %v) does not fit input %v with padding %v", op, ws[2:], o.Dilation, xs, o.Padding))
	}
	g.oh = (g.h+2*g.ph-eh)/g.sh + 1
	g.ow = (g.w+2*g.pw-ew)/g.sw + 1
	return g
}

// convParams are the parameters of the three convolution primitives: the
// geometry options and the shape of the input (input gradient) or weight
// (weight gradient) produced.
type convParams struct {
	opt   Conv2dOptions
	shape []int
}

var conv2dPrim, conv2dInputGradPrim, conv2dWeightGradPrim *Prim

// convFlops returns a Flops function for a convolution primitive whose
// geometry geo reads from its inputs and parameters: each of the three is
// one product of the same volume, and each rule is two of them.
func convFlops(geo func(in []*tensor.Tensor, cp convParams) convGeom) func([]*tensor.Tensor, *tensor.Tensor, any) Cost {
	return func(in []*tensor.Tensor, _ *tensor.Tensor, p any) Cost {
		g := geo(in, p.(convParams))
		f := 2 * float64(g.o) * float64(g.ckk()) * float64(g.np())
		return Cost{Fwd: f, JVP: 2 * f, VJP: 2 * f}
	}
}

func init() {
	conv2dPrim = register(&Prim{
		Name: "conv2d",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			cp := p.(convParams)
			var b *tensor.Tensor
			if len(in) == 3 {
				b = in[2]
			}
			return conv2dTensor(in[0], in[1], b, cp.opt)
		},
		JVP: func(c *Call, t []*Var) *Var {
			o := c.Params.(convParams).opt
			r := bilinearJVP(c, t, func(x, w *Var) *Var { return Conv2d(x, w, o) })
			if len(t) == 3 && t[2] != nil {
				r = plus(r, BroadcastTo(Reshape(t[2], 1, -1, 1, 1), c.Out.Shape()...))
			}
			return r
		},
		VJP: func(c *Call, g *Var) []*Var {
			cp := c.Params.(convParams)
			x, w := c.In[0], c.In[1]
			out := make([]*Var, len(c.In))
			// an unused cotangent (the input of a first layer) is not formed
			if c.NeedsGrad(0) {
				out[0] = Conv2dInputGrad(g, w, x.Shape(), cp.opt)
			}
			if c.NeedsGrad(1) {
				out[1] = Conv2dWeightGrad(x, g, w.Shape(), cp.opt)
			}
			if len(c.In) == 3 && c.NeedsGrad(2) {
				// the batch axis first, a sum of whole contiguous samples;
				// then the spatial axes of one [O, OH, OW] block
				out[2] = Sum(Sum(g, []int{0}, false), []int{1, 2}, false)
			}
			return out
		},
		Flops: convFlops(func(in []*tensor.Tensor, cp convParams) convGeom {
			return newConvGeom("conv2d", in[0].Shape(), in[1].Shape(), cp.opt)
		}),
	})
	conv2dInputGradPrim = register(&Prim{
		Name: "conv2d_input_grad",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			cp := p.(convParams)
			return conv2dInputGradTensor(in[0], in[1], cp.shape, cp.opt)
		},
		// I(g, w) is bilinear
		JVP: func(c *Call, t []*Var) *Var {
			cp := c.Params.(convParams)
			return bilinearJVP(c, t, func(a, b *Var) *Var { return Conv2dInputGrad(a, b, cp.shape, cp.opt) })
		},
		// ⟨h, I(g, w)⟩ = ⟨C(h, w), g⟩ = ⟨W(h, g), w⟩
		VJP: func(c *Call, h *Var) []*Var {
			cp := c.Params.(convParams)
			g, w := c.In[0], c.In[1]
			out := make([]*Var, 2)
			if c.NeedsGrad(0) {
				out[0] = Conv2d(h, w, cp.opt)
			}
			if c.NeedsGrad(1) {
				out[1] = Conv2dWeightGrad(h, g, w.Shape(), cp.opt)
			}
			return out
		},
		Flops: convFlops(func(in []*tensor.Tensor, cp convParams) convGeom {
			return newConvGeom("conv2d_input_grad", cp.shape, in[1].Shape(), cp.opt)
		}),
	})
	conv2dWeightGradPrim = register(&Prim{
		Name: "conv2d_weight_grad",
		Eval: func(in []*tensor.Tensor, p any) *tensor.Tensor {
			cp := p.(convParams)
			return conv2dWeightGradTensor(in[0], in[1], cp.shape, cp.opt)
		},
		// W(x, g) is bilinear
		JVP: func(c *Call, t []*Var) *Var {
			cp := c.Params.(convParams)
			return bilinearJVP(c, t, func(a, b *Var) *Var { return Conv2dWeightGrad(a, b, cp.shape, cp.opt) })
		},
		// ⟨k, W(x, g)⟩ = ⟨x, I(g, k)⟩ = ⟨C(x, k), g⟩
		VJP: func(c *Call, k *Var) []*Var {
			cp := c.Params.(convParams)
			x, g := c.In[0], c.In[1]
			out := make([]*Var, 2)
			if c.NeedsGrad(0) {
				out[0] = Conv2dInputGrad(g, k, x.Shape(), cp.opt)
			}
			if c.NeedsGrad(1) {
				out[1] = Conv2d(x, k, cp.opt)
			}
			return out
		},
		Flops: convFlops(func(in []*tensor.Tensor, cp convParams) convGeom {
			return newConvGeom("conv2d_weight_grad", in[0].Shape(), cp.shape, cp.opt)
		}),
	})
}

// Conv2d returns the 2-D cross-correlation of x [N, C, H, W] with the
// weight w [O, C, KH, KW] (no groups, no bias), as torch.nn.functional.conv2d:
// y[n, o, i, j] = Σ_{c, a, b} w[o, c, a, b]·x[n, c, i·sh − ph + a·dh, j·sw − pw + b·dw]
// with zeros outside x. The output is [N, O, OH, OW] with
// OH = ⌊(H + 2·ph − dh·(KH − 1) − 1)/sh⌋ + 1 (and OW alike). It panics if
// the shapes or dtypes do not fit.
func Conv2d(x, w *Var, o Conv2dOptions) *Var { return conv2d("Conv2d", x, w, nil, o) }

// Conv2dBias is Conv2d plus the bias b [O] added to every output channel,
// in one primitive (no broadcast sum is formed or differentiated).
func Conv2dBias(x, w, b *Var, o Conv2dOptions) *Var { return conv2d("Conv2dBias", x, w, b, o) }

func conv2d(op string, x, w, b *Var, o Conv2dOptions) *Var {
	o = o.normalized(op)
	newConvGeom(op, x.Shape(), w.Shape(), o)
	if x.DType() != w.DType() {
		panic(fmt.Sprintf("ad.%s: dtypes %v and %v differ", op, x.DType(), w.DType()))
	}
	in := []*Var{x, w}
	if b != nil {
		if bs := b.Shape(); len(bs) != 1 || bs[0] != w.Shape()[0] || b.DType() != w.DType() {
			panic(fmt.Sprintf("ad.%s: bias %v %v for weight %v %v", op, b.DType(), bs, w.DType(), w.Shape()))
		}
		in = append(in, b)
	}
	return Apply(conv2dPrim, convParams{opt: o}, in...)
}

// Conv2dInputGrad returns the derivative of Conv2d with respect to its
// input applied to an output cotangent g [N, O, OH, OW]: the transposed
// convolution of g with w [O, C, KH, KW] onto an input of shape inShape
// [N, C, H, W] (torch.nn.grad.conv2d_input). It panics if the shapes do not
// fit.
func Conv2dInputGrad(g, w *Var, inShape []int, o Conv2dOptions) *Var {
	o = o.normalized("Conv2dInputGrad")
	geo := newConvGeom("Conv2dInputGrad", inShape, w.Shape(), o)
	if gs := g.Shape(); len(gs) != 4 || gs[0] != geo.n || gs[1] != geo.o || gs[2] != geo.oh || gs[3] != geo.ow {
		panic(fmt.Sprintf("ad.Conv2dInputGrad: cotangent %v does not match input %v and weight %v (want [%d, %d, %d, %d])", gs, inShape, w.Shape(), geo.n, geo.o, geo.oh, geo.ow))
	}
	if g.DType() != w.DType() {
		panic(fmt.Sprintf("ad.Conv2dInputGrad: dtypes %v and %v differ", g.DType(), w.DType()))
	}
	return Apply(conv2dInputGradPrim, convParams{opt: o, shape: slices.Clone(inShape)}, g, w)
}

// Conv2dWeightGrad returns the derivative of Conv2d with respect to its
// weight applied to an output cotangent g: the correlation of x
// [N, C, H, W] with g [N, O, OH, OW], shaped wShape [O, C, KH, KW]
// (torch.nn.grad.conv2d_weight). It panics if the shapes do not fit.
func Conv2dWeightGrad(x, g *Var, wShape []int, o Conv2dOptions) *Var {
	o = o.normalized("Conv2dWeightGrad")
	geo := newConvGeom("Conv2dWeightGrad", x.Shape(), wShape, o)
	if gs := g.Shape(); len(gs) != 4 || gs[0] != geo.n || gs[1] != geo.o || gs[2] != geo.oh || gs[3] != geo.ow {
		panic(fmt.Sprintf("ad.Conv2dWeightGrad: cotangent %v does not match input %v and weight %v (want [%d, %d, %d, %d])", gs, x.Shape(), wShape, geo.n, geo.o, geo.oh, geo.ow))
	}
	if g.DType() != x.DType() {
		panic(fmt.Sprintf("ad.Conv2dWeightGrad: dtypes %v and %v differ", x.DType(), g.DType()))
	}
	return Apply(conv2dWeightGradPrim, convParams{opt: o, shape: slices.Clone(wShape)}, x, g)
}

// ---- tensor kernels ----

// conv2dTensor evaluates the convolution, with bias b unless nil. The
// results of the three kernels come from the operands' arena, if any.
func conv2dTensor(x, w, b *tensor.Tensor, o Conv2dOptions) *tensor.Tensor {
	g := newConvGeom("conv2d", x.Shape(), w.Shape(), o)
	out := tensor.ArenaOf(x, w, b).Empty(x.DType(), g.n, g.o, g.oh, g.ow)
	if x.DType() == tensor.Float64 {
		var bias []float64
		if b != nil {
			bias = b.Data64()
		}
		convForward(x.Data64(), w.Data64(), bias, g, out.Data64())
		return out
	}
	var bias []float32
	if b != nil {
		bias = b.Data32()
	}
	convForward(x.Data32(), w.Data32(), bias, g, out.Data32())
	roundHalf(x.DType(), out.Data32())
	return out
}

// wrap32 wraps float32 results as dtype d, rounding 16-bit dtypes.
func wrap32(d tensor.DType, data []float32, shape ...int) *tensor.Tensor {
	t := tensor.Wrap32(tensor.Float32, data, shape...)
	if d != tensor.Float32 {
		t = t.AsType(d)
	}
	return t
}

func conv2dInputGradTensor(gt, w *tensor.Tensor, inShape []int, o Conv2dOptions) *tensor.Tensor {
	g := newConvGeom("conv2d_input_grad", inShape, w.Shape(), o)
	dx := tensor.ArenaOf(gt, w).Empty(gt.DType(), inShape...)
	if gt.DType() == tensor.Float64 {
		convInputGrad(gt.Data64(), w.Data64(), g, dx.Data64())
		return dx
	}
	convInputGrad(gt.Data32(), w.Data32(), g, dx.Data32())
	roundHalf(gt.DType(), dx.Data32())
	return dx
}

func conv2dWeightGradTensor(x, gt *tensor.Tensor, wShape []int, o Conv2dOptions) *tensor.Tensor {
	g := newConvGeom("conv2d_weight_grad", x.Shape(), wShape, o)
	dw := tensor.ArenaOf(x, gt).Empty(x.DType(), wShape...)
	if x.DType() == tensor.Float64 {
		convWeightGrad(x.Data64(), gt.Data64(), g, dw.Data64())
		return dw
	}
	convWeightGrad(x.Data32(), gt.Data32(), g, dw.Data32())
	roundHalf(x.DType(), dw.Data32())
	return dw
}

// The kernels work a sample at a time, one product per sample, with the
// samples shared among up to kernels.Threads() goroutines: the columns
// matrix of a sample ([C·KH·KW, P], P = OH·OW) stays in cache between its
// construction and the product that consumes it, and the products read
// and write the NCHW tensors in place (no transposed copies). The weight,
// the operand common to all samples of the forward and input-gradient
// products, is packed once per call (kernels.PackedA), not per product.

// sampleGrain is the number of samples a goroutine claims at a time.
const sampleGrain = 2

// bySamples calls f(lo, hi) on ranges of the n samples, claimed
// dynamically by up to kernels.Threads() goroutines (so a descheduled
// goroutine does not hold back the others).
func bySamples(n int, f func(lo, hi int)) {
	nb := (n + sampleGrain - 1) / sampleGrain
	parallelFor(nb, func(i int) { f(i*sampleGrain, min((i+1)*sampleGrain, n)) })
}

// convForward computes out [N, O, P] = W·cols(x) (+ bias per channel). The
// bias is one more column of the packed weight against a row of ones in the
// columns matrix: the product's last term, so each output is rounded as
// (W·cols) + bias would be when k fits one block.
func convForward[T float32 | float64](x, w, bias []T, g convGeom, out []T) {
	ckk, p, chw := g.ckk(), g.p(), g.c*g.h*g.w
	kk := ckk
	wa := w
	if bias != nil {
		kk = ckk + 1
		wa = getScratch[T](g.o * kk)
		for o := 0; o < g.o; o++ {
			copy(wa[o*kk:][:ckk], w[o*ckk:][:ckk])
			wa[o*kk+ckk] = bias[o]
		}
	}
	pa := getPacked[T]()
	pa.Pack(false, g.o, kk, wa, kk)
	if bias != nil {
		putScratch(wa)
	}
	bySamples(g.n, func(lo, hi int) {
		cols := getScratch[T](kk * p)
		if bias != nil {
			ones := cols[ckk*p:][:p]
			for i := range ones {
				ones[i] = 1
			}
		}
		for n := lo; n < hi; n++ {
			im2colLD(x[n*chw:][:chw], g, cols, p, 0)
			pa.Gemm(false, p, 1, cols, p, 0, out[n*g.o*p:][:g.o*p], p)
		}
		putScratch(cols)
	})
	putPacked(pa)
}

// convInputGrad computes dx = col2im(Wᵀ·G), every element written.
func convInputGrad[T float32 | float64](gt, w []T, g convGeom, dx []T) {
	ckk, p, chw := g.ckk(), g.p(), g.c*g.h*g.w
	pa := getPacked[T]()
	pa.Pack(true, ckk, g.o, w, ckk)
	bySamples(g.n, func(lo, hi int) {
		dcols := getScratch[T](ckk * p)
		for n := lo; n < hi; n++ {
			pa.Gemm(false, p, 1, gt[n*g.o*p:][:g.o*p], p, 0, dcols, p)
			xs := dx[n*chw:][:chw]
			clear(xs) // in cache, just before the accumulation
			col2imLD(dcols, g, xs, p, 0)
		}
		putScratch(dcols)
	})
	putPacked(pa)
}

// weightGradPartials bounds the memory of the partial weight gradients.
const weightGradPartials = 1 << 22

// convWeightGrad computes dw = Σ_n G_n·cols_nᵀ, as its transpose
// Σ_n cols_n·G_nᵀ ([C·KH·KW, O]: whole micro-kernel tiles for the usual
// channel counts, and a short k for the first layer's nine rows). The
// samples are split into a fixed number of groups (depending on the shapes
// only), each summed in order into its own partial gradient, and the
// partials are added in order, so the result does not depend on the
// number of threads.
func convWeightGrad[T float32 | float64](x, gt []T, g convGeom, dw []T) {
	ckk, p, chw := g.ckk(), g.p(), g.c*g.h*g.w
	size := g.o * ckk
	ng := max(1, min(g.n, 8, weightGradPartials/max(size, 1)))
	part := getScratch[T](ng * size)
	if g.n == 0 {
		clear(part)
	}
	parallelFor(ng, func(k int) {
		acc := part[k*size:][:size]
		cols := getScratch[T](ckk * p)
		n0, n1 := k*g.n/ng, (k+1)*g.n/ng
		for n := n0; n < n1; n++ {
			im2colLD(x[n*chw:][:chw], g, cols, p, 0)
			beta := T(1)
			if n == n0 {
				beta = 0
			}
			kernels.GemmSerial(false, true, ckk, g.o, p, 1, cols, p, gt[n*g.o*p:][:g.o*p], p, beta, acc, g.o)
		}
		putScratch(cols)
	})
	sum := part[:size]
	for k := 1; k < ng; k++ {
		for i, v := range part[k*size:][:size] {
			sum[i] += v
		}
	}
	// dw [O, C·KH·KW] is the transpose of the sum
	for r := 0; r < ckk; r++ {
		row := sum[r*g.o:][:g.o]
		for o, v := range row {
			dw[o*ckk+r] = v
		}
	}
	putScratch(part)
}

// Packed weights, pooled (memory only; no result depends on the pool).
var packed32, packed64 sync.Pool

func getPacked[T float32 | float64]() *kernels.PackedA[T] {
	pool := &packed32
	if _, ok := any(*new(T)).(float64); ok {
		pool = &packed64
	}
	if v := pool.Get(); v != nil {
		return v.(*kernels.PackedA[T])
	}
	return new(kernels.PackedA[T])
}

func putPacked[T float32 | float64](p *kernels.PackedA[T]) {
	if _, ok := any(*new(T)).(float64); ok {
		packed64.Put(p)
		return
	}
	packed32.Put(p)
}

// outRange returns the output columns [lo, hi) whose input column
// ox·s + off lies in [0, w).
func outRange(off, s, w, ow int) (lo, hi int) {
	if off < 0 {
		lo = (-off + s - 1) / s
	}
	if w-off > 0 {
		hi = (w - off + s - 1) / s
	}
	hi = min(hi, ow)
	lo = min(lo, hi)
	return lo, hi
}

// im2colLD writes the columns of one sample x [C, H, W] into the columns
// [col, col + OH·OW) of cols, a [C·KH·KW, ld] matrix: row (c, i, j),
// column oy·OW + ox holds x[c, oy·sh − ph + i·dh, ox·sw − pw + j·dw], or 0
// in the padding. With ld = OH·OW and col = 0 it is kernels.Im2Col.
func im2colLD[T float32 | float64](x []T, g convGeom, cols []T, ld, col int) {
	p, hw := g.p(), g.h*g.w
	if g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.ph == 0 && g.pw == 0 {
		im2colDense(x, g, cols, ld, col)
		return
	}
	for r := 0; r < g.ckk(); r++ {
		c, i, j := r/(g.kh*g.kw), r/g.kw%g.kh, r%g.kw
		xc := x[c*hw:][:hw]
		dst := cols[r*ld+col:][:p]
		off := j*g.dw - g.pw
		lo, hi := outRange(off, g.sw, g.w, g.ow)
		for oy := 0; oy < g.oh; oy++ {
			d := dst[oy*g.ow:][:g.ow]
			iy := oy*g.sh - g.ph + i*g.dh
			if iy < 0 || iy >= g.h {
				clear(d)
				continue
			}
			xr := xc[iy*g.w:][:g.w]
			clear(d[:lo])
			clear(d[hi:])
			if g.sw == 1 {
				copy(d[lo:hi], xr[lo+off:hi+off])
			} else {
				for ox := lo; ox < hi; ox++ {
					d[ox] = xr[ox*g.sw+off]
				}
			}
		}
	}
}

// im2colDense is im2colLD for unit strides and dilations without padding:
// every column reads inside the image, and row (c, i, j) of the columns is
// rows i… of channel c shifted by j.
func im2colDense[T float32 | float64](x []T, g convGeom, cols []T, ld, col int) {
	p, hw, ow, w := g.p(), g.h*g.w, g.ow, g.w
	r := 0
	for c := 0; c < g.c; c++ {
		xc := x[c*hw:][:hw]
		for i := 0; i < g.kh; i++ {
			for j := 0; j < g.kw; j++ {
				copyRows(cols[r*ld+col:][:p], xc[i*w+j:], g.oh, ow, w)
				r++
			}
		}
	}
}

// copyRows copies rows rows of n elements, w apart in src, to dst
// contiguously. Rows of 8 or more move in blocks of 8 (the last block
// overlapping the one before), which the compiler turns into vector moves
// for concrete element types, instead of a memmove call or an element loop
// per short row.
func copyRows[T float32 | float64](dst, src []T, rows, n, w int) {
	if rows == 0 || n == 0 {
		return
	}
	src = src[:(rows-1)*w+n]
	dst = dst[:rows*n]
	if d, ok := any(dst).([]float32); ok && (n == 11 || n == 26) {
		if n == 11 {
			copyRows32x11(d, any(src).([]float32), rows, w)
		} else {
			copyRows32x26(d, any(src).([]float32), rows, w)
		}
		return
	}
	if n >= 8 {
		switch d := any(dst).(type) {
		case []float32:
			copyRows32(d, any(src).([]float32), rows, n, w)
			return
		case []float64:
			copyRows64(d, any(src).([]float64), rows, n, w)
			return
		}
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*n:][:n], src[r*w:][:n])
	}
}

func copyRows32(dst, src []float32, rows, n, w int) {
	for r := 0; r < rows; r++ {
		d, s := dst[r*n:][:n], src[r*w:][:n]
		for k := 0; k+8 < n; k += 8 {
			v := *(*[8]float32)(s[k:])
			*(*[8]float32)(d[k:]) = v
		}
		v := *(*[8]float32)(s[n-8:])
		*(*[8]float32)(d[n-8:]) = v
	}
}

func copyRows64(dst, src []float64, rows, n, w int) {
	for r := 0; r < rows; r++ {
		d, s := dst[r*n:][:n], src[r*w:][:n]
		for k := 0; k+8 < n; k += 8 {
			v := *(*[8]float64)(s[k:])
			*(*[8]float64)(d[k:]) = v
		}
		v := *(*[8]float64)(s[n-8:])
		*(*[8]float64)(d[n-8:]) = v
	}
}

// copyRows32x11 is copyRows for float32 rows of 11: one unrolled row of
// element moves (faster than vector moves split across cache lines or a
// memmove call). dst and src have been resliced to the exact extents.
func copyRows32x11(dst, src []float32, rows, w int) {
	dp, sp := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	for r := 0; r < rows; r++ {
		d := (*[11]float32)(unsafe.Add(dp, r*11*4))
		s := (*[11]float32)(unsafe.Add(sp, r*w*4))
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10]
	}
}

// addShifted3x11 is addShifted3 for float32 rows of 11, unrolled.
func addShifted3x11(d *[13]float32, a, b, c *[11]float32) {
	d[0] += a[0]
	d[1] = d[1] + a[1] + b[0]
	d[2] = d[2] + a[2] + b[1] + c[0]
	d[3] = d[3] + a[3] + b[2] + c[1]
	d[4] = d[4] + a[4] + b[3] + c[2]
	d[5] = d[5] + a[5] + b[4] + c[3]
	d[6] = d[6] + a[6] + b[5] + c[4]
	d[7] = d[7] + a[7] + b[6] + c[5]
	d[8] = d[8] + a[8] + b[7] + c[6]
	d[9] = d[9] + a[9] + b[8] + c[7]
	d[10] = d[10] + a[10] + b[9] + c[8]
	d[11] = d[11] + b[10] + c[9]
	d[12] += c[10]
}

// copyRows32x26 is copyRows for float32 rows of 26: one unrolled row of
// element moves (faster than vector moves split across cache lines or a
// memmove call). dst and src have been resliced to the exact extents.
func copyRows32x26(dst, src []float32, rows, w int) {
	dp, sp := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	for r := 0; r < rows; r++ {
		d := (*[26]float32)(unsafe.Add(dp, r*26*4))
		s := (*[26]float32)(unsafe.Add(sp, r*w*4))
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15], d[16], d[17], d[18], d[19], d[20], d[21], d[22], d[23], d[24], d[25] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15], s[16], s[17], s[18], s[19], s[20], s[21], s[22], s[23], s[24], s[25]
	}
}

// addShifted3x26 is addShifted3 for float32 rows of 26, unrolled.
func addShifted3x26(d *[28]float32, a, b, c *[26]float32) {
	d[0] += a[0]
	d[1] = d[1] + a[1] + b[0]
	d[2] = d[2] + a[2] + b[1] + c[0]
	d[3] = d[3] + a[3] + b[2] + c[1]
	d[4] = d[4] + a[4] + b[3] + c[2]
	d[5] = d[5] + a[5] + b[4] + c[3]
	d[6] = d[6] + a[6] + b[5] + c[4]
	d[7] = d[7] + a[7] + b[6] + c[5]
	d[8] = d[8] + a[8] + b[7] + c[6]
	d[9] = d[9] + a[9] + b[8] + c[7]
	d[10] = d[10] + a[10] + b[9] + c[8]
	d[11] = d[11] + a[11] + b[10] + c[9]
	d[12] = d[12] + a[12] + b[11] + c[10]
	d[13] = d[13] + a[13] + b[12] + c[11]
	d[14] = d[14] + a[14] + b[13] + c[12]
	d[15] = d[15] + a[15] + b[14] + c[13]
	d[16] = d[16] + a[16] + b[15] + c[14]
	d[17] = d[17] + a[17] + b[16] + c[15]
	d[18] = d[18] + a[18] + b[17] + c[16]
	d[19] = d[19] + a[19] + b[18] + c[17]
	d[20] = d[20] + a[20] + b[19] + c[18]
	d[21] = d[21] + a[21] + b[20] + c[19]
	d[22] = d[22] + a[22] + b[21] + c[20]
	d[23] = d[23] + a[23] + b[22] + c[21]
	d[24] = d[24] + a[24] + b[23] + c[22]
	d[25] = d[25] + a[25] + b[24] + c[23]
	d[26] = d[26] + b[25] + c[24]
	d[27] += c[25]
}

// col2imDense is col2imLD for unit strides and dilations without padding.
// For each (channel, kernel row, output row) it adds the kw shifted
// column rows into the image row in one pass.
func col2imDense[T float32 | float64](cols []T, g convGeom, dx []T, ld, col int) {
	p, hw, ow, w, kw := g.p(), g.h*g.w, g.ow, g.w, g.kw
	for c := 0; c < g.c; c++ {
		xc := dx[c*hw:][:hw]
		for i := 0; i < g.kh; i++ {
			r0 := (c*g.kh + i) * kw
			if kw == 3 {
				s0 := cols[r0*ld+col:][:p]
				s1 := cols[(r0+1)*ld+col:][:p]
				s2 := cols[(r0+2)*ld+col:][:p]
				addShifted3Rows(xc[i*w:], s0, s1, s2, g.oh, ow, w)
				continue
			}
			for j := 0; j < kw; j++ {
				src := cols[(r0+j)*ld+col:][:p]
				for oy := 0; oy < g.oh; oy++ {
					s := src[oy*ow:][:ow]
					d := xc[(oy+i)*w+j:][:ow]
					for k, v := range s {
						d[k] += v
					}
				}
			}
		}
	}
}

// addShifted3Rows is addShifted3 on oh rows: the image rows of d are w
// apart, those of a, b and c are ow apart. The element type and width are
// dispatched once for all the rows.
func addShifted3Rows[T float32 | float64](d, a, b, c []T, oh, ow, w int) {
	if d32, ok := any(d).([]float32); ok && (ow == 11 || ow == 26) {
		a32, b32, c32 := any(a).([]float32), any(b).([]float32), any(c).([]float32)
		if ow == 11 {
			for oy := 0; oy < oh; oy++ {
				addShifted3x11((*[13]float32)(d32[oy*w:]), (*[11]float32)(a32[oy*11:]), (*[11]float32)(b32[oy*11:]), (*[11]float32)(c32[oy*11:]))
			}
			return
		}
		for oy := 0; oy < oh; oy++ {
			addShifted3x26((*[28]float32)(d32[oy*w:]), (*[26]float32)(a32[oy*26:]), (*[26]float32)(b32[oy*26:]), (*[26]float32)(c32[oy*26:]))
		}
		return
	}
	for oy := 0; oy < oh; oy++ {
		addShifted3(d[oy*w:][:ow+2], a[oy*ow:][:ow], b[oy*ow:][:ow], c[oy*ow:][:ow])
	}
}

// addShifted3 adds a, b and c into d shifted by 0, 1 and 2:
// d[x] += a[x] + b[x−1] + c[x−2] (terms outside the rows omitted), in the
// order the plain accumulation a, then b, then c would add them.
func addShifted3[T float32 | float64](d, a, b, c []T) {
	n := len(a)
	d, b, c = d[:n+2], b[:n], c[:n]
	if d32, ok := any(d).([]float32); ok && (n == 11 || n == 26) {
		a32, b32, c32 := any(a).([]float32), any(b).([]float32), any(c).([]float32)
		if n == 11 {
			addShifted3x11((*[13]float32)(d32), (*[11]float32)(a32), (*[11]float32)(b32), (*[11]float32)(c32))
		} else {
			addShifted3x26((*[28]float32)(d32), (*[26]float32)(a32), (*[26]float32)(b32), (*[26]float32)(c32))
		}
		return
	}
	if n == 1 {
		d[0] += a[0]
		d[1] += b[0]
		d[2] += c[0]
		return
	}
	d[0] += a[0]
	d[1] = d[1] + a[1] + b[0]
	for x := 2; x < n; x++ {
		d[x] = d[x] + a[x] + b[x-1] + c[x-2]
	}
	d[n] = d[n] + b[n-1] + c[n-2]
	d[n+1] += c[n-1]
}

// col2imLD adds the columns [col, col + OH·OW) of cols ([C·KH·KW, ld]) into
// one sample dx [C, H, W]: the adjoint of im2colLD.
func col2imLD[T float32 | float64](cols []T, g convGeom, dx []T, ld, col int) {
	p, hw := g.p(), g.h*g.w
	if g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 && g.ph == 0 && g.pw == 0 {
		col2imDense(cols, g, dx, ld, col)
		return
	}
	for r := 0; r < g.ckk(); r++ {
		c, i, j := r/(g.kh*g.kw), r/g.kw%g.kh, r%g.kw
		xc := dx[c*hw:][:hw]
		src := cols[r*ld+col:][:p]
		off := j*g.dw - g.pw
		lo, hi := outRange(off, g.sw, g.w, g.ow)
		for oy := 0; oy < g.oh; oy++ {
			iy := oy*g.sh - g.ph + i*g.dh
			if iy < 0 || iy >= g.h {
				continue
			}
			sr := src[oy*g.ow:][:g.ow]
			xr := xc[iy*g.w:][:g.w]
			if g.sw == 1 {
				xs := xr[lo+off : hi+off]
				for k, v := range sr[lo:hi] {
					xs[k] += v
				}
			} else {
				for ox := lo; ox < hi; ox++ {
					xr[ox*g.sw+off] += sr[ox]
				}
			}
		}
	}
}

// gemmT is C = op(A)·op(B) + beta·C in T.
func gemmT[T float32 | float64](ta, tb bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float64:
		kernels.Gemm64(ta, tb, m, n, k, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	case []float32:
		kernels.Gemm32(ta, tb, m, n, k, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}

// parallelFor runs f(0), …, f(n−1) on up to kernels.Threads() goroutines.
// The calls must write disjoint memory.
func parallelFor(n int, f func(i int)) {
	t := min(kernels.Threads(), n)
	if t <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < t; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// Scratch buffers for the columns matrices and transposed cotangents,
// pooled by power-of-two capacity. The pools hold memory only; no result
// depends on them.
var scratch32, scratch64 [64]sync.Pool

func scratchPool[T float32 | float64](n int) (*sync.Pool, int) {
	b := bits.Len(uint(n - 1))
	if _, ok := any(*new(T)).(float64); ok {
		return &scratch64[b], 1 << b
	}
	return &scratch32[b], 1 << b
}

// getScratch returns a slice of length n with unspecified contents.
func getScratch[T float32 | float64](n int) []T {
	if n == 0 {
		return nil
	}
	pool, c := scratchPool[T](n)
	if v := pool.Get(); v != nil {
		return (*(v.(*[]T)))[:n]
	}
	return make([]T, n, c)
}

// putScratch returns s, from getScratch, to the pool.
func putScratch[T float32 | float64](s []T) {
	if cap(s) == 0 {
		return
	}
	pool, c := scratchPool[T](cap(s))
	if c != cap(s) {
		return
	}
	pool.Put(&s)
}
