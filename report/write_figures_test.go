package report_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gradus-ml/gradus/report"
)

func TestWriteFiguresFormats(t *testing.T) {
	dir := t.TempDir()
	loss := &report.Figure{Title: "loss", XLabel: "step", YLabel: "loss", LogY: true, Lines: []report.Line{
		{Label: "a", X: []float64{0, 1, 2, 3}, Y: []float64{2, 1, math.NaN(), 0.5}},
		{Label: "b", X: []float64{0, 1, 2, 3}, Y: []float64{2, 0, 0.8, 0.4}}, // 0 is dropped on a log axis
	}}
	acc := &report.Figure{Title: "accuracy", XLabel: "epoch", LegendBottom: true, Lines: []report.Line{
		{Label: "a", X: []float64{1}, Y: []float64{0.9}, Points: true},
		{X: nil, Y: nil}, // empty lines are skipped
	}}
	for _, ext := range []string{".png", ".svg"} {
		p := filepath.Join(dir, "curves"+ext)
		if err := report.WriteFigures(p, "two panels", loss, acc); err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		switch ext {
		case ".png":
			if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
				t.Errorf("png file does not start with the PNG signature")
			}
		case ".svg":
			if !strings.Contains(string(b), "<svg") {
				t.Errorf("svg file has no <svg element")
			}
		}
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries, want 2", len(ents))
	}
}

func TestWriteFiguresErrors(t *testing.T) {
	dir := t.TempDir()
	ok := &report.Figure{Lines: []report.Line{{X: []float64{1}, Y: []float64{1}}}}
	cases := []struct {
		name, path string
		figs       []*report.Figure
		want       string
	}{
		{"extension", filepath.Join(dir, "x.gif"), []*report.Figure{ok}, "unknown figure format"},
		{"no figures", filepath.Join(dir, "x.png"), nil, "no figures"},
		{"lengths", filepath.Join(dir, "x.png"), []*report.Figure{{Lines: []report.Line{{X: []float64{1, 2}, Y: []float64{1}}}}}, "2 x values but 1 y values"},
		{"directory", filepath.Join(dir, "missing", "x.png"), []*report.Figure{ok}, "missing"},
	}
	for _, c := range cases {
		err := report.WriteFigures(c.path, "", c.figs...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func ExampleWriteFigures() {
	dir, _ := os.MkdirTemp("", "report")
	defer os.RemoveAll(dir)
	err := report.WriteFigures(filepath.Join(dir, "loss.png"), "adamw", &report.Figure{
		Title: "training loss", XLabel: "step", YLabel: "loss", LogY: true,
		Lines: []report.Line{{Label: "adamw", X: []float64{0, 100, 200}, Y: []float64{2.3, 0.4, 0.2}}},
	})
	if err != nil {
		panic(err)
	}
	// Output:
}

// A log figure whose points all have the same value (one evaluation) must
// not fail: gonum would widen its range to include negative numbers.
func TestWriteFiguresSinglePointLog(t *testing.T) {
	p := filepath.Join(t.TempDir(), "one.png")
	err := report.WriteFigures(p, "", &report.Figure{LogY: true, Lines: []report.Line{{X: []float64{40}, Y: []float64{0.5576}, Points: true}}},
		&report.Figure{LogY: true, Lines: []report.Line{{X: []float64{1, 2}, Y: []float64{3, 3}}}})
	if err != nil {
		t.Fatal(err)
	}
}
