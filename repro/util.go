package repro

import (
	"math"
	"runtime"
	"sort"
	"time"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// fitSlope returns the least-squares slope of ys against xs.
func fitSlope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 {
		return math.NaN()
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= n
	my /= n
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	return sxy / sxx
}

// logLogSlope fits log y against log x over the points with x in [lo, hi]
// and y > 0.
func logLogSlope(x, y []float64, lo, hi float64) float64 {
	var lx, ly []float64
	for i := range x {
		if x[i] >= lo && x[i] <= hi && y[i] > 0 && x[i] > 0 {
			lx = append(lx, math.Log(x[i]))
			ly = append(ly, math.Log(y[i]))
		}
	}
	return fitSlope(lx, ly)
}

// semiLogSlope fits ln y against x over the points with x in [lo, hi] and
// y > 0 (the per-iteration log rate of a linearly converging sequence).
func semiLogSlope(x, y []float64, lo, hi float64) float64 {
	var lx, ly []float64
	for i := range x {
		if x[i] >= lo && x[i] <= hi && y[i] > 0 {
			lx = append(lx, x[i])
			ly = append(ly, math.Log(y[i]))
		}
	}
	return fitSlope(lx, ly)
}

// logInts returns about n integers log-spaced in [lo, hi], sorted and
// unique.
func logInts(lo, hi, n int) []int {
	seen := map[int]bool{}
	var out []int
	for i := 0; i < n; i++ {
		t := float64(i) / float64(max(n-1, 1))
		v := int(math.Round(math.Exp(math.Log(float64(lo)) + t*(math.Log(float64(hi))-math.Log(float64(lo))))))
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

func floats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func norm2(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func diffNorm(a, b []float64) float64 {
	var s float64
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

func maxAbsDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

func vec(v []float64) *ad.Var { return ad.Const(tensor.FromFloat64s(tensor.Float64, v)) }

func matVar(v []float64, r, c int) *ad.Var {
	return ad.Const(tensor.FromFloat64s(tensor.Float64, v, r, c))
}

func scalar(v float64) *ad.Var { return ad.Scalar(tensor.Float64, v) }

func f64(v *ad.Var) []float64 { return v.Value().Float64s() }

// normals returns n standard normal draws from rng.
func normals(rng *tensor.RNG, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}

// within reports lo ≤ v ≤ hi.
func within(v, lo, hi float64) bool { return v >= lo && v <= hi }

var clockStart = time.Now()

// wallTime returns the seconds since the package was initialized.
func wallTime() float64 { return time.Since(clockStart).Seconds() }

// cpuRatios times runs in reps interleaved rounds, each run once per round
// (a loop of at least 5 ms, see cpuCost) after a garbage collection. It
// returns each run's
// best time and the median over rounds of its time divided by runs[0]'s
// time in the same round, which cancels slow drifts of the machine.
func cpuRatios(reps int, runs ...func() error) (best, ratio []float64, err error) {
	best = make([]float64, len(runs))
	per := make([][]float64, len(runs))
	for i := range best {
		best[i] = math.Inf(1)
	}
	round := make([]float64, len(runs))
	for rep := 0; rep < max(reps, 1); rep++ {
		for i, run := range runs {
			runtime.GC()
			if round[i], err = cpuCost(1, run); err != nil {
				return nil, nil, err
			}
			best[i] = math.Min(best[i], round[i])
		}
		for i := range runs {
			per[i] = append(per[i], round[i]/round[0])
		}
	}
	ratio = make([]float64, len(runs))
	for i, rs := range per {
		sort.Float64s(rs)
		ratio[i] = rs[len(rs)/2]
	}
	return best, ratio, nil
}

// cpuCost returns the CPU time of one call of run: the minimum over reps
// repeats (fewer once 2 s have been spent) of the mean over a loop long
// enough (≥ 5 ms) for the clock's resolution not to matter.
func cpuCost(reps int, run func() error) (float64, error) {
	n := 1
	best := math.Inf(1)
	start := cpuTime()
	for rep := 0; rep < reps && (rep < 2 || cpuTime()-start < 2); rep++ {
		for {
			t0 := cpuTime()
			for i := 0; i < n; i++ {
				if err := run(); err != nil {
					return 0, err
				}
			}
			d := cpuTime() - t0
			if d < 5e-3 && n < 1<<20 {
				n *= 2
				continue
			}
			best = math.Min(best, d/float64(n))
			break
		}
	}
	return best, nil
}
