package repro

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/gradus-ml/gradus/data"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/report"
	"github.com/gradus-ml/gradus/tensor"
	"github.com/gradus-ml/gradus/train"
)

func innapropExperiment() Experiment {
	return Experiment{
		ID:    "innaprop",
		Title: "INNAprop against AdamW",
		Paper: "Bolte, Boustany, Pauwels, Purica. A second-order-like optimizer with adaptive gradient scaling for deep learning (INNAprop). arXiv 2410.05871.",
		Claim: "INNAprop, an inertial Newton method (INNA) with RMSprop gradient scaling, consistently matches or outperforms AdamW both in " +
			"training speed and accuracy; in the authors' runs (α, β) = (0.1, 0.9) trains fastest early, (2, 2) slowly early but with the " +
			"best final CIFAR-10 accuracy.",
		Setup: func(s Scale) string {
			c := innaCfg(s, nil)
			extra := ""
			if s == Full {
				extra = fmt.Sprintf(" on the CIFAR-10 JPEG copy (first %d training and test images, random crop and flip), VGG11 with width ×%g, cosine schedule", c.Limit, c.Width)
			} else {
				extra = fmt.Sprintf(" on the first %d MNIST training images (test accuracy on the first %d test images), MLP 784-%d-10, constant rate", c.Limit, c.Limit, c.Hidden[0])
			}
			return fmt.Sprintf("package train: INNAprop (α, β) ∈ {(0.1, 0.9), (1, 1), (2, 2)} (σ = 0.999) and AdamW (0.9, 0.999) at lr 1e-3 and "+
				"weight decay 0.01, batch %d, %d epochs, %d seeds (the same initialization and data order for every optimizer)%s. Also: "+
				"INNAprop with αβ = 1 against bias-corrected RMSprop (optim.Adam with β₁ = 0) on a quadratic in float64, the rejection of lr ≥ β, "+
				"and INNAprop on a strongly convex quadratic.", c.Batch, c.Epochs, innaSeeds(s), extra)
		},
		run: runINNAprop,
	}
}

func innaSeeds(s Scale) int { return pick(s, 1, 3, 1) }

func innaCfg(s Scale, cfg *Config) train.Config {
	c := train.Config{Model: "mlp", Data: "mnist", Hidden: []int{128}, Limit: pick(s, 1024, 5120, 0), Epochs: pick(s, 2, 5, 0),
		Batch: 128, Schedule: "constant", LogEvery: 5, DType: "f32"}
	if s == Full {
		c = train.Config{Model: "vgg11", Width: 0.25, Data: "cifar10", Limit: 10240, Epochs: 10, Batch: 128, Schedule: "cosine",
			Augment: "crop-flip", LogEvery: 10, DType: "f32"}
	}
	if cfg != nil {
		switch c.Data {
		case "mnist":
			c.DataDir = cfg.MNISTDir
		case "cifar10":
			c.DataDir = cfg.CIFAR10Path
			if c.DataDir == "" {
				if _, err := data.CIFAR10Path(""); err != nil {
					if _, err := os.Stat("../shared/data/cifar10-jpeg.tar.gz"); err == nil {
						c.DataDir = "../shared/data/cifar10-jpeg.tar.gz"
					}
				}
			}
		}
	}
	return c
}

func fp(v float64) *float64 { return &v }

type innaRun struct {
	name        string
	epochLoss   [][]float64 // per seed, mean training loss of each epoch
	curveX      []float64
	curveY      []float64 // mean over seeds of the logged training loss
	accX, accY  []float64
	finalAcc    []float64
	stepsPerSec float64
}

func runINNAprop(ctx context.Context, cfg *Config, r *Result) error {
	s := cfg.Scale
	// 1. αβ = 1 is bias-corrected RMSprop with lr γβ (exact, float64).
	cfg.progress(0, "INNAprop(1, 1) vs RMSprop")
	const gamma = 1e-3
	lam := []float64{1, 10, 100, 0.1}
	quad := func(th []float64) []float64 {
		g := make([]float64, len(th))
		for i := range th {
			g[i] = lam[i] * th[i]
		}
		return g
	}
	ia, err := optim.NewINNAprop(optim.INNApropConfig{LR: gamma, Alpha: 1, Beta: 1, Sigma: 0.999, WeightDecay: optim.Zero, State: optim.State64})
	if err != nil {
		return err
	}
	rm, err := optim.NewAdam(optim.AdamConfig{LR: gamma * 1, Beta1: optim.Zero, Beta2: 0.999, State: optim.State64})
	if err != nil {
		return err
	}
	th1 := []float64{1, -2, 0.5, 3}
	th2 := append([]float64(nil), th1...)
	maxDev := 0.0
	for k := 0; k < 2000; k++ {
		p1, p2 := tensor.Wrap64(th1, 4), tensor.Wrap64(th2, 4)
		if err := ia.Step([]*tensor.Tensor{p1}, []*tensor.Tensor{tensor.Wrap64(quad(th1), 4)}); err != nil {
			return err
		}
		if err := rm.Step([]*tensor.Tensor{p2}, []*tensor.Tensor{tensor.Wrap64(quad(th2), 4)}); err != nil {
			return err
		}
		th1, th2 = p1.Float64s(), p2.Float64s()
		maxDev = math.Max(maxDev, maxAbsDiff(th1, th2))
	}
	_, rejErr := optim.NewINNAprop(optim.INNApropConfig{LR: 0.9, Beta: 0.9})
	r.check("INNAprop with αβ = 1 is bias-corrected RMSprop; lr ≥ β rejected",
		"αβ = 1 ⇒ ψ ≡ 0 and the step is exactly bias-corrected RMSprop (no momentum) with lr γβ. E.g. (α,β)=(1,1) must reproduce an RMSprop(lr γ, σ, ε) trajectory to ≤1e-12 (float64) on any test function. Also: reject γ ≥ β.",
		maxDev <= 1e-12 && rejErr != nil, "max |θ_INNAprop − θ_RMSprop| over 2000 steps on a quadratic: %.2g; lr = β = 0.9: %v", maxDev, errString(rejErr))

	// 3. Strongly convex quadratic: convergence, boundedness.
	ib, err := optim.NewINNAprop(optim.INNApropConfig{LR: 1e-3, WeightDecay: optim.Zero, State: optim.State64})
	if err != nil {
		return err
	}
	th := []float64{1, -2, 0.5, 3}
	maxNorm := 0.0
	for k := 0; k < 20000; k++ {
		p := tensor.Wrap64(th, 4)
		if err := ib.Step([]*tensor.Tensor{p}, []*tensor.Tensor{tensor.Wrap64(quad(th), 4)}); err != nil {
			return err
		}
		th = p.Float64s()
		maxNorm = math.Max(maxNorm, norm2(th))
		for name, t := range ib.State().Tensors {
			if strings.HasPrefix(name, "psi") || strings.HasPrefix(name, "ψ") {
				maxNorm = math.Max(maxNorm, norm2(t.Float64s()))
			}
		}
	}
	r.check("INNAprop on a strongly convex quadratic", "on a strongly convex quadratic with a small lr, INNAprop converges to the minimiser and (ψ,θ) stay bounded for γ < β",
		norm2(th) <= 10*1e-3 && maxNorm < 10*norm2([]float64{1, -2, 0.5, 3}), "‖θ_K − θ*‖ = %.2g after 20000 steps (lr γ = 1e-3, α = 0.1, β = 0.9; a constant-step RMSprop-scaled method settles within O(γ) of the minimizer: criterion ≤ 10γ); max ‖θ_k‖, ‖ψ_k‖ = %.3g (‖θ₀‖ = %.3g)", norm2(th), maxNorm, norm2([]float64{1, -2, 0.5, 3}))

	// 2. Training.
	tc := innaCfg(s, cfg)
	cfg.progress(0.02, "loading %s", tc.Data)
	d, err := train.LoadData(tc)
	if err != nil {
		return err
	}
	opts := []struct {
		name string
		o    train.Optimizer
	}{
		{"AdamW", train.Optimizer{Name: "adamw", LR: fp(1e-3), WeightDecay: fp(0.01)}},
		{"INNAprop (0.1, 0.9)", train.Optimizer{Name: "innaprop", LR: fp(1e-3), WeightDecay: fp(0.01), Alpha: fp(0.1), Beta: fp(0.9)}},
		{"INNAprop (1, 1)", train.Optimizer{Name: "innaprop", LR: fp(1e-3), WeightDecay: fp(0.01), Alpha: fp(1), Beta: fp(1)}},
		{"INNAprop (2, 2)", train.Optimizer{Name: "innaprop", LR: fp(1e-3), WeightDecay: fp(0.01), Alpha: fp(2), Beta: fp(2)}},
	}
	seeds := innaSeeds(s)
	runs := make([]*innaRun, len(opts))
	total := float64(len(opts) * seeds)
	done := 0.0
	for oi, o := range opts {
		ru := &innaRun{name: o.name}
		runs[oi] = ru
		for sd := 0; sd < seeds; sd++ {
			c := tc
			c.Seed = cfg.Seed*1000 + uint64(sd)
			c.Optimizer = o.o
			base := done
			sum, err := train.Run(ctx, c, train.Options{Data: d, NoPlot: true, Progress: func(p train.Progress) {
				if p.Steps > 0 {
					cfg.progress(0.05+0.95*(base+float64(p.Step)/float64(p.Steps))/total, "%s, seed %d, epoch %d/%d, loss %.3f", o.name, sd, p.Epoch, p.Epochs, p.MeanLoss)
				}
			}})
			if err != nil {
				return fmt.Errorf("%s: %w", o.name, err)
			}
			done++
			// Per-epoch mean training loss and the logged curve.
			ep := map[int][]float64{}
			var xs, ys []float64
			stepsPerEpoch := float64(sum.Steps) / math.Max(sum.Epochs, 1)
			for _, m := range sum.Metrics {
				ep[m.Epoch] = append(ep[m.Epoch], m.TrainLoss)
				xs, ys = append(xs, float64(m.Step)/stepsPerEpoch), append(ys, m.TrainLoss)
			}
			var el []float64
			for e := 1; e <= c.Epochs; e++ {
				el = append(el, mean(ep[e]))
			}
			ru.epochLoss = append(ru.epochLoss, el)
			if ru.curveX == nil {
				ru.curveX, ru.curveY = xs, make([]float64, len(ys))
			}
			for i := range ys {
				if i < len(ru.curveY) {
					ru.curveY[i] += ys[i] / float64(seeds)
				}
			}
			if ru.accX == nil {
				for _, ev := range sum.Evals {
					ru.accX = append(ru.accX, float64(ev.Step)/stepsPerEpoch)
				}
				ru.accY = make([]float64, len(sum.Evals))
			}
			for i, ev := range sum.Evals {
				if i < len(ru.accY) {
					ru.accY[i] += 100 * ev.Accuracy / float64(seeds)
				}
			}
			if sum.TestAccuracy != nil {
				ru.finalAcc = append(ru.finalAcc, 100**sum.TestAccuracy)
			}
			ru.stepsPerSec += sum.StepsPerSec / float64(seeds)
		}
	}
	{
		r.note("The subset has %d = %d×%d images so that every mini-batch is full: with 5000 images the last batch of each epoch holds 8 examples, "+
			"and that single noisy step, taken just before each end-of-epoch evaluation, cost the INNAprop runs about 7 points of test accuracy "+
			"(loss spikes at the start of the next epoch), while AdamW's first-moment averaging absorbed it (MNIST MLP, 5000 images).", tc.Limit, tc.Limit/tc.Batch, tc.Batch)
	}
	adam, fast, slow := runs[0], runs[1], runs[3]
	E := tc.Epochs
	wins, slower := 0, 0
	for sd := 0; sd < seeds; sd++ {
		if fast.epochLoss[sd][E-1] < adam.epochLoss[sd][E-1] {
			wins++
		}
		if slow.epochLoss[sd][0] > fast.epochLoss[sd][0] && slow.epochLoss[sd][0] > adam.epochLoss[sd][0] {
			slower++
		}
	}
	order := func(epoch int) string {
		type kv struct {
			n string
			v float64
		}
		var l []kv
		for _, ru := range runs {
			var m float64
			for sd := 0; sd < seeds; sd++ {
				m += ru.epochLoss[sd][epoch] / float64(seeds)
			}
			l = append(l, kv{ru.name, m})
		}
		sort.Slice(l, func(i, j int) bool { return l[i].v < l[j].v })
		var parts []string
		for _, x := range l {
			parts = append(parts, fmt.Sprintf("%s %.4f", x.n, x.v))
		}
		return strings.Join(parts, " < ")
	}
	r.check(fmt.Sprintf("training loss at epoch %d: INNAprop (0.1, 0.9) vs AdamW (reported, not hard-failed)", E),
		"INNAprop(0.1,0.9) training loss < AdamW(0.9,0.999) training loss at the same epoch in ≥2/3 seeds; INNAprop(2,2) slower early. Report, do not hard-fail, if reversed (not a paper number).",
		true, "INNAprop (0.1, 0.9) below AdamW in %d/%d seeds at epoch %d (%s); (2, 2) slowest at epoch 1 in %d/%d seeds; mean training loss, epoch 1: %s; epoch %d: %s",
		wins, seeds, E, map[bool]string{true: "as in the paper", false: "reversed"}[2*wins >= seeds+1 || (seeds == 1 && wins == 1)], slower, seeds, order(0), E, order(E-1))
	var accs []string
	for _, ru := range runs {
		accs = append(accs, fmt.Sprintf("%s %.2f%%", ru.name, mean(ru.finalAcc)))
	}
	r.check("final test accuracy (reported)", "report honestly whatever ordering comes out (paper, CIFAR-10 VGG11: AdamW 90.80, (0.1,0.9) 89.71, (1,1) 90.60, (2,2) 91.00)",
		true, "%s (mean over %d seeds)", strings.Join(accs, ", "), seeds)
	var ll, al []report.Line
	for _, ru := range runs {
		ll = append(ll, report.Line{Label: ru.name, X: ru.curveX, Y: ru.curveY})
		al = append(al, report.Line{Label: ru.name, X: ru.accX, Y: ru.accY, Points: true})
	}
	what := fmt.Sprintf("MLP 784-%d-10 on %d MNIST images", 128, tc.Limit)
	if s == Full {
		what = fmt.Sprintf("VGG11 ×%g on %d CIFAR-10 images", tc.Width, tc.Limit)
	}
	r.figure(&report.Figure{Name: "loss", Title: "Training loss: " + what, XLabel: "epoch", YLabel: "training loss (mean over seeds)", LogY: true,
		Caption: fmt.Sprintf("lr 1e-3, weight decay 0.01, batch %d, %d seed(s); the same initialization and data order for every optimizer.", tc.Batch, seeds),
		Lines:   ll})
	r.figure(&report.Figure{Name: "accuracy", Title: "Test accuracy: " + what, XLabel: "epoch", YLabel: "test accuracy (%)", LegendBottom: true,
		Caption: "Accuracy on the held-out images after each epoch.", Lines: al})
	return nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func errString(err error) string {
	if err == nil {
		return "accepted (wrong)"
	}
	return "rejected (" + err.Error() + ")"
}
