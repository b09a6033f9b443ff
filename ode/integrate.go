package ode

import (
	"fmt"
	"math"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// counts are the work counters of one integration.
type counts struct {
	steps, accepted, rejected, fevals int
}

// stepFunc is told about each accepted step from (t, y) with step h to
// y1 at time end (end is t + h, or exactly the stop it lands on).
type stepFunc func(t, h, end float64, y, y1 *ad.Var, ks []*ad.Var)

// integrate runs the scheme from (t0, y0) through the stops (the fixed-step
// methods step exactly onto each stop; Dopri5 only onto the last one) and
// returns the final state. rtol and atol are Dopri5's tolerances, h0 its
// first step (0: automatic).
func integrate(m Method, f rhs, y0 *ad.Var, t0 float64, stops []float64, step, h0, hmax, rtol, atol float64, maxSteps int, on stepFunc, c *counts) (*ad.Var, error) {
	tb := tableaus[m]
	counted := func(t float64, y *ad.Var) *ad.Var {
		c.fevals++
		return f(t, y)
	}
	y := y0
	if m != Dopri5 {
		a := t0
		for _, b := range stops {
			n := int(math.Ceil(math.Abs(b-a)/step - 1e-9))
			n = max(n, 1)
			h := (b - a) / float64(n)
			for i := 0; i < n; i++ {
				if c.steps >= maxSteps {
					return y, fmt.Errorf("%w: %d steps (MaxSteps)", ErrMaxSteps, c.steps)
				}
				t := a + float64(i)*h
				end := a + float64(i+1)*h
				if i == n-1 {
					end = b
				}
				y1, ks := tb.step(counted, t, end-t, y, nil)
				c.steps++
				c.accepted++
				if on != nil {
					on(t, end-t, end, y, y1, ks)
				}
				y = y1
			}
			a = b
		}
		if y.Value().HasNaNInf() {
			return y, fmt.Errorf("%w: the state is not finite at t = %v", ErrStepSize, a)
		}
		return y, nil
	}
	t1 := stops[len(stops)-1]
	dir := math.Copysign(1, t1-t0)
	t := t0
	k1 := counted(t, y)
	h := math.Abs(h0)
	if h == 0 {
		h = initialStep(counted, t, y, k1, dir, rtol, atol)
	}
	if hmax <= 0 {
		hmax = math.Inf(1)
	}
	h = math.Min(math.Min(h, hmax), math.Abs(t1-t0)) * dir
	errOld := 1e-4
	rejectedLast := false
	const safe, beta = 0.9, 0.04
	alpha := 0.2 - 0.75*beta
	for t != t1 {
		if c.steps >= maxSteps {
			return y, fmt.Errorf("%w: %d steps (MaxSteps) at t = %v", ErrMaxSteps, c.steps, t)
		}
		if math.Abs(h) <= 1e-14*math.Max(1, math.Abs(t)) || math.IsNaN(h) {
			return y, fmt.Errorf("%w: step %g at t = %v", ErrStepSize, h, t)
		}
		last := false
		if (t+h-t1)*dir >= 0 {
			h = t1 - t
			last = true
		}
		y1, ks := tb.step(counted, t, h, y, k1)
		c.steps++
		en := errNorm(tb, y, y1, ks, h, rtol, atol)
		if en <= 1 {
			end := t + h
			if last {
				end = t1
			}
			c.accepted++
			if on != nil {
				on(t, h, end, y, y1, ks)
			}
			fac := safe * math.Pow(en, -alpha) * math.Pow(errOld, beta)
			if en == 0 {
				fac = 10
			}
			fac = math.Min(10, math.Max(0.2, fac))
			if rejectedLast {
				fac = math.Min(fac, 1)
			}
			errOld = math.Max(en, 1e-4)
			t, y, k1 = end, y1, ks[len(ks)-1]
			h = math.Copysign(math.Min(math.Abs(h*fac), hmax), h)
			rejectedLast = false
			continue
		}
		c.rejected++
		fac := 0.2
		if !math.IsNaN(en) && !math.IsInf(en, 0) {
			fac = math.Max(0.2, safe*math.Pow(en, -0.2))
		}
		h *= fac
		rejectedLast = true
	}
	return y, nil
}

// errNorm is the RMS norm of the local error estimate h·Σ e_j k_j scaled
// by atol + rtol·max(|y|, |y1|).
func errNorm(tb *tableau, y, y1 *ad.Var, ks []*ad.Var, h, rtol, atol float64) float64 {
	n := y.Value().Size()
	yv, y1v := y.Value(), y1.Value()
	var s float64
	for i := 0; i < n; i++ {
		var e float64
		for j, w := range tb.e {
			if w != 0 {
				e += w * ks[j].Value().AtFlat(i)
			}
		}
		e *= h
		sc := atol + rtol*math.Max(math.Abs(yv.AtFlat(i)), math.Abs(y1v.AtFlat(i)))
		s += (e / sc) * (e / sc)
	}
	r := math.Sqrt(s / float64(n))
	if math.IsNaN(r) || y1v.HasNaNInf() {
		return math.Inf(1)
	}
	return r
}

// initialStep is Hairer's starting step heuristic (one evaluation of f).
func initialStep(f rhs, t float64, y, f0 *ad.Var, dir, rtol, atol float64) float64 {
	yv, fv := y.Value(), f0.Value()
	n := yv.Size()
	sc := make([]float64, n)
	var d0, d1 float64
	for i := 0; i < n; i++ {
		sc[i] = atol + rtol*math.Abs(yv.AtFlat(i))
		d0 += (yv.AtFlat(i) / sc[i]) * (yv.AtFlat(i) / sc[i])
		d1 += (fv.AtFlat(i) / sc[i]) * (fv.AtFlat(i) / sc[i])
	}
	d0, d1 = math.Sqrt(d0/float64(n)), math.Sqrt(d1/float64(n))
	h0 := 0.01 * d0 / d1
	if d0 < 1e-5 || d1 < 1e-5 || math.IsNaN(h0) {
		h0 = 1e-6
	}
	y1 := ad.Add(y, ad.Scale(f0, h0*dir))
	f1 := f(t+h0*dir, y1).Value()
	var d2 float64
	for i := 0; i < n; i++ {
		d := (f1.AtFlat(i) - fv.AtFlat(i)) / sc[i]
		d2 += d * d
	}
	d2 = math.Sqrt(d2/float64(n)) / h0
	var h1 float64
	if math.Max(d1, d2) <= 1e-15 {
		h1 = math.Max(1e-6, h0*1e-3)
	} else {
		h1 = math.Pow(0.01/math.Max(d1, d2), 1.0/5)
	}
	return math.Min(100*h0, h1)
}

// consts wraps tensors as constant Vars.
func consts(ts []*tensor.Tensor) []*ad.Var {
	out := make([]*ad.Var, len(ts))
	for i, t := range ts {
		out[i] = ad.Const(t)
	}
	return out
}

func zeros1() *tensor.Tensor { return tensor.Zeros(tensor.Float64, 1) }
