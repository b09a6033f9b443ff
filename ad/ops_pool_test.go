package ad_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// distinct returns values of shape that are pairwise at least 0.1 apart.
func distinct(g *tensor.RNG, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float64, shape...)
	for i, p := range g.Perm(t.Size()) {
		t.SetFlat(i, 0.1*float64(p)-1+0.02*g.Float64())
	}
	return t
}

// directPool computes pooling by definition (max with −Inf padding, or the
// mean with the padding counted).
func directPool(x *tensor.Tensor, o ad.Pool2dOptions, isMax bool) *tensor.Tensor {
	s := x.Shape()
	for i := range 2 {
		if o.Stride[i] == 0 {
			o.Stride[i] = o.Kernel[i]
		}
	}
	oh := (s[2]+2*o.Padding[0]-o.Kernel[0])/o.Stride[0] + 1
	ow := (s[3]+2*o.Padding[1]-o.Kernel[1])/o.Stride[1] + 1
	out := tensor.Zeros(tensor.Float64, s[0], s[1], oh, ow)
	for n := 0; n < s[0]; n++ {
		for c := 0; c < s[1]; c++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					m, sum := math.Inf(-1), 0.0
					for a := 0; a < o.Kernel[0]; a++ {
						for b := 0; b < o.Kernel[1]; b++ {
							y, z := i*o.Stride[0]-o.Padding[0]+a, j*o.Stride[1]-o.Padding[1]+b
							if y < 0 || y >= s[2] || z < 0 || z >= s[3] {
								continue
							}
							v := x.At(n, c, y, z)
							m, sum = math.Max(m, v), sum+v
						}
					}
					if isMax {
						out.Set(m, n, c, i, j)
					} else {
						out.Set(sum/float64(o.Kernel[0]*o.Kernel[1]), n, c, i, j)
					}
				}
			}
		}
	}
	return out
}

var poolCases = []struct {
	name string
	xs   []int
	opt  ad.Pool2dOptions
}{
	{"k2", []int{2, 3, 4, 6}, ad.Pool2dOptions{Kernel: [2]int{2, 2}}},
	{"k3_s2_p1", []int{1, 2, 5, 6}, ad.Pool2dOptions{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}},
	{"k2x3_s1", []int{2, 1, 4, 5}, ad.Pool2dOptions{Kernel: [2]int{2, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 0}}},
	{"odd_size", []int{1, 2, 5, 5}, ad.Pool2dOptions{Kernel: [2]int{2, 2}}},
}

func TestPoolValues(t *testing.T) {
	g := tensor.NewRNG(21)
	for _, c := range poolCases {
		for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16} {
			x := g.Normal(d, c.xs...)
			x64 := x.AsType(tensor.Float64)
			tol := map[tensor.DType]float64{tensor.Float64: 1e-14, tensor.Float32: 1e-6, tensor.Float16: 2e-3}[d]
			assertClose(t, fmt.Sprintf("max %s %v", c.name, d), ad.MaxPool2d(ad.Const(x), c.opt).Value(), directPool(x64, c.opt, true), tol)
			assertClose(t, fmt.Sprintf("avg %s %v", c.name, d), ad.AvgPool2d(ad.Const(x), c.opt).Value(), directPool(x64, c.opt, false), tol)
		}
	}
}

func TestPoolDerivatives(t *testing.T) {
	g := tensor.NewRNG(22)
	for _, c := range poolCases {
		x := distinct(g, c.xs...)
		for _, tie := range []ad.TieRule{ad.TieDefault, ad.TieLast, ad.TieSplit} {
			o := &check.Options{Name: "max_pool2d " + c.name, Policy: ad.Policy{PoolTie: tie}}
			f := func(v ...*ad.Var) *ad.Var { return ad.MaxPool2d(v[0], c.opt) }
			if err := check.All(f, []*tensor.Tensor{x}, o); err != nil {
				t.Error(err)
			}
		}
		f := func(v ...*ad.Var) *ad.Var { return ad.AvgPool2d(v[0], c.opt) }
		if err := check.All(f, []*tensor.Tensor{g.Normal(tensor.Float64, c.xs...)}, &check.Options{Name: "avg_pool2d " + c.name}); err != nil {
			t.Error(err)
		}
		// curvature through the pooling: square of the pooled values
		fs := func(v ...*ad.Var) *ad.Var { return ad.Square(ad.MaxPool2d(ad.Tanh(v[0]), c.opt)) }
		if err := check.All(fs, []*tensor.Tensor{x}, &check.Options{Name: "max_pool2d∘tanh " + c.name}); err != nil {
			t.Error(err)
		}
	}
}

// TestMaxPoolTies builds windows with exact ties and compares the
// derivatives of each PoolTie rule with routing worked out by hand.
func TestMaxPoolTies(t *testing.T) {
	// two rows of a 2×6 image, pooled by 2×2 windows with stride 2:
	// window 0 holds 1 3 / 3 2 (tie of 3 at flat 1 and 6), window 1 holds
	// 3 0 / 5 5 (tie of 5 at flat 8 and 9), window 2 holds 7 1 / 0 2 (7 at
	// flat 4, no tie).
	x := tensor.FromFloat64s(tensor.Float64, []float64{1, 3, 3, 0, 7, 1, 3, 2, 5, 5, 0, 2}, 1, 1, 2, 6)
	opt := ad.Pool2dOptions{Kernel: [2]int{2, 2}}
	gy := tensor.FromFloat64s(tensor.Float64, []float64{10, 100, 1000}, 1, 1, 1, 3)
	v := tensor.Arange(tensor.Float64, 0, 12, 1).Reshape(1, 1, 2, 6)
	for _, c := range []struct {
		tie  ad.TieRule
		grad map[int]float64 // nonzero entries of Jᵀ·gy
		jvp  []float64       // J·v with v = 0, 1, …, 11
	}{
		{ad.TieDefault, map[int]float64{1: 10, 8: 100, 4: 1000}, []float64{1, 8, 4}},
		{ad.TieFirst, map[int]float64{1: 10, 8: 100, 4: 1000}, []float64{1, 8, 4}},
		{ad.TieLast, map[int]float64{6: 10, 9: 100, 4: 1000}, []float64{6, 9, 4}},
		{ad.TieSplit, map[int]float64{1: 5, 6: 5, 8: 50, 9: 50, 4: 1000}, []float64{3.5, 8.5, 4}},
	} {
		for _, d := range []tensor.DType{tensor.Float64, tensor.Float32} {
			name := fmt.Sprintf("%v %v", c.tie, d)
			var st ad.Stats
			o := &ad.Options{Policy: ad.Policy{PoolTie: c.tie}, Stats: &st}
			f := func(xs ...*ad.Var) *ad.Var { return ad.MaxPool2d(xs[0], opt) }
			y, gs, err := ad.VJP(f, []*ad.Var{ad.Const(x.AsType(d))}, ad.Const(gy.AsType(d)), o)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, name+" value", y.Value(), tensor.FromFloat64s(tensor.Float64, []float64{3, 5, 7}, 1, 1, 1, 3), 0)
			want := tensor.Zeros(tensor.Float64, 1, 1, 2, 6)
			for i, w := range c.grad {
				want.SetFlat(i, w)
			}
			assertClose(t, name+" VJP", gs[0].Value(), want, 0)
			if st.Kinks["max_pool2d"] != 2 {
				t.Errorf("%s: %d kinks counted, want 2", name, st.Kinks["max_pool2d"])
			}
			_, tan, err := ad.JVP(f, []*ad.Var{ad.Const(x.AsType(d))}, []*ad.Var{ad.Const(v.AsType(d))}, o)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, name+" JVP", tan.Value(), tensor.FromFloat64s(tensor.Float64, c.jvp, 1, 1, 1, 3), 0)
			// second order: the derivative of the routed cotangent is zero,
			// and grad of grad runs through the scatter/gather pair
			h, err := ad.HVP(func(xs ...*ad.Var) *ad.Var {
				return ad.Sum(ad.Mul(ad.Const(gy.AsType(d)), ad.Square(ad.MaxPool2d(xs[0], opt))), nil, false)
			}, []*ad.Var{ad.Const(x.AsType(d))}, []*ad.Var{ad.Const(v.AsType(d))}, o)
			if err != nil {
				t.Fatal(err)
			}
			// H·v = 2·Jᵀ(gy ⊙ J·v)
			wantH := tensor.Zeros(tensor.Float64, 1, 1, 2, 6)
			for i, w := range c.grad {
				win := map[int]int{1: 0, 6: 0, 8: 1, 9: 1, 4: 2}[i]
				wantH.SetFlat(i, 2*w*c.jvp[win])
			}
			assertClose(t, name+" HVP", h[0].Value(), wantH, 1e-6)
		}
	}
}

// A NaN wins its window and its derivative is routed to it.
func TestMaxPoolNaN(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{1, math.NaN(), 2, 3}, 1, 1, 2, 2)
	opt := ad.Pool2dOptions{Kernel: [2]int{2, 2}}
	gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.Sum(ad.MaxPool2d(xs[0], opt), nil, false) }, []*ad.Var{ad.Const(x)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if y := ad.MaxPool2d(ad.Const(x), opt).Value().AtFlat(0); !math.IsNaN(y) {
		t.Errorf("max of a window with NaN is %v", y)
	}
	if g := gs[0].Value(); g.AtFlat(1) != 1 || g.AtFlat(3) != 0 {
		t.Errorf("gradient %v, want the NaN's element", g)
	}
}

func TestPoolPanics(t *testing.T) {
	x := ad.Const(tensor.Zeros(tensor.Float32, 1, 1, 4, 4))
	for name, f := range map[string]func(){
		"big padding": func() { ad.MaxPool2d(x, ad.Pool2dOptions{Kernel: [2]int{2, 2}, Padding: [2]int{2, 0}}) },
		"zero kernel": func() { ad.AvgPool2d(x, ad.Pool2dOptions{}) },
		"too big":     func() { ad.MaxPool2d(x, ad.Pool2dOptions{Kernel: [2]int{5, 5}}) },
		"rank": func() {
			ad.MaxPool2d(ad.Const(tensor.Zeros(tensor.Float32, 4, 4)), ad.Pool2dOptions{Kernel: [2]int{2, 2}})
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
