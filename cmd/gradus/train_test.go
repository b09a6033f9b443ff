package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/data"
	"github.com/gradus-ml/gradus/tensor"
	"github.com/gradus-ml/gradus/train"
)

// cli runs the command line and returns the exit status and outputs.
func cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// noTrace fails if the output looks like a Go panic or internal error.
func noTrace(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"panic", "goroutine ", "internal error", ".go:"} {
		if strings.Contains(s, bad) {
			t.Errorf("output contains %q:\n%s", bad, s)
		}
	}
}

// writeMNIST writes a small MNIST-like data set (IDX files, raw) of n
// training and n test images to dir: class k is a bright square at a
// place of its own.
func writeMNIST(t *testing.T, dir string, n int) {
	t.Helper()
	g := tensor.NewRNG(9)
	for _, split := range []string{"train", "t10k"} {
		imgs := &data.IDX{Dims: []int{n, 28, 28}, Data: make([]byte, n*784)}
		labs := &data.IDX{Dims: []int{n}, Data: make([]byte, n)}
		for i := 0; i < n; i++ {
			k := g.IntN(10)
			labs.Data[i] = byte(k)
			for y := 0; y < 28; y++ {
				for x := 0; x < 28; x++ {
					v := g.IntN(60)
					if y/7 == k%4 && x/7 == k/4 {
						v += 190
					}
					imgs.Data[i*784+y*28+x] = byte(v)
				}
			}
		}
		for name, x := range map[string]*data.IDX{split + "-images-idx3-ubyte": imgs, split + "-labels-idx1-ubyte": labs} {
			var b bytes.Buffer
			if err := data.WriteIDX(&b, x); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestTrainCLI(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, 200)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := cli("train", "--data-dir", dir, "--out", out, "--hidden", "32", "--epochs", "2", "--batch", "32", "--opt", "adamw", "--lr", "0.003")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	noTrace(t, stdout+stderr)
	if !strings.Contains(stdout, "test accuracy") {
		t.Errorf("no test accuracy in the output:\n%s", stdout)
	}
	for _, f := range []string{train.MetricsFile, train.EvalFile, train.SummaryFile, train.CurvesFile, train.CheckpointFile, train.ModelFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, train.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s train.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.TestAccuracy == nil || *s.TestAccuracy < 0.5 || s.Steps != 14 || s.Config.Optimizer.Name != "adamw" || *s.Config.Optimizer.LR != 0.003 {
		t.Errorf("summary: %s", b)
	}
	csv, _ := os.ReadFile(filepath.Join(out, train.MetricsFile))
	if !strings.HasPrefix(string(csv), "epoch,step,train_loss,lr,seconds\n") {
		t.Errorf("metrics.csv:\n%s", csv)
	}

	// Resume the finished run for one more epoch: the config comes from
	// the checkpoint, flags given change what may change.
	code, stdout, stderr = cli("train", "--resume", "--out", out, "--epochs", "3", "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var s2 train.Summary
	if err := json.Unmarshal([]byte(stdout), &s2); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if !s2.Resumed || s2.ResumedFrom != 14 || s2.Steps != 21 || *s2.Config.Optimizer.LR != 0.003 {
		t.Errorf("resumed summary: resumed %v from %d, %d steps, config %+v", s2.Resumed, s2.ResumedFrom, s2.Steps, s2.Config.Optimizer)
	}
	// Resuming with another optimizer is refused.
	code, _, stderr = cli("train", "--resume", "--out", out, "--opt", "sgd")
	if code != 1 || !strings.Contains(stderr, "cannot resume") || !strings.Contains(stderr, "optimizer") {
		t.Errorf("resume with another optimizer: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)

	// A checkpoint with a wrong tensor shape or name.
	ck := filepath.Join(out, train.CheckpointFile)
	named, meta, err := tensor.LoadSafetensorsFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(edit func(map[string]*tensor.Tensor)) {
		n2 := map[string]*tensor.Tensor{}
		for k, v := range named {
			n2[k] = v
		}
		edit(n2)
		if err := tensor.SaveSafetensorsFile(ck, n2, meta); err != nil {
			t.Fatal(err)
		}
	}
	tamper(func(n map[string]*tensor.Tensor) { n["2.weight"] = tensor.New(tensor.Float32, 10, 33) })
	code, _, stderr = cli("train", "--resume", "--out", out, "--epochs", "4")
	if code != 1 || !strings.Contains(stderr, `"2.weight" has shape [10 33], the model expects [10 32]`) {
		t.Errorf("wrong shape: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)
	tamper(func(n map[string]*tensor.Tensor) { n["fc.weight"] = n["2.weight"]; delete(n, "2.weight") })
	code, _, stderr = cli("train", "--resume", "--out", out, "--epochs", "4")
	if code != 1 || !strings.Contains(stderr, `missing key "2.weight"`) {
		t.Errorf("wrong name: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)
	if err := os.WriteFile(ck, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli("train", "--resume", "--out", out)
	if code != 1 || !strings.Contains(stderr, "checkpoint.safetensors") {
		t.Errorf("garbage checkpoint: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)
}

func TestTrainCLICompare(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, 100)
	out := filepath.Join(t.TempDir(), "cmp")
	code, stdout, stderr := cli("train", "--data-dir", dir, "--out", out, "--hidden", "16", "--epochs", "1", "--batch", "25",
		"--compare", "adamw,innaprop", "--lr", "0.002", "--sigma", "0.99", "--quiet")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range []string{"compare.png", "compare.json", "adamw/summary.json", "innaprop/summary.json", "innaprop/model.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	if strings.Count(stdout, "test accuracy") != 2 {
		t.Errorf("want one result line per optimizer:\n%s", stdout)
	}
	// Same initialization: the runs start from the same weights, so with
	// the same optimizer they would end equal; here check the configs.
	var sums []train.Summary
	b, _ := os.ReadFile(filepath.Join(out, "compare.json"))
	if err := json.Unmarshal(b, &sums); err != nil || len(sums) != 2 {
		t.Fatalf("compare.json: %v\n%s", err, b)
	}
	if *sums[0].Config.Optimizer.LR != 0.002 || sums[0].Config.Optimizer.Sigma != nil || *sums[1].Config.Optimizer.Sigma != 0.99 || sums[0].Config.Seed != sums[1].Config.Seed {
		t.Errorf("configs: %+v / %+v", sums[0].Config.Optimizer, sums[1].Config.Optimizer)
	}
}

// TestTrainCLIUsageErrors: invalid flags give a message naming the
// problem and exit status 2.
func TestTrainCLIUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--model", "transformer"}, `unknown model "transformer"`},
		{[]string{"--opt", "lbfgs"}, `unknown optimizer "lbfgs"`},
		{[]string{"--dtype", "f8"}, `unknown dtype "f8"`},
		{[]string{"--data", "imagenet"}, `unknown data set "imagenet"`},
		{[]string{"--schedule", "linear"}, `unknown schedule "linear"`},
		{[]string{"--epochs", "-1"}, "--epochs = -1"},
		{[]string{"--batch", "0"}, "--batch = 0"},
		{[]string{"--lr", "0.95"}, "LR = 0.95, want a value < Beta = 0.9"},
		{[]string{"--opt", "innaprop", "--lr", "0.5", "--beta", "0.5"}, "want a value < Beta = 0.5"},
		{[]string{"--opt", "adamw", "--sigma", "0.9"}, "--sigma does not apply to the adamw optimizer"},
		{[]string{"--relu-prime0", "1.5"}, "relu_prime0 = 1.5"},
		{[]string{"--model", "gpt", "--data", "mnist"}, "gpt model trains on text"},
		{[]string{"--hidden", "12,x"}, "--hidden"},
		{[]string{"--compare", "adamw"}, "at least two optimizers"},
		{[]string{"--compare", "adamw,sgd", "--sigma", "0.9"}, "--sigma applies to none"},
		{[]string{"--compare", "adamw,innaprop", "--opt", "sgd"}, "exclude each other"},
		{[]string{"--threads", "-2"}, "--threads = -2"},
		{[]string{"--epochs", "two"}, `invalid value "two"`},
		{[]string{"--no-such-flag"}, "flag provided but not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		code, stdout, stderr := cli(append([]string{"train"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
		if stdout != "" {
			t.Errorf("%v: stdout %q", c.args, stdout)
		}
		noTrace(t, stderr)
	}
}

// TestTrainCLIMalformedData: broken data files give an error naming the
// file and exit status 1.
func TestTrainCLIMalformedData(t *testing.T) {
	// Truncated IDX.
	dir := t.TempDir()
	writeMNIST(t, dir, 50)
	p := filepath.Join(dir, "train-images-idx3-ubyte")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := cli("train", "--data-dir", dir, "--out", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "train-images-idx3-ubyte") {
		t.Errorf("truncated IDX: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)

	// Wrong magic number.
	dir = t.TempDir()
	writeMNIST(t, dir, 50)
	p = filepath.Join(dir, "t10k-labels-idx1-ubyte")
	b, _ = os.ReadFile(p)
	b[3] = 0x03
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli("train", "--data-dir", dir, "--out", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "t10k-labels-idx1-ubyte") {
		t.Errorf("wrong magic: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)

	// A CIFAR-10 JPEG archive with an undecodable image.
	arch := filepath.Join(t.TempDir(), "cifar10-jpeg.tar.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var good bytes.Buffer
	if err := jpeg.Encode(&good, img, nil); err != nil {
		t.Fatal(err)
	}
	add("train/airplane/0000.jpg", good.Bytes())
	add("train/cat/0000.jpg", []byte("\xff\xd8\xff this is not a JPEG"))
	add("test/airplane/0000.jpg", good.Bytes())
	tw.Close()
	zw.Close()
	if err := os.WriteFile(arch, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli("train", "--data", "cifar10", "--model", "cnn", "--data-dir", arch, "--out", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "train/cat/0000.jpg") {
		t.Errorf("bad JPEG: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)

	// A missing data directory.
	code, _, stderr = cli("train", "--data-dir", filepath.Join(t.TempDir(), "nothing"), "--out", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "nothing") {
		t.Errorf("missing directory: exit %d, stderr %s", code, stderr)
	}
	noTrace(t, stderr)
}

func TestBenchStepCLI(t *testing.T) {
	for _, name := range []string{"mlp", "cnn"} {
		code, stdout, stderr := cli("bench", name, "--json", "--seconds", "0.05", "--windows", "1", "--warmup", "1", "--batch", "8")
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", name, code, stderr)
		}
		var r stepResult
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stdout)
		}
		if r.Bench != name || r.DType != "f32" || r.Batch != 8 || !(r.StepsPerSec > 0) || !(r.AllocsPerStep > 0) || !(r.PeakRSSMB > 0) {
			t.Errorf("%s: %+v", name, r)
		}
	}
	code, _, stderr := cli("bench", "mlp", "--dtype", "int4")
	if code != 2 || !strings.Contains(stderr, "unknown dtype") {
		t.Errorf("bad dtype: exit %d, %s", code, stderr)
	}
}
