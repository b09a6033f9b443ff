package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchGemmJSON(t *testing.T) {
	var out, errb bytes.Buffer
	err := runBenchGemm([]string{"--dtype", "f32,f64", "--m", "40", "--k", "30", "--n", "20", "--trans-b", "--threads", "1,2", "--reps", "1", "--min-time", "1ms", "--json"}, &out, &errb)
	if err != nil {
		t.Fatal(err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(lines), out.String())
	}
	for _, l := range lines {
		var r gemmResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("bad JSON %q: %v", l, err)
		}
		if r.Bench != "gemm" || r.Backend != "gradus" || r.M != 40 || r.K != 30 || r.N != 20 || !r.TransB || r.GFlops <= 0 || r.Seconds <= 0 {
			t.Fatalf("unexpected result %+v", r)
		}
	}
}

func TestBenchGemmTable(t *testing.T) {
	var out, errb bytes.Buffer
	if err := runBenchGemm([]string{"--n", "16", "--reps", "1", "--min-time", "1ms"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "GFLOP/s") {
		t.Fatalf("no table header in %q", out.String())
	}
}

func TestBenchGemmBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--dtype", "f16"},
		{"--n", "-3"},
		{"--threads", "0"},
		{"--reps", "0"},
		{"--backend", "mkl"},
		{"--suite", "nope"},
		{"--kernels", "sse"},
		{"--bogus"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if err := runBenchGemm(args, &out, &errb); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
