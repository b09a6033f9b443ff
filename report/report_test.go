package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"html"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func testSections() []*Section {
	x := []float64{1, 10, 100, 1000}
	return []*Section{
		{ID: "alpha", Title: "Alpha", Paper: "A. Author", Claim: "a claim", Setup: "a setup", Scale: "smoke", Seconds: 1.5,
			Checks: []Check{{Name: "c1", Target: "t1", Measured: "m1", Pass: true}},
			Figures: []*Figure{
				{Name: "alpha-loglog", Title: "log-log", XLabel: "k", YLabel: "error", LogX: true, LogY: true,
					Lines: []Line{{Label: "a", X: x, Y: []float64{1, 0.1, 0.01, 0}}, {Label: "ref", X: x, Y: []float64{2, 0.2, 0.02, 0.002}, Dashed: true}}},
				{Name: "alpha-lin", Title: "linear", XLabel: "k", YLabel: "y",
					Lines: []Line{{Label: "b", X: x, Y: []float64{3, 1, 2, 5}, Points: true}}},
			}},
		{ID: "beta", Title: "Beta <b>", Scale: "smoke", Error: "it broke",
			Checks: []Check{{Name: "c2", Target: "t2", Measured: "m2", Pass: false}}},
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	secs := testSections()
	if err := Write(dir, secs); err != nil {
		t.Fatal(err)
	}
	// results.json: exactly the schema.
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string][]map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 1 || len(raw["experiments"]) != 2 {
		t.Fatalf("results.json top level: %v", raw)
	}
	for _, e := range raw["experiments"] {
		var keys []string
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if want := []string{"checks", "figures", "id", "scale", "seconds", "title"}; !reflect.DeepEqual(keys, want) {
			t.Errorf("experiment keys %v, want %v", keys, want)
		}
		for _, c := range e["checks"].([]any) {
			var ck []string
			for k := range c.(map[string]any) {
				ck = append(ck, k)
			}
			sort.Strings(ck)
			if want := []string{"measured", "name", "pass", "target"}; !reflect.DeepEqual(ck, want) {
				t.Errorf("check keys %v, want %v", ck, want)
			}
		}
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if got := res.Experiments[0].Figures; !reflect.DeepEqual(got, []string{"figures/alpha-loglog.png", "figures/alpha-lin.png"}) {
		t.Errorf("figures %v", got)
	}
	if c := res.Experiments[1].Checks; len(c) != 2 || c[1].Name != "run" || c[1].Pass {
		t.Errorf("failed run checks %+v", c)
	}
	// Figure files exist and are PNG/SVG.
	for _, f := range secs[0].Figures {
		png, err := os.ReadFile(filepath.Join(dir, "figures", f.Name+".png"))
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Errorf("%s.png: %v", f.Name, err)
		}
		svg, err := os.ReadFile(filepath.Join(dir, "figures", f.Name+".svg"))
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s.svg: %v", f.Name, err)
		}
		// The HTML embeds the same PNG.
		page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
		page = []byte(html.UnescapeString(string(page)))
		if !bytes.Contains(page, []byte(base64.StdEncoding.EncodeToString(png))) {
			t.Errorf("index.html does not embed %s.png", f.Name)
		}
	}
	page, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	for _, s := range []string{"a claim", "a setup", "A. Author", "c1", "t1", "m1", "it broke", "Beta &lt;b&gt;", "figures/alpha-lin.svg", "1.50 s"} {
		if !strings.Contains(string(page), s) {
			t.Errorf("index.html lacks %q", s)
		}
	}
	if strings.Contains(string(page), "http://") || strings.Contains(string(page), "https://") {
		t.Error("index.html references the network")
	}
	// No temporary files are left.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left", e.Name())
		}
	}
	if !secs[0].Passed() || secs[1].Passed() {
		t.Error("Passed")
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	bad := []*Section{{ID: "x", Figures: []*Figure{{Name: "../evil", Lines: []Line{{X: []float64{1}, Y: []float64{1}}}}}}}
	if err := Write(dir, bad); err == nil {
		t.Error("accepted a figure name with a path")
	}
	dup := []*Section{{ID: "x", Figures: []*Figure{{Name: "a", Lines: []Line{{X: []float64{1}, Y: []float64{1}}}}, {Name: "a", Lines: []Line{{X: []float64{1}, Y: []float64{1}}}}}}}
	if err := Write(dir, dup); err == nil {
		t.Error("accepted duplicate figure names")
	}
	empty := &Figure{Name: "e", LogY: true, Lines: []Line{{X: []float64{1}, Y: []float64{0}}}}
	if _, err := empty.Encode("png"); err != nil {
		t.Errorf("a figure without drawable points: %v", err)
	}
	ok := &Figure{Name: "o", Lines: []Line{{X: []float64{1, 2}, Y: []float64{1, 2}}}}
	if _, err := ok.Encode("gif"); err == nil {
		t.Error("accepted format gif")
	}
	mism := &Figure{Name: "m", Lines: []Line{{X: []float64{1, 2}, Y: []float64{1}}}}
	if _, err := mism.Encode("png"); err == nil {
		t.Error("accepted mismatched x and y")
	}
}

func TestLogTicks(t *testing.T) {
	ticks := logTicks{}.Ticks(1e-14, 1)
	labelled := 0
	for _, tk := range ticks {
		if tk.Label != "" {
			labelled++
		}
	}
	if labelled < 3 || labelled > 9 {
		t.Errorf("%d labelled ticks over 14 decades", labelled)
	}
}
