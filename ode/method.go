package ode

import (
	"fmt"

	"github.com/gradus-ml/gradus/ad"
)

// Method is an explicit Runge-Kutta scheme.
type Method int

const (
	// Dopri5 is the adaptive Dormand-Prince 5(4) pair (FSAL, 6 new
	// evaluations per step) with a PI step-size controller and a
	// 4th-order dense output. The default.
	Dopri5 Method = iota
	// Euler is the explicit Euler method (order 1), fixed step.
	Euler
	// Heun is Heun's method (explicit trapezoid, order 2), fixed step.
	Heun
	// RK4 is the classical Runge-Kutta method (order 4), fixed step.
	RK4
)

func (m Method) String() string {
	switch m {
	case Dopri5:
		return "dopri5"
	case Euler:
		return "euler"
	case Heun:
		return "heun"
	case RK4:
		return "rk4"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// tableau is a Butcher tableau: c, a (lower triangular, row i has i
// entries), b, and for embedded pairs the error weights e = b − b̂.
type tableau struct {
	c []float64
	a [][]float64
	b []float64
	e []float64
}

var tableaus = map[Method]*tableau{
	Euler: {c: []float64{0}, a: [][]float64{{}}, b: []float64{1}},
	Heun: {
		c: []float64{0, 1},
		a: [][]float64{{}, {1}},
		b: []float64{0.5, 0.5},
	},
	RK4: {
		c: []float64{0, 0.5, 0.5, 1},
		a: [][]float64{{}, {0.5}, {0, 0.5}, {0, 0, 1}},
		b: []float64{1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
	},
	Dopri5: {
		c: []float64{0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1},
		a: [][]float64{
			{},
			{1.0 / 5},
			{3.0 / 40, 9.0 / 40},
			{44.0 / 45, -56.0 / 15, 32.0 / 9},
			{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
			{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
			{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
		},
		b: []float64{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0},
		e: []float64{71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40},
	},
}

// dense output coefficients of Dormand-Prince (Hairer, Nørsett & Wanner,
// "Solving ODEs I", and their code dopri5)
var dopriD = []float64{
	-12715105075.0 / 11282082432, 0, 87487479700.0 / 32700410799, -10690763975.0 / 1880347072,
	701980252875.0 / 199316789632, -1453857185.0 / 822651844, 69997945.0 / 29380423,
}

// rhs is a vector field on a state Var.
type rhs func(t float64, y *ad.Var) *ad.Var

// lincomb returns y + h·Σ w_j k_j (zero weights skipped).
func lincomb(y *ad.Var, h float64, w []float64, ks []*ad.Var) *ad.Var {
	out := y
	for j, wj := range w {
		if wj == 0 {
			continue
		}
		out = ad.Add(out, ad.Scale(ks[j], h*wj))
	}
	return out
}

// step is one Runge-Kutta step from (t, y) with step h. k1, if not nil, is
// f(t, y) (first same as last). It returns y1 and the stages; for Dopri5
// the last stage is f(t+h, y1).
func (tb *tableau) step(f rhs, t, h float64, y, k1 *ad.Var) (*ad.Var, []*ad.Var) {
	s := len(tb.c)
	ks := make([]*ad.Var, s)
	if k1 == nil {
		k1 = f(t, y)
	}
	ks[0] = k1
	for i := 1; i < s; i++ {
		yi := lincomb(y, h, tb.a[i], ks)
		if i == s-1 && tb.e != nil {
			// FSAL: the last stage is evaluated at y1 itself
			ks[i] = f(t+tb.c[i]*h, yi)
			return yi, ks
		}
		ks[i] = f(t+tb.c[i]*h, yi)
	}
	return lincomb(y, h, tb.b, ks), ks
}

// dense returns the Dopri5 interpolant at t + θh of a step from y to y1
// with stages ks.
func denseDopri(y, y1 *ad.Var, ks []*ad.Var, h, theta float64) *ad.Var {
	r2 := ad.Sub(y1, y)
	r3 := ad.Sub(ad.Scale(ks[0], h), r2)
	r4 := ad.Sub(ad.Sub(r2, ad.Scale(ks[6], h)), r3)
	var r5 *ad.Var
	for j, d := range dopriD {
		if d == 0 {
			continue
		}
		term := ad.Scale(ks[j], h*d)
		if r5 == nil {
			r5 = term
		} else {
			r5 = ad.Add(r5, term)
		}
	}
	// y + θ(r2 + (1−θ)(r3 + θ(r4 + (1−θ) r5)))
	inner := ad.Add(r4, ad.Scale(r5, 1-theta))
	inner = ad.Add(r3, ad.Scale(inner, theta))
	inner = ad.Add(r2, ad.Scale(inner, 1-theta))
	return ad.Add(y, ad.Scale(inner, theta))
}
