package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/internal/kernels/openblas"
)

func init() {
	benchmarks["gemm"] = command{
		summary: "matrix product GFLOP/s (gradus kernels, OpenBLAS anchor with -tags openblas)",
		run:     runBenchGemm,
	}
}

// gemmShape is one product C(m×n) = op(A)(m×k)·op(B)(k×n).
type gemmShape struct {
	name           string
	m, k, n        int
	transA, transB bool
}

// gemmSuites are named sets of shapes: the square product and the four
// products of a 784-512-512-10 MLP step at batch 128.
var gemmSuites = map[string][]gemmShape{
	"mlp": {
		{"fwd 128x784·784x512", 128, 784, 512, false, false},
		{"fwd 128x512·512x512", 128, 512, 512, false, false},
		{"dW 784x128·128x512", 784, 128, 512, true, false},
		{"dX 128x512·512x784", 128, 512, 784, false, true},
	},
}

func init() {
	gemmSuites["report"] = append([]gemmShape{{"square 1024", 1024, 1024, 1024, false, false}}, gemmSuites["mlp"]...)
}

// gemmResult is one JSON line of `gradus bench gemm --json`.
type gemmResult struct {
	Bench   string  `json:"bench"`
	Backend string  `json:"backend"`
	DType   string  `json:"dtype"`
	M       int     `json:"m"`
	K       int     `json:"k"`
	N       int     `json:"n"`
	TransA  bool    `json:"trans_a"`
	TransB  bool    `json:"trans_b"`
	Threads int     `json:"threads"`
	GFlops  float64 `json:"gflops"`
	Seconds float64 `json:"seconds"`
	Reps    int     `json:"reps"`
	Kernel  string  `json:"kernel,omitempty"`
}

func runBenchGemm(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradus bench gemm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dtypes := fs.String("dtype", "f32", "element type: f32, f64, or f32,f64")
	size := fs.Int("n", 1024, "columns of C; also m and k unless --m/--k are given (square product)")
	m := fs.Int("m", 0, "rows of C (default --n)")
	k := fs.Int("k", 0, "inner dimension (default --n)")
	transA := fs.Bool("trans-a", false, "A is stored transposed (k×m)")
	transB := fs.Bool("trans-b", false, "B is stored transposed (n×k)")
	threadList := fs.String("threads", "", "threads, or a comma list such as 1,2 (default GOMAXPROCS)")
	reps := fs.Int("reps", 5, "timed repetitions; the median is reported")
	minTime := fs.Duration("min-time", 50*time.Millisecond, "each repetition repeats the product for at least this long")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	backend := fs.String("backend", "gradus", "gradus, openblas, or both (interleaved in the same run; needs -tags openblas)")
	suite := fs.String("suite", "", "run a named set of shapes instead: mlp or report (square 1024 + mlp)")
	cpuTime := fs.Bool("cpu-time", false, "with --threads 1, time by the thread's CPU time instead of the wall clock (robust on a loaded machine; Linux only)")
	family := fs.String("kernels", "best", "gradus kernel family: best or one of "+strings.Join(kernels.KernelFamilies(), ", "))
	pause := fs.Duration("pause", 200*time.Millisecond, "with --backend both, idle time after each OpenBLAS repetition so its spinning threads go to sleep before gradus runs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: gradus bench gemm [flags]")
		fmt.Fprintln(stderr, "Times C = op(A)·op(B) and reports GFLOP/s (2mnk / seconds).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	// Shapes.
	var shapes []gemmShape
	if *suite != "" {
		s, ok := gemmSuites[*suite]
		if !ok {
			return fmt.Errorf("unknown --suite %q (have mlp, report)", *suite)
		}
		shapes = s
	} else {
		mm, kk := *m, *k
		if mm == 0 {
			mm = *size
		}
		if kk == 0 {
			kk = *size
		}
		if mm <= 0 || kk <= 0 || *size <= 0 {
			return fmt.Errorf("dimensions must be positive: m=%d k=%d n=%d", mm, kk, *size)
		}
		shapes = []gemmShape{{"", mm, kk, *size, *transA, *transB}}
	}
	if *reps < 1 {
		return fmt.Errorf("--reps must be at least 1, have %d", *reps)
	}

	// Element types.
	var dts []string
	for _, d := range strings.Split(*dtypes, ",") {
		switch d = strings.TrimSpace(d); d {
		case "f32", "f64":
			dts = append(dts, d)
		default:
			return fmt.Errorf("unknown --dtype %q (want f32 or f64)", d)
		}
	}

	// Threads.
	threads := []int{runtime.GOMAXPROCS(0)}
	if *threadList != "" {
		threads = threads[:0]
		for _, f := range strings.Split(*threadList, ",") {
			var t int
			if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &t); err != nil || t < 1 {
				return fmt.Errorf("bad --threads value %q (want positive integers)", f)
			}
			threads = append(threads, t)
		}
	}

	if *cpuTime {
		for _, t := range threads {
			if t != 1 {
				return errors.New("--cpu-time needs --threads 1 (other threads' CPU time is not counted)")
			}
		}
		if _, ok := threadCPUTime(); !ok {
			return errors.New("--cpu-time is not supported on this system")
		}
	}

	// Backends.
	var backends []string
	switch *backend {
	case "gradus":
		backends = []string{"gradus"}
	case "openblas":
		backends = []string{"openblas"}
	case "both":
		backends = []string{"gradus", "openblas"}
	default:
		return fmt.Errorf("unknown --backend %q (want gradus, openblas or both)", *backend)
	}
	for _, b := range backends {
		if b == "openblas" && !openblas.Available() {
			return errors.New("--backend openblas needs a binary built with -tags openblas (cgo, libopenblas-dev)")
		}
	}

	prevFamily, err := kernels.UseKernels(*family)
	if err != nil {
		return fmt.Errorf("bad --kernels: %v", err)
	}
	defer kernels.UseKernels(prevFamily)
	defer kernels.SetThreads(kernels.SetThreads(0))

	var tw *tabwriter.Writer
	if !*asJSON {
		fmt.Fprintf(stdout, "gradus kernels: %s; GOMAXPROCS=%d\n", kernels.KernelName(), runtime.GOMAXPROCS(0))
		if openblas.Available() && len(backends) > 0 && contains(backends, "openblas") {
			fmt.Fprintf(stdout, "anchor: %s\n", openblas.Config())
		}
		fmt.Fprintf(stdout, "median of %d repetitions, each ≥ %v\n\n", *reps, *minTime)
		tw = tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		hdr := "dtype\tm\tk\tn\ttA\ttB\tthreads\t"
		for _, b := range backends {
			hdr += b + " GFLOP/s\t"
		}
		if len(backends) == 2 {
			hdr += "ratio\t"
		}
		fmt.Fprintln(tw, hdr+"shape\t")
	}
	enc := json.NewEncoder(stdout)
	for _, dt := range dts {
		for _, th := range threads {
			for _, s := range shapes {
				res := measureGemm(dt, s, th, backends, *reps, *minTime, *pause, *cpuTime)
				if *asJSON {
					for _, r := range res {
						if err := enc.Encode(r); err != nil {
							return err
						}
					}
					continue
				}
				line := fmt.Sprintf("%s\t%d\t%d\t%d\t%v\t%v\t%d\t", dt, s.m, s.k, s.n, s.transA, s.transB, th)
				for _, r := range res {
					line += fmt.Sprintf("%.1f\t", r.GFlops)
				}
				if len(res) == 2 {
					line += fmt.Sprintf("%.2f\t", res[0].GFlops/res[1].GFlops)
				}
				fmt.Fprintln(tw, line+s.name+"\t")
			}
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// measureGemm times one shape on each backend. Repetitions of the backends
// are interleaved so that both see the same machine load; the median time
// per product is reported.
func measureGemm(dtype string, s gemmShape, threads int, backends []string, reps int, minTime, pause time.Duration, cpuTime bool) []gemmResult {
	clock := func() float64 { return float64(time.Now().UnixNano()) / 1e9 }
	if cpuTime {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		clock = func() float64 { t, _ := threadCPUTime(); return t }
	}
	kernels.SetThreads(threads)
	if openblas.Available() {
		openblas.SetThreads(threads)
	}
	rng := rand.New(rand.NewPCG(uint64(s.m), uint64(s.n)))
	lda, ldb, ldc := s.k, s.n, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	var run []func()
	if dtype == "f64" {
		a, b, c := make([]float64, s.m*s.k), make([]float64, s.k*s.n), make([]float64, s.m*s.n)
		for i := range a {
			a[i] = rng.Float64()*2 - 1
		}
		for i := range b {
			b[i] = rng.Float64()*2 - 1
		}
		for _, be := range backends {
			f := kernels.Gemm64
			if be == "openblas" {
				f = openblas.Gemm64
			}
			run = append(run, func() { f(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, ldc) })
		}
	} else {
		a, b, c := make([]float32, s.m*s.k), make([]float32, s.k*s.n), make([]float32, s.m*s.n)
		for i := range a {
			a[i] = rng.Float32()*2 - 1
		}
		for i := range b {
			b[i] = rng.Float32()*2 - 1
		}
		for _, be := range backends {
			f := kernels.Gemm32
			if be == "openblas" {
				f = openblas.Gemm32
			}
			run = append(run, func() { f(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, ldc) })
		}
	}
	// Warm up and find how many products fill minTime.
	count := make([]int, len(run))
	for i, f := range run {
		f()
		start := time.Now()
		f()
		per := time.Since(start)
		count[i] = max(1, int(minTime/max(per, time.Microsecond)))
		if backends[i] == "openblas" && len(run) > 1 {
			time.Sleep(pause)
		}
	}
	times := make([][]float64, len(run))
	for r := 0; r < reps; r++ {
		for i, f := range run {
			start := clock()
			for j := 0; j < count[i]; j++ {
				f()
			}
			times[i] = append(times[i], (clock()-start)/float64(count[i]))
			if backends[i] == "openblas" && len(run) > 1 {
				// OpenBLAS worker threads spin for a while after a call;
				// let them park so they do not steal the cores from gradus.
				time.Sleep(pause)
			}
		}
	}
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	out := make([]gemmResult, len(run))
	for i := range run {
		sort.Float64s(times[i])
		sec := times[i][len(times[i])/2]
		out[i] = gemmResult{
			Bench: "gemm", Backend: backends[i], DType: dtype, M: s.m, K: s.k, N: s.n,
			TransA: s.transA, TransB: s.transB, Threads: threads,
			GFlops: flops / sec / 1e9, Seconds: sec, Reps: reps,
		}
		if backends[i] == "gradus" {
			out[i].Kernel = kernels.KernelName()
		}
	}
	return out
}
