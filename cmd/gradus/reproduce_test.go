package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReproduceErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args   []string
		status int
		msg    string
	}{
		{[]string{"reproduce", "--quick", "nope", "--out", dir}, 1, `unknown experiment "nope"`},
		{[]string{"reproduce", "--quick", "--out", dir}, 1, "no experiment given"},
		{[]string{"reproduce", "sinkhorn"}, 1, "--out DIR is required"},
		{[]string{"reproduce", "--quick", "--full", "all", "--out", dir}, 1, "choose one of"},
		{[]string{"reproduce", "--fast", "all", "--out", dir}, 1, "flag provided but not defined: -fast"},
		{[]string{"reproduce", "--seed", "x", "all", "--out", dir}, 1, "invalid value"},
		{[]string{"reproduce", "-h"}, 2, "usage: gradus reproduce"},
		{[]string{"reproduce", "--smoke", "relu-prime", "--mnist", filepath.Join(dir, "nope"), "--out", dir}, 1, "1 of 1 experiments have failing checks"},
	} {
		var out, errb bytes.Buffer
		st := run(c.args, &out, &errb)
		if st != c.status || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: status %d, stderr %q; want %d and %q", c.args, st, errb.String(), c.status, c.msg)
		}
	}
}

func TestReproduceSmoke(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rep")
	var out, errb bytes.Buffer
	// Flags after the ids work too.
	st := run([]string{"reproduce", "inexact-subgradient", "--smoke", "--out", dir, "--seed", "3"}, &out, &errb)
	if st != 0 {
		t.Fatalf("status %d\nstdout %s\nstderr %s", st, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "PASS  inexact-subgradient") {
		t.Errorf("no summary line in %q", out.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Experiments []struct {
			ID, Scale string
			Figures   []string
		}
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Experiments) != 1 || res.Experiments[0].ID != "inexact-subgradient" || res.Experiments[0].Scale != "smoke" {
		t.Fatalf("results %+v", res)
	}
	for _, f := range res.Experiments[0].Figures {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Error(err)
	}
}
