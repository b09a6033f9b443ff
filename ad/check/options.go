package check

import (
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// Options configure a check. The zero value (or a nil *Options) checks
// every input with the default tolerances, steps and seed.
type Options struct {
	// Name names the function or primitive in error messages ("f" if empty).
	Name string
	// Atol and Rtol are the absolute and relative tolerances: a derivative
	// value got passes against the reference want when
	//
	//	|got − want| ≤ Atol + Rtol·max(|got|, |want|) + noise,
	//
	// where noise is the estimated rounding error of the finite differences
	// (or of the sums compared). Zero selects the default of the coarsest
	// dtype among the inputs and the output (see DefaultTolerances).
	Atol, Rtol float64
	// Step is the relative finite-difference step h: element i moves by
	// h·max(1, |xᵢ|) times the direction. Zero selects ε^(1/5) for the
	// machine epsilon ε of the dtype in which f is evaluated, which suits
	// the fourth-order central differences used.
	Step float64
	// Seed seeds the generator of random directions and cotangents.
	Seed uint64
	// Directions is the number of random directions per check (0: 2;
	// negative: none, leaving Gradient's element-by-element comparisons).
	Directions int
	// MaxElements: inputs with at most this many elements are also checked
	// element by element in Gradient (default 64; negative disables).
	MaxElements int
	// Wrt lists the inputs to check (nil: all). The others are held fixed.
	Wrt []int
	// Policy is passed to ad (ad.Options.Policy) by every differentiation.
	Policy ad.Policy
	// NoUpcast evaluates finite differences in the inputs' own dtypes
	// instead of float64 copies. Without it, copies are used whenever f
	// accepts them (and the native dtypes when f panics on them).
	NoUpcast bool
}

// DefaultTolerances returns the default absolute and relative tolerances
// for derivatives computed in dtype d.
func DefaultTolerances(d tensor.DType) (atol, rtol float64) {
	switch d {
	case tensor.Float64:
		return 1e-8, 1e-6
	case tensor.Float32:
		return 1e-4, 2e-3
	case tensor.Float16:
		return 1e-2, 5e-2
	default: // BFloat16
		return 5e-2, 2e-1
	}
}

// settings are the Options resolved for one check.
type settings struct {
	name       string
	atol, rtol float64
	step       float64 // relative step h
	epsEval    float64 // machine epsilon of the evaluation dtype
	epsAD      float64 // coarsest machine epsilon of the inputs and output
	dirs       int
	maxElems   int
	wrt        []bool
	ad         *ad.Options
	rng        *tensor.RNG
	upcast     bool
}

func resolve(o *Options, nIn int) settings {
	if o == nil {
		o = &Options{}
	}
	s := settings{
		name:     o.Name,
		atol:     o.Atol,
		rtol:     o.Rtol,
		step:     o.Step,
		dirs:     o.Directions,
		maxElems: o.MaxElements,
		ad:       &ad.Options{Policy: o.Policy},
		rng:      tensor.NewRNG(o.Seed ^ 0x9e3779b97f4a7c15),
		upcast:   !o.NoUpcast,
	}
	if s.name == "" {
		s.name = "f"
	}
	switch {
	case s.dirs == 0:
		s.dirs = 2
	case s.dirs < 0:
		s.dirs = 0
	}
	if s.maxElems == 0 {
		s.maxElems = 64
	}
	s.wrt = make([]bool, nIn)
	if o.Wrt == nil {
		for i := range s.wrt {
			s.wrt[i] = true
		}
	} else {
		for _, i := range o.Wrt {
			if i >= 0 && i < nIn {
				s.wrt[i] = true
			}
		}
	}
	return s
}

// finish sets the dtype-dependent defaults once the dtypes are known.
func (s *settings) finish(adType, evalType tensor.DType) {
	atol, rtol := DefaultTolerances(adType)
	if s.atol == 0 {
		s.atol = atol
	}
	if s.rtol == 0 {
		s.rtol = rtol
	}
	s.epsEval = evalType.Eps()
	s.epsAD = adType.Eps()
	if s.step == 0 {
		s.step = math.Pow(s.epsEval, 0.2)
	}
}

// coarser returns the dtype of lower precision.
func coarser(a, b tensor.DType) tensor.DType {
	if b.Eps() > a.Eps() {
		return b
	}
	return a
}
