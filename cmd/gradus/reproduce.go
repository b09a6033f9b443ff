package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/gradus-ml/gradus/report"
	"github.com/gradus-ml/gradus/repro"
)

func init() {
	commands["reproduce"] = command{
		summary: "re-run the ten papers' experiments and write an HTML report",
		run:     runReproduce,
	}
}

// reproduceOptions are the parsed flags and arguments of gradus reproduce.
type reproduceOptions struct {
	scale repro.Scale
	seed  uint64
	out   string
	exps  []repro.Experiment
	// data locations (empty: the usual places)
	mnist, cifar string
}

func reproduceUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage: gradus reproduce [--smoke|--quick|--full] <id>...|all --out DIR [--seed S] [--mnist DIR] [--cifar10 PATH]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Runs the experiments and writes DIR/index.html, DIR/results.json and DIR/figures/.")
	fmt.Fprintln(w, "Exit status 1 if any check fails.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "experiments:")
	for _, e := range repro.Experiments() {
		fmt.Fprintf(w, "  %-20s %s\n", e.ID, e.Title)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseReproduce parses the arguments; flags may come before or after the
// experiment ids.
func parseReproduce(args []string, stderr io.Writer) (*reproduceOptions, error) {
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	smoke := fs.Bool("smoke", false, "smoke scale: a few seconds per experiment (what the tests run)")
	quick := fs.Bool("quick", false, "quick scale: well under a minute per experiment (the default)")
	full := fs.Bool("full", false, "full scale: as close to the papers as one machine allows, about an hour each")
	seed := fs.Uint64("seed", 1, "seed of every random choice")
	out := fs.String("out", "", "output directory of the report (required)")
	mnist := fs.String("mnist", "", "directory of the MNIST IDX files (default: the usual places, see package data)")
	cifar := fs.String("cifar10", "", "CIFAR-10 archive or directory, for innaprop --full (default: the usual places)")
	var ids []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				reproduceUsage(stderr, fs)
				return nil, errUsage
			}
			return nil, fmt.Errorf("%v (run 'gradus reproduce -h')", err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		ids = append(ids, rest[0])
		rest = rest[1:]
	}
	o := &reproduceOptions{scale: repro.Quick, seed: *seed, out: *out, mnist: *mnist, cifar: *cifar}
	n := 0
	for _, b := range []struct {
		set bool
		s   repro.Scale
	}{{*smoke, repro.Smoke}, {*quick, repro.Quick}, {*full, repro.Full}} {
		if b.set {
			n++
			o.scale = b.s
		}
	}
	if n > 1 {
		return nil, fmt.Errorf("choose one of --smoke, --quick and --full")
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no experiment given: name one or more of %s, or all", strings.Join(repro.IDs(), ", "))
	}
	if o.out == "" {
		return nil, fmt.Errorf("--out DIR is required (the directory of the report)")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if id == "all" {
			for _, e := range repro.Experiments() {
				if !seen[e.ID] {
					seen[e.ID] = true
					o.exps = append(o.exps, e)
				}
			}
			continue
		}
		e, ok := repro.Lookup(id)
		if !ok {
			return nil, fmt.Errorf("unknown experiment %q (have %s, or all)", id, strings.Join(repro.IDs(), ", "))
		}
		if !seen[id] {
			seen[id] = true
			o.exps = append(o.exps, e)
		}
	}
	return o, nil
}

func runReproduce(args []string, stdout, stderr io.Writer) error {
	o, err := parseReproduce(args, stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	tty := isTerminal(stderr)
	var sections []*report.Section
	failed := 0
	start := time.Now()
	for i, e := range o.exps {
		bar := newProgressLine(stderr, tty, fmt.Sprintf("[%d/%d] %s", i+1, len(o.exps), e.ID))
		cfg := repro.Config{Scale: o.scale, Seed: o.seed, Progress: bar.update, MNISTDir: o.mnist, CIFAR10Path: o.cifar}
		res, err := e.Run(ctx, cfg)
		bar.finish()
		sec := e.Section(res, err)
		sections = append(sections, sec)
		fmt.Fprintln(stdout, summaryLine(sec))
		if !sec.Passed() {
			failed++
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := report.Write(o.out, sections); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s (%d experiments, %s)\n", o.out+string(os.PathSeparator)+"index.html", len(sections), time.Since(start).Round(100*time.Millisecond))
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d experiments have failing checks", failed, len(sections))
	}
	return nil
}

// summaryLine is the one-line result of an experiment.
func summaryLine(s *report.Section) string {
	pass := 0
	var bad []string
	for _, c := range s.Checks {
		if c.Pass {
			pass++
		} else {
			bad = append(bad, c.Name)
		}
	}
	status := "PASS"
	if !s.Passed() {
		status = "FAIL"
	}
	line := fmt.Sprintf("%s  %-20s %-5s %2d/%-2d checks  %7.1f s", status, s.ID, s.Scale, pass, len(s.Checks), s.Seconds)
	if len(bad) > 0 {
		line += "  failing: " + strings.Join(bad, "; ")
	}
	if s.Error != "" {
		line += "  error: " + s.Error
	}
	return line
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine shows an experiment's progress: a redrawn bar on a terminal,
// a line per stage (at most one every few seconds) otherwise.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	name  string
	start time.Time
	last  time.Time
	stage string
	drawn bool
}

func newProgressLine(w io.Writer, tty bool, name string) *progressLine {
	return &progressLine{w: w, tty: tty, name: name, start: time.Now()}
}

func (p *progressLine) update(done float64, stage string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.tty {
		if now.Sub(p.last) < 100*time.Millisecond && stage == p.stage {
			return
		}
		const width = 24
		n := int(done*width + 0.5)
		bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
		line := fmt.Sprintf("%s %s %3.0f%% %5.1fs  %s", p.name, bar, 100*done, now.Sub(p.start).Seconds(), stage)
		if len(line) > 110 {
			line = line[:110]
		}
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
	} else {
		if stage == p.stage || now.Sub(p.last) < 5*time.Second {
			return
		}
		fmt.Fprintf(p.w, "%s %3.0f%% %s\n", p.name, 100*done, stage)
	}
	p.last, p.stage = now, stage
}

func (p *progressLine) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
