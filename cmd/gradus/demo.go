package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

func init() {
	commands["demo"] = command{
		summary: "differentiate a nonsmooth program under two ReLU'(0) choices",
		run:     runDemo,
	}
}

// runDemo differentiates p(x) = Σ relu(x) − relu(−x) (the identity, written
// with a kink) and a small relu network at inputs that hit the kinks, once
// with ReLU'(0) = 0 and once with ReLU'(0) = 1, and prints the gradients
// and kink counts.
func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	x := ad.Const(tensor.FromFloat64s(tensor.Float64, []float64{-1, 0, 0, 2}))
	// p(x) = Σ relu(x) − relu(−x) equals Σ x, whose gradient is 1 everywhere;
	// at x = 0, backpropagation returns 2·ReLU'(0) instead.
	p := func(xs ...*ad.Var) *ad.Var {
		return ad.SumAll(ad.Sub(ad.Relu(xs[0]), ad.Relu(ad.Neg(xs[0]))))
	}
	fmt.Fprintln(stdout, "p(x) = sum(relu(x) - relu(-x)) = sum(x), at x =", x.Value().Float64s())
	for _, r := range []float64{0, 1} {
		var st ad.Stats
		g, err := ad.Grad(p, []*ad.Var{x}, &ad.Options{Policy: ad.Policy{ReLU0: r}, Stats: &st})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  ReLU'(0) = %g: gradient %v, kinks hit: %d\n", r, g[0].Value().Float64s(), st.Kinks["relu"])
	}
	fmt.Fprintln(stdout, "The true derivative is 1 everywhere; the choice at the kink changes what")
	fmt.Fprintln(stdout, "backpropagation returns, and gradus names it and counts the hits.")
	return nil
}
