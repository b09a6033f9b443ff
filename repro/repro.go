// Package repro holds the experiments of the ten papers gradus reproduces
// (see the registry Experiments): each sets up the paper's illustration at
// a chosen scale, runs it with gradus's own packages (ad, iterdiff, ot, ode,
// nn, optim, data), and returns its data series as figures and its
// checkable targets as checks with measured values.
//
// Every experiment has three scales: Smoke (a few seconds; the test suite
// runs it), Quick (well under a minute on two cores) and Full (as close to
// the paper as one machine allows in about an hour). Runs are deterministic
// given the Config's seed, report progress through a callback, stop when
// their context is cancelled, and never print.
package repro

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gradus-ml/gradus/report"
)

// Scale is the size of a run.
type Scale int

// The scales.
const (
	Smoke Scale = iota
	Quick
	Full
)

func (s Scale) String() string {
	switch s {
	case Smoke:
		return "smoke"
	case Quick:
		return "quick"
	case Full:
		return "full"
	}
	return fmt.Sprintf("Scale(%d)", int(s))
}

// ParseScale parses "smoke", "quick" or "full".
func ParseScale(s string) (Scale, error) {
	switch strings.ToLower(s) {
	case "smoke":
		return Smoke, nil
	case "quick":
		return Quick, nil
	case "full":
		return Full, nil
	}
	return 0, fmt.Errorf("repro: unknown scale %q (want smoke, quick or full)", s)
}

// pick returns the value for the scale.
func pick[T any](s Scale, smoke, quick, full T) T {
	switch s {
	case Smoke:
		return smoke
	case Full:
		return full
	}
	return quick
}

// Config configures a run.
type Config struct {
	Scale Scale
	// Seed seeds every random choice of the run (data subsets,
	// initializations, sample sequences). Zero is a valid seed.
	Seed uint64
	// Progress, if set, is called with the fraction of the run done, in
	// [0, 1], and a short description of the current stage.
	Progress func(done float64, stage string)
	// MNISTDir, FashionMNISTDir and CIFAR10Path locate the data sets
	// (empty: the usual places, see package data).
	MNISTDir, FashionMNISTDir, CIFAR10Path string
}

func (c *Config) progress(done float64, format string, args ...any) {
	if c.Progress != nil {
		c.Progress(min(max(done, 0), 1), fmt.Sprintf(format, args...))
	}
}

// Result is the outcome of a run: its checks, its figures (which hold the
// data series) and notes.
type Result struct {
	ID      string
	Scale   Scale
	Seconds float64
	Checks  []report.Check
	Figures []*report.Figure
	// Notes are sentences for the report: found examples, tables,
	// deviations from the paper's setup.
	Notes []string
}

// Passed reports whether every check passes.
func (r *Result) Passed() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return true
}

// check records a check.
func (r *Result) check(name, target string, pass bool, measured string, args ...any) {
	r.Checks = append(r.Checks, report.Check{Name: name, Target: target, Measured: fmt.Sprintf(measured, args...), Pass: pass})
}

func (r *Result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Result) figure(f *report.Figure) {
	f.Name = r.ID + "-" + f.Name
	r.Figures = append(r.Figures, f)
}

// Experiment is one paper's reproduction.
type Experiment struct {
	// ID is the command-line name (e.g. "sinkhorn").
	ID string
	// Title names the experiment; Paper cites the paper.
	Title, Paper string
	// Claim is the paper's claim that the experiment illustrates.
	Claim string
	// Setup describes what a run at the given scale does.
	Setup func(Scale) string
	run   func(ctx context.Context, cfg *Config, r *Result) error
}

// Run runs the experiment. It returns the result (with the checks done so
// far) and an error if the run failed or ctx was cancelled.
func (e Experiment) Run(ctx context.Context, cfg Config) (*Result, error) {
	r := &Result{ID: e.ID, Scale: cfg.Scale}
	start := time.Now()
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("repro %s: panic: %v", e.ID, p)
			}
		}()
		return e.run(ctx, &cfg, r)
	}()
	r.Seconds = time.Since(start).Seconds()
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		cfg.progress(1, "done")
	}
	return r, err
}

// Section returns the report section of a run of e (err is the run's
// error, or nil).
func (e Experiment) Section(r *Result, err error) *report.Section {
	s := &report.Section{ID: e.ID, Title: e.Title, Paper: e.Paper, Claim: e.Claim}
	if r != nil {
		s.Setup = e.Setup(r.Scale)
		s.Scale = r.Scale.String()
		s.Seconds = r.Seconds
		s.Checks = r.Checks
		s.Figures = r.Figures
		s.Notes = r.Notes
	}
	if err != nil {
		s.Error = err.Error()
	}
	return s
}

// Experiments returns the ten experiments in the papers' order.
func Experiments() []Experiment {
	return []Experiment{
		innapropExperiment(),
		sgdDerivativesExperiment(),
		inexactSubgradientExperiment(),
		oneStepExperiment(),
		monotoneInclusionExperiment(),
		sinkhornExperiment(),
		adComplexityExperiment(),
		piggybackExperiment(),
		odeFlowsExperiment(),
		reluPrimeExperiment(),
	}
}

// Lookup returns the experiment with the given id.
func Lookup(id string) (Experiment, bool) {
	for _, e := range Experiments() {
		if e.ID == id {
			return e, true
		}
	}
	return Experiment{}, false
}

// IDs returns the ids of the experiments in order.
func IDs() []string {
	var ids []string
	for _, e := range Experiments() {
		ids = append(ids, e.ID)
	}
	return ids
}
