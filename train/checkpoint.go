package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
)

// A checkpoint is one safetensors file: the model's state dict under its
// PyTorch names (parameters and buffers), the optimizer's buffers under
// OptimizerPrefix, and in the metadata the optimizer's step count and
// hyperparameters (optim.State.Export) and, under MetaKey, the run: its
// config, the position in the data and the history of its metrics. One
// file written atomically, so the three always agree.
//
// PyTorch reads the weights with
//
//	sd = safetensors.torch.load_file("checkpoint.safetensors")
//	model.load_state_dict({k: v for k, v in sd.items() if not k.startswith("optimizer.")})
//
// and model.safetensors, written at the end of a run, holds the weights
// alone.
const (
	OptimizerPrefix = "optimizer."
	MetaKey         = "gradus.train"
	checkpointVer   = 1
)

// position is where a run stands: what a resumed run needs besides the
// weights and the optimizer state to continue bit for bit.
type position struct {
	Format int    `json:"format"`
	Config Config `json:"config"`
	// Step is the number of steps done; Epoch the epoch in progress (from
	// 0) and EpochStep the batches of it already done.
	Step      int `json:"step"`
	Epoch     int `json:"epoch"`
	EpochStep int `json:"epoch_step"`
	// Seconds is the wall time of the run so far, TrainSeconds the part
	// spent in training steps.
	Seconds      float64 `json:"seconds"`
	TrainSeconds float64 `json:"train_seconds"`
	// Running sums of the training loss: since the last metrics row
	// (Window) and over the current epoch or evaluation interval (Mean).
	WindowLoss  float64 `json:"window_loss"`
	WindowCount int     `json:"window_count"`
	MeanLoss    float64 `json:"mean_loss"`
	MeanCount   int     `json:"mean_count"`
	LastLoss    float64 `json:"last_loss"`
	LastLR      float64 `json:"last_lr"`
	// Kinks counts the nonsmooth points hit by backpropagation, by
	// primitive.
	Kinks   map[string]int `json:"kinks"`
	Metrics []MetricRow    `json:"metrics"`
	Evals   []EvalRow      `json:"evals"`
}

// saveCheckpoint writes model, optimizer state and position to path
// atomically.
func saveCheckpoint(path string, model nn.Module, opt optim.Optimizer, pos *position) error {
	named := map[string]*tensor.Tensor{}
	for name, t := range nn.StateDict(model) {
		if strings.HasPrefix(name, OptimizerPrefix) {
			return fmt.Errorf("train: model parameter %q clashes with the optimizer prefix %q", name, OptimizerPrefix)
		}
		named[name] = t
	}
	ots, meta := opt.State().Export(OptimizerPrefix)
	for k, t := range ots {
		named[k] = t
	}
	js, err := json.Marshal(pos)
	if err != nil {
		return fmt.Errorf("train: encoding checkpoint position: %w", err)
	}
	meta[MetaKey] = string(js)
	if err := tensor.SaveSafetensorsFile(path, named, meta); err != nil {
		return fmt.Errorf("train: saving checkpoint: %w", err)
	}
	return nil
}

// ReadCheckpointConfig returns the config stored in the checkpoint of the
// run directory dir (to resume it with the same settings).
func ReadCheckpointConfig(dir string) (Config, error) {
	path := filepath.Join(dir, CheckpointFile)
	_, meta, err := tensor.LoadSafetensorsFile(path)
	if err != nil {
		return Config{}, checkpointError(path, err)
	}
	pos, err := decodePosition(path, meta)
	if err != nil {
		return Config{}, err
	}
	return pos.Config, nil
}

func checkpointError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("train: no checkpoint to resume: %s does not exist", path)
	}
	return fmt.Errorf("train: reading checkpoint: %w", err)
}

func decodePosition(path string, meta map[string]string) (*position, error) {
	js, ok := meta[MetaKey]
	if !ok {
		return nil, fmt.Errorf("train: %s is not a gradus training checkpoint (no %q metadata)", path, MetaKey)
	}
	var pos position
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pos); err != nil {
		return nil, fmt.Errorf("train: %s: decoding the %q metadata: %w", path, MetaKey, err)
	}
	if pos.Format != checkpointVer {
		return nil, fmt.Errorf("train: %s: checkpoint format %d, this version reads %d", path, pos.Format, checkpointVer)
	}
	if pos.Step < 0 || pos.Epoch < 0 || pos.EpochStep < 0 {
		return nil, fmt.Errorf("train: %s: invalid position (step %d, epoch %d, epoch step %d)", path, pos.Step, pos.Epoch, pos.EpochStep)
	}
	return &pos, nil
}

// loadCheckpoint restores model and opt from path and returns the
// position. The model and optimizer are unchanged when it fails.
func loadCheckpoint(path string, model nn.Module, opt optim.Optimizer) (*position, error) {
	named, meta, err := tensor.LoadSafetensorsFile(path)
	if err != nil {
		return nil, checkpointError(path, err)
	}
	pos, err := decodePosition(path, meta)
	if err != nil {
		return nil, err
	}
	weights := map[string]*tensor.Tensor{}
	for k, t := range named {
		if !strings.HasPrefix(k, OptimizerPrefix) {
			weights[k] = t
		}
	}
	// Check dtypes too: a resumed run must continue in its own precision.
	own := nn.StateDict(model)
	keys := make([]string, 0, len(own))
	for k := range own {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t, ok := weights[k]; ok && t.DType() != own[k].DType() {
			return nil, fmt.Errorf("train: %s: tensor %q is %v, the model is %v", path, k, t.DType(), own[k].DType())
		}
	}
	st, err := optim.Import(OptimizerPrefix, named, meta)
	if err != nil {
		return nil, fmt.Errorf("train: %s: optimizer state: %w", path, err)
	}
	// Load the optimizer first: it checks its own state, and the weights
	// are only copied once everything has been validated.
	snapshot := opt.State()
	if err := opt.Load(st); err != nil {
		return nil, fmt.Errorf("train: %s: optimizer state: %w", path, err)
	}
	if err := checkOptimizerShapes(st, model); err != nil {
		_ = opt.Load(snapshot)
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	if err := nn.LoadStateDict(model, weights); err != nil {
		_ = opt.Load(snapshot)
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	return pos, nil
}

// checkOptimizerShapes checks that the optimizer buffers "<name>.<i>"
// have the shapes of parameter i.
func checkOptimizerShapes(st *optim.State, model nn.Module) error {
	ps := model.Params()
	for k, t := range st.Tensors {
		dot := strings.LastIndexByte(k, '.')
		var i int
		if _, err := fmt.Sscanf(k[dot+1:], "%d", &i); err != nil || i < 0 || i >= len(ps) {
			return fmt.Errorf("optimizer tensor %q does not belong to one of the %d parameters", OptimizerPrefix+k, len(ps))
		}
		if !tensor.SameShape(t, ps[i].Value) {
			return fmt.Errorf("optimizer tensor %q has shape %v, parameter %q has %v", OptimizerPrefix+k, t.Shape(), ps[i].Name, ps[i].Value.Shape())
		}
	}
	return nil
}

// sameRun reports the first difference between the config of a checkpoint
// and the config of the run resuming it, ignoring the fields that may
// change between sessions (the length of the run, the data location and
// the bookkeeping intervals).
func sameRun(saved, now Config) error {
	norm := func(c Config) map[string]json.RawMessage {
		c.Epochs, c.Steps, c.DataDir = 0, 0, ""
		c.EvalEvery, c.EvalBatch, c.LogEvery, c.CheckpointEvery = 0, 0, 0, 0
		b, _ := json.Marshal(c)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(b, &m)
		return m
	}
	a, b := norm(saved), norm(now)
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !bytes.Equal(a[k], b[k]) {
			sa, sb := string(a[k]), string(b[k])
			if sa == "" {
				sa = "unset"
			}
			if sb == "" {
				sb = "unset"
			}
			return fmt.Errorf("train: cannot resume: the checkpoint was trained with %s = %s, this run asks for %s", k, sa, sb)
		}
	}
	return nil
}

// removeIfExists removes path, ignoring a missing file.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
