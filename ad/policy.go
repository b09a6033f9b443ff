package ad

import (
	"fmt"
	"math"
)

// TieRule says how a derivative is shared among tied arguments of a max or
// min (elementwise, reductions, pooling windows, sorts).
type TieRule uint8

// Tie rules. TieDefault selects each primitive's documented default, which
// matches PyTorch: split evenly for elementwise and reduction max/min, the
// first element for pooling and sorting.
const (
	TieDefault TieRule = iota
	TieFirst           // all of the derivative to the first tied argument
	TieLast            // all of it to the last tied argument
	TieSplit           // shared evenly among the tied arguments
)

func (r TieRule) String() string {
	switch r {
	case TieDefault:
		return "default"
	case TieFirst:
		return "first"
	case TieLast:
		return "last"
	case TieSplit:
		return "split"
	}
	return fmt.Sprintf("TieRule(%d)", uint8(r))
}

// resolve returns r, or def when r is TieDefault.
func (r TieRule) resolve(def TieRule) TieRule {
	if r == TieDefault {
		return def
	}
	return r
}

// Policy names the element of the generalized derivative used at each kind
// of nonsmooth point. The zero value is the default, which agrees with
// PyTorch except where noted. Every choice multiplies the incoming tangent
// or cotangent; none replaces it.
type Policy struct {
	// ReLU0 is relu'(0), in [0, 1]. Default 0 (PyTorch). Leaky relu with
	// slope a uses a + ReLU0·(1 − a) at 0.
	ReLU0 float64
	// Abs0 is abs'(0), in [−1, 1]. Default 0 (PyTorch).
	Abs0 float64
	// Sign0 is sign'(0). Sign is constant elsewhere, so its derivative is 0
	// away from 0. Default 0 (PyTorch).
	Sign0 float64
	// Sqrt0 is sqrt'(0), where the true derivative is +Inf. Default 0 (PyTorch
	// gives +Inf). The norm uses it at the zero vector.
	Sqrt0 float64
	// Clamp is the derivative of clamp (and relu6, and projections onto a
	// box) at a point exactly on a bound, in [0, 1]. Default 0, consistent
	// with ReLU0 (PyTorch uses 1).
	Clamp float64
	// Hinge0 is the weight of the sloped piece at a hinge breakpoint, in
	// [0, 1]: hinge(x) = max(0, 1 − x) has derivative −Hinge0 at x = 1, and
	// prox.Hinge uses it at both of its breakpoints. Default 0.
	Hinge0 float64
	// SoftThreshold0 is the derivative of soft-thresholding at |x| = λ, in
	// [0, 1]. Default 0.
	SoftThreshold0 float64
	// MaxTie shares the derivative of elementwise and reduction max/min
	// among tied arguments. Default TieSplit (PyTorch).
	MaxTie TieRule
	// PoolTie picks the winner of a max-pooling window with ties. Default
	// TieFirst (PyTorch).
	PoolTie TieRule
	// SortTie decides entries exactly at the threshold of sort-based
	// projections (simplex, l1 ball): TieFirst (default) leaves them out of
	// the support (the smallest support), TieLast puts them in (the largest),
	// TieSplit averages the two Jacobians.
	SortTie TieRule
}

// Validate returns an error naming the first field outside its range.
func (p *Policy) Validate() error {
	check := func(name string, v, lo, hi float64) error {
		if math.IsNaN(v) || v < lo || v > hi {
			return fmt.Errorf("ad: Policy.%s = %v is outside [%v, %v]", name, v, lo, hi)
		}
		return nil
	}
	for _, c := range []struct {
		name      string
		v, lo, hi float64
	}{
		{"ReLU0", p.ReLU0, 0, 1},
		{"Abs0", p.Abs0, -1, 1},
		{"Clamp", p.Clamp, 0, 1},
		{"Hinge0", p.Hinge0, 0, 1},
		{"SoftThreshold0", p.SoftThreshold0, 0, 1},
	} {
		if err := check(c.name, c.v, c.lo, c.hi); err != nil {
			return err
		}
	}
	if math.IsNaN(p.Sign0) || math.IsNaN(p.Sqrt0) {
		return fmt.Errorf("ad: Policy.Sign0 and Policy.Sqrt0 must not be NaN")
	}
	for _, t := range []struct {
		name string
		r    TieRule
	}{{"MaxTie", p.MaxTie}, {"PoolTie", p.PoolTie}, {"SortTie", p.SortTie}} {
		if t.r > TieSplit {
			return fmt.Errorf("ad: Policy.%s = %v is not a tie rule", t.name, t.r)
		}
	}
	return nil
}
