package ad_test

import (
	"fmt"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/tensor"
)

// layerNormComposite is layer normalization from elementary primitives.
func layerNormComposite(x, w, b *ad.Var, eps float64) *ad.Var {
	ax := []int{len(x.Shape()) - 1}
	xc := ad.Sub(x, ad.Mean(x, ax, true))
	v := ad.Mean(ad.Mul(xc, xc), ax, true)
	return ad.Add(ad.Mul(ad.Mul(xc, ad.Rsqrt(ad.AddScalar(v, eps))), w), b)
}

func TestLayerNormValues(t *testing.T) {
	g := tensor.NewRNG(31)
	for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.BFloat16} {
		x, w, b := g.Normal(d, 3, 4, 7), g.Normal(d, 7), g.Normal(d, 7)
		got := ad.LayerNorm(ad.Const(x), ad.Const(w), ad.Const(b), 1e-5).Value()
		want := layerNormComposite(ad.Const(x.AsType(tensor.Float64)), ad.Const(w.AsType(tensor.Float64)), ad.Const(b.AsType(tensor.Float64)), 1e-5).Value()
		tol := map[tensor.DType]float64{tensor.Float64: 1e-13, tensor.Float32: 1e-5, tensor.BFloat16: 2e-2}[d]
		if got.DType() != d {
			t.Fatalf("%v: result dtype %v", d, got.DType())
		}
		assertClose(t, fmt.Sprint("layer norm ", d), got, want, tol)
	}
}

// Reverse, forward and second order against finite differences; the
// first-order checks run the fused kernels, the second-order ones the Var
// forms of the rules.
func TestLayerNormDerivatives(t *testing.T) {
	g := tensor.NewRNG(32)
	for _, shape := range [][]int{{5}, {3, 6}, {2, 3, 4}} {
		d := shape[len(shape)-1]
		xs := []*tensor.Tensor{g.Normal(tensor.Float64, shape...), g.Normal(tensor.Float64, d), g.Normal(tensor.Float64, d)}
		f := func(v ...*ad.Var) *ad.Var { return ad.LayerNorm(v[0], v[1], v[2], 1e-3) }
		if err := check.All(f, xs, &check.Options{Name: fmt.Sprint("layer_norm ", shape), Atol: 1e-7}); err != nil {
			t.Error(err)
		}
	}
}

// The fused first-order kernels agree with the Var forms of the rules and
// with the composite's derivatives, in float32 too.
func TestLayerNormRulesAgree(t *testing.T) {
	g := tensor.NewRNG(33)
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		x, w, b := g.Normal(dt, 4, 9), g.Normal(dt, 9), g.Normal(dt, 9)
		u := g.Normal(dt, 4, 9)
		tx, tw, tb := g.Normal(dt, 4, 9), g.Normal(dt, 9), g.Normal(dt, 9)
		in := []*ad.Var{ad.Const(x), ad.Const(w), ad.Const(b)}
		fused := func(v ...*ad.Var) *ad.Var { return ad.LayerNorm(v[0], v[1], v[2], 1e-5) }
		comp := func(v ...*ad.Var) *ad.Var { return layerNormComposite(v[0], v[1], v[2], 1e-5) }
		_, g1, err := ad.VJP(fused, in, ad.Const(u), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, g2, _ := ad.VJP(comp, in, ad.Const(u), nil)
		// the Var forms: the rules run under an outer trace
		var g3 []*ad.Var
		ad.JVP(func(z ...*ad.Var) *ad.Var {
			_, gs, err := ad.VJP(fused, z, ad.Const(u), nil)
			if err != nil {
				t.Fatal(err)
			}
			g3 = gs
			return gs[0]
		}, in, []*ad.Var{ad.Const(tx), ad.Const(tw), ad.Const(tb)}, nil)
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 2e-5
		}
		for i := range g1 {
			assertClose(t, fmt.Sprintf("%v VJP %d fused vs composite", dt, i), g1[i].Value(), g2[i].Value().AsType(tensor.Float64), tol)
			assertClose(t, fmt.Sprintf("%v VJP %d fused vs Var form", dt, i), g3[i].Value(), g1[i].Value().AsType(tensor.Float64), tol)
		}
		tv := []*ad.Var{ad.Const(tx), ad.Const(tw), ad.Const(tb)}
		_, j1, _ := ad.JVP(fused, in, tv, nil)
		_, j2, _ := ad.JVP(comp, in, tv, nil)
		assertClose(t, fmt.Sprintf("%v JVP fused vs composite", dt), j1.Value(), j2.Value().AsType(tensor.Float64), tol)
	}
}

// batchNormComposite is training-mode batch normalization from elementary
// primitives.
func batchNormComposite(x, w, b *ad.Var, eps float64) *ad.Var {
	ax := []int{0}
	bs := []int{1, x.Shape()[1]}
	for i := 2; i < len(x.Shape()); i++ {
		ax, bs = append(ax, i), append(bs, 1)
	}
	xc := ad.Sub(x, ad.Mean(x, ax, true))
	v := ad.Mean(ad.Mul(xc, xc), ax, true)
	y := ad.Mul(xc, ad.Rsqrt(ad.AddScalar(v, eps)))
	return ad.Add(ad.Mul(y, ad.Reshape(w, bs...)), ad.Reshape(b, bs...))
}

var bnShapes = [][]int{{5, 3}, {3, 2, 4}, {2, 3, 3, 2}}

func TestBatchNormValues(t *testing.T) {
	g := tensor.NewRNG(34)
	for _, shape := range bnShapes {
		for _, d := range []tensor.DType{tensor.Float64, tensor.Float32, tensor.Float16} {
			c := shape[1]
			x, w, b := g.Normal(d, shape...), g.Normal(d, c), g.Normal(d, c)
			y, mean, variance := ad.BatchNorm(ad.Const(x), ad.Const(w), ad.Const(b), 1e-5)
			x64 := x.AsType(tensor.Float64)
			want := batchNormComposite(ad.Const(x64), ad.Const(w.AsType(tensor.Float64)), ad.Const(b.AsType(tensor.Float64)), 1e-5).Value()
			tol := map[tensor.DType]float64{tensor.Float64: 1e-12, tensor.Float32: 1e-5, tensor.Float16: 5e-3}[d]
			name := fmt.Sprint("batch norm ", shape, " ", d)
			assertClose(t, name, y.Value(), want, tol)
			// statistics: the mean and the unbiased variance per channel
			ax := []int{0}
			for i := 2; i < len(shape); i++ {
				ax = append(ax, i)
			}
			n := float64(x.Size() / c)
			wantMean := tensor.Mean(x64, ax, false)
			xc := tensor.Sub(x64, tensor.Mean(x64, ax, true))
			wantVar := tensor.Scale(tensor.Sum(tensor.Mul(xc, xc), ax, false), 1/(n-1))
			assertClose(t, name+" mean", mean, wantMean, tol)
			assertClose(t, name+" variance", variance, wantVar, tol)
		}
	}
}

func TestBatchNormDerivatives(t *testing.T) {
	g := tensor.NewRNG(35)
	for _, shape := range bnShapes {
		c := shape[1]
		xs := []*tensor.Tensor{g.Normal(tensor.Float64, shape...), g.Normal(tensor.Float64, c), g.Normal(tensor.Float64, c)}
		f := func(v ...*ad.Var) *ad.Var { y, _, _ := ad.BatchNorm(v[0], v[1], v[2], 1e-3); return y }
		if err := check.All(f, xs, &check.Options{Name: fmt.Sprint("batch_norm ", shape), Atol: 1e-7}); err != nil {
			t.Error(err)
		}
	}
}

func TestBatchNormRulesAgree(t *testing.T) {
	g := tensor.NewRNG(36)
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		shape := []int{4, 3, 2, 5}
		x, w, b := g.Normal(dt, shape...), g.Normal(dt, 3), g.Normal(dt, 3)
		u, tx, tw, tb := g.Normal(dt, shape...), g.Normal(dt, shape...), g.Normal(dt, 3), g.Normal(dt, 3)
		in := []*ad.Var{ad.Const(x), ad.Const(w), ad.Const(b)}
		fused := func(v ...*ad.Var) *ad.Var { y, _, _ := ad.BatchNorm(v[0], v[1], v[2], 1e-5); return y }
		comp := func(v ...*ad.Var) *ad.Var { return batchNormComposite(v[0], v[1], v[2], 1e-5) }
		_, g1, err := ad.VJP(fused, in, ad.Const(u), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, g2, _ := ad.VJP(comp, in, ad.Const(u), nil)
		var g3 []*ad.Var
		tv := []*ad.Var{ad.Const(tx), ad.Const(tw), ad.Const(tb)}
		ad.JVP(func(z ...*ad.Var) *ad.Var {
			_, gs, err := ad.VJP(fused, z, ad.Const(u), nil)
			if err != nil {
				t.Fatal(err)
			}
			g3 = gs
			return gs[0]
		}, in, tv, nil)
		tol := 1e-12
		if dt == tensor.Float32 {
			tol = 5e-5
		}
		for i := range g1 {
			assertClose(t, fmt.Sprintf("%v VJP %d fused vs composite", dt, i), g1[i].Value(), g2[i].Value().AsType(tensor.Float64), tol)
			assertClose(t, fmt.Sprintf("%v VJP %d fused vs Var form", dt, i), g3[i].Value(), g1[i].Value().AsType(tensor.Float64), tol)
		}
		_, j1, _ := ad.JVP(fused, in, tv, nil)
		_, j2, _ := ad.JVP(comp, in, tv, nil)
		assertClose(t, fmt.Sprintf("%v JVP fused vs composite", dt), j1.Value(), j2.Value().AsType(tensor.Float64), tol)
	}
}
