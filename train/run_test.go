package train_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/data"
	"github.com/gradus-ml/gradus/tensor"
	"github.com/gradus-ml/gradus/train"
)

// synthImages returns a small classification problem of c×s×s images:
// each class is a noisy blob at its own place.
func synthImages(t testing.TB, n, classes, c, s int, seed uint64) *data.Dataset {
	t.Helper()
	g := tensor.NewRNG(seed)
	d := &data.Dataset{Name: "synthetic", Shape: []int{c, s, s}, Classes: classes}
	for i := 0; i < n; i++ {
		k := g.IntN(classes)
		d.Labels = append(d.Labels, k)
		cy, cx := (k*5)%s, (k*3+1)%s
		for ch := 0; ch < c; ch++ {
			for y := 0; y < s; y++ {
				for x := 0; x < s; x++ {
					v := 0.3 * g.NormFloat64()
					if abs(y-cy) <= 1 && abs(x-cx) <= 1 {
						v += 1
					}
					d.X = append(d.X, float32(v))
				}
			}
		}
	}
	return d
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func synthData(t testing.TB, c, s int) *train.Data {
	t.Helper()
	d, err := train.NewImageData("synthetic", synthImages(t, 70, 4, c, s, 1), synthImages(t, 40, 4, c, s, 2))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func synthText(t testing.TB) *train.Data {
	t.Helper()
	g := tensor.NewRNG(3)
	words := []string{"the ", "cat ", "sat ", "on ", "a ", "mat. ", "and ", "dog "}
	var b strings.Builder
	for b.Len() < 3000 {
		b.WriteString(words[g.IntN(len(words))])
	}
	txt, err := data.NewText("synthetic text", []byte(b.String()), data.TextOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &train.Data{Name: txt.Name, Text: txt}
}

// resumeCase is a tiny run that is interrupted at step stopAt and resumed.
type resumeCase struct {
	name   string
	cfg    train.Config
	data   func(testing.TB) *train.Data
	stopAt []int
}

func resumeCases() []resumeCase {
	return []resumeCase{
		{"mlp innaprop cosine", train.Config{Model: "mlp", Data: "synthetic", Hidden: []int{16}, Optimizer: train.Optimizer{Name: "innaprop"},
			Schedule: "cosine", Epochs: 3, Batch: 16, Seed: 7, LogEvery: 2},
			func(t testing.TB) *train.Data { return synthData(t, 1, 10) }, []int{3, 8}},
		{"cnn adamw augment", train.Config{Model: "cnn", Data: "synthetic", Optimizer: train.Optimizer{Name: "adamw"},
			Augment: "crop-flip", Epochs: 2, Batch: 16, Seed: 1, LogEvery: 3},
			func(t testing.TB) *train.Data { return synthData(t, 1, 12) }, []int{6}},
		{"resnet18 momentum batchnorm", train.Config{Model: "resnet18", Data: "synthetic", Width: 1.0 / 16, Optimizer: train.Optimizer{Name: "momentum"},
			Schedule: "step", Epochs: 2, Batch: 20, Seed: 2, CheckpointEvery: 2},
			func(t testing.TB) *train.Data { return synthData(t, 3, 8) }, []int{3}},
		{"gpt rmsprop", train.Config{Model: "gpt", Data: "synthetic", GPT: &train.GPTConfig{Context: 8, Layers: 1, Heads: 2, Width: 8, EvalWindows: 4},
			Optimizer: train.Optimizer{Name: "rmsprop"}, Steps: 12, Batch: 4, Seed: 5, EvalEvery: 5},
			synthText, []int{4, 7}},
	}
}

// TestResumeBitIdentical interrupts runs (through their context) and
// resumes them: the final weights must equal those of an uninterrupted run
// bit for bit, and the metrics must agree.
func TestResumeBitIdentical(t *testing.T) {
	for _, tc := range resumeCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.data(t)
			full := filepath.Join(t.TempDir(), "full")
			sFull, err := train.Run(context.Background(), tc.cfg, train.Options{Out: full, Data: d, NoPlot: true})
			if err != nil {
				t.Fatal(err)
			}
			if sFull.Steps == 0 || math.IsNaN(sFull.TestLoss) {
				t.Fatalf("summary %+v", sFull)
			}

			parts := filepath.Join(t.TempDir(), "parts")
			resume := false
			for _, stop := range tc.stopAt {
				ctx, cancel := context.WithCancel(context.Background())
				s, err := train.Run(ctx, tc.cfg, train.Options{Out: parts, Data: d, NoPlot: true, Resume: resume,
					Progress: func(p train.Progress) {
						if p.Event == train.EventStep && p.Step == stop {
							cancel()
						}
					}})
				cancel()
				if !errors.Is(err, train.ErrInterrupted) {
					t.Fatalf("stop at %d: error %v, want an interruption", stop, err)
				}
				if s == nil || s.Steps != stop || !s.Interrupted {
					t.Fatalf("stop at %d: summary %+v", stop, s)
				}
				resume = true
			}
			sRes, err := train.Run(context.Background(), tc.cfg, train.Options{Out: parts, Data: d, NoPlot: true, Resume: true})
			if err != nil {
				t.Fatal(err)
			}
			if !sRes.Resumed || sRes.ResumedFrom != tc.stopAt[len(tc.stopAt)-1] {
				t.Errorf("resumed summary: resumed %v from %d", sRes.Resumed, sRes.ResumedFrom)
			}
			a, err := os.ReadFile(filepath.Join(full, train.ModelFile))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(parts, train.ModelFile))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("final weights differ after interrupt and resume")
			}
			if sFull.TestLoss != sRes.TestLoss || sFull.FinalTrainLoss != sRes.FinalTrainLoss {
				t.Errorf("losses differ: full %v %v, resumed %v %v", sFull.TestLoss, sFull.FinalTrainLoss, sRes.TestLoss, sRes.FinalTrainLoss)
			}
			if len(sFull.Metrics) != len(sRes.Metrics) {
				t.Fatalf("%d metric rows, resumed run %d", len(sFull.Metrics), len(sRes.Metrics))
			}
			for i := range sFull.Metrics {
				m, n := sFull.Metrics[i], sRes.Metrics[i]
				m.Seconds, n.Seconds = 0, 0
				if m != n {
					t.Errorf("metric row %d: %+v, resumed %+v", i, m, n)
				}
			}
			// metrics.csv has the same rows (seconds aside).
			strip := func(dir string) []string {
				b, err := os.ReadFile(filepath.Join(dir, train.MetricsFile))
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
					out = append(out, l[:strings.LastIndexByte(l, ',')])
				}
				return out
			}
			if x, y := strip(full), strip(parts); strings.Join(x, "\n") != strings.Join(y, "\n") {
				t.Errorf("metrics.csv differs:\n%s\nresumed:\n%s", strings.Join(x, "\n"), strings.Join(y, "\n"))
			}
		})
	}
}
