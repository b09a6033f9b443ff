package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gradus-ml/gradus/train"
)

// The accuracy targets of the training command. They train on the real
// data sets for minutes, so they run only with GRADUS_SLOW=1:
//
//	GRADUS_SLOW=1 go test ./cmd/gradus -run Slow -v -timeout 60m

func slow(t *testing.T) {
	t.Helper()
	if os.Getenv("GRADUS_SLOW") != "1" {
		t.Skip("slow: set GRADUS_SLOW=1 to run")
	}
}

// trainJSON runs `gradus train --json` and returns its summary.
func trainJSON(t *testing.T, args ...string) *train.Summary {
	t.Helper()
	start := time.Now()
	code, stdout, stderr := cli(append([]string{"train", "--json", "--out", filepath.Join(t.TempDir(), "run")}, args...)...)
	if code != 0 {
		t.Fatalf("gradus train %v: exit %d\n%s", args, code, stderr)
	}
	var s train.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("summary: %v\n%s", err, stdout)
	}
	t.Logf("gradus train %v: %d steps in %.1f s (%.1f s wall), %.2f steps/s, test loss %.4f", args, s.Steps, s.Seconds, time.Since(start).Seconds(), s.StepsPerSec, s.TestLoss)
	return &s
}

// MLP 784-512-512-10 on MNIST, 2 epochs, default hyperparameters:
// at least 97.5% test accuracy with AdamW and with INNAprop.
func TestSlowMLPMNIST(t *testing.T) {
	slow(t)
	for _, opt := range []string{"adamw", "innaprop"} {
		s := trainJSON(t, "--model", "mlp", "--data", "mnist", "--opt", opt, "--epochs", "2")
		t.Logf("%s: test accuracy %.2f%%", opt, 100**s.TestAccuracy)
		if *s.TestAccuracy < 0.975 {
			t.Errorf("%s: test accuracy %.2f%%, want ≥ 97.5%%", opt, 100**s.TestAccuracy)
		}
	}
}

// The small CNN on MNIST, 2 epochs: at least 98.5%.
func TestSlowCNNMNIST(t *testing.T) {
	slow(t)
	s := trainJSON(t, "--model", "cnn", "--data", "mnist", "--epochs", "2")
	t.Logf("test accuracy %.2f%%", 100**s.TestAccuracy)
	if *s.TestAccuracy < 0.985 {
		t.Errorf("test accuracy %.2f%%, want ≥ 98.5%%", 100**s.TestAccuracy)
	}
}

// A GPT-style character model on Tiny Shakespeare: validation loss below
// 2.0 nats per character within 10 minutes on 2 cores.
func TestSlowGPTShakespeare(t *testing.T) {
	slow(t)
	path := filepath.Join("..", "..", "..", "shared", "data", "tinyshakespeare.txt")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("Tiny Shakespeare not found: %v", err)
	}
	s := trainJSON(t, append([]string{"--model", "gpt", "--data-dir", path}, gptShakespeareArgs...)...)
	t.Logf("validation loss %.4f nats/char after %.1f s", *s.ValLossNatsPerChar, s.Seconds)
	if *s.ValLossNatsPerChar >= 2.0 {
		t.Errorf("validation loss %.4f nats/char, want < 2.0", *s.ValLossNatsPerChar)
	}
	if s.Seconds > 600 {
		t.Errorf("took %.0f s, want ≤ 600", s.Seconds)
	}
}

// gptShakespeareArgs is the configuration of the Tiny Shakespeare check.
var gptShakespeareArgs = []string{
	"--steps", "1000", "--eval-every", "100", "--layers", "2", "--d-model", "64", "--heads", "4",
	"--context", "64", "--batch", "32", "--opt", "adamw", "--lr", "3e-3",
}
