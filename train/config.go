package train

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// Names accepted by Config.
var (
	Models     = []string{"mlp", "cnn", "vgg11", "resnet18", "gpt"}
	DataSets   = []string{"mnist", "fashion-mnist", "cifar10", "text"}
	Optimizers = []string{"sgd", "momentum", "rmsprop", "adam", "adamw", "inna", "innaprop"}
	Schedules  = []string{"constant", "step", "cosine", "warmup-cosine"}
	DTypes     = []string{"f32", "f64", "f16", "bf16"}
	Augments   = []string{"none", "crop-flip"}
)

// Config describes a training run completely: two runs with equal
// configs (and the same number of kernel threads) produce bit-identical
// weights. Zero fields take the defaults documented on each field;
// WithDefaults fills them in, and summaries and checkpoints store the
// resolved config.
type Config struct {
	// Model is mlp, cnn, vgg11, resnet18 or gpt (default mlp).
	Model string `json:"model"`
	// Data is mnist, fashion-mnist, cifar10 or text (default mnist; text
	// for the gpt model). It is only a label when the data are handed to
	// Run in Options.Data.
	Data string `json:"data"`
	// DataDir is where the data set is read from; empty means its usual
	// place (see package data). For text it is a file, or a directory
	// holding tinyshakespeare.txt; by default Tiny Shakespeare if it can be
	// found, else Newton's Opticks from the Go toolchain.
	DataDir string `json:"data_dir,omitempty"`
	// Limit, if positive, keeps the first Limit training examples and the
	// first Limit test examples (quick runs).
	Limit int `json:"limit,omitempty"`
	// Augment is none or crop-flip (random crop with 4 pixels of padding
	// and horizontal flips; default for cifar10 with vgg11 and resnet18).
	Augment string `json:"augment"`

	// Hidden are the hidden widths of the MLP (default 512, 512).
	Hidden []int `json:"hidden,omitempty"`
	// Width multiplies the channel counts of vgg11 and resnet18 (default 1).
	Width float64 `json:"width,omitempty"`
	// GPT configures the gpt model.
	GPT *GPTConfig `json:"gpt,omitempty"`

	// Optimizer and its hyperparameters.
	Optimizer Optimizer `json:"optimizer"`
	// Schedule is constant, step (×0.1 after each third of the run),
	// cosine (to MinLR at the last step) or warmup-cosine (linear warmup
	// over Warmup steps, then cosine). Default cosine, warmup-cosine for
	// gpt.
	Schedule string  `json:"schedule"`
	Warmup   int     `json:"warmup,omitempty"` // default 5% of the steps (warmup-cosine)
	MinLR    float64 `json:"min_lr,omitempty"` // final rate of the cosine schedules
	// ClipNorm, when positive, clips the global gradient norm (default 1
	// for gpt, none otherwise; negative means none).
	ClipNorm float64 `json:"clip_norm"`

	// Epochs is the number of passes over the training set (default 2;
	// not used by gpt). Steps, if positive, caps the number of steps (for
	// gpt it is the length of the run, default 1000).
	Epochs int `json:"epochs"`
	Steps  int `json:"steps,omitempty"`
	// Batch is the mini-batch size (default 128, 32 for gpt).
	Batch int `json:"batch"`
	// Seed seeds the initialization, the data order, the augmentation and
	// the dropout masks.
	Seed uint64 `json:"seed"`
	// DType is f32, f64, f16 or bf16 (default f32): the parameters,
	// activations and gradients; f16 and bf16 are emulated.
	DType string `json:"dtype"`
	// ReLUPrime0 is the value of relu'(0) used by backpropagation, in
	// [0, 1] (ad.Policy.ReLU0).
	ReLUPrime0 float64 `json:"relu_prime0"`

	// EvalEvery evaluates every EvalEvery steps (default: at the end of
	// each epoch; for gpt every Steps/10 steps).
	EvalEvery int `json:"eval_every,omitempty"`
	// EvalBatch is the batch size of evaluations (default 500; gpt: Batch).
	EvalBatch int `json:"eval_batch,omitempty"`
	// LogEvery writes a metrics row every LogEvery steps (default 10).
	LogEvery int `json:"log_every"`
	// CheckpointEvery also saves a checkpoint every CheckpointEvery steps
	// (default: at the end of each epoch and of the run, and when
	// interrupted).
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
}

// GPTConfig sizes the character-level GPT.
type GPTConfig struct {
	Context int `json:"context"` // window length (default 64)
	Layers  int `json:"layers"`  // transformer blocks (default 2)
	Heads   int `json:"heads"`   // attention heads (default 4)
	Width   int `json:"width"`   // embedding width (default 64)
	// EvalWindows is the number of validation windows evaluated (default
	// 256, spread evenly over the validation text).
	EvalWindows int `json:"eval_windows"`
}

// Optimizer names the method and its hyperparameters. A nil field takes
// the method's default (see OptimizerDefaults); a field that does not
// apply to the method must be nil.
//
// WeightDecay is decoupled (θ ← θ(1−lr·wd)) for adamw, inna and innaprop,
// and the coupled L2 term added to the gradient for sgd, momentum, rmsprop
// and adam, as the weight_decay of their PyTorch versions. Alpha is
// RMSprop's smoothing constant or INNA's friction α; Beta is INNA's
// Hessian damping β; Sigma is INNAprop's second-moment decay σ; Momentum
// is SGD's or RMSprop's momentum.
type Optimizer struct {
	Name        string   `json:"name"`
	LR          *float64 `json:"lr"`
	WeightDecay *float64 `json:"weight_decay"`
	Alpha       *float64 `json:"alpha,omitempty"`
	Beta        *float64 `json:"beta,omitempty"`
	Sigma       *float64 `json:"sigma,omitempty"`
	Momentum    *float64 `json:"momentum,omitempty"`
}

// OptimizerDefaults returns the default hyperparameters of the named
// method, with nil for those that do not apply.
func OptimizerDefaults(name string) (Optimizer, error) {
	f := func(v float64) *float64 { return &v }
	switch name {
	case "sgd":
		return Optimizer{Name: name, LR: f(0.05), WeightDecay: f(0), Momentum: f(0)}, nil
	case "momentum":
		return Optimizer{Name: name, LR: f(0.01), WeightDecay: f(0), Momentum: f(0.9)}, nil
	case "rmsprop":
		return Optimizer{Name: name, LR: f(1e-3), WeightDecay: f(0), Alpha: f(0.99), Momentum: f(0)}, nil
	case "adam":
		return Optimizer{Name: name, LR: f(1e-3), WeightDecay: f(0)}, nil
	case "adamw":
		return Optimizer{Name: name, LR: f(1e-3), WeightDecay: f(0.01)}, nil
	case "inna":
		return Optimizer{Name: name, LR: f(0.01), WeightDecay: f(0), Alpha: f(0.1), Beta: f(0.1)}, nil
	case "innaprop":
		return Optimizer{Name: name, LR: f(1e-3), WeightDecay: f(0.01), Alpha: f(0.1), Beta: f(0.9), Sigma: f(0.999)}, nil
	}
	return Optimizer{}, fmt.Errorf("unknown optimizer %q (want one of %s)", name, strings.Join(Optimizers, ", "))
}

// withDefaults fills the nil fields of o from the method's defaults and
// rejects fields that do not apply.
func (o Optimizer) withDefaults() (Optimizer, error) {
	if o.Name == "" {
		o.Name = "innaprop"
	}
	d, err := OptimizerDefaults(o.Name)
	if err != nil {
		return o, err
	}
	fields := []struct {
		name     string
		set, def **float64
	}{
		{"lr", &o.LR, &d.LR}, {"weight_decay", &o.WeightDecay, &d.WeightDecay},
		{"alpha", &o.Alpha, &d.Alpha}, {"beta", &o.Beta, &d.Beta},
		{"sigma", &o.Sigma, &d.Sigma}, {"momentum", &o.Momentum, &d.Momentum},
	}
	for _, f := range fields {
		switch {
		case *f.def == nil && *f.set != nil:
			return o, fmt.Errorf("%s does not apply to the %s optimizer (%s)", f.name, o.Name, applicable(d))
		case *f.set == nil && *f.def != nil:
			v := **f.def
			*f.set = &v
		}
		if *f.set != nil && (math.IsNaN(**f.set) || math.IsInf(**f.set, 0)) {
			return o, fmt.Errorf("%s = %v, want a finite number", f.name, **f.set)
		}
	}
	return o, nil
}

// applicable lists the hyperparameters of a method.
func applicable(d Optimizer) string {
	var names []string
	for _, f := range []struct {
		n string
		v *float64
	}{{"lr", d.LR}, {"weight_decay", d.WeightDecay}, {"alpha", d.Alpha}, {"beta", d.Beta}, {"sigma", d.Sigma}, {"momentum", d.Momentum}} {
		if f.v != nil {
			names = append(names, f.n)
		}
	}
	return "it takes " + strings.Join(names, ", ")
}

// z maps a value to an optim config field: 0 becomes optim.Zero, so that
// an explicit zero is not replaced by the package default.
func z(p *float64) float64 {
	if p == nil || *p == 0 {
		return optim.Zero
	}
	return *p
}

// val returns *p or 0.
func val(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// New returns the optimizer o describes (o must be resolved).
func (o Optimizer) New() (optim.Optimizer, error) {
	switch o.Name {
	case "sgd", "momentum":
		return optim.NewSGD(optim.SGDConfig{LR: z(o.LR), Momentum: z(o.Momentum), L2: z(o.WeightDecay)})
	case "rmsprop":
		return optim.NewRMSprop(optim.RMSpropConfig{LR: z(o.LR), Alpha: z(o.Alpha), Momentum: z(o.Momentum), L2: z(o.WeightDecay)})
	case "adam":
		return optim.NewAdam(optim.AdamConfig{LR: z(o.LR), L2: z(o.WeightDecay)})
	case "adamw":
		return optim.NewAdamW(optim.AdamWConfig{LR: z(o.LR), WeightDecay: z(o.WeightDecay)})
	case "inna":
		return optim.NewINNA(optim.INNAConfig{LR: z(o.LR), Alpha: z(o.Alpha), Beta: z(o.Beta), WeightDecay: z(o.WeightDecay)})
	case "innaprop":
		return optim.NewINNAprop(optim.INNApropConfig{LR: z(o.LR), Alpha: z(o.Alpha), Beta: z(o.Beta), Sigma: z(o.Sigma), WeightDecay: z(o.WeightDecay)})
	}
	return nil, fmt.Errorf("unknown optimizer %q (want one of %s)", o.Name, strings.Join(Optimizers, ", "))
}

// String formats the method and its hyperparameters, e.g.
// "innaprop(lr=0.001, weight_decay=0.01, alpha=0.1, beta=0.9, sigma=0.999)".
func (o Optimizer) String() string {
	var parts []string
	for _, f := range []struct {
		n string
		v *float64
	}{{"lr", o.LR}, {"weight_decay", o.WeightDecay}, {"alpha", o.Alpha}, {"beta", o.Beta}, {"sigma", o.Sigma}, {"momentum", o.Momentum}} {
		if f.v != nil {
			parts = append(parts, fmt.Sprintf("%s=%g", f.n, *f.v))
		}
	}
	return o.Name + "(" + strings.Join(parts, ", ") + ")"
}

// IsText reports whether the run trains a language model on text.
func (c *Config) IsText() bool { return c.Model == "gpt" }

// WithDefaults returns c with every zero field set to its default, and an
// error naming the first invalid field. It does not read data: limits that
// depend on the data set (image sizes, text length) are checked by Run.
func (c Config) WithDefaults() (Config, error) { return c.withDefaults(false) }

// withDefaults is WithDefaults; custom accepts any non-empty Data label
// (the data are supplied by the caller).
func (c Config) withDefaults(custom bool) (Config, error) {
	if c.Model == "" {
		c.Model = "mlp"
	}
	if !slices.Contains(Models, c.Model) {
		return c, fmt.Errorf("unknown model %q (want one of %s)", c.Model, strings.Join(Models, ", "))
	}
	text := c.IsText()
	if c.Data == "" {
		c.Data = "mnist"
		if text {
			c.Data = "text"
		}
	}
	if custom {
		// The data decide whether the model fits them.
	} else if !slices.Contains(DataSets, c.Data) {
		return c, fmt.Errorf("unknown data set %q (want one of %s)", c.Data, strings.Join(DataSets, ", "))
	} else if text != (c.Data == "text") {
		if text {
			return c, fmt.Errorf("the gpt model trains on text (data %q given)", c.Data)
		}
		return c, fmt.Errorf("data text trains the gpt model only (model %q given)", c.Model)
	}
	if c.Limit < 0 {
		return c, fmt.Errorf("limit = %d, want ≥ 0", c.Limit)
	}
	if c.Augment == "" {
		c.Augment = "none"
		if c.Data == "cifar10" && (c.Model == "vgg11" || c.Model == "resnet18") {
			c.Augment = "crop-flip"
		}
	}
	if !slices.Contains(Augments, c.Augment) {
		return c, fmt.Errorf("unknown augmentation %q (want none or crop-flip)", c.Augment)
	}
	if c.Augment != "none" && text {
		return c, fmt.Errorf("augmentation %q applies to images, not text", c.Augment)
	}

	// Model sizes.
	if c.Model == "mlp" {
		if c.Hidden == nil {
			c.Hidden = []int{512, 512}
		}
		for _, w := range c.Hidden {
			if w < 1 {
				return c, fmt.Errorf("hidden widths %v must be positive", c.Hidden)
			}
		}
	} else if c.Hidden != nil {
		return c, fmt.Errorf("hidden widths apply to the mlp model only")
	}
	if c.Model == "vgg11" || c.Model == "resnet18" {
		if c.Width == 0 {
			c.Width = 1
		}
		if !(c.Width > 0) || math.IsInf(c.Width, 0) {
			return c, fmt.Errorf("width = %v, want a positive multiplier", c.Width)
		}
	} else if c.Width != 0 {
		return c, fmt.Errorf("width applies to vgg11 and resnet18 only")
	}
	if text {
		g := GPTConfig{}
		if c.GPT != nil {
			g = *c.GPT
		}
		def := func(v *int, d int) {
			if *v == 0 {
				*v = d
			}
		}
		def(&g.Context, 64)
		def(&g.Layers, 2)
		def(&g.Heads, 4)
		def(&g.Width, 64)
		def(&g.EvalWindows, 256)
		if g.Context < 1 || g.Layers < 1 || g.Heads < 1 || g.Width < 1 || g.EvalWindows < 1 {
			return c, fmt.Errorf("gpt sizes %+v must be positive", g)
		}
		if g.Width%g.Heads != 0 {
			return c, fmt.Errorf("gpt width %d is not a multiple of the %d heads", g.Width, g.Heads)
		}
		c.GPT = &g
	} else if c.GPT != nil {
		return c, fmt.Errorf("gpt sizes apply to the gpt model only")
	}

	// Length of the run.
	if c.Epochs < 0 {
		return c, fmt.Errorf("epochs = %d, want ≥ 1", c.Epochs)
	}
	if c.Steps < 0 {
		return c, fmt.Errorf("steps = %d, want ≥ 1", c.Steps)
	}
	if text {
		if c.Epochs != 0 {
			return c, fmt.Errorf("the gpt model trains for a number of steps, not epochs")
		}
		if c.Steps == 0 {
			c.Steps = 1000
		}
	} else if c.Epochs == 0 {
		c.Epochs = 2
	}
	if c.Batch < 0 {
		return c, fmt.Errorf("batch = %d, want ≥ 1", c.Batch)
	}
	if c.Batch == 0 {
		c.Batch = 128
		if text {
			c.Batch = 32
		}
	}
	if c.DType == "" {
		c.DType = "f32"
	}
	if _, err := tensor.ParseDType(c.DType); err != nil || !slices.Contains(DTypes, c.DType) {
		return c, fmt.Errorf("unknown dtype %q (want one of %s)", c.DType, strings.Join(DTypes, ", "))
	}
	if pol := (ad.Policy{ReLU0: c.ReLUPrime0}); pol.Validate() != nil || math.IsNaN(c.ReLUPrime0) {
		return c, fmt.Errorf("relu_prime0 = %v, want a value in [0, 1]", c.ReLUPrime0)
	}

	// Optimizer and schedule.
	o, err := c.Optimizer.withDefaults()
	if err != nil {
		return c, err
	}
	c.Optimizer = o
	if _, err := o.New(); err != nil {
		return c, fmt.Errorf("optimizer %s: %w", o.Name, stripOptim(err))
	}
	if c.Schedule == "" {
		c.Schedule = "cosine"
		if text {
			c.Schedule = "warmup-cosine"
		}
	}
	if !slices.Contains(Schedules, c.Schedule) {
		return c, fmt.Errorf("unknown schedule %q (want one of %s)", c.Schedule, strings.Join(Schedules, ", "))
	}
	if c.Warmup < 0 {
		return c, fmt.Errorf("warmup = %d steps, want ≥ 0", c.Warmup)
	}
	if c.Warmup != 0 && c.Schedule != "warmup-cosine" {
		return c, fmt.Errorf("warmup applies to the warmup-cosine schedule only")
	}
	if !(c.MinLR >= 0) || math.IsInf(c.MinLR, 0) {
		return c, fmt.Errorf("min_lr = %v, want a finite value ≥ 0", c.MinLR)
	}
	if c.MinLR > *c.Optimizer.LR {
		return c, fmt.Errorf("min_lr = %v is above lr = %v", c.MinLR, *c.Optimizer.LR)
	}
	if math.IsNaN(c.ClipNorm) || math.IsInf(c.ClipNorm, 0) {
		return c, fmt.Errorf("clip_norm = %v, want a finite number (≤ 0 for none)", c.ClipNorm)
	}
	if c.ClipNorm == 0 {
		c.ClipNorm = -1
		if text {
			c.ClipNorm = 1
		}
	}
	if c.ClipNorm < 0 {
		c.ClipNorm = -1
	}

	// Bookkeeping.
	for _, f := range []struct {
		n string
		v int
	}{{"eval_every", c.EvalEvery}, {"eval_batch", c.EvalBatch}, {"log_every", c.LogEvery}, {"checkpoint_every", c.CheckpointEvery}} {
		if f.v < 0 {
			return c, fmt.Errorf("%s = %d, want ≥ 0", f.n, f.v)
		}
	}
	if text && c.EvalEvery == 0 {
		c.EvalEvery = max(1, c.Steps/10)
	}
	if c.EvalBatch == 0 {
		c.EvalBatch = 500
		if text {
			c.EvalBatch = c.Batch
		}
	}
	if c.LogEvery == 0 {
		c.LogEvery = 10
	}
	return c, nil
}

// stripOptim removes the "optim: Kind: " prefix of an optim error, whose
// field names the caller restates.
func stripOptim(err error) error {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, "optim: "); ok {
		if i := strings.Index(rest, ": "); i >= 0 {
			return fmt.Errorf("%s", rest[i+2:])
		}
	}
	return err
}

// schedule returns the learning-rate schedule of a run of total steps.
func (c *Config) schedule(total int) (optim.Schedule, error) {
	lr := *c.Optimizer.LR
	switch c.Schedule {
	case "constant":
		return optim.Constant(lr)
	case "step":
		return optim.StepDecay(lr, 0.1, max(1, (total+2)/3))
	case "cosine":
		return optim.Cosine(lr, c.MinLR, max(1, total))
	case "warmup-cosine":
		w := c.Warmup
		if w == 0 {
			w = total / 20
		}
		if w >= total {
			return nil, fmt.Errorf("warmup of %d steps is not shorter than the run (%d steps)", w, total)
		}
		return optim.WarmupCosine(lr, c.MinLR, w, total)
	}
	return nil, fmt.Errorf("unknown schedule %q", c.Schedule)
}

// dtype returns the tensor dtype of the run.
func (c *Config) dtype() tensor.DType {
	d, _ := tensor.ParseDType(c.DType)
	return d
}

// JSON returns the config as indented JSON.
func (c Config) JSON() string {
	b, _ := json.MarshalIndent(c, "", "  ")
	return string(b)
}
