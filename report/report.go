package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/gradus-ml/gradus/internal/atomicfile"
)

// Check is one verified claim: what is checked, the target as the paper
// (or the reproduction plan) states it, the measured value and whether the
// target is met.
type Check struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Pass     bool   `json:"pass"`
}

// Section is the report of one experiment.
type Section struct {
	ID    string
	Title string
	// Paper is the reference (authors, venue, arXiv id).
	Paper string
	// Claim is the paper's claim the experiment illustrates; Setup what was
	// run.
	Claim, Setup string
	// Scale is smoke, quick or full; Seconds the wall time of the run.
	Scale   string
	Seconds float64
	Checks  []Check
	Figures []*Figure
	// Notes are extra sentences (deviations, found examples, tables as
	// text).
	Notes []string
	// Error is set when the run failed; it counts as a failed check.
	Error string
}

// Passed reports whether the section ran and all its checks pass.
func (s *Section) Passed() bool {
	if s.Error != "" {
		return false
	}
	for _, c := range s.Checks {
		if !c.Pass {
			return false
		}
	}
	return true
}

// FigureDir is the directory, under the output directory, of the figure
// files.
const FigureDir = "figures"

// Results is the schema of results.json.
type Results struct {
	Experiments []ResultEntry `json:"experiments"`
}

// ResultEntry is one experiment in results.json.
type ResultEntry struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Scale   string   `json:"scale"`
	Seconds float64  `json:"seconds"`
	Checks  []Check  `json:"checks"`
	Figures []string `json:"figures"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// FigurePath returns the path of a figure's file relative to the output
// directory, for the format "png" or "svg".
func FigurePath(f *Figure, format string) string {
	return FigureDir + "/" + f.Name + "." + format
}

// Write writes the report of the sections to dir (created if needed):
// figures/NAME.png and figures/NAME.svg for every figure, results.json and
// index.html, a self-contained page (the PNGs are embedded as data URIs;
// the SVG side files are linked relatively). Every file is written to a
// temporary file and renamed into place.
func Write(dir string, sections []*Section) error {
	seen := map[string]bool{}
	for _, s := range sections {
		for _, f := range s.Figures {
			if !nameRE.MatchString(f.Name) {
				return fmt.Errorf("report: bad figure name %q in %s", f.Name, s.ID)
			}
			if seen[f.Name] {
				return fmt.Errorf("report: figure name %q used twice", f.Name)
			}
			seen[f.Name] = true
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, FigureDir), 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	pngs := map[string][]byte{}
	for _, s := range sections {
		for _, f := range s.Figures {
			for _, format := range []string{"png", "svg"} {
				b, err := f.Encode(format)
				if err != nil {
					return err
				}
				if err := writeFile(filepath.Join(dir, filepath.FromSlash(FigurePath(f, format))), b); err != nil {
					return err
				}
				if format == "png" {
					pngs[f.Name] = b
				}
			}
		}
	}
	js, err := MarshalResults(sections)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "results.json"), js); err != nil {
		return err
	}
	page, err := HTML(sections, pngs)
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "index.html"), page)
}

// MarshalResults returns results.json for the sections. A failed run
// appears with a failing check named "run" whose measured value is the
// error.
func MarshalResults(sections []*Section) ([]byte, error) {
	r := Results{Experiments: []ResultEntry{}}
	for _, s := range sections {
		e := ResultEntry{ID: s.ID, Title: s.Title, Scale: s.Scale, Seconds: s.Seconds, Checks: []Check{}, Figures: []string{}}
		e.Checks = append(e.Checks, s.Checks...)
		if s.Error != "" {
			e.Checks = append(e.Checks, Check{Name: "run", Target: "the experiment runs to completion", Measured: s.Error, Pass: false})
		}
		for _, f := range s.Figures {
			e.Figures = append(e.Figures, FigurePath(f, "png"))
		}
		r.Experiments = append(r.Experiments, e)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return append(b, '\n'), nil
}

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	if err := atomicfile.WriteBytes(path, data); err != nil {
		return fmt.Errorf("report: writing %s: %w", path, err)
	}
	return nil
}
