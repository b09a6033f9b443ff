package repro

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
)

// TestSmoke runs every experiment at smoke scale: it must finish, pass its
// checks and produce figures.
func TestSmoke(t *testing.T) {
	for _, e := range Experiments() {
		t.Run(e.ID, func(t *testing.T) {
			r, err := e.Run(context.Background(), Config{Scale: Smoke, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %.2f s", e.ID, r.Seconds)
			if len(r.Checks) == 0 || len(r.Figures) == 0 {
				t.Fatalf("%d checks, %d figures", len(r.Checks), len(r.Figures))
			}
			for _, c := range r.Checks {
				t.Logf("%-5v %s: %s", c.Pass, c.Name, c.Measured)
				if !c.Pass {
					t.Errorf("check %q failed: target %q, measured %s", c.Name, c.Target, c.Measured)
				}
				if c.Target == "" || c.Measured == "" {
					t.Errorf("check %q has an empty target or measured value", c.Name)
				}
			}
			for _, f := range r.Figures {
				if !strings.HasPrefix(f.Name, e.ID+"-") {
					t.Errorf("figure %q is not prefixed by the id", f.Name)
				}
				if _, err := f.Encode("png"); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"innaprop", "sgd-derivatives", "inexact-subgradient", "one-step", "monotone-inclusion", "sinkhorn", "ad-complexity", "piggyback", "ode-flows", "relu-prime"}
	got := IDs()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("ids %v, want %v", got, want)
	}
	for _, e := range Experiments() {
		for _, s := range []Scale{Smoke, Quick, Full} {
			if e.Setup(s) == "" && !strings.Contains(e.Title, e.ID) {
				t.Errorf("%s: empty setup at %v", e.ID, s)
			}
		}
		if _, ok := Lookup(e.ID); !ok {
			t.Errorf("Lookup(%q) failed", e.ID)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup found an unknown id")
	}
	for _, s := range []string{"smoke", "quick", "full"} {
		sc, err := ParseScale(s)
		if err != nil || sc.String() != s {
			t.Errorf("ParseScale(%q) = %v, %v", s, sc, err)
		}
	}
	if _, err := ParseScale("huge"); err == nil {
		t.Error("ParseScale accepted huge")
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e, _ := Lookup("inexact-subgradient")
	if _, err := e.Run(ctx, Config{Scale: Quick}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run returned %v", err)
	}
}

func TestSlopes(t *testing.T) {
	x := []float64{1, 10, 100, 1000}
	y := []float64{1, 0.1, 0.01, 0.001}
	if s := logLogSlope(x, y, 0, math.Inf(1)); math.Abs(s+1) > 1e-12 {
		t.Errorf("log-log slope %g", s)
	}
	if s := semiLogSlope([]float64{0, 1, 2}, []float64{1, math.Exp(-0.5), math.Exp(-1)}, 0, 10); math.Abs(s+0.5) > 1e-12 {
		t.Errorf("semi-log slope %g", s)
	}
}
