// Command gradus trains models, benchmarks kernels and reproduces the
// experiments of the papers gradus implements. Run `gradus help`.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// version is the gradus release; overridden at link time with -ldflags.
var version = "0.1.0-dev"

// command is one subcommand of the CLI.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands maps subcommand names to their implementations. Files of this
// package add entries in init functions, one file per subcommand.
var commands = map[string]command{}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit status. A panic inside a
// subcommand is turned into an error message: no stack trace reaches users.
func run(args []string, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "gradus: internal error: %v\n", r)
			status = 2
		}
	}()
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "help", "-h", "--help", "-help":
		usage(stdout)
		return 0
	case "version", "--version":
		fmt.Fprintf(stdout, "gradus %s\n", version)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "gradus: unknown command %q (run 'gradus help')\n", name)
		return 2
	}
	if err := c.run(args[1:], stdout, stderr); err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "gradus %s: %v\n", name, err)
		return 1
	}
	return 0
}

// errUsage reports that a subcommand already printed a usage message.
var errUsage = fmt.Errorf("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "gradus: differentiable programming with honest derivatives")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "usage: gradus <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "show this message")
	fmt.Fprintf(w, "  %-10s %s\n", "version", "print the version")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'gradus <command> -h' for the flags of a command.")
}
