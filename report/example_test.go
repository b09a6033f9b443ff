package report_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gradus-ml/gradus/report"
)

// A report with one experiment, one log-log figure and one check.
func ExampleWrite() {
	dir, err := os.MkdirTemp("", "report")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	k := []float64{1, 10, 100, 1000}
	sec := &report.Section{
		ID: "demo", Title: "A demonstration", Claim: "errors decay like 1/k", Setup: "four points", Scale: "smoke", Seconds: 0.1,
		Checks: []report.Check{{Name: "slope", Target: "−1 ± 0.1", Measured: "−1.00", Pass: true}},
		Figures: []*report.Figure{{Name: "demo-rate", Title: "Error against k", XLabel: "k", YLabel: "error", LogX: true, LogY: true,
			Lines: []report.Line{{Label: "error", X: k, Y: []float64{1, 0.1, 0.01, 0.001}, Points: true}}}},
	}
	if err := report.Write(dir, []*report.Section{sec}); err != nil {
		panic(err)
	}
	for _, f := range []string{"index.html", "results.json", "figures/demo-rate.png", "figures/demo-rate.svg"} {
		_, err := os.Stat(filepath.Join(dir, f))
		fmt.Println(f, err == nil)
	}
	// Output:
	// index.html true
	// results.json true
	// figures/demo-rate.png true
	// figures/demo-rate.svg true
}
