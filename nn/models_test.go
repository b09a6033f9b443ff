package nn_test

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/ad/check"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/tensor"
)

func TestParameterCounts(t *testing.T) {
	g := tensor.NewRNG(3)
	f32 := tensor.Float32
	mlp := mustMLP(g, f32, nn.MLPConfig{In: 784, Width: 512, Depth: 2, Out: 10})
	cnn, _ := nn.NewCNN(g, f32, nn.CNNConfig{})
	vgg, _ := nn.NewVGG11(g, f32, nn.CIFARConfig{BatchNorm: true})
	vggNoBN, _ := nn.NewVGG11(g, f32, nn.CIFARConfig{})
	res, _ := nn.NewResNet18(g, f32, nn.CIFARConfig{BatchNorm: true})
	resNoBN, _ := nn.NewResNet18(g, f32, nn.CIFARConfig{})
	gpt, _ := nn.NewGPT(g, f32, nn.GPTConfig{Vocab: 65, Context: 64, Layers: 2, Heads: 4, Width: 64})
	for _, c := range []struct {
		name string
		m    nn.Module
		want int
	}{
		// 784·512 + 512 + 512·512 + 512 + 512·10 + 10
		{"mlp", mlp, 669706},
		// conv 32·1·9 + 32, conv 64·32·9 + 64, linear 1600·10 + 10
		{"cnn", cnn, 320 + 18496 + 16010},
		// convs (with bias) 3→64: 1,792; 64→128: 73,856; 128→256: 295,168;
		// 256→256: 590,080; 256→512: 1,180,160; 3 × 512→512: 3 × 2,359,808
		// = 9,220,480; batch norms 2·(64+128+256+256+4·512) = 5,504;
		// classifier 512·10 + 10 = 5,130.
		{"vgg11_bn", vgg, 9220480 + 5504 + 5130},
		{"vgg11", vggNoBN, 9220480 + 5130},
		// stem 64·3·9 + bn 128 = 1,856; layer1 2·(2·36,864 + 2·128) =
		// 147,968; layer2 (73,728 + 147,456 + 8,192 + 3·256) +
		// (2·147,456 + 2·256) = 525,568; layer3 (294,912 + 589,824 + 32,768
		// + 3·512) + (2·589,824 + 2·512) = 2,099,712; layer4 (1,179,648 +
		// 2,359,296 + 131,072 + 3·1,024) + (2·2,359,296 + 2·1,024) =
		// 8,393,728; linear 5,130: 11,173,962.
		{"resnet18_bn", res, 11173962},
		// without batch norm: the 2·(2+4+4+4·2)... convs get biases instead:
		// remove the 9,600 batch-norm scalars (bn1 128, layer1 512, layer2
		// 1,280 (with the shortcut's), layer3 2,560, layer4 5,120) and add
		// one bias per conv output channel: 64 + 4·64 + (3·128 + 2·128) +
		// (3·256 + 2·256) + (3·512 + 2·512) = 4,800.
		{"resnet18", resNoBN, 11173962 - 9600 + 4800},
		// wte 65·64 + wpe 64·64 + 2·(12·64² + 13·64) + ln_f 2·64 + head 65·64
		{"gpt", gpt, 65*64 + 64*64 + 2*(12*64*64+13*64) + 2*64 + 65*64},
	} {
		if n := nn.NumParams(c.m); n != c.want {
			t.Errorf("%s: %d parameters, want %d", c.name, n, c.want)
		}
	}
}

func TestModelOutputShapes(t *testing.T) {
	g := tensor.NewRNG(4)
	f32 := tensor.Float32
	img := ad.Const(g.Normal(f32, 2, 3, 32, 32))
	for _, c := range []struct {
		name string
		m    nn.Module
		x    *ad.Var
		want []int
	}{
		{"vgg11_bn", must(nn.NewVGG11(g, f32, nn.CIFARConfig{BatchNorm: true, Width: 0.25})), img, []int{2, 10}},
		{"vgg11", must(nn.NewVGG11(g, f32, nn.CIFARConfig{Width: 0.125, Classes: 7})), img, []int{2, 7}},
		{"resnet18_bn", must(nn.NewResNet18(g, f32, nn.CIFARConfig{BatchNorm: true, Width: 0.25})), img, []int{2, 10}},
		{"resnet18", must(nn.NewResNet18(g, f32, nn.CIFARConfig{Width: 0.125, Classes: 100})), img, []int{2, 100}},
		{"cnn", must(nn.NewCNN(g, f32, nn.CNNConfig{})), ad.Const(g.Normal(f32, 3, 1, 28, 28)), []int{3, 10}},
		{"cnn_cifar", must(nn.NewCNN(g, f32, nn.CNNConfig{In: 3, Size: 32})), img, []int{2, 10}},
		{"gpt", must(nn.NewGPT(g, f32, nn.GPTConfig{Vocab: 11, Context: 8, Layers: 2, Heads: 2, Width: 8})),
			ad.Const(tensor.FromFloat64s(f32, []float64{1, 2, 3, 4, 5, 10, 0, 0, 1, 2, 3, 4}, 2, 6)), []int{2, 6, 11}},
	} {
		for _, mode := range []nn.Mode{nn.Train, nn.Eval} {
			y := c.m.Forward(nn.NewCtx(mode, nil), c.x)
			if !slices.Equal(y.Shape(), c.want) {
				t.Errorf("%s (%v): output %v, want %v", c.name, mode, y.Shape(), c.want)
			}
			if y.Value().HasNaNInf() {
				t.Errorf("%s (%v): NaN or Inf in the output", c.name, mode)
			}
		}
	}
}

func must[M any](m M, err error) M {
	if err != nil {
		panic(err)
	}
	return m
}

// Whole models differentiate correctly (reverse mode against finite
// differences in float64), batch norm in training mode included. The
// networks hold many relu units and max-pool windows, so the step is small
// (1e-6) to keep the finite differences from crossing a kink, and ResNet
// gets 16×16 images so that its last batch norm sees 8 values per channel:
// with 2 it is nearly a sign function, too curved for finite differences.
func TestModelGradients(t *testing.T) {
	g := tensor.NewRNG(5)
	f64 := tensor.Float64
	gpt := must(nn.NewGPT(g, f64, nn.GPTConfig{Vocab: 7, Context: 5, Layers: 1, Heads: 2, Width: 4}))
	ids := []int{1, 2, 3, 6, 0, 5, 5, 4}
	tgt := []int{2, 3, 6, 0, 5, 5, 4, 1}
	for _, c := range []struct {
		name string
		m    nn.Module
		f    func(c *nn.Ctx, x *ad.Var) *ad.Var
		x    *tensor.Tensor
		mode nn.Mode
	}{
		{"resnet18_bn_tiny", must(nn.NewResNet18(g, f64, nn.CIFARConfig{BatchNorm: true, Width: 1.0 / 32, Classes: 3})), nil, g.Normal(f64, 2, 3, 16, 16), nn.Train},
		{"resnet18_tiny_eval", must(nn.NewResNet18(g, f64, nn.CIFARConfig{Width: 1.0 / 32, Classes: 3})), nil, g.Normal(f64, 2, 3, 8, 8), nn.Eval},
		{"vgg11_bn_tiny", must(nn.NewVGG11(g, f64, nn.CIFARConfig{BatchNorm: true, Width: 1.0 / 32, Classes: 3})), nil, distinct(g, 2, 3, 32, 32), nn.Train},
		{"gpt_loss", gpt, func(c *nn.Ctx, _ *ad.Var) *ad.Var { return gpt.Loss(c, ids, tgt, 2, 4) }, g.Normal(f64, 1), nn.Train},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fwd := c.m.Forward
			if c.f != nil {
				fwd = c.f
			}
			mod := moduleFunc{c.m, fwd}
			f, xs := layerFunc(mod, c.x, func() *nn.Ctx { return nn.NewCtx(c.mode, nil) })
			o := &check.Options{Name: c.name, MaxElements: -1, Directions: 3, Step: 1e-6, Wrt: []int{0, 1, 2, len(xs) - 1}}
			if c.f != nil {
				o.Wrt = []int{1, 2, 3, 4, 7, len(xs) - 1}
			}
			if err := check.Gradient(f, xs, o); err != nil {
				t.Error(err)
			}
		})
	}
}

// moduleFunc is a module with a replaced Forward.
type moduleFunc struct {
	nn.Module
	f func(c *nn.Ctx, x *ad.Var) *ad.Var
}

func (m moduleFunc) Forward(c *nn.Ctx, x *ad.Var) *ad.Var { return m.f(c, x) }

func TestStateDictNames(t *testing.T) {
	g := tensor.NewRNG(6)
	f32 := tensor.Float32
	keys := func(m nn.Module) []string {
		var ks []string
		for k, v := range nn.StateDict(m) {
			ks = append(ks, fmt.Sprintf("%s%v", k, v.Shape()))
		}
		slices.Sort(ks)
		return ks
	}
	mlp := mustMLP(g, f32, nn.MLPConfig{Sizes: []int{784, 512, 512, 10}})
	if got, want := keys(mlp), []string{"0.bias[512]", "0.weight[512 784]", "2.bias[512]", "2.weight[512 512]", "4.bias[10]", "4.weight[10 512]"}; !slices.Equal(got, want) {
		t.Errorf("MLP keys %v, want %v", got, want)
	}
	cnn := must(nn.NewCNN(g, f32, nn.CNNConfig{}))
	if got, want := keys(cnn), []string{"0.bias[32]", "0.weight[32 1 3 3]", "3.bias[64]", "3.weight[64 32 3 3]", "7.bias[10]", "7.weight[10 1600]"}; !slices.Equal(got, want) {
		t.Errorf("CNN keys %v, want %v", got, want)
	}
	res := keys(must(nn.NewResNet18(g, f32, nn.CIFARConfig{BatchNorm: true, Width: 0.25})))
	for _, k := range []string{"conv1.weight[16 3 3 3]", "bn1.running_mean[16]", "bn1.num_batches_tracked[]", "layer1.0.conv1.weight[16 16 3 3]",
		"layer2.0.shortcut.0.weight[32 16 1 1]", "layer2.0.shortcut.1.running_var[32]", "layer4.1.bn2.bias[128]", "linear.weight[10 128]"} {
		if !slices.Contains(res, k) {
			t.Errorf("ResNet-18 state dict lacks %s", k)
		}
	}
	// 20 convolutions (stem, 16 in blocks, 3 shortcuts; no biases), 20
	// batch norms of 5 entries, the linear layer's 2
	if len(res) != 20+5*20+2 {
		t.Errorf("ResNet-18 state dict has %d keys, want %d", len(res), 20+5*20+2)
	}
	vgg := keys(must(nn.NewVGG11(g, f32, nn.CIFARConfig{BatchNorm: true, Width: 0.25})))
	for _, k := range []string{"features.0.weight[16 3 3 3]", "features.1.running_mean[16]", "features.4.weight[32 16 3 3]", "features.25.weight[128 128 3 3]", "classifier.weight[10 128]"} {
		if !slices.Contains(vgg, k) {
			t.Errorf("VGG11 state dict lacks %s (have %v)", k, vgg)
		}
	}
	gpt := keys(must(nn.NewGPT(g, f32, nn.GPTConfig{Vocab: 11, Context: 8, Layers: 2, Heads: 2, Width: 8})))
	for _, k := range []string{"transformer.wte.weight[11 8]", "transformer.wpe.weight[8 8]", "transformer.h.1.ln_1.weight[8]",
		"transformer.h.0.attn.c_attn.weight[24 8]", "transformer.h.0.attn.c_proj.bias[8]", "transformer.h.1.mlp.c_fc.weight[32 8]",
		"transformer.h.1.mlp.c_proj.weight[8 32]", "transformer.ln_f.bias[8]", "lm_head.weight[11 8]"} {
		if !slices.Contains(gpt, k) {
			t.Errorf("GPT state dict lacks %s", k)
		}
	}
}

func TestLoadStateDict(t *testing.T) {
	f32 := tensor.Float32
	a := must(nn.NewResNet18(tensor.NewRNG(1), f32, nn.CIFARConfig{BatchNorm: true, Width: 0.125}))
	b := must(nn.NewResNet18(tensor.NewRNG(2), f32, nn.CIFARConfig{BatchNorm: true, Width: 0.125}))
	// train a a little so its buffers differ from the defaults
	a.Forward(nn.NewCtx(nn.Train, nil), ad.Const(tensor.NewRNG(3).Normal(f32, 2, 3, 32, 32)))
	var buf bytes.Buffer
	if err := tensor.WriteSafetensors(&buf, nn.StateDict(a), nil); err != nil {
		t.Fatal(err)
	}
	sd, _, err := tensor.ReadSafetensors(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.LoadStateDict(b, sd); err != nil {
		t.Fatal(err)
	}
	for k, v := range nn.StateDict(a) {
		w := nn.StateDict(b)[k]
		for i := 0; i < v.Size(); i++ {
			if v.AtFlat(i) != w.AtFlat(i) {
				t.Fatalf("%s differs after loading", k)
			}
		}
	}
	x := ad.Const(tensor.NewRNG(4).Normal(f32, 2, 3, 32, 32))
	ya, yb := a.Forward(nil, x).Value(), b.Forward(nil, x).Value()
	for i := 0; i < ya.Size(); i++ {
		if ya.AtFlat(i) != yb.AtFlat(i) {
			t.Fatal("loaded model computes differently")
		}
	}
	// errors name the key and change nothing
	before := b.Linear.Weight.Clone()
	bad := func(edit func(map[string]*tensor.Tensor)) map[string]*tensor.Tensor {
		m := map[string]*tensor.Tensor{}
		for k, v := range nn.StateDict(a) {
			m[k] = v
		}
		m["linear.weight"] = tensor.Zeros(f32, 10, 64)
		edit(m)
		return m
	}
	for _, c := range []struct {
		name string
		sd   map[string]*tensor.Tensor
		want string
	}{
		{"missing", bad(func(m map[string]*tensor.Tensor) { delete(m, "layer3.1.bn2.running_var") }), `missing key "layer3.1.bn2.running_var"`},
		{"unexpected", bad(func(m map[string]*tensor.Tensor) { m["fc.weight"] = tensor.Zeros(f32, 1) }), `unexpected key "fc.weight"`},
		{"shape", bad(func(m map[string]*tensor.Tensor) { m["conv1.weight"] = tensor.Zeros(f32, 8, 3, 5, 5) }), `"conv1.weight" has shape [8 3 5 5], the model expects [8 3 3 3]`},
	} {
		err := nn.LoadStateDict(b, c.sd)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %s", c.name, err, c.want)
		}
		if b.Linear.Weight.AtFlat(0) != before.AtFlat(0) {
			t.Errorf("%s: a failed load modified the model", c.name)
		}
	}
	// dtype conversion
	c64 := must(nn.NewResNet18(tensor.NewRNG(2), tensor.Float64, nn.CIFARConfig{BatchNorm: true, Width: 0.125}))
	if err := nn.LoadStateDict(c64, nn.StateDict(a)); err != nil {
		t.Fatal(err)
	}
}

// BatchNorm in training mode normalizes with the batch statistics and
// moves the running statistics by momentum 0.1, the variance unbiased; in
// eval mode it uses the running statistics.
func TestBatchNormStatistics(t *testing.T) {
	f64 := tensor.Float64
	bn := nn.NewBatchNorm1d(f64, 2)
	x := tensor.FromFloat64s(f64, []float64{1, 10, 2, 20, 3, 60, 6, 30}, 4, 2)
	y := bn.Forward(nn.NewCtx(nn.Train, nil), ad.Const(x)).Value()
	// channel 0: 1 2 3 6, mean 3, biased var (4+1+0+9)/4 = 3.5, unbiased 14/3
	// channel 1: 10 20 60 30, mean 30, biased var (400+100+900+0)/4 = 350, unbiased 1400/3
	for i, want := range []float64{(1 - 3) / math.Sqrt(3.5+1e-5), (20 - 30) / math.Sqrt(350+1e-5)} {
		if got := y.AtFlat([]int{0, 3}[i]); math.Abs(got-want) > 1e-12 {
			t.Errorf("normalized value %v, want %v", got, want)
		}
	}
	wantMean := []float64{0.1 * 3, 0.1 * 30}
	wantVar := []float64{0.9 + 0.1*14.0/3, 0.9 + 0.1*1400.0/3}
	for c := 0; c < 2; c++ {
		if math.Abs(bn.RunningMean.AtFlat(c)-wantMean[c]) > 1e-12 || math.Abs(bn.RunningVar.AtFlat(c)-wantVar[c]) > 1e-12 {
			t.Errorf("channel %d: running mean %v var %v, want %v %v", c, bn.RunningMean.AtFlat(c), bn.RunningVar.AtFlat(c), wantMean[c], wantVar[c])
		}
	}
	if bn.NumBatchesTracked.Item() != 1 {
		t.Errorf("num_batches_tracked %v", bn.NumBatchesTracked.Item())
	}
	ye := bn.Forward(nil, ad.Const(x)).Value()
	if got, want := ye.AtFlat(1), (10-wantMean[1])/math.Sqrt(wantVar[1]+1e-5); math.Abs(got-want) > 1e-12 {
		t.Errorf("eval mode: %v, want %v", got, want)
	}
}

// The max-pool tie rule reaches through the layer: the tape's Policy picks
// the winner of a tied window.
func TestMaxPoolLayerTieRule(t *testing.T) {
	x := tensor.FromFloat64s(tensor.Float32, []float64{2, 2, 1, 2}, 1, 1, 2, 2)
	for tie, want := range map[ad.TieRule][]float64{
		ad.TieDefault: {1, 0, 0, 0}, ad.TieFirst: {1, 0, 0, 0}, ad.TieLast: {0, 0, 0, 1}, ad.TieSplit: {1.0 / 3, 1.0 / 3, 0, 1.0 / 3},
	} {
		tape, _ := ad.NewTape(&ad.Options{Policy: ad.Policy{PoolTie: tie}})
		xv := tape.WatchTensor(x)
		y := ad.SumAll(nn.NewMaxPool2d(2).Forward(nil, xv))
		gs, err := tape.Backward(y, nil, xv)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			if got := gs[0].Value().AtFlat(i); math.Abs(got-w) > 1e-7 {
				t.Errorf("%v: gradient %v, want %v", tie, gs[0].Value(), want)
				break
			}
		}
		if k := tape.Stats().Kinks["max_pool2d"]; k != 1 {
			t.Errorf("%v: %d kinks, want 1", tie, k)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	g := tensor.NewRNG(1)
	for name, err := range map[string]error{
		"mlp short":    second(nn.NewMLP(g, tensor.Float32, nn.MLPConfig{Sizes: []int{3}})),
		"mlp act":      second(nn.NewMLP(g, tensor.Float32, nn.MLPConfig{Sizes: []int{3, 2}, Activation: "swish"})),
		"gpt heads":    second(nn.NewGPT(g, tensor.Float32, nn.GPTConfig{Vocab: 5, Context: 4, Layers: 1, Heads: 3, Width: 8})),
		"resnet width": second(nn.NewResNet18(g, tensor.Float32, nn.CIFARConfig{Width: -1})),
		"cnn size":     second(nn.NewCNN(g, tensor.Float32, nn.CNNConfig{Size: 6})),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func second[M any](_ M, err error) error { return err }
