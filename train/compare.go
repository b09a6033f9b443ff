package train

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
)

// Comparison files, in the output directory of Compare.
const (
	CompareFile       = "compare.json"
	CompareCurvesFile = "compare.png"
)

// Compare trains cfg once with each of the optimizers (same seed, so the
// same initial weights and the same data order), each run in the
// subdirectory of o.Out named after its optimizer, and draws their curves
// in one figure (compare.png) beside a list of their summaries
// (compare.json). o.Data, if nil, is loaded once and shared by the runs.
// When the context is cancelled, it returns the summaries so far and the
// interrupted run's error; with o.Resume, finished runs are read back from
// their checkpoints and the interrupted one continues.
func Compare(ctx context.Context, cfg Config, opts []Optimizer, o Options) ([]*Summary, error) {
	if len(opts) == 0 {
		return nil, fmt.Errorf("train: Compare needs at least one optimizer")
	}
	names := map[string]bool{}
	cfgs := make([]Config, len(opts))
	for i, op := range opts {
		if names[op.Name] {
			return nil, fmt.Errorf("train: optimizer %q is listed twice", op.Name)
		}
		names[op.Name] = true
		c := cfg
		c.Optimizer = op
		rc, err := c.withDefaults(o.Data != nil)
		if err != nil {
			return nil, fmt.Errorf("train: %s: %w", op.Name, err)
		}
		cfgs[i] = rc
	}
	if o.Data == nil {
		d, err := LoadData(cfgs[0])
		if err != nil {
			return nil, err
		}
		o.Data = d
	}
	var sums []*Summary
	var curves []Curve
	for i, c := range cfgs {
		ro := o
		if o.Out != "" {
			ro.Out = filepath.Join(o.Out, c.Optimizer.Name)
		}
		if o.Resume && ro.Out != "" {
			// A run that never started has no checkpoint: start it.
			if _, err := ReadCheckpointConfig(ro.Out); err != nil {
				ro.Resume = false
			}
		}
		s, err := Run(ctx, c, ro)
		if s != nil {
			sums = append(sums, s)
			curves = append(curves, Curve{Name: opts[i].Name, Text: c.IsText(), Metrics: s.Metrics, Evals: s.Evals})
		}
		if err != nil {
			return sums, err
		}
	}
	if o.Out != "" {
		title := fmt.Sprintf("%s on %s", cfg.Model, o.Data.Name)
		if !o.NoPlot {
			if err := PlotCurves(filepath.Join(o.Out, CompareCurvesFile), title, curves); err != nil {
				return sums, err
			}
		}
		b, err := json.MarshalIndent(sums, "", "  ")
		if err != nil {
			return sums, fmt.Errorf("train: encoding the comparison: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(o.Out, CompareFile), func(w *bufio.Writer) error {
			_, err := w.Write(append(b, '\n'))
			return err
		}); err != nil {
			return sums, err
		}
	}
	return sums, nil
}
