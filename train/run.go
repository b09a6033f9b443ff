package train

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/data"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// Options are the settings of Run that do not change its result.
type Options struct {
	// Out is the directory of the run's files (created if needed):
	// metrics.csv, eval.csv, summary.json, curves.png, checkpoint and
	// final weights. Empty writes no file (and cannot resume).
	Out string
	// Resume continues the run from the checkpoint in Out. The config
	// must match the checkpoint's, except for the length of the run
	// (Epochs, Steps), DataDir and the bookkeeping intervals.
	Resume bool
	// Data, if non-nil, is trained on instead of loading Config.Data
	// (which is then only a label).
	Data *Data
	// Progress, if non-nil, receives reports during the run.
	Progress func(Progress)
	// NoPlot skips curves.png.
	NoPlot bool
}

// ErrInterrupted is returned (wrapped, with the context's error) by a run
// whose context was cancelled; its checkpoint was saved first.
var ErrInterrupted = errors.New("training interrupted")

// Run trains the model of cfg and returns its summary. It stops when the
// run is complete or ctx is cancelled; in the latter case it saves a
// checkpoint at the current step (when Out is set) and returns the summary
// so far with an error wrapping ErrInterrupted. A resumed run ends with
// weights bit-identical to those of an uninterrupted run of the same
// config, with the same number of kernel threads.
func Run(ctx context.Context, cfg Config, o Options) (*Summary, error) {
	r, err := newRunner(cfg, o)
	if err != nil {
		return nil, err
	}
	defer r.closeLogs()
	return r.run(ctx)
}

// runner is the state of one run.
type runner struct {
	cfg   Config
	opts  Options
	data  *Data
	model nn.Module
	opt   optim.Optimizer
	sched optim.Schedule

	stepper *Stepper

	text       bool
	epochSteps int // batches per epoch (image runs)
	total      int // steps in the run
	evalRNG    *tensor.RNG

	pos     position
	resumed bool
	from    int

	start     time.Time // of this session
	baseSecs  float64   // wall time of earlier sessions
	sessSteps int
	sessTrain float64 // training seconds of this session
	// countedTrain is the part of sessTrain already added to
	// pos.TrainSeconds by a checkpoint.
	countedTrain float64
	metricsLog   *csvLog
	evalLog      *csvLog

	// text runs
	sampler *data.WindowSampler
}

func newRunner(cfg Config, o Options) (*runner, error) {
	c, err := cfg.withDefaults(o.Data != nil)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	if o.Resume && o.Out == "" {
		return nil, errors.New("train: resuming needs the output directory of the run")
	}
	r := &runner{cfg: c, opts: o, text: c.IsText()}
	r.data = o.Data
	if r.data == nil {
		if r.data, err = LoadData(c); err != nil {
			return nil, err
		}
	}
	if r.text != (r.data.Text != nil) {
		return nil, fmt.Errorf("train: model %s does not train on data %q", c.Model, r.data.Name)
	}
	if r.model, err = NewModel(c, r.data, tensor.NewRNG(c.Seed)); err != nil {
		return nil, err
	}
	if r.opt, err = c.Optimizer.New(); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}

	if r.text {
		t := r.data.Text
		T := c.GPT.Context
		if len(t.Train) < T+1 {
			return nil, fmt.Errorf("train: the training text %q has %d characters, the context of %d needs at least %d", r.data.Name, len(t.Train), T, T+1)
		}
		if len(t.Val) < T+1 {
			return nil, fmt.Errorf("train: the validation text of %q has %d characters, the context of %d needs at least %d", r.data.Name, len(t.Val), T, T+1)
		}
		r.total = c.Steps
	} else {
		n := r.data.Train.Len()
		r.epochSteps = (n + c.Batch - 1) / c.Batch
		r.total = c.Epochs * r.epochSteps
		if c.Steps > 0 && c.Steps < r.total {
			r.total = c.Steps
		}
	}
	if r.sched, err = c.schedule(r.total); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	clip := max(c.ClipNorm, 0)
	if r.stepper, err = NewStepper(r.model, r.opt, StepOptions{Policy: ad.Policy{ReLU0: c.ReLUPrime0}, Schedule: r.sched, ClipNorm: clip}); err != nil {
		return nil, err
	}
	r.pos = position{Format: checkpointVer, Config: c, Kinks: map[string]int{}}

	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	if o.Resume {
		path := filepath.Join(o.Out, CheckpointFile)
		saved, err := ReadCheckpointConfig(o.Out)
		if err != nil {
			return nil, err
		}
		if err := sameRun(saved, c); err != nil {
			return nil, err
		}
		pos, err := loadCheckpoint(path, r.model, r.opt)
		if err != nil {
			return nil, err
		}
		if pos.Step > r.total {
			return nil, fmt.Errorf("train: the checkpoint is at step %d, past the %d steps of this run", pos.Step, r.total)
		}
		pos.Config = c
		if pos.Kinks == nil {
			pos.Kinks = map[string]int{}
		}
		r.pos = *pos
		r.resumed, r.from = true, pos.Step
		r.baseSecs = pos.Seconds
		maps.Copy(r.stepper.Stats().Kinks, pos.Kinks)
	}
	if o.Out != "" {
		if !o.Resume {
			for _, f := range []string{CheckpointFile, ModelFile, SummaryFile} {
				if err := removeIfExists(filepath.Join(o.Out, f)); err != nil {
					return nil, fmt.Errorf("train: %w", err)
				}
			}
		}
		var rows []string
		for _, m := range r.pos.Metrics {
			rows = append(rows, m.csv())
		}
		if r.metricsLog, err = openCSV(filepath.Join(o.Out, MetricsFile), metricsHeader, rows); err != nil {
			return nil, err
		}
		rows = rows[:0]
		for _, e := range r.pos.Evals {
			rows = append(rows, e.csv(r.text))
		}
		if r.evalLog, err = openCSV(filepath.Join(o.Out, EvalFile), evalHeader, rows); err != nil {
			r.metricsLog.close()
			return nil, err
		}
	}
	return r, nil
}

func (r *runner) closeLogs() {
	r.metricsLog.close()
	r.evalLog.close()
}

// seed derives the seed of a stream (data order, augmentation, dropout,
// text windows) from the run's seed, so that each is reproducible from
// (seed, what, index) alone.
func seed(base uint64, what string, index int) uint64 {
	h := base ^ 0x9e3779b97f4a7c15
	for i := 0; i < len(what); i++ {
		h = mix(h ^ uint64(what[i]))
	}
	return mix(h ^ uint64(index)*0xbf58476d1ce4e5b9)
}

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// elapsed returns the wall time of the run so far.
func (r *runner) elapsed() float64 { return r.baseSecs + time.Since(r.start).Seconds() }

func (r *runner) report(ev Event, eval *EvalRow, path string) {
	if r.opts.Progress == nil {
		return
	}
	p := Progress{
		Event: ev, Epoch: r.pos.Epoch + 1, Epochs: r.cfg.Epochs,
		Step: r.pos.Step, Steps: r.total,
		EpochStep: r.pos.EpochStep, EpochSteps: r.epochSteps,
		Loss: r.pos.LastLoss, LR: r.pos.LastLR,
		Elapsed: time.Duration(r.elapsed() * float64(time.Second)),
		Resumed: r.resumed, ResumedFrom: r.from, Eval: eval, Path: path,
	}
	if r.text {
		p.Epochs, p.EpochSteps, p.EpochStep = 0, 0, 0
		p.Epoch = r.textEpoch()
	}
	if r.pos.MeanCount > 0 {
		p.MeanLoss = r.pos.MeanLoss / float64(r.pos.MeanCount)
	}
	if r.sessTrain > 0 && r.sessSteps > 0 {
		p.StepsPerSec = float64(r.sessSteps) / r.sessTrain
		p.ETA = time.Duration(float64(r.total-r.pos.Step) / p.StepsPerSec * float64(time.Second))
	}
	r.opts.Progress(p)
}

// textEpoch is the pass over the training text the run is in (from 1).
func (r *runner) textEpoch() int {
	seen := r.pos.Step * r.cfg.Batch * r.cfg.GPT.Context
	return 1 + seen/max(1, len(r.data.Text.Train))
}

func (r *runner) run(ctx context.Context) (*Summary, error) {
	r.start = time.Now()
	r.report(EventStart, nil, "")
	var err error
	if r.text {
		err = r.runText(ctx)
	} else {
		err = r.runImages(ctx)
	}
	if err != nil && !errors.Is(err, ErrInterrupted) {
		return nil, err
	}
	interrupted := err != nil
	if interrupted {
		if cerr := r.checkpoint(); cerr != nil {
			return nil, errors.Join(err, cerr)
		}
	} else {
		if len(r.pos.Evals) == 0 || r.pos.Evals[len(r.pos.Evals)-1].Step != r.pos.Step {
			if eerr := r.evaluate(); eerr != nil {
				return nil, eerr
			}
		}
		if cerr := r.checkpoint(); cerr != nil {
			return nil, cerr
		}
		if r.opts.Out != "" {
			if werr := tensor.SaveSafetensorsFile(filepath.Join(r.opts.Out, ModelFile), nn.StateDict(r.model), map[string]string{"format": "pt"}); werr != nil {
				return nil, fmt.Errorf("train: saving the model: %w", werr)
			}
		}
	}
	s := r.summary(interrupted)
	if r.opts.Out != "" {
		if perr := r.plot(); perr != nil {
			return nil, perr
		}
		if werr := s.write(filepath.Join(r.opts.Out, SummaryFile)); werr != nil {
			return nil, werr
		}
	}
	if !interrupted {
		r.report(EventDone, nil, "")
	}
	return s, err
}

// interrupted returns the error of a cancelled context.
func interrupted(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrInterrupted, context.Cause(ctx))
}

// runImages trains over epochs of the image data.
func (r *runner) runImages(ctx context.Context) error {
	c := r.cfg
	var aug data.Augment
	if c.Augment == "crop-flip" {
		// Black padding: the normalized value of a zero pixel.
		var pad []float32
		if len(r.data.Mean) == len(r.data.Std) && len(r.data.Mean) > 0 {
			pad = make([]float32, len(r.data.Mean))
			for i := range pad {
				pad[i] = float32(-r.data.Mean[i] / r.data.Std[i])
			}
		}
		aug = data.Augment{Crop: 4, Pad: pad, FlipX: true}
	}
	train := r.flat(r.data.Train)
	for r.pos.Step < r.total {
		if r.pos.EpochStep >= r.epochSteps {
			r.pos.Epoch++
			r.pos.EpochStep = 0
			continue
		}
		// The order and the augmentation of an epoch depend on (seed,
		// epoch) only, so a resumed run replays them.
		b, err := data.NewBatcher(train, c.Batch, c.dtype(), data.BatchOptions{
			Shuffle: true, Seed: seed(c.Seed, "epoch", r.pos.Epoch), Augment: aug,
		})
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		k := 0
		for x, y := range b.Epoch() {
			if k < r.pos.EpochStep {
				k++ // done before the checkpoint
				continue
			}
			if ctx.Err() != nil {
				return interrupted(ctx)
			}
			if err := r.step(func(nc *nn.Ctx) *ad.Var {
				return ad.CrossEntropy(r.model.Forward(nc, ad.Const(x)), y)
			}); err != nil {
				return err
			}
			k++
			r.pos.EpochStep = k
			if err := r.afterStep(); err != nil {
				return err
			}
			if r.pos.Step >= r.total {
				break
			}
		}
		if r.pos.EpochStep == r.epochSteps || r.pos.Step >= r.total {
			// End of an epoch: flush the metrics, evaluate, checkpoint.
			if err := r.logRow(); err != nil {
				return err
			}
			if r.cfg.EvalEvery == 0 || r.pos.Step%r.cfg.EvalEvery != 0 {
				if err := r.evaluate(); err != nil {
					return err
				}
			}
			r.pos.MeanLoss, r.pos.MeanCount = 0, 0
			if r.pos.Step < r.total {
				r.pos.Epoch++
				r.pos.EpochStep = 0
				if err := r.checkpoint(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// flat returns d with its examples seen as vectors for the MLP.
func (r *runner) flat(d *data.Dataset) *data.Dataset {
	if r.cfg.Model != "mlp" || len(d.Shape) == 1 {
		return d
	}
	f := *d
	f.Shape = []int{d.Features()}
	return &f
}

// runText trains the language model on random windows of the text.
func (r *runner) runText(ctx context.Context) error {
	c := r.cfg
	T := c.GPT.Context
	s, err := data.NewWindowSampler(r.data.Text.Train, T, c.Batch, seed(c.Seed, "windows", 0))
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	// Replay the windows drawn before the checkpoint.
	for i := 0; i < r.pos.Step; i++ {
		s.Next()
	}
	gpt := r.model.(*nn.GPT)
	for r.pos.Step < r.total {
		if ctx.Err() != nil {
			return interrupted(ctx)
		}
		x, y := s.Next()
		if err := r.step(func(nc *nn.Ctx) *ad.Var { return gpt.Loss(nc, x, y, c.Batch, T) }); err != nil {
			return err
		}
		if err := r.afterStep(); err != nil {
			return err
		}
		if r.pos.Step%c.EvalEvery == 0 || r.pos.Step == r.total {
			if err := r.logRow(); err != nil {
				return err
			}
			if err := r.evaluate(); err != nil {
				return err
			}
			r.pos.MeanLoss, r.pos.MeanCount = 0, 0
		}
	}
	return nil
}

// step runs one training step: forward and backward through loss, then
// the optimizer update with the scheduled learning rate.
func (r *runner) step(loss func(*nn.Ctx) *ad.Var) error {
	t0 := time.Now()
	lv, err := r.stepper.Step(tensor.NewRNG(seed(r.cfg.Seed, "dropout", r.pos.Step)), loss)
	if err != nil {
		return fmt.Errorf("train: step %d: %w", r.pos.Step+1, err)
	}
	r.sessTrain += time.Since(t0).Seconds()
	r.sessSteps++
	r.pos.Step++
	r.pos.LastLoss, r.pos.LastLR = lv, r.opt.LR()
	r.pos.WindowLoss += lv
	r.pos.WindowCount++
	r.pos.MeanLoss += lv
	r.pos.MeanCount++
	return nil
}

// afterStep logs, reports and checkpoints after a step.
func (r *runner) afterStep() error {
	if r.pos.Step%r.cfg.LogEvery == 0 {
		if err := r.logRow(); err != nil {
			return err
		}
	}
	if r.cfg.EvalEvery > 0 && !r.text && r.pos.Step%r.cfg.EvalEvery == 0 {
		if err := r.evaluate(); err != nil {
			return err
		}
	}
	r.report(EventStep, nil, "")
	if ce := r.cfg.CheckpointEvery; ce > 0 && r.pos.Step%ce == 0 && r.pos.Step < r.total {
		return r.checkpoint()
	}
	return nil
}

// logRow writes a metrics row for the steps since the last one.
func (r *runner) logRow() error {
	if r.pos.WindowCount == 0 {
		return nil
	}
	row := MetricRow{
		Epoch: r.pos.Epoch + 1, Step: r.pos.Step,
		TrainLoss: r.pos.WindowLoss / float64(r.pos.WindowCount),
		LR:        r.pos.LastLR, Seconds: r.elapsed(),
	}
	if r.text {
		row.Epoch = r.textEpoch()
	}
	r.pos.WindowLoss, r.pos.WindowCount = 0, 0
	r.pos.Metrics = append(r.pos.Metrics, row)
	return r.metricsLog.add(row.csv())
}

// checkpoint saves the run's state (when it has an output directory).
func (r *runner) checkpoint() error {
	if r.opts.Out == "" {
		return nil
	}
	r.pos.Seconds = r.elapsed()
	r.pos.TrainSeconds += r.sessTrain - r.countedTrain
	r.countedTrain = r.sessTrain
	maps.Copy(r.pos.Kinks, r.stepper.Stats().Kinks)
	path := filepath.Join(r.opts.Out, CheckpointFile)
	if err := saveCheckpoint(path, r.model, r.opt, &r.pos); err != nil {
		return err
	}
	r.report(EventCheckpoint, nil, path)
	return nil
}

// plot draws curves.png.
func (r *runner) plot() error {
	if r.opts.NoPlot || r.opts.Out == "" {
		return nil
	}
	title := fmt.Sprintf("%s on %s, %s", r.cfg.Model, r.data.Name, r.cfg.Optimizer.Name)
	return PlotCurves(filepath.Join(r.opts.Out, CurvesFile), title, []Curve{{
		Name: r.cfg.Optimizer.Name, Text: r.text, Metrics: r.pos.Metrics, Evals: r.pos.Evals,
	}})
}

// evaluate computes the test loss and accuracy (text: the validation loss)
// and records them.
func (r *runner) evaluate() error {
	var loss, acc float64
	var err error
	if r.text {
		loss, err = r.evalText()
	} else {
		loss, acc, err = r.evalImages()
	}
	if err != nil {
		return err
	}
	row := EvalRow{Epoch: r.pos.Epoch + 1, Step: r.pos.Step, Loss: loss, Accuracy: acc, Seconds: r.elapsed()}
	if r.text {
		row.Epoch = r.textEpoch()
	}
	r.pos.Evals = append(r.pos.Evals, row)
	if err := r.evalLog.add(row.csv(r.text)); err != nil {
		return err
	}
	if r.opts.Out != "" && !r.opts.NoPlot && r.pos.Step < r.total {
		if err := r.plot(); err != nil {
			return err
		}
	}
	r.report(EventEval, &row, "")
	return nil
}

// evalImages returns the mean cross-entropy and the accuracy on the test
// set, with the model in evaluation mode.
func (r *runner) evalImages() (loss, acc float64, err error) {
	test := r.flat(r.data.Test)
	b, err := data.NewBatcher(test, r.cfg.EvalBatch, r.cfg.dtype(), data.BatchOptions{})
	if err != nil {
		return 0, 0, fmt.Errorf("train: %w", err)
	}
	nc := nn.NewCtx(nn.Eval, nil)
	var sum float64
	correct, n := 0, 0
	// the batches' activations are drawn from an arena, reused batch
	// after batch
	arena := tensor.NewArena()
	for x, y := range b.Epoch() {
		logits := r.model.Forward(nc, ad.Const(x.In(arena)))
		sum += ad.CrossEntropy(logits, y).Value().Item() * float64(len(y))
		correct += countCorrect(logits.Value(), y)
		n += len(y)
		arena.Release()
	}
	return sum / float64(n), float64(correct) / float64(n), nil
}

// countCorrect counts the rows of logits [n, classes] whose largest entry
// (the first of ties) is at the label.
func countCorrect(logits *tensor.Tensor, y []int) int {
	c := logits.Dim(1)
	ok := 0
	argmax := func(row func(j int) float64) int {
		best, bi := math.Inf(-1), 0
		for j := 0; j < c; j++ {
			if v := row(j); v > best {
				best, bi = v, j
			}
		}
		return bi
	}
	d64, d32 := logits.Data64(), logits.Data32()
	for i, label := range y {
		var k int
		if d64 != nil {
			k = argmax(func(j int) float64 { return d64[i*c+j] })
		} else {
			k = argmax(func(j int) float64 { return float64(d32[i*c+j]) })
		}
		if k == label {
			ok++
		}
	}
	return ok
}

// evalText returns the mean next-character cross-entropy (nats per
// character) over EvalWindows windows spread evenly over the validation
// text.
func (r *runner) evalText() (float64, error) {
	val := r.data.Text.Val
	T := r.cfg.GPT.Context
	W := min(r.cfg.GPT.EvalWindows, (len(val)-1)/T)
	stride := (len(val) - 1) / W
	gpt := r.model.(*nn.GPT)
	B := r.cfg.EvalBatch
	var sum float64
	for lo := 0; lo < W; lo += B {
		nb := min(B, W-lo)
		x := make([]int, 0, nb*T)
		y := make([]int, 0, nb*T)
		for w := lo; w < lo+nb; w++ {
			s := w * stride
			x = append(x, val[s:s+T]...)
			y = append(y, val[s+1:s+T+1]...)
		}
		sum += gpt.Loss(nil, x, y, nb, T).Value().Item() * float64(nb)
	}
	return sum / float64(W), nil
}

// Summary describes a finished (or interrupted) run; it is written to
// summary.json.
type Summary struct {
	Model  string `json:"model"`
	Data   string `json:"data"`
	Params int    `json:"params"`
	// Steps and Epochs done (Epochs: completed passes over the data).
	Steps  int     `json:"steps"`
	Epochs float64 `json:"epochs"`
	// FinalTrainLoss is the mean training loss of the last epoch (text:
	// of the last evaluation interval).
	FinalTrainLoss float64 `json:"final_train_loss"`
	// TestLoss is the mean cross-entropy on the test set at the end; for
	// text, the validation loss in nats per character (also in
	// ValLossNatsPerChar).
	TestLoss           float64  `json:"test_loss"`
	TestAccuracy       *float64 `json:"test_accuracy,omitempty"`
	ValLossNatsPerChar *float64 `json:"val_loss_nats_per_char,omitempty"`
	// StepsPerSec is the training speed (steps over the time spent in
	// training steps); Seconds the wall time of the whole run,
	// evaluations, checkpoints and earlier sessions of a resumed run
	// included.
	StepsPerSec  float64 `json:"steps_per_s"`
	TrainSeconds float64 `json:"train_seconds"`
	Seconds      float64 `json:"seconds"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	// Kinks counts, by primitive, the elements at which backpropagation
	// met a nonsmooth point and used the Policy's choice (ReLUPrime0 for
	// relu, the first index for max-pool ties).
	Kinks       map[string]int `json:"kinks"`
	Resumed     bool           `json:"resumed,omitempty"`
	ResumedFrom int            `json:"resumed_from_step,omitempty"`
	Interrupted bool           `json:"interrupted,omitempty"`
	Evals       []EvalRow      `json:"evals"`
	Config      Config         `json:"config"`
	// Metrics is the training history (not written to summary.json: it
	// is in metrics.csv).
	Metrics []MetricRow `json:"-"`
}

func (r *runner) summary(interrupted bool) *Summary {
	s := &Summary{
		Model: r.cfg.Model, Data: r.data.Name, Params: nn.NumParams(r.model),
		Steps: r.pos.Step, Seconds: r.elapsed(),
		Resumed: r.resumed, ResumedFrom: r.from, Interrupted: interrupted,
		Kinks: maps.Clone(r.stepper.Stats().Kinks), Evals: r.pos.Evals, Config: r.cfg,
		Metrics: r.pos.Metrics, PeakRSSMB: PeakRSSMB(),
	}
	if s.Kinks == nil {
		s.Kinks = map[string]int{}
	}
	s.TrainSeconds = r.pos.TrainSeconds + r.sessTrain - r.countedTrain
	if s.TrainSeconds > 0 {
		s.StepsPerSec = float64(s.Steps) / s.TrainSeconds
	}
	if r.text {
		s.Epochs = float64(r.pos.Step*r.cfg.Batch*r.cfg.GPT.Context) / float64(len(r.data.Text.Train))
	} else {
		s.Epochs = float64(r.pos.Step) / float64(r.epochSteps)
	}
	// The mean training loss of the last epoch or interval: the rows
	// since the last evaluation before the final one.
	if n := len(r.pos.Metrics); n > 0 {
		lo := 0
		if k := len(r.pos.Evals); k >= 2 {
			prev := r.pos.Evals[k-2].Step
			for lo < n && r.pos.Metrics[lo].Step <= prev {
				lo++
			}
		}
		sum, cnt := 0.0, 0
		for i := max(lo, 0); i < n; i++ {
			m := r.pos.Metrics[i]
			steps := m.Step
			if i > 0 {
				steps -= r.pos.Metrics[i-1].Step
			}
			sum += m.TrainLoss * float64(steps)
			cnt += steps
		}
		if cnt > 0 {
			s.FinalTrainLoss = sum / float64(cnt)
		}
	}
	if k := len(r.pos.Evals); k > 0 {
		e := r.pos.Evals[k-1]
		s.TestLoss = e.Loss
		if r.text {
			v := e.Loss
			s.ValLossNatsPerChar = &v
		} else {
			a := e.Accuracy
			s.TestAccuracy = &a
		}
	}
	return s
}

func (s *Summary) write(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("train: encoding the summary: %w", err)
	}
	return writeFileAtomic(path, func(w *bufio.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
