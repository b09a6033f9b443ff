package ad

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gradus-ml/gradus/tensor"
)

// Stats counts what a trace did: per-primitive kink hits and applications,
// and flop totals of forward evaluation, reverse-mode (backward) rules and
// forward-mode (tangent) rules. A Stats is not safe for concurrent use.
type Stats struct {
	// Kinks counts, per primitive, the elements evaluated exactly at a
	// nonsmooth point, where the Policy's choice applies.
	Kinks map[string]int
	// Calls counts, per primitive, the recorded applications.
	Calls map[string]int
	// ForwardFlops is the cost of the primal evaluations recorded.
	ForwardFlops float64
	// BackwardFlops is the cost of the VJP rules run by backward passes.
	BackwardFlops float64
	// TangentFlops is the cost of the JVP rules run in forward mode.
	TangentFlops float64
}

func (s *Stats) init() {
	if s.Kinks == nil {
		s.Kinks = map[string]int{}
	}
	if s.Calls == nil {
		s.Calls = map[string]int{}
	}
}

// TotalKinks returns the kink hits summed over primitives.
func (s *Stats) TotalKinks() int {
	n := 0
	for _, k := range s.Kinks {
		n += k
	}
	return n
}

// Add adds the counts of o to s.
func (s *Stats) Add(o *Stats) {
	s.init()
	for k, v := range o.Kinks {
		s.Kinks[k] += v
	}
	for k, v := range o.Calls {
		s.Calls[k] += v
	}
	s.ForwardFlops += o.ForwardFlops
	s.BackwardFlops += o.BackwardFlops
	s.TangentFlops += o.TangentFlops
}

// String summarizes s in one line per primitive with kink hits.
func (s *Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flops: forward %.4g, backward %.4g, tangent %.4g", s.ForwardFlops, s.BackwardFlops, s.TangentFlops)
	names := make([]string, 0, len(s.Kinks))
	for n, k := range s.Kinks {
		if k > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "\nkinks %s: %d", n, s.Kinks[n])
	}
	return b.String()
}

// Counts are per trace: when nested traces share one Stats, an application
// is counted once by each trace that sees it (HVP avoids this by giving the
// Stats to its inner trace only).

// record counts one application of p at a trace.
func (s *Stats) record(p *Prim, params any, in []*tensor.Tensor, out *tensor.Tensor) Cost {
	s.init()
	s.Calls[p.Name]++
	if p.Kinks != nil {
		if k := p.Kinks(in, params); k > 0 {
			s.Kinks[p.Name] += k
		}
	}
	var c Cost
	if p.Flops != nil {
		c = p.Flops(in, out, params)
	}
	return c
}

// AnomalyError reports the first primitive whose output (forward) or input
// cotangent or tangent (derivative rules) contained NaN or ±Inf, found by a
// trace in anomaly mode.
type AnomalyError struct {
	Prim        string
	Phase       string // "forward", "backward" or "tangent"
	InputShapes [][]int
	Input       int // for backward: the input whose cotangent was bad; else -1
}

func (e *AnomalyError) Error() string {
	if e.Input >= 0 {
		return fmt.Sprintf("ad: anomaly: %s of %s (input shapes %v) produced NaN or Inf in the cotangent of input %d", e.Phase, e.Prim, e.InputShapes, e.Input)
	}
	return fmt.Sprintf("ad: anomaly: %s of %s (input shapes %v) produced NaN or Inf", e.Phase, e.Prim, e.InputShapes)
}
