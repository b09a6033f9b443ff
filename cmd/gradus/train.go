package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/train"
)

func init() {
	commands["train"] = command{
		summary: "train a model (MLP on MNIST with INNAprop by default) and report its test accuracy",
		run:     runTrain,
	}
}

// trainFlags are the flags of `gradus train`.
type trainFlags struct {
	fs *flag.FlagSet

	model, data, dataDir, opt, schedule, dtype, out, compare, hidden, augment string
	lr, wd, alpha, beta, sigma, momentum, minLR, clip, width, relu0           float64
	epochs, steps, batch, warmup, limit, threads                              int
	context, layers, heads, dModel, evalEvery, logEvery, ckptEvery            int
	seed                                                                      uint64
	resume, quiet, asJSON, noPlot                                             bool
	cpuProfile                                                                string
}

func newTrainFlags(stderr io.Writer) *trainFlags {
	f := &trainFlags{fs: flag.NewFlagSet("gradus train", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.StringVar(&f.model, "model", "mlp", "model: "+strings.Join(train.Models, ", "))
	fs.StringVar(&f.data, "data", "", "data set: "+strings.Join(train.DataSets, ", ")+" (default mnist; text for gpt)")
	fs.StringVar(&f.dataDir, "data-dir", "", "where the data set is (default: its usual place; for text a file or a directory holding tinyshakespeare.txt)")
	fs.IntVar(&f.limit, "limit", 0, "keep only the first `N` training and test examples (text: characters), for quick runs")
	fs.StringVar(&f.augment, "augment", "", "image augmentation: none or crop-flip (default crop-flip for vgg11 and resnet18 on cifar10)")
	fs.StringVar(&f.hidden, "hidden", "", "hidden widths of the mlp, comma-separated (default 512,512)")
	fs.Float64Var(&f.width, "width", 0, "channel multiplier of vgg11 and resnet18 (default 1)")
	fs.IntVar(&f.context, "context", 0, "gpt: context length in characters (default 64)")
	fs.IntVar(&f.layers, "layers", 0, "gpt: transformer blocks (default 2)")
	fs.IntVar(&f.heads, "heads", 0, "gpt: attention heads (default 4)")
	fs.IntVar(&f.dModel, "d-model", 0, "gpt: embedding width (default 64)")

	fs.StringVar(&f.opt, "opt", "innaprop", "optimizer: "+strings.Join(train.Optimizers, ", "))
	fs.StringVar(&f.compare, "compare", "", "train with each of these comma-separated optimizers from the same initialization and plot them together, e.g. adamw,innaprop")
	fs.Float64Var(&f.lr, "lr", 0, "learning rate (default per optimizer: sgd 0.05, momentum 0.01, inna 0.01, others 0.001)")
	fs.Float64Var(&f.wd, "wd", 0, "weight decay: decoupled for adamw, inna, innaprop (default 0.01 for adamw and innaprop); L2 for sgd, momentum, rmsprop, adam (default 0)")
	fs.Float64Var(&f.alpha, "alpha", 0, "inna, innaprop: friction α (default 0.1); rmsprop: smoothing constant (default 0.99)")
	fs.Float64Var(&f.beta, "beta", 0, "inna, innaprop: Hessian damping β (default 0.1 for inna, 0.9 for innaprop; lr must stay below it)")
	fs.Float64Var(&f.sigma, "sigma", 0, "innaprop: second-moment decay σ (default 0.999)")
	fs.Float64Var(&f.momentum, "momentum", 0, "sgd, momentum, rmsprop: momentum (default 0.9 for momentum, 0 otherwise)")
	fs.StringVar(&f.schedule, "schedule", "", "learning-rate schedule: "+strings.Join(train.Schedules, ", ")+" (default cosine, to --min-lr at the last step; warmup-cosine for gpt)")
	fs.IntVar(&f.warmup, "warmup", 0, "warmup-cosine: warmup steps (default 5% of the run)")
	fs.Float64Var(&f.minLR, "min-lr", 0, "final learning rate of the cosine schedules")
	fs.Float64Var(&f.clip, "clip", 0, "clip the global gradient norm to this value (default 1 for gpt, none otherwise; negative: none)")

	fs.IntVar(&f.epochs, "epochs", 0, "passes over the training set (default 2)")
	fs.IntVar(&f.steps, "steps", 0, "training steps: the length of a gpt run (default 1000), a cap for the others")
	fs.IntVar(&f.batch, "batch", 0, "mini-batch size (default 128; 32 for gpt)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the initialization, data order and augmentation")
	fs.StringVar(&f.dtype, "dtype", "f32", "precision: "+strings.Join(train.DTypes, ", ")+" (f16 and bf16 are emulated)")
	fs.Float64Var(&f.relu0, "relu-prime0", 0, "the value of relu'(0) backpropagation uses, in [0, 1]")

	fs.StringVar(&f.out, "out", "", "output `DIR` (default runs/<model>-<data>-<optimizer>, or -compare)")
	fs.BoolVar(&f.resume, "resume", false, "continue the run saved in --out from its checkpoint")
	fs.IntVar(&f.evalEvery, "eval-every", 0, "evaluate every N steps (default: each epoch; gpt: 10 times per run)")
	fs.IntVar(&f.logEvery, "log-every", 0, "write a metrics.csv row every N steps (default 10)")
	fs.IntVar(&f.ckptEvery, "checkpoint-every", 0, "also save a checkpoint every N steps (default: each epoch, at the end and when interrupted)")
	fs.IntVar(&f.threads, "threads", 0, "threads for the kernels and the optimizer (default GOMAXPROCS)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output, only the result")
	fs.BoolVar(&f.asJSON, "json", false, "print the summary as JSON on stdout")
	fs.BoolVar(&f.noPlot, "no-plot", false, "do not draw curves.png")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: gradus train [flags]")
		fmt.Fprintln(w, "Trains a model and prints its test accuracy (text: validation loss in nats per character).")
		fmt.Fprintln(w, "Writes metrics.csv, eval.csv, summary.json, curves.png, checkpoint.safetensors and")
		fmt.Fprintln(w, "model.safetensors to --out. Ctrl-C saves a checkpoint; --resume continues it bit for bit.")
		fmt.Fprintln(w)
		fs.PrintDefaults()
	}
	return f
}

// usageError is an invalid flag value: printed with a hint, exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// set reports whether the flag was given on the command line.
func (f *trainFlags) set() map[string]bool {
	m := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { m[fl.Name] = true })
	return m
}

// config builds the run's config from base (empty, or the config of the
// checkpoint being resumed) and the flags given.
func (f *trainFlags) config(base train.Config, set map[string]bool) (train.Config, error) {
	c := base
	str := func(name string, dst *string, v string) {
		if set[name] || *dst == "" {
			*dst = v
		}
	}
	str("model", &c.Model, f.model)
	if set["data"] {
		c.Data = f.data
	}
	if set["data-dir"] {
		c.DataDir = f.dataDir
	}
	if set["augment"] {
		c.Augment = f.augment
	}
	if set["dtype"] || c.DType == "" {
		c.DType = f.dtype
	}
	if set["schedule"] {
		c.Schedule = f.schedule
	}
	ints := []struct {
		name string
		dst  *int
		v    int
	}{
		{"limit", &c.Limit, f.limit}, {"epochs", &c.Epochs, f.epochs}, {"steps", &c.Steps, f.steps},
		{"batch", &c.Batch, f.batch}, {"warmup", &c.Warmup, f.warmup}, {"eval-every", &c.EvalEvery, f.evalEvery},
		{"log-every", &c.LogEvery, f.logEvery}, {"checkpoint-every", &c.CheckpointEvery, f.ckptEvery},
	}
	for _, x := range ints {
		if set[x.name] {
			if x.v < 0 {
				return c, fmt.Errorf("--%s = %d, want a value ≥ 0", x.name, x.v)
			}
			if x.v == 0 && (x.name == "epochs" || x.name == "batch" || x.name == "steps") {
				return c, fmt.Errorf("--%s = 0, want a value ≥ 1", x.name)
			}
			*x.dst = x.v
		}
	}
	if set["seed"] {
		c.Seed = f.seed
	}
	if set["relu-prime0"] {
		c.ReLUPrime0 = f.relu0
	}
	if set["min-lr"] {
		c.MinLR = f.minLR
	}
	if set["clip"] {
		c.ClipNorm = f.clip
		if f.clip == 0 {
			c.ClipNorm = -1
		}
	}
	if set["width"] {
		c.Width = f.width
	}
	if set["hidden"] {
		c.Hidden = nil
		for _, s := range strings.Split(f.hidden, ",") {
			w, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || w < 1 {
				return c, fmt.Errorf("--hidden %q: want positive integers separated by commas", f.hidden)
			}
			c.Hidden = append(c.Hidden, w)
		}
	}
	if set["context"] || set["layers"] || set["heads"] || set["d-model"] {
		g := train.GPTConfig{}
		if c.GPT != nil {
			g = *c.GPT
		}
		for _, x := range []struct {
			name string
			dst  *int
			v    int
		}{{"context", &g.Context, f.context}, {"layers", &g.Layers, f.layers}, {"heads", &g.Heads, f.heads}, {"d-model", &g.Width, f.dModel}} {
			if set[x.name] {
				if x.v < 1 {
					return c, fmt.Errorf("--%s = %d, want a value ≥ 1", x.name, x.v)
				}
				*x.dst = x.v
			}
		}
		c.GPT = &g
	}
	if set["opt"] || c.Optimizer.Name == "" {
		o, err := f.optimizer(f.opt, set, true)
		if err != nil {
			return c, err
		}
		c.Optimizer = o
	} else if o, err := f.optimizer(c.Optimizer.Name, set, true); err != nil {
		return c, err
	} else {
		overlay(&c.Optimizer, o)
	}
	return c, nil
}

// overlay copies the hyperparameters set in o into dst.
func overlay(dst *train.Optimizer, o train.Optimizer) {
	for _, p := range []struct{ d, s **float64 }{
		{&dst.LR, &o.LR}, {&dst.WeightDecay, &o.WeightDecay}, {&dst.Alpha, &o.Alpha},
		{&dst.Beta, &o.Beta}, {&dst.Sigma, &o.Sigma}, {&dst.Momentum, &o.Momentum},
	} {
		if *p.s != nil {
			*p.d = *p.s
		}
	}
}

// optimizer returns the optimizer name with the hyperparameters given as
// flags. With strict, a flag that does not apply to it is an error;
// otherwise it is skipped (--compare applies each flag where it can).
func (f *trainFlags) optimizer(name string, set map[string]bool, strict bool) (train.Optimizer, error) {
	def, err := train.OptimizerDefaults(name)
	if err != nil {
		return train.Optimizer{}, err
	}
	o := train.Optimizer{Name: name}
	for _, x := range []struct {
		flag     string
		v        float64
		dst, def **float64
	}{
		{"lr", f.lr, &o.LR, &def.LR}, {"wd", f.wd, &o.WeightDecay, &def.WeightDecay},
		{"alpha", f.alpha, &o.Alpha, &def.Alpha}, {"beta", f.beta, &o.Beta, &def.Beta},
		{"sigma", f.sigma, &o.Sigma, &def.Sigma}, {"momentum", f.momentum, &o.Momentum, &def.Momentum},
	} {
		if !set[x.flag] {
			continue
		}
		if *x.def == nil {
			if strict {
				return o, fmt.Errorf("--%s does not apply to the %s optimizer", x.flag, name)
			}
			continue
		}
		v := x.v
		*x.dst = &v
	}
	return o, nil
}

func runTrain(args []string, stdout, stderr io.Writer) (err error) {
	f := newTrainFlags(stderr)
	if err := f.fs.Parse(args); err != nil {
		return errUsage // the flag package printed the problem and the usage
	}
	if f.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gradus train: unexpected argument %q (flags start with --)\n", f.fs.Arg(0))
		return errUsage
	}
	defer func() {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "gradus train: %v\nRun 'gradus train -h' for the flags.\n", ue.err)
			err = errUsage
		}
	}()
	set := f.set()
	if f.threads < 0 {
		return usageError{fmt.Errorf("--threads = %d, want ≥ 1", f.threads)}
	}
	if f.threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(f.threads))
		defer kernels.SetThreads(kernels.SetThreads(f.threads))
	}

	// The run's config: from the flags, or from the checkpoint being
	// resumed with the flags given on top.
	var cfgs []train.Config
	var compare []train.Optimizer
	if f.compare != "" {
		if set["opt"] {
			return usageError{errors.New("--opt and --compare exclude each other")}
		}
		seen := map[string]bool{}
		for _, n := range strings.Split(f.compare, ",") {
			n = strings.TrimSpace(n)
			if seen[n] {
				return usageError{fmt.Errorf("--compare lists %q twice", n)}
			}
			seen[n] = true
			o, err := f.optimizer(n, set, false)
			if err != nil {
				return usageError{fmt.Errorf("--compare: %w", err)}
			}
			compare = append(compare, o)
		}
		if len(compare) < 2 {
			return usageError{errors.New("--compare needs at least two optimizers, e.g. adamw,innaprop")}
		}
		for _, fl := range []string{"alpha", "beta", "sigma", "momentum"} {
			if !set[fl] {
				continue
			}
			used := false
			for _, o := range compare {
				d, _ := train.OptimizerDefaults(o.Name)
				used = used || (fl == "alpha" && d.Alpha != nil) || (fl == "beta" && d.Beta != nil) ||
					(fl == "sigma" && d.Sigma != nil) || (fl == "momentum" && d.Momentum != nil)
			}
			if !used {
				return usageError{fmt.Errorf("--%s applies to none of the optimizers of --compare", fl)}
			}
		}
	}
	base := train.Config{}
	out := f.out
	if f.resume && f.compare == "" {
		if out == "" {
			c, err := f.config(base, set)
			if err != nil {
				return usageError{err}
			}
			out = defaultOut(c, "")
		}
		saved, err := train.ReadCheckpointConfig(out)
		if err != nil {
			return err
		}
		base = saved
	}
	cfg, err := f.config(base, set)
	if err != nil {
		return usageError{err}
	}
	if compare != nil {
		cfg.Optimizer = train.Optimizer{}
		for _, o := range compare {
			c := cfg
			c.Optimizer = o
			rc, err := c.WithDefaults()
			if err != nil {
				return usageError{fmt.Errorf("%s: %w", o.Name, err)}
			}
			cfgs = append(cfgs, rc)
		}
	} else {
		rc, err := cfg.WithDefaults()
		if err != nil {
			return usageError{err}
		}
		cfgs = append(cfgs, rc)
	}
	if out == "" {
		suffix := ""
		if compare != nil {
			suffix = "compare"
		}
		out = defaultOut(cfgs[0], suffix)
	}

	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	pp := newProgressPrinter(stdout, f.quiet || f.asJSON)
	opts := train.Options{Out: out, Resume: f.resume, NoPlot: f.noPlot, Progress: pp.update}
	if !f.quiet && !f.asJSON {
		what := "training"
		if f.resume {
			what = "resuming"
		}
		if compare != nil {
			fmt.Fprintf(stdout, "%s %s on %s with %s (same initialization, seed %d) → %s\n", what, cfgs[0].Model, cfgs[0].Data,
				strings.Join(optNames(compare), ", "), cfgs[0].Seed, out)
		} else {
			c := cfgs[0]
			fmt.Fprintf(stdout, "%s %s on %s with %s, %s schedule, batch %d, %s, relu'(0)=%g, seed %d → %s\n",
				what, c.Model, c.Data, c.Optimizer, c.Schedule, c.Batch, c.DType, c.ReLUPrime0, c.Seed, out)
		}
	}

	var sums []*train.Summary
	if compare != nil {
		opts.Progress = func(p train.Progress) { pp.update(p) }
		sums, err = train.Compare(ctx, cfg, compare, opts)
	} else {
		var s *train.Summary
		s, err = train.Run(ctx, cfgs[0], opts)
		if s != nil {
			sums = append(sums, s)
		}
	}
	pp.finish()
	if errors.Is(err, train.ErrInterrupted) {
		last := sums[len(sums)-1]
		flags := "--resume --out " + out
		if compare != nil {
			flags = "--compare " + f.compare + " " + flags + " (and the same flags as before)"
		}
		return fmt.Errorf("interrupted at step %d of the %s run; checkpoint saved in %s. Continue with: gradus train %s",
			last.Steps, last.Config.Optimizer.Name, out, flags)
	}
	if err != nil {
		return err
	}
	if f.asJSON {
		enc := json.NewEncoder(stdout)
		for _, s := range sums {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	for _, s := range sums {
		fmt.Fprintln(stdout, resultLine(s))
	}
	if compare != nil {
		fmt.Fprintf(stdout, "curves: %s\n", filepath.Join(out, train.CompareCurvesFile))
	} else if !f.quiet {
		files := []string{train.MetricsFile, train.EvalFile, train.SummaryFile, train.CurvesFile, train.CheckpointFile, train.ModelFile}
		if f.noPlot {
			files = slices.DeleteFunc(files, func(s string) bool { return s == train.CurvesFile })
		}
		fmt.Fprintf(stdout, "files: %s/{%s}\n", out, strings.Join(files, ", "))
	}
	return nil
}

func optNames(os []train.Optimizer) []string {
	var n []string
	for _, o := range os {
		n = append(n, o.Name)
	}
	return n
}

// defaultOut is runs/<model>-<data>-<optimizer or suffix>.
func defaultOut(c train.Config, suffix string) string {
	d := c.Data
	if d == "" {
		d = "mnist"
		if c.Model == "gpt" {
			d = "text"
		}
	}
	if suffix == "" {
		suffix = c.Optimizer.Name
	}
	return filepath.Join("runs", c.Model+"-"+d+"-"+suffix)
}

// resultLine is the one-line result of a run.
func resultLine(s *train.Summary) string {
	var b strings.Builder
	if s.ValLossNatsPerChar != nil {
		fmt.Fprintf(&b, "validation loss %.4f nats/char", *s.ValLossNatsPerChar)
	} else if s.TestAccuracy != nil {
		fmt.Fprintf(&b, "test accuracy %.2f%%, test loss %.4f", 100**s.TestAccuracy, s.TestLoss)
	}
	fmt.Fprintf(&b, " — %s on %s, %s: %d steps (%.2f epochs) in %.1f s, %.1f steps/s, final train loss %.4f, peak RSS %.0f MB",
		s.Model, s.Data, s.Config.Optimizer.Name, s.Steps, s.Epochs, s.Seconds, s.StepsPerSec, s.FinalTrainLoss, s.PeakRSSMB)
	if n := totalKinks(s.Kinks); n > 0 {
		fmt.Fprintf(&b, "; backprop met %d kinks (%s)", n, kinkList(s.Kinks))
	}
	return b.String()
}

func totalKinks(k map[string]int) int {
	n := 0
	for _, v := range k {
		n += v
	}
	return n
}

func kinkList(k map[string]int) string {
	names := make([]string, 0, len(k))
	for n, v := range k {
		if v > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, k[n]))
	}
	return strings.Join(parts, ", ")
}
