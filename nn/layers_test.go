package nn_test

import (
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/tensor"
)

// layerFunc returns f(x, p₁, …, pₖ) = m.Forward(x) with the parameters of
// m bound to the Vars p (through Ctx.SetVar), and the point: x and the
// parameters' current values. newCtx makes the context of each evaluation.
func layerFunc(m nn.Module, x *tensor.Tensor, newCtx func() *nn.Ctx) (ad.Func, []*tensor.Tensor) {
	ps := m.Params()
	xs := append([]*tensor.Tensor{x}, nn.Tensors(ps)...)
	f := func(vs ...*ad.Var) *ad.Var {
		c := newCtx()
		for i, p := range ps {
			c.SetVar(p.Value, vs[i+1])
		}
		return m.Forward(c, vs[0])
	}
	return f, xs
}

func evalCtx() *nn.Ctx  { return nn.NewCtx(nn.Eval, nil) }
func trainCtx() *nn.Ctx { return nn.NewCtx(nn.Train, nil) }

// distinct returns values of shape that are pairwise at least 0.05 apart.
func distinct(g *tensor.RNG, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(tensor.Float64, shape...)
	for i, p := range g.Perm(t.Size()) {
		t.SetFlat(i, 0.05*float64(p)-1+0.01*g.Float64())
	}
	return t
}

// awayFromZero returns normal values at least 0.05 from 0 (for relu).
func awayFromZero(g *tensor.RNG, shape ...int) *tensor.Tensor {
	return tensor.Map(g.Normal(tensor.Float64, shape...), func(v float64) float64 {
		if v >= 0 {
			return v + 0.05
		}
		return v - 0.05
	})
}

// TestLayersCheck runs every layer through ad/check in float64: reverse
// and forward mode against finite differences, JVP against VJP and second
// order, with respect to the input and every parameter.
func TestLayersCheck(t *testing.T) {
	g := tensor.NewRNG(1)
	f64 := tensor.Float64
	bnTrained := func(bn *nn.BatchNorm) *nn.BatchNorm {
		// non-trivial running statistics and affine parameters
		bn.RunningMean.CopyFrom(g.Normal(f64, bn.RunningMean.Shape()...))
		bn.RunningVar.CopyFrom(g.Uniform(f64, 0.5, 2, bn.RunningVar.Shape()...))
		bn.Weight.CopyFrom(g.Uniform(f64, 0.5, 1.5, bn.Weight.Shape()...))
		bn.Bias.CopyFrom(g.Normal(f64, bn.Bias.Shape()...))
		return bn
	}
	ln := nn.NewLayerNorm(f64, 5)
	ln.Weight.CopyFrom(g.Uniform(f64, 0.5, 1.5, 5))
	ln.Bias.CopyFrom(g.Normal(f64, 5))
	dropRNG := func() *nn.Ctx { return nn.NewCtx(nn.Train, tensor.NewRNG(7)) }
	cases := []struct {
		name   string
		m      nn.Module
		x      *tensor.Tensor
		ctx    func() *nn.Ctx
		second bool // run the second-order checks too
	}{
		{"linear", nn.NewLinear(g, f64, 4, 3, true), g.Normal(f64, 2, 4), evalCtx, true},
		{"linear_3d_nobias", nn.NewLinear(g, f64, 4, 3, false), g.Normal(f64, 2, 3, 4), evalCtx, true},
		{"conv2d_s2_p1_d2", nn.NewConv2d(g, f64, 2, 3, 3, ad.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}, Dilation: [2]int{2, 2}}, true), g.Normal(f64, 2, 2, 7, 6), evalCtx, true},
		{"conv2d_plain", nn.NewConv2d(g, f64, 3, 2, 2, ad.Conv2dOptions{}, true), g.Normal(f64, 1, 3, 4, 5), evalCtx, true},
		{"maxpool2d", nn.NewMaxPool2d(2), distinct(g, 2, 2, 4, 5), evalCtx, true},
		{"maxpool2d_s1_p1", &nn.MaxPool2d{Opt: ad.Pool2dOptions{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}}}, distinct(g, 1, 2, 4, 4), evalCtx, true},
		{"avgpool2d", nn.NewAvgPool2d(2), g.Normal(f64, 2, 2, 4, 5), evalCtx, true},
		{"global_avgpool", nn.GlobalAvgPool{}, g.Normal(f64, 2, 3, 3, 2), evalCtx, true},
		{"flatten", nn.Flatten{}, g.Normal(f64, 2, 3, 2), evalCtx, true},
		{"batchnorm1d_train", bnTrained(nn.NewBatchNorm1d(f64, 3)), g.Normal(f64, 5, 3), trainCtx, true},
		{"batchnorm1d_train_3d", bnTrained(nn.NewBatchNorm1d(f64, 2)), g.Normal(f64, 3, 2, 4), trainCtx, true},
		{"batchnorm2d_train", bnTrained(nn.NewBatchNorm2d(f64, 3)), g.Normal(f64, 2, 3, 3, 2), trainCtx, true},
		{"batchnorm2d_eval", bnTrained(nn.NewBatchNorm2d(f64, 3)), g.Normal(f64, 2, 3, 3, 2), evalCtx, true},
		{"layernorm", ln, g.Normal(f64, 2, 3, 5), evalCtx, true},
		{"dropout_train", nn.Dropout{P: 0.4}, g.Normal(f64, 3, 5), dropRNG, true},
		{"dropout_eval", nn.Dropout{P: 0.4}, g.Normal(f64, 3, 5), evalCtx, true},
		{"relu", nn.ReLU{}, awayFromZero(g, 3, 4), evalCtx, true},
		{"gelu", nn.GELU{}, g.Normal(f64, 3, 4), evalCtx, true},
		{"tanh", nn.Tanh{}, g.Normal(f64, 3, 4), evalCtx, true},
		{"sigmoid", nn.Sigmoid{}, g.Normal(f64, 3, 4), evalCtx, true},
		{"attention", nn.NewCausalSelfAttention(g, f64, 6, 2), g.Normal(f64, 2, 4, 6), evalCtx, true},
		{"attention_1head", nn.NewCausalSelfAttention(g, f64, 4, 1), g.Normal(f64, 1, 3, 4), evalCtx, true},
		{"sequential_mlp", mustMLP(g, f64, nn.MLPConfig{Sizes: []int{4, 5, 3}, Activation: "tanh"}), g.Normal(f64, 3, 4), evalCtx, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, xs := layerFunc(c.m, c.x, c.ctx)
			o := &check.Options{Name: c.name, Seed: 3}
			if err := check.Gradient(f, xs, o); err != nil {
				t.Error(err)
			}
			if err := check.Forward(f, xs, o); err != nil {
				t.Error(err)
			}
			if err := check.JVPvsVJP(f, xs, o); err != nil {
				t.Error(err)
			}
			if c.second {
				o2 := *o
				o2.Atol = 1e-7 // finite differences of gradients
				if err := check.SecondOrder(f, xs, &o2); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// Embedding is checked with respect to its weight (ids are not
// differentiable).
func TestEmbeddingCheck(t *testing.T) {
	g := tensor.NewRNG(2)
	e := nn.NewEmbedding(g, tensor.Float64, 5, 3)
	ids := []int{1, 4, 1, 0, 2, 4}
	f := func(vs ...*ad.Var) *ad.Var {
		c := evalCtx()
		c.SetVar(e.Weight, vs[0])
		return ad.Tanh(e.Lookup(c, ids, 2, 3))
	}
	if err := check.All(f, []*tensor.Tensor{e.Weight}, &check.Options{Name: "embedding"}); err != nil {
		t.Error(err)
	}
	y := e.Forward(nil, ad.Const(tensor.FromFloat64s(tensor.Float32, []float64{1, 4, 1, 0, 2, 4}, 2, 3)))
	if s := y.Shape(); len(s) != 3 || s[0] != 2 || s[1] != 3 || s[2] != 3 {
		t.Fatalf("embedding shape %v", s)
	}
	for i, id := range ids {
		for j := 0; j < 3; j++ {
			if y.Value().AtFlat(i*3+j) != e.Weight.At(id, j) {
				t.Fatalf("row %d of the lookup is not row %d of the weight", i, id)
			}
		}
	}
}

func mustMLP(g *tensor.RNG, d tensor.DType, cfg nn.MLPConfig) *nn.Sequential {
	m, err := nn.NewMLP(g, d, cfg)
	if err != nil {
		panic(err)
	}
	return m
}
