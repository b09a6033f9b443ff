package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/internal/kernels"
	"github.com/gradus-ml/gradus/nn"
	"github.com/gradus-ml/gradus/optim"
	"github.com/gradus-ml/gradus/tensor"
	"github.com/gradus-ml/gradus/train"
)

func init() {
	benchmarks["mlp"] = command{
		summary: "training steps/s of the MLP 784-512-512-10 at batch 128 (anchor: PyTorch CPU, bench/pytorch_step.py)",
		run:     func(args []string, stdout, stderr io.Writer) error { return runBenchStep("mlp", args, stdout, stderr) },
	}
	benchmarks["cnn"] = command{
		summary: "training steps/s of the small MNIST CNN at batch 128 (anchor: PyTorch CPU, bench/pytorch_step.py)",
		run:     func(args []string, stdout, stderr io.Writer) error { return runBenchStep("cnn", args, stdout, stderr) },
	}
}

// stepResult is one JSON line of `gradus bench mlp|cnn --json`.
type stepResult struct {
	Bench       string    `json:"bench"`
	DType       string    `json:"dtype"`
	Batch       int       `json:"batch"`
	Optimizer   string    `json:"optimizer"`
	Threads     int       `json:"threads"`
	StepsPerSec float64   `json:"steps_per_s"`
	Windows     []float64 `json:"windows_steps_per_s"`
	GFlops      float64   `json:"gflops"`
	// CPUMsPerStep is the process CPU time (all threads, user and system)
	// per step over the timed windows: steadier than the rate on a shared
	// machine, and it charges idle spinning to whoever spins.
	CPUMsPerStep  float64 `json:"cpu_ms_per_step"`
	AllocsPerStep float64 `json:"allocs_per_step"`
	BytesPerStep  float64 `json:"bytes_per_step"`
	PeakRSSMB     float64 `json:"peak_rss_mb"`
	Kernel        string  `json:"kernel"`
}

// runBenchStep times full training steps (forward, backward, optimizer
// update, through train.Stepper as `gradus train` runs them) of the MLP
// 784-512-512-10 or the small CNN on a fixed synthetic batch: a warm-up,
// then several timed windows, reporting the median rate. The anchor is
// PyTorch on the same machine: bench/pytorch_step.py runs the same
// models with the same protocol.
func runBenchStep(name string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradus bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 128, "batch size")
	dtype := fs.String("dtype", "f32", "element type: f32, f64, f16 or bf16")
	opt := fs.String("opt", "sgd", "optimizer: sgd (lr 0.01, the PyTorch anchor's), adamw or innaprop")
	threads := fs.Int("threads", 0, "threads for the kernels and the optimizer (default GOMAXPROCS)")
	seconds := fs.Float64("seconds", 3, "length of each timed window in seconds")
	windows := fs.Int("windows", 3, "timed windows; the median rate is reported")
	warmup := fs.Int("warmup", 5, "untimed warm-up steps")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed windows to this file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: gradus bench %s [flags]\n", name)
		if name == "mlp" {
			fmt.Fprintln(stderr, "Times training steps of the MLP 784-512-512-10 (ReLU) on a synthetic batch.")
		} else {
			fmt.Fprintln(stderr, "Times training steps of conv(1→32,3×3)-relu-maxpool2-conv(32→64,3×3)-relu-maxpool2-linear(1600→10) on a synthetic batch.")
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gradus bench %s: unexpected argument %q\n", name, fs.Arg(0))
		return errUsage
	}
	usage := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "gradus bench %s: %s\n", name, fmt.Sprintf(format, a...))
		return errUsage
	}
	dt, err := tensor.ParseDType(*dtype)
	if err != nil {
		return usage("%v", err)
	}
	switch {
	case *batch < 1:
		return usage("--batch = %d, want ≥ 1", *batch)
	case *threads < 0:
		return usage("--threads = %d, want ≥ 1", *threads)
	case !(*seconds > 0):
		return usage("--seconds = %v, want > 0", *seconds)
	case *windows < 1:
		return usage("--windows = %d, want ≥ 1", *windows)
	case *warmup < 0:
		return usage("--warmup = %d, want ≥ 0", *warmup)
	}
	var o optim.Optimizer
	switch *opt {
	case "sgd":
		o, err = optim.NewSGD(optim.SGDConfig{LR: 0.01})
	case "adamw":
		o, err = optim.NewAdamW(optim.AdamWConfig{})
	case "innaprop":
		o, err = optim.NewINNAprop(optim.INNApropConfig{})
	default:
		return usage("unknown --opt %q (want sgd, adamw or innaprop)", *opt)
	}
	if err != nil {
		return err
	}
	if *threads > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
		defer kernels.SetThreads(kernels.SetThreads(*threads))
	}

	g := tensor.NewRNG(1)
	var model nn.Module
	var x *tensor.Tensor
	var flops float64
	switch name {
	case "mlp":
		model, err = nn.NewMLP(g, dt, nn.MLPConfig{Sizes: []int{784, 512, 512, 10}})
		x = g.Normal(dt, *batch, 784)
		// forward 2·B·Σ in·out, backward twice that, less the input
		// gradient of the first layer, which is not computed
		flops = 6*float64(*batch)*(784*512+512*512+512*10) - 2*float64(*batch)*784*512
	default:
		model, err = nn.NewCNN(g, dt, nn.CNNConfig{})
		x = g.Normal(dt, *batch, 1, 28, 28)
		flops = 6*float64(*batch)*(26*26*32*9+11*11*64*32*9+1600*10) - 2*float64(*batch)*26*26*32*9
	}
	if err != nil {
		return err
	}
	y := make([]int, *batch)
	for i := range y {
		y[i] = g.IntN(10)
	}
	st, err := train.NewStepper(model, o, train.StepOptions{})
	if err != nil {
		return err
	}
	loss := func(c *nn.Ctx) *ad.Var { return ad.CrossEntropy(model.Forward(c, ad.Const(x)), y) }
	step := func() error {
		_, err := st.Step(nil, loss)
		return err
	}
	for i := 0; i < *warmup; i++ {
		if err := step(); err != nil {
			return err
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var rates []float64
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := processCPUSeconds()
	total := 0
	window := time.Duration(*seconds * float64(time.Second))
	for w := 0; w < *windows; w++ {
		n := 0
		start := time.Now()
		for time.Since(start) < window {
			if err := step(); err != nil {
				return err
			}
			n++
		}
		rates = append(rates, float64(n)/time.Since(start).Seconds())
		total += n
	}
	cpu1 := processCPUSeconds()
	runtime.ReadMemStats(&ms1)
	sorted := append([]float64(nil), rates...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		med = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	r := stepResult{
		Bench: name, DType: shortDType(dt), Batch: *batch, Optimizer: *opt,
		Threads: kernels.Threads(), StepsPerSec: med, Windows: rates,
		GFlops:        med * flops / 1e9,
		CPUMsPerStep:  1000 * (cpu1 - cpu0) / float64(total),
		AllocsPerStep: float64(ms1.Mallocs-ms0.Mallocs) / float64(total),
		BytesPerStep:  float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(total),
		PeakRSSMB:     train.PeakRSSMB(), Kernel: kernels.KernelName(),
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "%s step, batch %d, %s, %s, %d threads (%s kernels)\n", name, r.Batch, r.DType, r.Optimizer, r.Threads, r.Kernel)
	fmt.Fprintf(stdout, "  %.1f steps/s (median of %d windows of %.1f s: %s), %.1f GFLOP/s\n", r.StepsPerSec, *windows, *seconds, fmtRates(rates), r.GFlops)
	if r.CPUMsPerStep > 0 {
		fmt.Fprintf(stdout, "  %.1f ms of CPU time per step (all threads)\n", r.CPUMsPerStep)
	}
	fmt.Fprintf(stdout, "  %.0f allocations and %.2f MB allocated per step; peak RSS %.0f MB\n", r.AllocsPerStep, r.BytesPerStep/1e6, r.PeakRSSMB)
	return nil
}

func shortDType(d tensor.DType) string {
	return map[tensor.DType]string{tensor.Float64: "f64", tensor.Float32: "f32", tensor.Float16: "f16", tensor.BFloat16: "bf16"}[d]
}

func fmtRates(r []float64) string {
	s := ""
	for i, v := range r {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%.1f", v)
	}
	return s
}
