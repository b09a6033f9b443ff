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

func TestLinePlotFormats(t *testing.T) {
	dir := t.TempDir()
	spec := report.PlotSpec{
		Title: "two panels",
		Panels: []report.Panel{
			{Title: "loss", XLabel: "step", YLabel: "loss", LogY: true, Series: []report.Series{
				{Name: "a", X: []float64{0, 1, 2, 3}, Y: []float64{2, 1, math.NaN(), 0.5}},
				{Name: "b", X: []float64{0, 1, 2, 3}, Y: []float64{2, 0, 0.8, 0.4}}, // 0 is dropped on a log axis
			}},
			{Title: "accuracy", XLabel: "epoch", Series: []report.Series{
				{Name: "a", X: []float64{1}, Y: []float64{0.9}, Points: true},
				{X: nil, Y: nil}, // empty series are skipped
			}},
		},
	}
	for _, ext := range []string{".png", ".svg"} {
		p := filepath.Join(dir, "curves"+ext)
		if err := report.LinePlot(p, spec); err != nil {
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

func TestLinePlotErrors(t *testing.T) {
	dir := t.TempDir()
	ok := report.PlotSpec{Panels: []report.Panel{{Series: []report.Series{{X: []float64{1}, Y: []float64{1}}}}}}
	cases := []struct {
		name, path string
		spec       report.PlotSpec
		want       string
	}{
		{"extension", filepath.Join(dir, "x.gif"), ok, "unsupported file extension"},
		{"no panels", filepath.Join(dir, "x.png"), report.PlotSpec{}, "no panels"},
		{"lengths", filepath.Join(dir, "x.png"), report.PlotSpec{Panels: []report.Panel{{Series: []report.Series{{X: []float64{1, 2}, Y: []float64{1}}}}}}, "2 x and 1 y"},
		{"directory", filepath.Join(dir, "missing", "x.png"), ok, "missing"},
	}
	for _, c := range cases {
		err := report.LinePlot(c.path, c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func ExampleLinePlot() {
	dir, _ := os.MkdirTemp("", "report")
	defer os.RemoveAll(dir)
	err := report.LinePlot(filepath.Join(dir, "loss.png"), report.PlotSpec{
		Panels: []report.Panel{{
			Title: "training loss", XLabel: "step", YLabel: "loss", LogY: true,
			Series: []report.Series{{Name: "adamw", X: []float64{0, 100, 200}, Y: []float64{2.3, 0.4, 0.2}}},
		}},
	})
	if err != nil {
		panic(err)
	}
	// Output:
}

// A log panel whose points all have the same value (one evaluation) must
// not fail: gonum would widen its range to include negative numbers.
func TestLinePlotSinglePointLog(t *testing.T) {
	p := filepath.Join(t.TempDir(), "one.png")
	err := report.LinePlot(p, report.PlotSpec{Panels: []report.Panel{
		{LogY: true, Series: []report.Series{{X: []float64{40}, Y: []float64{0.5576}, Points: true}}},
		{LogY: true, Series: []report.Series{{X: []float64{1, 2}, Y: []float64{3, 3}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
}
