package train_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
	"github.com/gradus-ml/gradus/train"
)

func f(v float64) *float64 { return &v }

func TestConfigDefaults(t *testing.T) {
	c, err := train.Config{}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Model != "mlp" || c.Data != "mnist" || c.Optimizer.Name != "innaprop" || c.Epochs != 2 || c.Batch != 128 ||
		c.DType != "f32" || c.Schedule != "cosine" || *c.Optimizer.LR != 1e-3 || *c.Optimizer.Beta != 0.9 || c.ClipNorm != -1 {
		t.Errorf("defaults: %s", c.JSON())
	}
	// Resolving twice changes nothing (summaries and checkpoints store
	// resolved configs).
	c2, err := c.WithDefaults()
	if err != nil || c2.JSON() != c.JSON() {
		t.Errorf("WithDefaults is not idempotent: %v\n%s\n%s", err, c.JSON(), c2.JSON())
	}
	g, err := train.Config{Model: "gpt"}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if g.Data != "text" || g.Steps != 1000 || g.Batch != 32 || g.Schedule != "warmup-cosine" || g.ClipNorm != 1 || g.GPT.Context != 64 {
		t.Errorf("gpt defaults: %s", g.JSON())
	}
	// An explicit zero weight decay stays zero.
	a, err := train.Config{Optimizer: train.Optimizer{Name: "adamw", WeightDecay: f(0)}}.WithDefaults()
	if err != nil || *a.Optimizer.WeightDecay != 0 {
		t.Errorf("explicit zero weight decay: %v %v", err, a.Optimizer)
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  train.Config
		want string
	}{
		{train.Config{Model: "transformer"}, `unknown model "transformer"`},
		{train.Config{Data: "imagenet"}, `unknown data set "imagenet"`},
		{train.Config{Model: "gpt", Data: "mnist"}, "gpt model trains on text"},
		{train.Config{Data: "text"}, "text trains the gpt model only"},
		{train.Config{Optimizer: train.Optimizer{Name: "lbfgs"}}, `unknown optimizer "lbfgs"`},
		{train.Config{Optimizer: train.Optimizer{Name: "innaprop", LR: f(0.95)}}, "LR = 0.95, want a value < Beta = 0.9"},
		{train.Config{Optimizer: train.Optimizer{Name: "adamw", Sigma: f(0.9)}}, "sigma does not apply to the adamw optimizer"},
		{train.Config{Optimizer: train.Optimizer{Name: "sgd", LR: f(-1)}}, "LR = -1"},
		{train.Config{DType: "int8"}, `unknown dtype "int8"`},
		{train.Config{Epochs: -1}, "epochs = -1"},
		{train.Config{Batch: -5}, "batch = -5"},
		{train.Config{Schedule: "linear"}, `unknown schedule "linear"`},
		{train.Config{ReLUPrime0: 2}, "relu_prime0 = 2"},
		{train.Config{Model: "gpt", GPT: &train.GPTConfig{Width: 30, Heads: 4}}, "not a multiple"},
		{train.Config{Model: "gpt", Epochs: 3}, "number of steps, not epochs"},
		{train.Config{Width: 2}, "width applies to vgg11 and resnet18 only"},
		{train.Config{Warmup: 10}, "warmup applies to the warmup-cosine schedule only"},
	}
	for _, c := range cases {
		_, err := c.cfg.WithDefaults()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}

// TestResumeErrors: a checkpoint that does not fit the model or the run is
// refused with an error naming the problem, and changes nothing.
func TestResumeErrors(t *testing.T) {
	d := synthData(t, 1, 10)
	cfg := train.Config{Model: "mlp", Data: "synthetic", Hidden: []int{8}, Optimizer: train.Optimizer{Name: "adamw"}, Epochs: 1, Batch: 32}
	dir := t.TempDir()
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: dir, Data: d, NoPlot: true}); err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(dir, train.CheckpointFile)
	named, meta, err := tensor.LoadSafetensorsFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := named["0.weight"]; !ok {
		t.Fatalf("checkpoint tensors: %v", keys(named))
	}
	if _, ok := named["optimizer.exp_avg.0"]; !ok {
		t.Fatalf("checkpoint has no optimizer state: %v", keys(named))
	}
	resume := func(c train.Config) error {
		_, err := train.Run(context.Background(), c, train.Options{Out: dir, Data: d, NoPlot: true, Resume: true})
		return err
	}
	// A longer run resumes from the end of the first.
	longer := cfg
	longer.Epochs = 2
	if err := resume(longer); err != nil {
		t.Fatalf("extending the run: %v", err)
	}
	// Another optimizer or model does not.
	other := cfg
	other.Optimizer = train.Optimizer{Name: "sgd"}
	if err := resume(other); err == nil || !strings.Contains(err.Error(), "optimizer") {
		t.Errorf("other optimizer: %v", err)
	}
	other = cfg
	other.Hidden = []int{9}
	if err := resume(other); err == nil || !strings.Contains(err.Error(), "hidden") {
		t.Errorf("other model: %v", err)
	}
	// Tampered checkpoints.
	rewrite := func(edit func(map[string]*tensor.Tensor, map[string]string)) {
		n2, m2 := map[string]*tensor.Tensor{}, map[string]string{}
		for k, v := range named {
			n2[k] = v
		}
		for k, v := range meta {
			m2[k] = v
		}
		edit(n2, m2)
		if err := tensor.SaveSafetensorsFile(ck, n2, m2); err != nil {
			t.Fatal(err)
		}
	}
	rewrite(func(n map[string]*tensor.Tensor, _ map[string]string) {
		n["0.weight"] = tensor.New(tensor.Float32, 8, 99)
	})
	if err := resume(cfg); err == nil || !strings.Contains(err.Error(), `"0.weight" has shape [8 99]`) {
		t.Errorf("wrong shape: %v", err)
	}
	rewrite(func(n map[string]*tensor.Tensor, _ map[string]string) {
		n["0.weights"] = n["0.weight"]
		delete(n, "0.weight")
	})
	if err := resume(cfg); err == nil || !strings.Contains(err.Error(), `missing key "0.weight"`) {
		t.Errorf("wrong name: %v", err)
	}
	rewrite(func(n map[string]*tensor.Tensor, _ map[string]string) {
		n["optimizer.exp_avg.0"] = tensor.New(tensor.Float32, 3)
	})
	if err := resume(cfg); err == nil || !strings.Contains(err.Error(), "optimizer") {
		t.Errorf("wrong optimizer state: %v", err)
	}
	rewrite(func(_ map[string]*tensor.Tensor, m map[string]string) { delete(m, train.MetaKey) })
	if err := resume(cfg); err == nil || !strings.Contains(err.Error(), "not a gradus training checkpoint") {
		t.Errorf("no metadata: %v", err)
	}
	if err := resume(train.Config{}); err == nil {
		t.Errorf("resuming with a different config succeeded")
	}
	empty := t.TempDir()
	if _, err := train.Run(context.Background(), cfg, train.Options{Out: empty, Data: d, Resume: true}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("no checkpoint: %v", err)
	}
}

func keys(m map[string]*tensor.Tensor) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
