package ad_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/tensor"
)

// directConv2d is the definition of the convolution as seven nested loops,
// in float64.
func directConv2d(x, w *tensor.Tensor, o ad.Conv2dOptions) *tensor.Tensor {
	for i := 0; i < 2; i++ {
		if o.Stride[i] == 0 {
			o.Stride[i] = 1
		}
		if o.Dilation[i] == 0 {
			o.Dilation[i] = 1
		}
	}
	xs, ws := x.Shape(), w.Shape()
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	oc, kh, kw := ws[0], ws[2], ws[3]
	oh := (h+2*o.Padding[0]-o.Dilation[0]*(kh-1)-1)/o.Stride[0] + 1
	ow := (wd+2*o.Padding[1]-o.Dilation[1]*(kw-1)-1)/o.Stride[1] + 1
	out := tensor.Zeros(tensor.Float64, n, oc, oh, ow)
	for b := 0; b < n; b++ {
		for k := 0; k < oc; k++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					s := 0.0
					for ch := 0; ch < c; ch++ {
						for a := 0; a < kh; a++ {
							for e := 0; e < kw; e++ {
								y := i*o.Stride[0] - o.Padding[0] + a*o.Dilation[0]
								z := j*o.Stride[1] - o.Padding[1] + e*o.Dilation[1]
								if y < 0 || y >= h || z < 0 || z >= wd {
									continue
								}
								s += w.At(k, ch, a, e) * x.At(b, ch, y, z)
							}
						}
					}
					out.Set(s, b, k, i, j)
				}
			}
		}
	}
	return out
}

var convCases = []struct {
	name   string
	xs, ws []int
	opt    ad.Conv2dOptions
}{
	{"plain", []int{2, 3, 6, 5}, []int{4, 3, 3, 3}, ad.Conv2dOptions{}},
	{"stride2_pad1_dil2", []int{2, 2, 7, 8}, []int{3, 2, 3, 3}, ad.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, Dilation: [2]int{2, 2}}},
	{"mixed", []int{1, 2, 9, 6}, []int{2, 2, 2, 3}, ad.Conv2dOptions{Stride: [2]int{3, 1}, Padding: [2]int{2, 0}, Dilation: [2]int{1, 2}}},
	{"1x1_stride2", []int{3, 4, 5, 5}, []int{2, 4, 1, 1}, ad.Conv2dOptions{Stride: [2]int{2, 2}}},
	{"pad_exceeds", []int{1, 1, 2, 2}, []int{1, 1, 3, 3}, ad.Conv2dOptions{Padding: [2]int{2, 2}, Stride: [2]int{2, 1}}},
	// 19 samples of 10 output positions
	{"batch19", []int{19, 2, 4, 3}, []int{3, 2, 2, 2}, ad.Conv2dOptions{Padding: [2]int{1, 0}}},
	// 324 output positions per sample
	{"large_image", []int{3, 1, 20, 20}, []int{2, 1, 3, 3}, ad.Conv2dOptions{}},
	// 37 samples: eight weight-gradient groups of four or five samples
	{"chunks", []int{37, 2, 6, 6}, []int{3, 2, 3, 3}, ad.Conv2dOptions{Padding: [2]int{1, 1}}},
}

func TestConv2dMatchesDirectLoops(t *testing.T) {
	g := tensor.NewRNG(11)
	for _, c := range convCases {
		for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.BFloat16} {
			x, w := g.Normal(d, c.xs...), g.Normal(d, c.ws...)
			want := directConv2d(x.AsType(tensor.Float64), w.AsType(tensor.Float64), c.opt)
			got := ad.Conv2d(ad.Const(x), ad.Const(w), c.opt).Value()
			if got.DType() != d {
				t.Fatalf("%s %v: dtype %v", c.name, d, got.DType())
			}
			tol := map[tensor.DType]float64{tensor.Float64: 1e-12, tensor.Float32: 1e-5, tensor.BFloat16: 3e-2}[d]
			assertClose(t, fmt.Sprintf("%s %v", c.name, d), got, want, tol)
			b := g.Normal(d, c.ws[0])
			wantB := tensor.Add(want, b.AsType(tensor.Float64).Reshape(1, -1, 1, 1))
			gotB := ad.Conv2dBias(ad.Const(x), ad.Const(w), ad.Const(b), c.opt).Value()
			assertClose(t, fmt.Sprintf("%s %v with bias", c.name, d), gotB, wantB, tol)
		}
	}
}

// assertClose compares got with want elementwise, relative to max(1, |want|).
func assertClose(t *testing.T, name string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
	}
	for i := 0; i < want.Size(); i++ {
		a, b := got.AtFlat(i), want.AtFlat(i)
		if math.Abs(a-b) > tol*math.Max(1, math.Abs(b)) {
			t.Fatalf("%s: element %d is %v, want %v", name, i, a, b)
		}
	}
}

func TestConv2dDerivatives(t *testing.T) {
	g := tensor.NewRNG(12)
	for _, c := range convCases {
		x, w := g.Normal(tensor.Float64, c.xs...), g.Normal(tensor.Float64, c.ws...)
		f := func(v ...*ad.Var) *ad.Var { return ad.Conv2d(v[0], v[1], c.opt) }
		if err := check.All(f, []*tensor.Tensor{x, w}, &check.Options{Name: "conv2d " + c.name}); err != nil {
			t.Error(err)
		}
		b := g.Normal(tensor.Float64, c.ws[0])
		fb := func(v ...*ad.Var) *ad.Var { return ad.Conv2dBias(v[0], v[1], v[2], c.opt) }
		if err := check.All(fb, []*tensor.Tensor{x, w, b}, &check.Options{Name: "conv2d+bias " + c.name}); err != nil {
			t.Error(err)
		}
		// the two derivative primitives on their own
		y := ad.Conv2d(ad.Const(x), ad.Const(w), c.opt).Value()
		gy := g.Normal(tensor.Float64, y.Shape()...)
		fi := func(v ...*ad.Var) *ad.Var { return ad.Conv2dInputGrad(v[0], v[1], c.xs, c.opt) }
		if err := check.All(fi, []*tensor.Tensor{gy, w}, &check.Options{Name: "conv2d_input_grad " + c.name}); err != nil {
			t.Error(err)
		}
		fw := func(v ...*ad.Var) *ad.Var { return ad.Conv2dWeightGrad(v[0], v[1], c.ws, c.opt) }
		if err := check.All(fw, []*tensor.Tensor{x, gy}, &check.Options{Name: "conv2d_weight_grad " + c.name}); err != nil {
			t.Error(err)
		}
	}
}

// A nonlinear function of a convolution checks the second-order rules with
// nonzero curvature.
func TestConv2dSecondOrderComposite(t *testing.T) {
	g := tensor.NewRNG(13)
	c := convCases[1]
	x, w := g.Normal(tensor.Float64, c.xs...), g.Normal(tensor.Float64, c.ws...)
	f := func(v ...*ad.Var) *ad.Var {
		y := ad.Conv2d(v[0], v[1], c.opt)
		return ad.Sum(ad.Tanh(y), nil, false)
	}
	if err := check.SecondOrder(f, []*tensor.Tensor{x, w}, &check.Options{Name: "tanh∘conv2d", Atol: 1e-7}); err != nil {
		t.Error(err)
	}
}

// The adjoint identities hold exactly (up to rounding) in float32 too.
func TestConv2dAdjointIdentities(t *testing.T) {
	g := tensor.NewRNG(14)
	for _, c := range convCases {
		for _, d := range []tensor.DType{tensor.Float64, tensor.Float32} {
			x, w := g.Normal(d, c.xs...), g.Normal(d, c.ws...)
			y := ad.Conv2d(ad.Const(x), ad.Const(w), c.opt).Value()
			gy := g.Normal(d, y.Shape()...)
			ix := ad.Conv2dInputGrad(ad.Const(gy), ad.Const(w), c.xs, c.opt).Value()
			wg := ad.Conv2dWeightGrad(ad.Const(x), ad.Const(gy), c.ws, c.opt).Value()
			dot := func(a, b *tensor.Tensor) float64 { return tensor.Sum(tensor.Mul(a, b), nil, false).Item() }
			a, b, e := dot(y, gy), dot(x, ix), dot(w, wg)
			tol := 1e-10
			if d == tensor.Float32 {
				tol = 1e-4
			}
			if math.Abs(a-b) > tol*(1+math.Abs(a)) || math.Abs(a-e) > tol*(1+math.Abs(a)) {
				t.Errorf("%s %v: ⟨C(x,w),g⟩ = %v, ⟨x,I(g,w)⟩ = %v, ⟨w,W(x,g)⟩ = %v", c.name, d, a, b, e)
			}
		}
	}
}

// Gradients through a tape reuse the forward columns; a second backward
// pass (which must rebuild them) gives the same result.
func TestConv2dBackwardTwice(t *testing.T) {
	g := tensor.NewRNG(15)
	c := convCases[1]
	x, w := g.Normal(tensor.Float32, c.xs...), g.Normal(tensor.Float32, c.ws...)
	tape, _ := ad.NewTape(nil)
	wv := tape.WatchTensor(w)
	y := ad.Sum(ad.Square(ad.Conv2d(ad.Const(x), wv, c.opt)), nil, false)
	g1, err := tape.Backward(y, nil, wv)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := tape.Backward(y, nil, wv)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "second backward", g2[0].Value(), g1[0].Value().AsType(tensor.Float64), 0)
}

func TestConv2dPanics(t *testing.T) {
	x := ad.Const(tensor.Zeros(tensor.Float32, 1, 2, 4, 4))
	for name, f := range map[string]func(){
		"channels": func() { ad.Conv2d(x, ad.Const(tensor.Zeros(tensor.Float32, 3, 3, 3, 3)), ad.Conv2dOptions{}) },
		"too big":  func() { ad.Conv2d(x, ad.Const(tensor.Zeros(tensor.Float32, 3, 2, 5, 5)), ad.Conv2dOptions{}) },
		"rank": func() {
			ad.Conv2d(ad.Const(tensor.Zeros(tensor.Float32, 2, 4, 4)), ad.Const(tensor.Zeros(tensor.Float32, 3, 2, 3, 3)), ad.Conv2dOptions{})
		},
		"dtype": func() { ad.Conv2d(x, ad.Const(tensor.Zeros(tensor.Float64, 3, 2, 3, 3)), ad.Conv2dOptions{}) },
		"negative": func() {
			ad.Conv2d(x, ad.Const(tensor.Zeros(tensor.Float32, 3, 2, 3, 3)), ad.Conv2dOptions{Padding: [2]int{-1, 0}})
		},
		"cotangent": func() {
			ad.Conv2dInputGrad(x, ad.Const(tensor.Zeros(tensor.Float32, 2, 2, 3, 3)), []int{1, 2, 4, 4}, ad.Conv2dOptions{})
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// The three kernels give bit-identical results for any number of threads.
func TestConv2dThreadIndependent(t *testing.T) {
	g := tensor.NewRNG(16)
	c := convCases[len(convCases)-1]
	x, w := g.Normal(tensor.Float32, c.xs...), g.Normal(tensor.Float32, c.ws...)
	run := func(threads int) []*tensor.Tensor {
		defer kernels.SetThreads(kernels.SetThreads(threads))
		y := ad.Conv2d(ad.Const(x), ad.Const(w), c.opt).Value()
		ix := ad.Conv2dInputGrad(ad.Const(y), ad.Const(w), c.xs, c.opt).Value()
		wg := ad.Conv2dWeightGrad(ad.Const(x), ad.Const(y), c.ws, c.opt).Value()
		return []*tensor.Tensor{y, ix, wg}
	}
	one, two, three := run(1), run(2), run(3)
	for i := range one {
		assertClose(t, fmt.Sprintf("output %d, 2 threads", i), two[i], one[i].AsType(tensor.Float64), 0)
		assertClose(t, fmt.Sprintf("output %d, 3 threads", i), three[i], one[i].AsType(tensor.Float64), 0)
	}
}

// directConvGrads computes the input and weight gradients of the
// convolution for the cotangent gy by their definitions, in float64.
func directConvGrads(x, w, gy *tensor.Tensor) (dx, dw *tensor.Tensor) {
	xs, ws, gs := x.Shape(), w.Shape(), gy.Shape()
	dx, dw = tensor.Zeros(tensor.Float64, xs...), tensor.Zeros(tensor.Float64, ws...)
	for b := 0; b < xs[0]; b++ {
		for k := 0; k < ws[0]; k++ {
			for i := 0; i < gs[2]; i++ {
				for j := 0; j < gs[3]; j++ {
					v := gy.At(b, k, i, j)
					for ch := 0; ch < xs[1]; ch++ {
						for a := 0; a < ws[2]; a++ {
							for e := 0; e < ws[3]; e++ {
								dx.Set(dx.At(b, ch, i+a, j+e)+v*w.At(k, ch, a, e), b, ch, i+a, j+e)
								dw.Set(dw.At(k, ch, a, e)+v*x.At(b, ch, i+a, j+e), k, ch, a, e)
							}
						}
					}
				}
			}
		}
	}
	return dx, dw
}

// The three kernels at the CNN's geometries (3×3 kernels on 28×28 and
// 13×13 images: output rows of 26 and 11, k beyond one packed slice with
// 33 channels), with and without bias, in every dtype and thread count,
// against the definitions.
func TestConv2dCNNGeometries(t *testing.T) {
	g := tensor.NewRNG(17)
	for _, c := range []struct{ xs, ws []int }{
		{[]int{3, 1, 28, 28}, []int{5, 1, 3, 3}},
		{[]int{3, 33, 13, 13}, []int{7, 33, 3, 3}},
	} {
		x64, w64 := g.Normal(tensor.Float64, c.xs...), g.Normal(tensor.Float64, c.ws...)
		b64 := g.Normal(tensor.Float64, c.ws[0])
		y64 := directConv2d(x64, w64, ad.Conv2dOptions{})
		gy64 := g.Normal(tensor.Float64, y64.Shape()...)
		for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16} {
			x, w, b, gy := x64.AsType(d), w64.AsType(d), b64.AsType(d), gy64.AsType(d)
			xd, wd, bd, gyd := x.AsType(tensor.Float64), w.AsType(tensor.Float64), b.AsType(tensor.Float64), gy.AsType(tensor.Float64)
			want := directConv2d(xd, wd, ad.Conv2dOptions{})
			wantB := tensor.Add(want, bd.Reshape(1, -1, 1, 1))
			wantDx, wantDw := directConvGrads(xd, wd, gyd)
			// sums of up to 363 products of normal values
			tol := map[tensor.DType]float64{tensor.Float64: 1e-12, tensor.Float32: 1e-4, tensor.Float16: 3e-3}[d]
			var first []*tensor.Tensor
			for _, threads := range []int{1, 2, 3} {
				prev := kernels.SetThreads(threads)
				got := []*tensor.Tensor{
					ad.Conv2d(ad.Const(x), ad.Const(w), ad.Conv2dOptions{}).Value(),
					ad.Conv2dBias(ad.Const(x), ad.Const(w), ad.Const(b), ad.Conv2dOptions{}).Value(),
					ad.Conv2dInputGrad(ad.Const(gy), ad.Const(w), c.xs, ad.Conv2dOptions{}).Value(),
					ad.Conv2dWeightGrad(ad.Const(x), ad.Const(gy), c.ws, ad.Conv2dOptions{}).Value(),
				}
				kernels.SetThreads(prev)
				name := fmt.Sprintf("%v %v threads %d", c.xs, d, threads)
				for i, wt := range []*tensor.Tensor{want, wantB, wantDx, wantDw} {
					if got[i].DType() != d {
						t.Fatalf("%s output %d: dtype %v", name, i, got[i].DType())
					}
					assertClose(t, fmt.Sprintf("%s output %d", name, i), got[i], wt, tol)
				}
				// from a poisoned arena (lent memory full of NaN): every
				// element of the results is written
				tensor.PoisonArenas(true)
				ar := tensor.NewArena()
				xa, wa, ba, gya := x.In(ar), w.In(ar), b.In(ar), gy.In(ar)
				fromArena := []*tensor.Tensor{
					ad.Conv2d(ad.Const(xa), ad.Const(wa), ad.Conv2dOptions{}).Value(),
					ad.Conv2dBias(ad.Const(xa), ad.Const(wa), ad.Const(ba), ad.Conv2dOptions{}).Value(),
					ad.Conv2dInputGrad(ad.Const(gya), ad.Const(wa), c.xs, ad.Conv2dOptions{}).Value(),
					ad.Conv2dWeightGrad(ad.Const(xa), ad.Const(gya), c.ws, ad.Conv2dOptions{}).Value(),
				}
				for i := range got {
					for e := 0; e < got[i].Size(); e++ {
						if a, h := fromArena[i].AtFlat(e), got[i].AtFlat(e); math.Float64bits(a) != math.Float64bits(h) {
							t.Fatalf("%s output %d from an arena: element %d is %v, want %v", name, i, e, a, h)
						}
					}
				}
				ar.Release()
				tensor.PoisonArenas(false)
				if first == nil {
					first = got
					continue
				}
				for i := range got {
					assertClose(t, fmt.Sprintf("%s output %d against 1 thread", name, i), got[i], first[i].AsType(tensor.Float64), 0)
				}
			}
		}
	}
}
