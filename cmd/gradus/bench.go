package main

import (
	"fmt"
	"io"
	"sort"
)

// benchmarks maps `gradus bench <name>` to its implementation; files named
// bench_<name>.go add entries.
var benchmarks = map[string]command{}

func init() {
	commands["bench"] = command{
		summary: "run a benchmark (gemm, ...) and print JSON lines or a table",
		run:     runBench,
	}
}

func runBench(args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(benchmarks))
	for n := range benchmarks {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: gradus bench <name> [flags]")
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-8s %s\n", n, benchmarks[n].summary)
		}
		return errUsage
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		return fmt.Errorf("unknown benchmark %q (have %v)", args[0], names)
	}
	return b.run(args[1:], stdout, stderr)
}
