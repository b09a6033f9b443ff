package repro

import (
	"context"
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/data"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/report"
	"github.com/gradus-ml/gradus/tensor"
)

func reluPrimeExperiment() Experiment {
	return Experiment{
		ID:    "relu-prime",
		Title: "Numerical influence of ReLU'(0) on backpropagation",
		Paper: "Bertoin, Bolte, Gerchinovitz, Pauwels. Numerical influence of ReLU'(0) on backpropagation. NeurIPS 2021, arXiv 2106.12915.",
		Claim: "In theory the choice of ReLU'(0) does not matter for backpropagation; in floating point, exact zeros occur and the choice changes " +
			"the gradient \"around half of the time in 32 bits\" (the bifurcation zone), the effect disappears in 64 bits and is systematic in 16 " +
			"bits; it grows with width and depth, and two trainings from the same initialization diverge after the first exact zero.",
		Setup: func(s Scale) string {
			z := zoneCfg(s)
			return fmt.Sprintf("Bifurcation zone (section 3 protocol): MLP Linear(784, w), ReLU, [Linear(w, w), ReLU]×(L−1), Linear(w, 10) (nn.NewMLP, "+
				"PyTorch default initialization), no training; for each random initialization, sweep the first %d MNIST training images in "+
				"mini-batches of 256 (pixels in [0, 1]) and compare the first-layer weight gradients of the cross-entropy computed with "+
				"ad.Policy.ReLU0 = 0 and 1 (bit for bit; a mini-batch where backpropagation met no relu input exactly 0, counted by ad.Stats, "+
				"gives identical gradients without a second pass); an initialization counts if any mini-batch differs. w = 256, L = 3: %d inits in "+
				"float32, %d in float64 (on %d images), %d in emulated float16 (tensor.Float16: every primitive rounds its output). Trends in float32 "+
				"over w ∈ {16, 64, 256} (L = 3) and L ∈ {1, 3} (w = 256), %d inits each on %d images. Divergence: MLP 784-%d-128-10, two copies "+
				"from the same initialization trained by SGD (batch 128, lr 0.01·(1 + U/5)) with ReLU'(0) = 0 and 1, L1 distance between their "+
				"weights: float64 both copies for 100 steps; float32 until 50 steps after the first exact zero of a relu input (at most %d "+
				"steps; exact zeros are rare, so to afford long runs the ReLU'(0) = 1 copy is forked from the ReLU'(0) = 0 one at the step where "+
				"backpropagation first meets a relu input exactly 0 (ad.Stats), since before it both perform exactly the same operations); a "+
				"second ReLU'(0) = 0 copy trained alongside for 30 steps checks bit-for-bit determinism.",
				z.images, z.inits32, z.inits64, z.images64, z.inits16, z.initsTrend, z.imagesTrend, z.divWidth, z.divMax)
		},
		run: runReLUPrime,
	}
}

type zoneConfig struct {
	images, inits32, inits64, images64, inits16, initsTrend, imagesTrend, divWidth, divSteps, divMax int
}

func zoneCfg(s Scale) zoneConfig {
	return pick(s,
		zoneConfig{images: 2560, inits32: 4, inits64: 2, images64: 1024, inits16: 3, initsTrend: 4, imagesTrend: 2560, divWidth: 256, divSteps: 30, divMax: 30},
		zoneConfig{images: 10240, inits32: 50, inits64: 4, images64: 5120, inits16: 10, initsTrend: 50, imagesTrend: 10240, divWidth: 1024, divSteps: 100, divMax: 1500},
		zoneConfig{images: 10240, inits32: 100, inits64: 20, images64: 10240, inits16: 50, initsTrend: 100, imagesTrend: 10240, divWidth: 2000, divSteps: 100, divMax: 5000})
}

// firstLayerGrad returns the gradient of the mean cross-entropy with
// respect to the first layer's weight, with relu'(0) = r0, and the number
// of relu kink hits of the backward pass.
func firstLayerGrad(model nn.Module, x *tensor.Tensor, y []int, r0 float64) (*tensor.Tensor, int, error) {
	var st ad.Stats
	tp, err := ad.NewTape(&ad.Options{Policy: ad.Policy{ReLU0: r0}, Stats: &st})
	if err != nil {
		return nil, 0, err
	}
	defer tp.Close()
	ctx := nn.NewCtx(nn.Eval, nil)
	vars := ctx.Watch(tp, model)
	loss := ad.CrossEntropy(model.Forward(ctx, ad.Const(x.Reshape(x.Dim(0), -1))), y)
	g, err := tp.Backward(loss, nil, vars[0])
	if err != nil {
		return nil, 0, err
	}
	return g[0].Value(), st.Kinks["relu"], nil
}

func bitEqual(a, b *tensor.Tensor) bool {
	x, y := a.Float64s(), b.Float64s()
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			return false
		}
	}
	return true
}

// reluKinks runs the forward pass on a tape that watches the input only
// and returns the number of relu inputs exactly 0: if there are none,
// backpropagation with ReLU'(0) = 0 and 1 runs the same operations.
func reluKinks(model nn.Module, x *tensor.Tensor) (int, error) {
	var st ad.Stats
	tp, err := ad.NewTape(&ad.Options{Stats: &st})
	if err != nil {
		return 0, err
	}
	defer tp.Close()
	model.Forward(nil, tp.WatchTensor(x.Reshape(x.Dim(0), -1)))
	return st.Kinks["relu"], nil
}

// zoneCount runs the protocol: it returns the number of inits for which
// some mini-batch gives different first-layer gradients, the number of
// (init, mini-batch) pairs that differ and the number examined. With
// stopAtHit the sweep of an init stops at its first differing mini-batch
// (enough to count the init).
func zoneCount(ctx context.Context, rng *tensor.RNG, train *data.Dataset, dt tensor.DType, width, depth, inits, images int, stopAtHit bool, progress func(i int)) (hits, diffBatches, batches, kinkBatches int, err error) {
	sub, _ := train.Split(min(images, train.Len()))
	b, err := data.NewBatcher(sub, 256, dt, data.BatchOptions{})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	for i := 0; i < inits; i++ {
		if progress != nil {
			progress(i)
		}
		model, err := nn.NewMLP(rng, dt, nn.MLPConfig{In: 784, Width: width, Depth: depth, Out: 10})
		if err != nil {
			return 0, 0, 0, 0, err
		}
		hit := false
		for x, y := range b.Epoch() {
			if err := ctx.Err(); err != nil {
				return 0, 0, 0, 0, err
			}
			if hit && stopAtHit {
				continue
			}
			batches++
			kinks, err := reluKinks(model, x)
			if err != nil {
				return 0, 0, 0, 0, err
			}
			if kinks == 0 {
				continue
			}
			kinkBatches++
			g0, _, err := firstLayerGrad(model, x, y, 0)
			if err != nil {
				return 0, 0, 0, 0, err
			}
			g1, _, err := firstLayerGrad(model, x, y, 1)
			if err != nil {
				return 0, 0, 0, 0, err
			}
			if !bitEqual(g0, g1) {
				diffBatches++
				hit = true
			}
		}
		if hit {
			hits++
		}
	}
	return hits, diffBatches, batches, kinkBatches, nil
}

func runReLUPrime(ctx context.Context, cfg *Config, r *Result) error {
	s := cfg.Scale
	z := zoneCfg(s)
	cfg.progress(0, "loading MNIST")
	dir, err := data.MNISTDir(cfg.MNISTDir)
	if err != nil {
		return err
	}
	train, _, err := data.LoadMNIST(dir)
	if err != nil {
		return err
	}
	rng := tensor.NewRNG(cfg.Seed*7919 + 10)
	stage := func(lo, hi float64, n int, name string) func(int) {
		return func(i int) { cfg.progress(lo+(hi-lo)*float64(i)/float64(n), "%s, init %d/%d", name, i+1, n) }
	}
	// Main protocol, w = 256, L = 3.
	h32, d32, b32, _, err := zoneCount(ctx, rng, train, tensor.Float32, 256, 3, z.inits32, z.images, false, stage(0.02, 0.3, z.inits32, "float32, w = 256, L = 3"))
	if err != nil {
		return err
	}
	h64, d64, b64, _, err := zoneCount(ctx, rng, train, tensor.Float64, 256, 3, z.inits64, z.images64, false, stage(0.3, 0.4, z.inits64, "float64"))
	if err != nil {
		return err
	}
	h16, d16, b16, _, err := zoneCount(ctx, rng, train, tensor.Float16, 256, 3, z.inits16, z.images, true, stage(0.4, 0.5, z.inits16, "float16"))
	if err != nil {
		return err
	}
	f32 := float64(h32) / float64(z.inits32)
	perBatch := float64(d32) / float64(b32)
	r.check("float32, w = 256, L = 3: share of inits in the bifurcation zone",
		fmt.Sprintf("run 50-100 inits on the first 10k training images. Expected [D from R]: per-minibatch rate ≈ 0.28%% (0.478 over 235 mini-batches, assuming independence) ⇒ ≈ 0.10 of inits on 10k images (band 0.03-0.25, since summation order/FMA differ from PyTorch's BLAS)"),
		s == Smoke || within(f32, 0.03, 0.25),
		"%d/%d inits (%.2f) on %d images; %d of %d mini-batches differ (per-mini-batch rate %.2f%%)", h32, z.inits32, f32, z.images, d32, b32, 100*perBatch)
	r.check("float64: no bifurcation", "float64: exactly 0", h64 == 0, "%d/%d inits, %d of %d mini-batches differ", h64, z.inits64, d64, b64)
	r.check("emulated float16: systematic", "emulated float16 (round after every multiply-add) gives ≥ 0.9 of inits hit",
		float64(h16) >= 0.9*float64(z.inits16), "%d/%d inits (%.2f); %d of %d mini-batches differ", h16, z.inits16, float64(h16)/float64(z.inits16), d16, b16)

	// Trends in float32 (w = 256, L = 3 is the main run).
	rate := func(d, b int) float64 { return 100 * float64(d) / float64(b) }
	type trend struct{ w, L, hits, d, b int }
	var trends []trend
	for i, c := range [][2]int{{16, 3}, {64, 3}, {256, 1}} {
		h, d, b, _, err := zoneCount(ctx, rng, train, tensor.Float32, c[0], c[1], z.initsTrend, z.imagesTrend, false,
			stage(0.5+0.12*float64(i), 0.62+0.12*float64(i), z.initsTrend, fmt.Sprintf("float32, w = %d, L = %d", c[0], c[1])))
		if err != nil {
			return err
		}
		trends = append(trends, trend{c[0], c[1], h, d, b})
	}
	widths := []int{16, 64, 256}
	wRate := []float64{rate(trends[0].d, trends[0].b), rate(trends[1].d, trends[1].b), rate(d32, b32)}
	wHits := []int{trends[0].hits, trends[1].hits, h32}
	depths := []int{1, 3}
	dRate := []float64{rate(trends[2].d, trends[2].b), rate(d32, b32)}
	dHits := []int{trends[2].hits, h32}
	incW := wRate[0] < wRate[1] && wRate[1] < wRate[2] && z.initsTrend == z.inits32
	r.check("float32: trends with width and depth", "float32 hit-rate increases with width (16 < 64 < 256) and with depth (1 < 3)",
		s == Smoke || (incW && dRate[0] < dRate[1]),
		"share of mini-batches with differing gradients: %s%% for w = 16, 64, 256 (L = 3), inits hit %v; %s%% for L = 1, 3 (w = 256), inits hit %v; %d inits × %d images each", fmtG(wRate), wHits, fmtG(dRate), dHits, z.initsTrend, z.imagesTrend)
	if s == Smoke {
		r.note("At smoke scale the bifurcation-zone share and the trends are reported, not checked (too few mini-batches).")
	}
	// The paper's counts (out of 1000 inits, 235 mini-batches of the full
	// training set) rescaled to our number of mini-batches, assuming
	// independent mini-batches: 1 − (1 − share)^(batches/235).
	nb := float64((z.images + 255) / 256)
	rescale := func(share float64) float64 { return 100 * (1 - math.Pow(1-share, nb/235)) }
	pct := func(h []int) []float64 {
		out := make([]float64, len(h))
		for i, v := range h {
			out[i] = 100 * float64(v) / float64(z.initsTrend)
		}
		return out
	}
	r.figure(&report.Figure{Name: "width", Title: "Bifurcation zone against width, float32, L = 3", XLabel: "hidden width w",
		YLabel: "initializations hit (%)", LogX: true, LegendLeft: true,
		Caption: fmt.Sprintf("Share of random initializations for which some mini-batch of the first %d MNIST images gives different first-layer gradients with ReLU'(0) = 0 and 1 (%d inits each); dashed: the paper's counts on the full training set rescaled to %d mini-batches.", z.images, z.initsTrend, int(nb)),
		Lines: []report.Line{{Label: "gradus (measured)", X: floats(widths), Y: pct(wHits), Points: true},
			{Label: "paper, rescaled", X: floats(widths), Y: []float64{rescale(0.021), rescale(0.163), rescale(0.478)}, Points: true, Dashed: true}}})
	r.figure(&report.Figure{Name: "depth", Title: "Bifurcation zone against depth, float32, w = 256", XLabel: "number of hidden layers L",
		YLabel: "initializations hit (%)", LegendLeft: true,
		Caption: "As for the width: deeper networks meet exact zeros more often.",
		Lines: []report.Line{{Label: "gradus (measured)", X: floats(depths), Y: pct(dHits), Points: true},
			{Label: "paper, rescaled", X: floats(depths), Y: []float64{rescale(0.054), rescale(0.463)}, Points: true, Dashed: true}}})
	r.figure(&report.Figure{Name: "precision", Title: "Bifurcation zone by precision, MLP w = 256, L = 3", XLabel: "bits of the floating-point format",
		YLabel:  "initializations hit (%)",
		Caption: "Share of random initializations for which some mini-batch gives different gradients for ReLU'(0) = 0 and 1: systematic in 16 bits, frequent in 32, none in 64.",
		Lines: []report.Line{{Label: fmt.Sprintf("share of inits (16: %d, 32: %d, 64: %d inits)", z.inits16, z.inits32, z.inits64), X: []float64{16, 32, 64},
			Y: []float64{100 * float64(h16) / float64(z.inits16), 100 * f32, 100 * float64(h64) / float64(z.inits64)}, Points: true}}})

	// Relu(x) − relu(−x) conformance.
	gr, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Sub(ad.Relu(xs[0]), ad.Relu(ad.Neg(xs[0])))) }, []*ad.Var{vec([]float64{0})}, &ad.Options{Policy: ad.Policy{ReLU0: 1}})
	if err != nil {
		return err
	}
	gz, err := ad.Grad(func(xs ...*ad.Var) *ad.Var { return ad.SumAll(ad.Sub(ad.Relu(xs[0]), ad.Relu(ad.Neg(xs[0])))) }, []*ad.Var{vec([]float64{0})}, nil)
	if err != nil {
		return err
	}

	// Divergence over SGD steps.
	var lines []report.Line
	div := map[tensor.DType]float64{}
	nsteps := map[tensor.DType]int{}
	firstJump := map[tensor.DType]int{}
	same := true
	for pi, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		cfg.progress(0.86+0.07*float64(pi), "divergence, %v", dt)
		maxSteps := z.divSteps
		if dt == tensor.Float32 {
			maxSteps = z.divMax
		}
		ks, l1, ident, err := divergence(ctx, train, dt, z.divWidth, z.divSteps, maxSteps, dt == tensor.Float32, cfg.Seed*31+1, func(k int) {
			cfg.progress(0.86+0.07*float64(pi), "divergence, %v, step %d", dt, k)
		})
		if err != nil {
			return err
		}
		same = same && ident
		div[dt] = l1[len(l1)-1]
		nsteps[dt] = len(l1)
		firstJump[dt] = -1
		for i, v := range l1 {
			if v > 0 {
				firstJump[dt] = int(ks[i])
				break
			}
		}
		lines = append(lines, report.Line{Label: fmt.Sprintf("%v: ReLU'(0) = 0 vs 1", dt), X: ks, Y: l1})
	}
	r.check("conformance: relu(x) − relu(−x) at 0; determinism; divergence after the first exact zero",
		"relu(x) − relu(−x) at 0 gives gradient 2·ReLU'(0); two nets with identical init and ReLU'(0)=0 stay bit-identical during SGD, while 0-vs-1 nets diverge in float32 after the first exact zero (L1 weight difference jumps from 0) and never in float64 over 100 steps.",
		f64(gr[0])[0] == 2 && f64(gz[0])[0] == 0 && same && (div[tensor.Float32] > 0 || s == Smoke) && div[tensor.Float64] == 0,
		"gradient at 0: %g (ReLU'(0) = 1), %g (ReLU'(0) = 0); two ReLU'(0) = 0 copies bit-identical over 30 steps: %v; L1 distance: float32 %.3g after %d steps (0 until step %d, the first exact zero), float64 %g after %d steps",
		f64(gr[0])[0], f64(gz[0])[0], same, div[tensor.Float32], nsteps[tensor.Float32], firstJump[tensor.Float32]-1, div[tensor.Float64], nsteps[tensor.Float64])
	r.figure(&report.Figure{Name: "divergence", Title: fmt.Sprintf("Same initialization, ReLU'(0) = 0 vs 1: MLP 784-%d-128-10, SGD", z.divWidth),
		XLabel: "SGD step", YLabel: "L1 distance between the weights", LegendLeft: true,
		Caption: "The distance stays exactly 0 until the first exact zero of a relu input (float32), then the two trainings separate and the gap grows; in float64 they stay identical.",
		Lines:   lines})
	return nil
}

// divergence trains copies of the MLP 784-w-128-10 from the same
// initialization with ReLU'(0) = 0 and 1 by SGD, at least minSteps steps
// and, if they have not separated by then, until they do (at most maxSteps;
// then 50 more steps). It returns the L1 distance between the two after
// each step, and whether a second ReLU'(0) = 0 copy, trained alongside for
// the first 30 steps, stayed bit-identical to the first.
func divergence(ctx context.Context, train *data.Dataset, dt tensor.DType, width, minSteps, maxSteps int, fork bool, seed uint64, progress func(k int)) ([]float64, []float64, bool, error) {
	lrRNG := tensor.NewRNG(seed + 1)
	lr := 0.01 * (1 + lrRNG.Float64()/5)
	var models []nn.Module
	var opts []optim.Optimizer
	for i := 0; i < 3; i++ {
		m, err := nn.NewMLP(tensor.NewRNG(seed), dt, nn.MLPConfig{Sizes: []int{784, width, 128, 10}})
		if err != nil {
			return nil, nil, false, err
		}
		o, err := optim.NewSGD(optim.SGDConfig{LR: lr})
		if err != nil {
			return nil, nil, false, err
		}
		models, opts = append(models, m), append(opts, o)
	}
	b, err := data.NewBatcher(train, 128, dt, data.BatchOptions{Shuffle: true, Seed: seed})
	if err != nil {
		return nil, nil, false, err
	}
	var ks, l1 []float64
	ident := true
	end, first := minSteps, 0
	forked, kinks0 := false, 0
	for k := 1; k <= end; k++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, false, err
		}
		if progress != nil {
			progress(k)
		}
		x, y := b.Next()
		x = x.Reshape(x.Dim(0), -1)
		if fork && !forked {
			// The ReLU'(0) = 1 copy is the ReLU'(0) = 0 one until the
			// first exact zero: keep it synchronized (before the step).
			p0, p1 := nn.Tensors(models[0].Params()), nn.Tensors(models[1].Params())
			for i := range p0 {
				p1[i].CopyFrom(p0[i])
			}
		}
		for i, m := range models {
			if i == 2 && k > 30 {
				continue
			}
			if i == 1 && fork && !forked {
				if kinks0 == 0 {
					continue
				}
				forked = true
			}
			r0 := 0.0
			if i == 1 {
				r0 = 1
			}
			var st ad.Stats
			tp, err := ad.NewTape(&ad.Options{Policy: ad.Policy{ReLU0: r0}, Stats: &st})
			if err != nil {
				return nil, nil, false, err
			}
			c := nn.NewCtx(nn.Train, nil)
			vars := c.Watch(tp, m)
			loss := ad.CrossEntropy(m.Forward(c, ad.Const(x)), y)
			g, err := tp.Backward(loss, nil, vars...)
			tp.Close()
			if err != nil {
				return nil, nil, false, err
			}
			if err := opts[i].Step(nn.Tensors(m.Params()), nn.Values(g)); err != nil {
				return nil, nil, false, err
			}
			if i == 0 {
				kinks0 = st.Kinks["relu"]
			}
		}
		if fork && !forked {
			p0, p1 := nn.Tensors(models[0].Params()), nn.Tensors(models[1].Params())
			for i := range p0 {
				p1[i].CopyFrom(p0[i])
			}
		}
		var d float64
		p0, p1, p2 := nn.Tensors(models[0].Params()), nn.Tensors(models[1].Params()), nn.Tensors(models[2].Params())
		for i := range p0 {
			a, bb := p0[i].Float64s(), p1[i].Float64s()
			for j := range a {
				d += math.Abs(a[j] - bb[j])
			}
			if k <= 30 && !bitEqual(p0[i], p2[i]) {
				ident = false
			}
		}
		ks, l1 = append(ks, float64(k)), append(l1, d)
		if d > 0 && first == 0 {
			first = k
			end = max(end, k+50)
		}
		if k == end && first == 0 && end < maxSteps {
			end++
		}
	}
	return ks, l1, ident, nil
}
