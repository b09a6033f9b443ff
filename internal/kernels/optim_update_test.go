package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The optimizer updates are compared bit for bit with copies of the float32
// instances of optim's innapropLoop, innaLoop and rmspropLoop (written out
// with float32 for the type parameters), on the data of elementwise_test.go:
// random values mixed with ±0, NaNs, ±Inf, subnormals and extreme
// magnitudes, every length up to 100, unaligned offsets, guard values past
// the ends, on the assembly path (when the CPU has it) and on the Go path.

func refINNAprop(p, g, v, psi []float32, k INNApropCoef32) {
	for i := range p {
		gi := float32(g[i]) * k.GSign
		th := float32(float32(p[i]) * k.Decay)
		vs := float32(float32(float32(v[i])*k.Sigma) + float32(float32(k.OneMinusSigma*gi)*gi))
		v[i] = vs
		denom := float32(float32(math.Sqrt(float64(vs)))/k.SqrtBC) + k.Eps
		ps := float32(float32(float32(psi[i])*k.PsiKeep) + float32(k.PsiTheta*th))
		psi[i] = ps
		p[i] = float32(float32(float32(th*k.ThetaKeep)-float32(k.S2*float32(ps))) + float32(k.GScale*gi)/denom)
	}
}

func refINNA(p, g, psi []float32, k INNACoef32) {
	for i := range p {
		th := float32(float32(p[i]) * k.Decay)
		ps := float32(psi[i])
		phase := float32(k.ThetaCoef*th) + float32(k.PsiCoef*ps)
		psi[i] = float32(ps + float32(k.NegLR*phase))
		p[i] = float32(th + float32(k.NegLR*(phase+float32(k.Beta*float32(float32(g[i])*k.GSign)))))
	}
}

func refRMSprop(p, g, v, mom, avg []float32, k RMSpropCoef32) {
	for i := range p {
		th := float32(p[i])
		gi := float32(g[i]) * k.GSign
		if k.L2 != 0 {
			gi += float32(k.L2 * th)
		}
		th = float32(th * k.Decay)
		vs := float32(float32(float32(v[i])*k.Alpha) + float32(float32(k.OneMinusAlpha*gi)*gi))
		v[i] = vs
		var den float32
		if k.Centered {
			as := float32(float32(float32(avg[i])*k.Alpha) + float32(k.OneMinusAlpha*gi))
			avg[i] = as
			den = float32(math.Sqrt(float64(float32(vs)-float32(float32(as)*float32(as))))) + k.Eps
		} else {
			den = float32(math.Sqrt(float64(float32(vs)))) + k.Eps
		}
		if k.Momentum {
			bs := float32(float32(k.Mu*float32(mom[i])) + gi/den)
			mom[i] = bs
			p[i] = float32(th + float32(k.NegLR*float32(bs)))
		} else {
			p[i] = float32(th + float32(k.NegLR*(gi/den)))
		}
	}
}

// testINNApropCoef computes the coefficients as optim's newInnapropCoef
// does (in float64, then rounded).
func testINNApropCoef(lr, a, b, sigma, eps, wd float64, t int, maximize bool) INNApropCoef32 {
	s1 := lr * (1 - float64(b*a)) / (b - lr)
	s2 := lr / (b - lr)
	bc := 1 - math.Pow(sigma, float64(t))
	gs := float32(1)
	if maximize {
		gs = -1
	}
	return INNApropCoef32{
		GSign: gs, Decay: float32(1 - float64(lr*wd)), Sigma: float32(sigma), OneMinusSigma: float32(1 - sigma),
		SqrtBC: float32(math.Sqrt(bc)), Eps: float32(eps), PsiKeep: float32(1 - lr/b),
		PsiTheta: float32(lr * (1/b - a)), ThetaKeep: float32(1 + s1), S2: float32(s2), GScale: float32(-lr * b),
	}
}

func testINNApropCoefs() []INNApropCoef32 {
	var ks []INNApropCoef32
	for _, max := range []bool{false, true} {
		ks = append(ks,
			testINNApropCoef(1e-3, 0.1, 0.9, 0.999, 1e-8, 0.01, 1, max),
			testINNApropCoef(1e-3, 0.1, 0.9, 0.999, 1e-8, 0.01, 37, max),
			testINNApropCoef(0.05, 2, 2, 0.99, 1e-6, 0.1, 3, max),
			testINNApropCoef(0.1, 0.5, 1.5, 0.9, 0, 0, 2, max),
			testINNApropCoef(0.899, 0.1, 0.9, 0.5, 1e-8, 0.01, 1, max), // lr near β: large coefficients
		)
	}
	return ks
}

// abs32 returns a copy of x with the sign bits cleared (NaNs keep their
// payload).
func abs32(x []float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = math.Float32frombits(math.Float32bits(v) &^ (1 << 31))
	}
	return y
}

func copy32(x []float32) []float32 { return append([]float32(nil), x...) }

type optCheck struct {
	name      string
	got, want []float32
}

func checkOpt(t *testing.T, what string, n int, wild func(int) bool, cs ...optCheck) {
	t.Helper()
	for _, c := range cs {
		if i := elemSameBitsExcept(c.got, c.want, wild); i >= 0 {
			t.Fatalf("%s n=%d: %s[%d] = %#x, want %#x", what, n, c.name, i, math.Float32bits(c.got[i]), math.Float32bits(c.want[i]))
		}
		elemGuard(t, what+" "+c.name, c.got)
	}
}

// optWild accepts differing NaNs at i when two NaN sources may meet
// there: which payload survives where two NaNs meet depends on the operand
// order the compiler picks for a commutative operation, which differs
// between two compilations of the same loop (NaNs made by an invalid
// operation all have the same bits, so only an input NaN meeting another
// NaN can differ). The sources counted are the NaN and infinite inputs,
// magnitudes whose squares overflow, the negative ones among neg (square
// roots), and extra (another invalid operation possible at i).
func optWild(i, extra int, neg []float32, ins ...[]float32) bool {
	c := extra
	for _, x := range ins {
		c += elemNaNish(x[i])
		if math.Abs(float64(x[i])) >= 1e18 {
			c++
		}
	}
	if neg != nil && neg[i] < 0 {
		c++
	}
	return c >= 2
}

func TestINNAprop32(t *testing.T) {
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		for ki, k := range testINNApropCoefs() {
			for n := 0; n <= 100; n++ {
				for off := range 4 {
					p, g, v, psi := elemRand(r, n), elemRand(r, n), elemRand(r, n), elemRand(r, n)
					if (n+off)%2 == 0 {
						v = abs32(v)
					}
					wp, wv, wpsi := copy32(p), copy32(v), copy32(psi)
					refINNAprop(wp, g, wv, wpsi, k)
					ps, gs, vs, psis := elemAt(p, off), elemAt(g, (off+1)%4), elemAt(v, (off+2)%4), elemAt(psi, (off+3)%4)
					INNAprop32(ps, gs, vs, psis, &k)
					wild := func(i int) bool {
						extra := 0
						if k.Eps == 0 && math.Abs(float64(g[i])) < 1e-30 {
							extra = 1 // 0/0 in the gradient term
						}
						return optWild(i, extra, v, p, g, v, psi)
					}
					checkOpt(t, fmt.Sprintf("INNAprop32 k%d off=%d", ki, off), n, wild,
						optCheck{"p", ps, wp}, optCheck{"v", vs, wv}, optCheck{"psi", psis, wpsi})
					if i := elemSameBits(gs, g); i >= 0 {
						t.Fatalf("INNAprop32 k%d n=%d: g changed at %d", ki, n, i)
					}
				}
			}
		}
	})
}

func TestINNA32(t *testing.T) {
	var ks []INNACoef32
	for _, gs := range []float32{1, -1} {
		for _, h := range [][4]float64{{0.01, 0.1, 0.1, 0.01}, {0.1, 0.5, 0.1, 0}, {0.3, 2, 0.05, 0.1}} {
			lr, a, b, wd := h[0], h[1], h[2], h[3]
			ks = append(ks, INNACoef32{GSign: gs, Decay: float32(1 - float64(lr*wd)), ThetaCoef: float32(a - 1/b),
				PsiCoef: float32(1 / b), NegLR: float32(-lr), Beta: float32(b)})
		}
	}
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 24))
		for ki, k := range ks {
			for n := 0; n <= 100; n++ {
				for off := range 4 {
					p, g, psi := elemRand(r, n), elemRand(r, n), elemRand(r, n)
					wp, wpsi := copy32(p), copy32(psi)
					refINNA(wp, g, wpsi, k)
					ps, gs, psis := elemAt(p, off), elemAt(g, (off+1)%4), elemAt(psi, (off+2)%4)
					INNA32(ps, gs, psis, &k)
					wild := func(i int) bool { return optWild(i, 0, nil, p, g, psi) }
					checkOpt(t, fmt.Sprintf("INNA32 k%d off=%d", ki, off), n, wild,
						optCheck{"p", ps, wp}, optCheck{"psi", psis, wpsi})
					if i := elemSameBits(gs, g); i >= 0 {
						t.Fatalf("INNA32 k%d n=%d: g changed at %d", ki, n, i)
					}
				}
			}
		}
	})
}

func TestRMSprop32(t *testing.T) {
	var ks []RMSpropCoef32
	for _, gs := range []float32{1, -1} {
		for _, l2 := range []float32{0, 1e-2} {
			for _, mom := range []bool{false, true} {
				for _, cen := range []bool{false, true} {
					ks = append(ks, RMSpropCoef32{GSign: gs, L2: l2, Decay: 0.9999, Alpha: 0.99,
						OneMinusAlpha: float32(1 - 0.99), Eps: 1e-8, Mu: 0.9, NegLR: -0.01, Momentum: mom, Centered: cen})
				}
			}
		}
	}
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(25, 26))
		for _, k := range ks {
			for n := 0; n <= 100; n++ {
				for off := range 4 {
					p, g, v, mom, avg := elemRand(r, n), elemRand(r, n), elemRand(r, n), elemRand(r, n), elemRand(r, n)
					if (n+off)%2 == 0 {
						v = abs32(v)
					}
					wp, wv, wm, wa := copy32(p), copy32(v), copy32(mom), copy32(avg)
					var rm, ra []float32
					if k.Momentum {
						rm = wm
					}
					if k.Centered {
						ra = wa
					}
					refRMSprop(wp, g, wv, rm, ra, k)
					ps, gs, vs := elemAt(p, off), elemAt(g, (off+1)%4), elemAt(v, (off+2)%4)
					ms, as := elemAt(mom, (off+3)%4), elemAt(avg, off)
					cs := []optCheck{{"p", ps, wp}, {"v", vs, wv}}
					var km, ka []float32
					if k.Momentum {
						km = ms
						cs = append(cs, optCheck{"mom", ms, wm})
					}
					if k.Centered {
						ka = as
						cs = append(cs, optCheck{"avg", as, wa})
					}
					RMSprop32(ps, gs, vs, km, ka, &k)
					// With the centered form v − avg² may be negative
					// even for v ≥ 0.
					extra := 0
					if k.Centered {
						extra = 1
					}
					wild := func(i int) bool { return optWild(i, extra, v, p, g, v, mom, avg) }
					checkOpt(t, fmt.Sprintf("RMSprop32 %+v off=%d", k, off), n, wild, cs...)
					if !k.Momentum && elemSameBits(ms, mom) >= 0 || !k.Centered && elemSameBits(as, avg) >= 0 {
						t.Fatalf("RMSprop32 %+v n=%d: an unused buffer changed", k, n)
					}
				}
			}
		}
	})
}

// TestOptimUpdateNil checks that the buffers RMSprop32 does not use may be
// nil and that empty slices are accepted everywhere.
func TestOptimUpdateNil(t *testing.T) {
	elemPaths(t, func(t *testing.T) {
		p, g, v := make([]float32, 19), make([]float32, 19), make([]float32, 19)
		RMSprop32(p, g, v, nil, nil, &RMSpropCoef32{GSign: 1, Decay: 1, Alpha: 0.9, OneMinusAlpha: 0.1, NegLR: -1})
		INNAprop32(nil, nil, nil, nil, &INNApropCoef32{})
		INNA32(nil, nil, nil, &INNACoef32{})
		RMSprop32(nil, nil, nil, nil, nil, &RMSpropCoef32{Momentum: true, Centered: true})
	})
}
