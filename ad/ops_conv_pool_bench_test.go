package ad

import (
	"math"
	"syscall"
	"testing"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// Kernel benchmarks at the geometry of nn's BenchmarkCNNStep.

func benchConvGeom(layer int) convGeom {
	if layer == 1 {
		return newConvGeom("b", []int{1, 1, 28, 28}, []int{32, 1, 3, 3}, Conv2dOptions{}.normalized("b"))
	}
	return newConvGeom("b", []int{1, 32, 13, 13}, []int{64, 32, 3, 3}, Conv2dOptions{}.normalized("b"))
}

func BenchmarkIm2colL2(b *testing.B) {
	g := benchConvGeom(2)
	x := make([]float32, g.c*g.h*g.w)
	for i := range x {
		x[i] = float32(i)
	}
	cols := make([]float32, g.ckk()*g.p())
	c0 := benchCPU()
	for i := 0; i < b.N; i++ {
		im2colLD(x, g, cols, g.p(), 0)
	}
	b.ReportMetric((benchCPU()-c0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkCol2imL2(b *testing.B) {
	g := benchConvGeom(2)
	dx := make([]float32, g.c*g.h*g.w)
	cols := make([]float32, g.ckk()*g.p())
	for i := range cols {
		cols[i] = float32(i & 7)
	}
	c0 := benchCPU()
	for i := 0; i < b.N; i++ {
		col2imLD(cols, g, dx, g.p(), 0)
	}
	b.ReportMetric((benchCPU()-c0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkIm2colL1(b *testing.B) {
	g := benchConvGeom(1)
	x := make([]float32, g.c*g.h*g.w)
	cols := make([]float32, g.ckk()*g.p())
	c0 := benchCPU()
	for i := 0; i < b.N; i++ {
		im2colLD(x, g, cols, g.p(), 0)
	}
	b.ReportMetric((benchCPU()-c0)/float64(b.N), "cpu-ns/op")
}

func benchPoolInput() (*tensor.Tensor, poolGeom) {
	g := newPoolGeom("b", []int{benchPoolN, 32, 26, 26}, Pool2dOptions{Kernel: [2]int{2, 2}})
	r := tensor.NewRNG(1)
	x := make([]float32, g.inSize())
	for i := range x {
		x[i] = float32(r.IntN(1000)) - 500
	}
	return tensor.Wrap32(tensor.Float32, x, g.n, g.c, g.h, g.w), g
}

func BenchmarkMaxPoolFwd(b *testing.B) {
	x, g := benchPoolInput()
	ar := tensor.NewArena()
	x = x.In(ar)
	b.ResetTimer()
	c0 := benchCPU()
	for i := 0; i < b.N; i++ {
		maxPoolTensor(x, g, &poolCache{})
		ar.Release()
	}
	b.ReportMetric((benchCPU()-c0)/float64(b.N)/1e3, "cpu-us/op")
}

func BenchmarkMaxPoolScatter(b *testing.B) {
	for _, rows := range []bool{false, true} {
		name := "general"
		if rows {
			name = "2x2rows"
		}
		b.Run(name, func(b *testing.B) {
			x, g := benchPoolInput()
			c := &poolCache{}
			maxPoolTensor(x, g, c)
			r := &poolRoute{in: x.Shape(), out: []int{g.n, g.c, g.oh, g.ow}, idx: c.idx}
			if rows {
				r.rows2x2 = 2
			}
			ar := tensor.NewArena()
			gt := tensor.Wrap32(tensor.Float32, make([]float32, g.outSize()), r.out...).In(ar)
			b.ResetTimer()
			c0 := benchCPU()
			for i := 0; i < b.N; i++ {
				routeScatter(gt, r)
				ar.Release()
			}
			b.ReportMetric((benchCPU()-c0)/float64(b.N)/1e3, "cpu-us/op")
		})
	}
}

func benchCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano() + ru.Stime.Nano())
}

var benchPoolN = 128

// ---- fast paths against the general ones (internal, so kept here) ----

// poolTestInput returns an input of shape xs with many ties, signed zeros,
// infinities and (if nans) NaNs.
func poolTestInput(r *tensor.RNG, d tensor.DType, nans bool, xs ...int) *tensor.Tensor {
	n := xs[0] * xs[1] * xs[2] * xs[3]
	v := make([]float64, n)
	special := []float64{0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1)}
	for i := range v {
		switch k := r.IntN(10); {
		case k < 3:
			v[i] = float64(r.IntN(3))
		case k < 4:
			v[i] = special[r.IntN(len(special))]
		case k < 5 && nans:
			v[i] = math.NaN()
		default:
			v[i] = r.NormFloat64()
		}
	}
	return tensor.FromFloat64s(d, v, xs...)
}

// TestMaxPool2x2MatchesGeneral compares the 2×2 paths (vectorized rows,
// strided rows) with maxPoolPlanes bit for bit: values, first-winner
// indices and tie counts.
func TestMaxPool2x2MatchesGeneral(t *testing.T) {
	r := tensor.NewRNG(5)
	for trial := 0; trial < 60; trial++ {
		xs := []int{1 + r.IntN(3), 1 + r.IntN(4), 2 + r.IntN(30), 2 + r.IntN(40)}
		sh, sw := 1+r.IntN(3), 1+r.IntN(3)
		if trial%2 == 0 {
			sh, sw = 2, 2
		}
		g := newPoolGeom("t", xs, Pool2dOptions{Kernel: [2]int{2, 2}, Stride: [2]int{sh, sw}})
		for _, d := range []tensor.DType{tensor.Float32, tensor.Float64} {
			x := poolTestInput(r, d, trial%3 != 0, xs...)
			check := func(fast func(idx []int32) ([]float64, int), ref func(idx []int32) ([]float64, int)) {
				i1, i2 := make([]int32, g.outSize()), make([]int32, g.outSize())
				o1, t1 := fast(i1)
				o2, t2 := ref(i2)
				if t1 != t2 {
					t.Fatalf("trial %d %v %v: %d ties, want %d", trial, d, g, t1, t2)
				}
				for i := range o1 {
					if math.Float64bits(o1[i]) != math.Float64bits(o2[i]) || i1[i] != i2[i] {
						t.Fatalf("trial %d %v %v: output %d is %v at %d, want %v at %d", trial, d, g, i, o1[i], i1[i], o2[i], i2[i])
					}
				}
			}
			run := func(f func(x []float32, out []float32, idx []int32) int, f64 func(x []float64, out []float64, idx []int32) int) func(idx []int32) ([]float64, int) {
				return func(idx []int32) ([]float64, int) {
					if d == tensor.Float64 {
						out := make([]float64, g.outSize())
						return out, f64(x.Data64(), out, idx)
					}
					out := make([]float32, g.outSize())
					n := f(x.Data32(), out, idx)
					return tensor.Wrap32(tensor.Float32, out, len(out)).Float64s(), n
				}
			}
			planes := g.n * g.c
			check(run(func(x, out []float32, idx []int32) int { return maxPool2x2(x, g, out, idx, 0, planes) },
				func(x, out []float64, idx []int32) int { return maxPool2x2(x, g, out, idx, 0, planes) }),
				run(func(x, out []float32, idx []int32) int { return maxPoolPlanes(x, g, out, idx, 0, planes) },
					func(x, out []float64, idx []int32) int { return maxPoolPlanes(x, g, out, idx, 0, planes) }))
			// the tensor entry point, threaded, with and without the cache
			c := &poolCache{}
			y := maxPoolTensor(x, g, c)
			// from a poisoned arena: every output is written
			tensor.PoisonArenas(true)
			ar := tensor.NewArena()
			y2 := maxPoolTensor(x.In(ar), g, nil)
			tensor.PoisonArenas(false)
			want := make([]float64, g.outSize())
			wantIdx := make([]int32, g.outSize())
			var wantTies int
			if d == tensor.Float64 {
				wantTies = maxPoolPlanes(x.Data64(), g, want, wantIdx, 0, planes)
			} else {
				w32 := make([]float32, g.outSize())
				wantTies = maxPoolPlanes(x.Data32(), g, w32, wantIdx, 0, planes)
				want = tensor.Wrap32(tensor.Float32, w32, len(w32)).Float64s()
			}
			_, scanTies := maxPoolScan(x, g, TieFirst, nil)
			if c.ties != wantTies || scanTies != wantTies {
				t.Fatalf("trial %d %v: cache %d ties, scan %d, want %d", trial, d, c.ties, scanTies, wantTies)
			}
			for i, v := range want {
				if math.Float64bits(y.AtFlat(i)) != math.Float64bits(v) || math.Float64bits(y2.AtFlat(i)) != math.Float64bits(v) || c.idx[i] != wantIdx[i] {
					t.Fatalf("trial %d %v: tensor output %d differs", trial, d, i)
				}
			}
			ar.Release()
		}
	}
}

// TestRouteScatterGather compares the plane-wise scatter (which writes
// every element of a dirty buffer) and gather with naive loops over fresh
// zeros, for every tie rule.
func TestRouteScatterGather(t *testing.T) {
	r := tensor.NewRNG(6)
	for trial := 0; trial < 30; trial++ {
		// at least 1024 elements, so that the arena recycles the dirty buffer
		xs := []int{1 + r.IntN(2), 11 + r.IntN(3), 10 + r.IntN(9), 10 + r.IntN(9)}
		k := 1 + r.IntN(3)
		o := Pool2dOptions{Kernel: [2]int{k, k}, Stride: [2]int{1 + r.IntN(3), 1 + r.IntN(3)}}
		switch trial % 4 {
		case 0, 1:
			k, o = 2, Pool2dOptions{Kernel: [2]int{2, 2}} // the CNN's windows
		case 2:
			k, o = 2, Pool2dOptions{Kernel: [2]int{2, 2}, Stride: [2]int{3, 2}} // gaps between window rows
		}
		if xs[2] < k || xs[3] < k {
			continue
		}
		g := newPoolGeom("t", xs, o)
		x := poolTestInput(r, tensor.Float64, trial%2 == 0, xs...)
		for _, tie := range []TieRule{TieFirst, TieLast, TieSplit} {
			rt := &poolRoute{in: xs, out: []int{g.n, g.c, g.oh, g.ow}}
			if k == 2 && g.sw == 2 && g.sh >= 2 {
				rt.rows2x2 = g.sh // the row-writing scatter
			}
			maxPoolScan(x, g, tie, rt)
			for _, d := range []tensor.DType{tensor.Float64, tensor.Float32} {
				gy := r.Normal(d, rt.out...)
				want := make([]float64, shapeSize(xs))
				gv := gy.Float64s()
				for oi := range gv {
					lo, hi := oi, oi+1
					if rt.off != nil {
						lo, hi = int(rt.off[oi]), int(rt.off[oi+1])
					}
					for q := lo; q < hi; q++ {
						w := 1.0
						if rt.w != nil {
							w = rt.w[q]
						}
						if d == tensor.Float32 {
							want[rt.idx[q]] = float64(float32(want[rt.idx[q]]) + float32(w)*float32(gv[oi]))
						} else {
							want[rt.idx[q]] += w * gv[oi]
						}
					}
				}
				ar := tensor.NewArena()
				// dirty the arena's free lists with garbage of the same sizes
				junk := ar.Empty(d, xs...)
				for i := 0; i < junk.Size(); i++ {
					junk.SetFlat(i, 7)
				}
				ar.Release()
				dx := routeScatter(gy.In(ar), rt)
				for i, v := range want {
					if math.Float64bits(dx.AtFlat(i)) != math.Float64bits(v) {
						t.Fatalf("trial %d %v %v: scatter element %d is %v, want %v", trial, tie, d, i, dx.AtFlat(i), v)
					}
				}
				ar.Release()
			}
		}
	}
}

// TestIm2colCol2imMatchKernels compares im2colLD and col2imLD (with their
// dense, unrolled and 3×3 paths) with the independent kernels.Im2Col and
// kernels.Col2Im bit for bit, over the CNN's widths (11, 26) and others,
// in float32 and float64, into a dirty buffer at a column offset.
func TestIm2colCol2imMatchKernels(t *testing.T) {
	r := tensor.NewRNG(7)
	type geo struct{ c, h, w, kh, kw, s, p, d int }
	geos := []geo{{32, 13, 13, 3, 3, 1, 0, 1}, {1, 28, 28, 3, 3, 1, 0, 1}, {3, 13, 28, 3, 3, 1, 0, 1},
		{2, 9, 9, 2, 4, 1, 0, 1}, {2, 5, 7, 1, 1, 1, 0, 1}, {2, 12, 30, 3, 3, 1, 0, 1}, {2, 7, 8, 3, 3, 2, 1, 1}, {1, 11, 12, 2, 3, 1, 1, 2}}
	for i := 0; i < 12; i++ {
		geos = append(geos, geo{1 + r.IntN(3), 3 + r.IntN(30), 3 + r.IntN(30), 1 + r.IntN(3), 1 + r.IntN(3), 1, 0, 1})
	}
	for _, q := range geos {
		o := Conv2dOptions{Stride: [2]int{q.s, q.s}, Padding: [2]int{q.p, q.p}, Dilation: [2]int{q.d, q.d}}.normalized("t")
		g := newConvGeom("t", []int{1, q.c, q.h, q.w}, []int{1, q.c, q.kh, q.kw}, o)
		p, ckk := g.p(), g.ckk()
		ld, col := p+5, 3
		x := r.Normal(tensor.Float64, q.c*q.h*q.w).Data64()
		cm := r.Normal(tensor.Float64, ckk*p).Data64()
		for _, is32 := range []bool{true, false} {
			// im2col
			want := make([]float64, ckk*p)
			got := make([]float64, ckk*ld)
			if is32 {
				x32, w32, g32 := f32s(x), make([]float32, ckk*p), make([]float32, ckk*ld)
				kernels.Im2Col32(w32, x32, q.c, q.h, q.w, q.kh, q.kw, q.s, q.s, q.p, q.p, q.d, q.d)
				for i := range g32 {
					g32[i] = float32(math.NaN())
				}
				im2colLD(x32, g, g32, ld, col)
				want, got = f64s(w32), f64s(g32)
			} else {
				kernels.Im2Col64(want, x, q.c, q.h, q.w, q.kh, q.kw, q.s, q.s, q.p, q.p, q.d, q.d)
				for i := range got {
					got[i] = math.NaN()
				}
				im2colLD(x, g, got, ld, col)
			}
			for rr := 0; rr < ckk; rr++ {
				for j := 0; j < p; j++ {
					if math.Float64bits(got[rr*ld+col+j]) != math.Float64bits(want[rr*p+j]) {
						t.Fatalf("im2col %+v f32=%v: row %d col %d: %v, want %v", q, is32, rr, j, got[rr*ld+col+j], want[rr*p+j])
					}
				}
			}
			// col2im, accumulating onto a nonzero image
			cols := make([]float64, ckk*ld)
			for rr := 0; rr < ckk; rr++ {
				copy(cols[rr*ld+col:][:p], cm[rr*p:][:p])
			}
			if is32 {
				w32, g32 := f32s(x), f32s(x)
				kernels.Col2Im32(w32, f32s(cm), q.c, q.h, q.w, q.kh, q.kw, q.s, q.s, q.p, q.p, q.d, q.d)
				col2imLD(f32s(cols), g, g32, ld, col)
				want, got = f64s(w32), f64s(g32)
			} else {
				want, got = append([]float64(nil), x...), append([]float64(nil), x...)
				kernels.Col2Im64(want, cm, q.c, q.h, q.w, q.kh, q.kw, q.s, q.s, q.p, q.p, q.d, q.d)
				col2imLD(cols, g, got, ld, col)
			}
			for i := range want {
				if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
					t.Fatalf("col2im %+v f32=%v: element %d: %v, want %v", q, is32, i, got[i], want[i])
				}
			}
		}
	}
}

func f32s(s []float64) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(v)
	}
	return r
}

func f64s(s []float32) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = float64(v)
	}
	return r
}

// Benchmarks of the three convolution kernels at batch 128 for the two
// layers of nn's CNN, in CPU time per call (all threads).
func benchConvOp(b *testing.B, layer int, op string) {
	var xs, ws []int
	if layer == 1 {
		xs, ws = []int{128, 1, 28, 28}, []int{32, 1, 3, 3}
	} else {
		xs, ws = []int{128, 32, 13, 13}, []int{64, 32, 3, 3}
	}
	o := Conv2dOptions{}.normalized("b")
	g := newConvGeom("b", xs, ws, o)
	r := tensor.NewRNG(1)
	x := r.Normal(tensor.Float32, xs...)
	w := r.Normal(tensor.Float32, ws...)
	bias := r.Normal(tensor.Float32, ws[0])
	gy := r.Normal(tensor.Float32, g.n, g.o, g.oh, g.ow)
	ar := tensor.NewArena()
	x, w, gy = x.In(ar), w.In(ar), gy.In(ar)
	b.ResetTimer()
	c0 := benchCPU()
	for i := 0; i < b.N; i++ {
		switch op {
		case "fwd":
			conv2dTensor(x, w, bias, o)
		case "igrad":
			conv2dInputGradTensor(gy, w, xs, o)
		case "wgrad":
			conv2dWeightGradTensor(x, gy, ws, o)
		}
		ar.Release()
	}
	b.ReportMetric((benchCPU()-c0)/float64(b.N)/1e6, "cpu-ms/op")
}

func BenchmarkConvL1Fwd(b *testing.B)   { benchConvOp(b, 1, "fwd") }
func BenchmarkConvL1WGrad(b *testing.B) { benchConvOp(b, 1, "wgrad") }
func BenchmarkConvL2Fwd(b *testing.B)   { benchConvOp(b, 2, "fwd") }
func BenchmarkConvL2IGrad(b *testing.B) { benchConvOp(b, 2, "igrad") }
func BenchmarkConvL2WGrad(b *testing.B) { benchConvOp(b, 2, "wgrad") }
