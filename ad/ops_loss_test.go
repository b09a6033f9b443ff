package ad_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

func TestLossRulesMatchFiniteDifferences(t *testing.T) {
	g := tensor.NewRNG(3)
	labels := []int{2, 0, 3}
	for _, c := range []struct {
		name string
		f    ewFn
		xs   []*tensor.Tensor
	}{
		{"softmax_axis1", func(xs ...*ad.Var) *ad.Var { return ad.Softmax(xs[0], 1) }, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4)}},
		{"softmax_axis0", func(xs ...*ad.Var) *ad.Var { return ad.Softmax(xs[0], 0) }, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4)}},
		{"softmax_3d", func(xs ...*ad.Var) *ad.Var { return ad.Softmax(xs[0], -2) }, []*tensor.Tensor{g.Normal(tensor.Float64, 2, 3, 2)}},
		{"log_softmax_axis1", func(xs ...*ad.Var) *ad.Var { return ad.LogSoftmax(xs[0], -1) }, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4)}},
		{"log_softmax_axis0", func(xs ...*ad.Var) *ad.Var { return ad.LogSoftmax(xs[0], 0) }, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4)}},
		{"cross_entropy", func(xs ...*ad.Var) *ad.Var { return ad.CrossEntropy(xs[0], labels) }, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4)}},
		{"mse", func(xs ...*ad.Var) *ad.Var { return ad.MSE(xs[0], xs[1]) }, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4), g.Normal(tensor.Float64, 3, 4)}},
		{"mse_broadcast", func(xs ...*ad.Var) *ad.Var { return ad.MSE(xs[0], xs[1]) }, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 1), g.Normal(tensor.Float64, 4)}},
		// second-order rules: the gradient of the loss is itself checked
		{"grad_cross_entropy", func(xs ...*ad.Var) *ad.Var {
			gs, err := ad.Grad(func(zs ...*ad.Var) *ad.Var { return ad.CrossEntropy(zs[0], labels) }, xs, nil)
			if err != nil {
				panic(err)
			}
			return gs[0]
		}, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4)}},
		{"grad_log_softmax", func(xs ...*ad.Var) *ad.Var {
			w := tensor.FromFloat64s(tensor.Float64, []float64{1, -2, 0.5, 3}, 4)
			gs, err := ad.Grad(func(zs ...*ad.Var) *ad.Var {
				return ad.Sum(ad.Mul(ad.LogSoftmax(zs[0], 1), ad.Const(w)), nil, false)
			}, xs, nil)
			if err != nil {
				panic(err)
			}
			return gs[0]
		}, []*tensor.Tensor{g.Normal(tensor.Float64, 3, 4)}},
	} {
		t.Run(c.name, func(t *testing.T) { ewCheckRules(t, c.name, c.f, c.xs, nil) })
	}
}

func TestSoftmaxClosedForms(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{0.3, -1.2, 2.0, 0.5, 0.5, 0.5, 7, -3, 1}, 3, 3)
	y := ad.Softmax(ad.Const(x), 1).Value()
	for r := range 3 {
		s := 0.0
		for c := range 3 {
			s += y.At(r, c)
			den := 0.0
			for k := range 3 {
				den += math.Exp(x.At(r, k))
			}
			if want := math.Exp(x.At(r, c)) / den; !ewClose(y.At(r, c), want, 1e-15) {
				t.Errorf("softmax[%d,%d] = %v, want %v", r, c, y.At(r, c), want)
			}
		}
		if math.Abs(s-1) > 1e-15 {
			t.Errorf("softmax row %d sums to %v", r, s)
		}
	}
	// the Jacobian of one row is diag(y) − y yᵀ, in both modes
	row := tensor.FromFloat64s(tensor.Float64, []float64{0.3, -1.2, 2.0, 0.1})
	yr := ad.Softmax(ad.Const(row), 0).Value()
	for _, mode := range []ad.JacobianMode{ad.Reverse, ad.ForwardMode} {
		j, err := ad.Jacobian(func(x *ad.Var) *ad.Var { return ad.Softmax(x, 0) }, ad.Const(row), mode, nil)
		if err != nil {
			t.Fatal(err)
		}
		ewExpect(t, "softmax Jacobian", j.Value(), func(k int) float64 {
			i, l := k/4, k%4
			v := -yr.AtFlat(i) * yr.AtFlat(l)
			if i == l {
				v += yr.AtFlat(i)
			}
			return v
		}, 1e-14)
	}
}

func TestLogSoftmaxStable(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float64, []float64{1000, 0, -1000, 1000, 1000, 1000}, 2, 3)
	y := ad.LogSoftmax(ad.Const(x), 1).Value()
	ln3 := math.Log(3)
	ewExpect(t, "log_softmax", y, func(i int) float64 { return []float64{0, -1000, -2000, -ln3, -ln3, -ln3}[i] }, 1e-15)
	sm := ad.Softmax(ad.Const(x), 1).Value()
	ewExpect(t, "softmax", sm, func(i int) float64 { return []float64{1, 0, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3}[i] }, 1e-15)
	// gradient of Σ w·log_softmax: w − softmax·Σw, finite at large logits
	w := tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3, 1, 0, 0}, 2, 3)
	gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var {
		return ad.Sum(ad.Mul(ad.LogSoftmax(xs[0], 1), ad.Const(w)), nil, false)
	}, []*ad.Var{ad.Const(x)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "log_softmax grad", gs[0].Value(), func(i int) float64 {
		return []float64{1 - 6, 2, 3, 1 - 1.0/3, -1.0 / 3, -1.0 / 3}[i]
	}, 1e-14)
	// cross-entropy at huge logits is finite
	ce := ad.CrossEntropy(ad.Const(x), []int{2, 0})
	if want := (2000 + ln3) / 2; !ewClose(ce.Item(), want, 1e-15) {
		t.Errorf("cross-entropy = %v, want %v", ce.Item(), want)
	}
	// a row of −Inf except one entry
	xi := tensor.FromFloat64s(tensor.Float64, []float64{math.Inf(-1), 2, math.Inf(-1)}, 3)
	ewExpect(t, "softmax with −Inf", ad.Softmax(ad.Const(xi), 0).Value(), func(i int) float64 { return []float64{0, 1, 0}[i] }, 0)
}

func TestCrossEntropyGradient(t *testing.T) {
	g := tensor.NewRNG(4)
	logits := g.Normal(tensor.Float64, 5, 3)
	labels := []int{0, 2, 1, 1, 0}
	ce := ad.CrossEntropy(ad.Const(logits), labels)
	sm := ad.Softmax(ad.Const(logits), 1).Value()
	want := 0.0
	for n, l := range labels {
		want -= math.Log(sm.At(n, l))
	}
	want /= 5
	if !ewClose(ce.Item(), want, 1e-14) || len(ce.Shape()) != 0 {
		t.Errorf("cross-entropy = %v (shape %v), want scalar %v", ce.Item(), ce.Shape(), want)
	}
	f := func(xs ...*ad.Var) *ad.Var { return ad.CrossEntropy(xs[0], labels) }
	gs, err := ad.Grad(f, []*ad.Var{ad.Const(logits)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "cross-entropy grad", gs[0].Value(), func(i int) float64 {
		n, c := i/3, i%3
		v := sm.At(n, c)
		if labels[n] == c {
			v--
		}
		return v / 5
	}, 1e-14)
	// Hessian-vector product: ∇²CE·v = (1/N)·(diag(p) − ppᵀ)·v per row
	v := g.Normal(tensor.Float64, 5, 3)
	hv, err := ad.HVP(f, []*ad.Var{ad.Const(logits)}, []*ad.Var{ad.Const(v)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "cross-entropy HVP", hv[0].Value(), func(i int) float64 {
		n, c := i/3, i%3
		pv := 0.0
		for k := range 3 {
			pv += sm.At(n, k) * v.At(n, k)
		}
		return sm.At(n, c) * (v.At(n, c) - pv) / 5
	}, 1e-13)
}

func TestMSE(t *testing.T) {
	a := tensor.FromFloat64s(tensor.Float64, []float64{1, 2, 3, 4}, 2, 2)
	b := tensor.FromFloat64s(tensor.Float64, []float64{0, 4}, 2)
	m := ad.MSE(ad.Const(a), ad.Const(b))
	// differences 1, −2, 3, 0
	if m.Item() != 14.0/4 || len(m.Shape()) != 0 {
		t.Errorf("MSE = %v (shape %v), want scalar 3.5", m.Item(), m.Shape())
	}
	gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.MSE(xs[0], xs[1]) }, []*ad.Var{ad.Const(a), ad.Const(b)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "MSE ā", gs[0].Value(), func(i int) float64 { return []float64{0.5, -1, 1.5, 0}[i] }, 1e-15)
	ewExpect(t, "MSE b̄", gs[1].Value(), func(i int) float64 { return []float64{-2, 1}[i] }, 1e-15)
	// second order: the Hessian in a is (2/n)·I
	hv, err := ad.HVP(func(xs ...*ad.Var) *ad.Var { return ad.MSE(xs[0], ad.Const(b)) }, []*ad.Var{ad.Const(a)}, []*ad.Var{ad.Const(a)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ewExpect(t, "MSE HVP", hv[0].Value(), func(i int) float64 { return 0.5 * a.AtFlat(i) }, 1e-15)
}

func TestLossLowPrecision(t *testing.T) {
	for _, d := range []tensor.DType{tensor.Float32, tensor.Float16, tensor.BFloat16} {
		x := tensor.FromFloat64s(d, []float64{8, 0, -8, 1, 2, 3}, 2, 3)
		y := ad.LogSoftmax(ad.Const(x), 1)
		if y.DType() != d || y.Value().HasNaNInf() {
			t.Errorf("%v: log_softmax %v", d, y.Value())
		}
		ce := ad.CrossEntropy(ad.Const(x), []int{0, 2})
		want := (-math.Log(1/(1+math.Exp(-8)+math.Exp(-16))) + -math.Log(math.Exp(3)/(math.Exp(1)+math.Exp(2)+math.Exp(3)))) / 2
		if ce.DType() != d || !ewClose(ce.Item(), want, 4*d.Eps()) {
			t.Errorf("%v: cross-entropy %v, want %v", d, ce.Item(), want)
		}
		gs, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.CrossEntropy(xs[0], []int{0, 2}) }, []*ad.Var{ad.Const(x)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if gs[0].DType() != d || gs[0].Value().HasNaNInf() {
			t.Errorf("%v: cross-entropy gradient %v", d, gs[0].Value())
		}
		// the sum 2·200² overflows float16, but MSE accumulates in float32
		a := tensor.FromFloat64s(d, []float64{200, -200}, 2)
		if m := ad.MSE(ad.Const(a), ad.Const(tensor.ZerosLike(a))); !ewClose(m.Item(), 40000, 4*d.Eps()) {
			t.Errorf("%v: MSE = %v, want 40000", d, m.Item())
		}
	}
}

func TestLossPanics(t *testing.T) {
	x := ad.Const(tensor.Zeros(tensor.Float64, 2, 3))
	for _, c := range []struct {
		name, msg string
		f         func()
	}{
		{"label_range", "ad.CrossEntropy: label 3 of row 1", func() { ad.CrossEntropy(x, []int{0, 3}) }},
		{"label_negative", "ad.CrossEntropy: label -1", func() { ad.CrossEntropy(x, []int{-1, 0}) }},
		{"label_count", "ad.CrossEntropy: 3 labels", func() { ad.CrossEntropy(x, []int{0, 1, 2}) }},
		{"logits_rank", "ad.CrossEntropy: logits shape", func() { ad.CrossEntropy(ad.Const(tensor.Zeros(tensor.Float64, 3)), []int{0}) }},
		{"softmax_axis", "ad.Softmax: axis 2", func() { ad.Softmax(x, 2) }},
		{"log_softmax_axis", "ad.LogSoftmax: axis -3", func() { ad.LogSoftmax(x, -3) }},
		{"mse_shapes", "ad.MSE", func() { ad.MSE(x, ad.Const(tensor.Zeros(tensor.Float64, 2))) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.Contains(s, c.msg) {
					t.Errorf("panic %v, want one containing %q", r, c.msg)
				}
			}()
			c.f()
		})
	}
}

// The gradient of the mean cross-entropy in the logits is
// (softmax − onehot)/N.
func ExampleCrossEntropy() {
	logits := tensor.FromFloat64s(tensor.Float64, []float64{0, 0, math.Log(2), 5, 5, 5}, 2, 3)
	labels := []int{2, 0}
	loss, g, _ := ad.ValueAndGrad(func(xs ...*ad.Var) *ad.Var { return ad.CrossEntropy(xs[0], labels) },
		[]*ad.Var{ad.Const(logits)}, nil)
	fmt.Printf("loss %.4f\n", loss.Item())
	fmt.Printf("grad %.4f\n", g[0].Value().Float64s())
	// Output:
	// loss 0.8959
	// grad [0.1250 0.1250 -0.2500 -0.3333 0.1667 0.1667]
}
