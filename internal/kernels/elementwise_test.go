package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The elementwise kernels are compared bit for bit with plain Go
// references (the loops of ad, tensor and optim they replace) on random
// data mixed with special values, for every length up to 100, at
// unaligned offsets, in place and out of place, on the assembly path (when
// the CPU has it) and on the Go path.

// elemSpecials are the values every kernel must pass through exactly.
var elemSpecials = []uint32{
	0x00000000, 0x80000000, // ±0
	0x7f800000, 0xff800000, // ±Inf
	0x7fc00000, 0xffc00000, // quiet NaNs
	0x7fc12345, 0xffd00001, // quiet NaNs with payloads
	0x7f800001, 0xff912345, // signaling NaNs
	0x00000001, 0x807fffff, // subnormals
	0x00800000, 0x80800000, // ±smallest normal
	0x7f7fffff, 0xff7fffff, // ±largest finite
	0x3f800000, 0xbf800000, // ±1
}

// elemRand returns n values: a quarter specials, the rest normal variates
// with random scales, some equal to the kinks in ks.
func elemRand(r *rand.Rand, n int, ks ...float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch u := r.IntN(8); {
		case u < 2:
			x[i] = math.Float32frombits(elemSpecials[r.IntN(len(elemSpecials))])
		case u == 2 && len(ks) > 0:
			x[i] = ks[r.IntN(len(ks))]
		default:
			x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(9)-4)))
		}
	}
	return x
}

// elemAt returns a copy of x placed off elements into a fresh slice, followed
// by guard values, so the kernels see unaligned slices and writes past the
// end are caught by elemGuard.
func elemAt(x []float32, off int) []float32 {
	b := make([]float32, off+len(x)+9)
	for i := range b {
		b[i] = math.Float32frombits(0x7fbadbad)
	}
	copy(b[off:], x)
	return b[off : off+len(x)]
}

func elemGuard(t *testing.T, what string, s []float32) {
	t.Helper()
	for i, v := range s[len(s) : len(s)+9] {
		if math.Float32bits(v) != 0x7fbadbad {
			t.Fatalf("%s: wrote past the end at +%d", what, i)
		}
	}
}

// elemSameBitsExcept is elemSameBits that also accepts two NaNs with different
// bits at the i where wild(i): where two NaNs (or values that become
// NaN, like Inf − Inf) meet in one operation, which payload survives
// depends on the operand order the Go compiler picks for the commutative
// operation, which differs between two compilations of the same loop.
func elemSameBitsExcept(a, b []float32, wild func(i int) bool) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i] && wild(i)) {
			return i
		}
	}
	return -1
}

// elemNaNish counts the NaNs and infinities among vs.
func elemNaNish(vs ...float32) int {
	n := 0
	for _, v := range vs {
		if v != v || math.IsInf(float64(v), 0) {
			n++
		}
	}
	return n
}

func elemSameBits(a, b []float32) int {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// elemPaths runs f with the assembly on (when there is one) and off.
func elemPaths(t *testing.T, f func(t *testing.T)) {
	for _, asm := range []bool{true, false} {
		t.Run(fmt.Sprintf("asm=%v", asm), func(t *testing.T) {
			prev := setElemAsm(asm)
			defer setElemAsm(prev)
			f(t)
		})
	}
}

// References: the scalar loops of ad/ops_nonsmooth.go, tensor/reduce.go
// and optim (float32 instances).

func refReluCount(z, x []float32) int {
	n := 0
	for i, v := range x {
		var m uint32
		if v < 0 {
			m = ^uint32(0)
		}
		if v == 0 {
			n++
		}
		z[i] = math.Float32frombits(math.Float32bits(v) &^ m)
	}
	return n
}

func refStepMul(z, g, x []float32, k float32, tbl [4]float32) {
	for i, v := range x {
		c := 0
		if v > k {
			c = 1
		}
		if v == k {
			c = 2
		}
		if v != v {
			c = 3
		}
		z[i] = g[i] * tbl[c&3]
	}
}

func refColSum(d, src []float32, rows, stride int) {
	clear(d)
	for k := 0; k < rows; k++ {
		row := src[k*stride : k*stride+len(d)]
		for i, v := range row {
			d[i] += v
		}
	}
}

func refSGD(p, g []float32, k SGDCoef32) {
	for i := range p {
		th := p[i]
		d := g[i] * k.GSign
		if k.L2 != 0 {
			d += float32(k.L2 * th)
		}
		p[i] = float32(float32(th*k.Decay) + float32(k.NegLR*d))
	}
}

func refMomentum(p, g, buf []float32, k SGDCoef32) {
	for i := range p {
		th := p[i]
		d := g[i] * k.GSign
		if k.L2 != 0 {
			d += float32(k.L2 * th)
		}
		b := d
		if !k.First {
			b = float32(k.Mu*buf[i]) + float32(k.OneMinusDamp*d)
		}
		buf[i] = b
		if k.Nesterov {
			d += float32(k.Mu * b)
		} else {
			d = b
		}
		p[i] = float32(th*k.Decay) + float32(k.NegLR*d)
	}
}

func refAdam(p, g, m, v []float32, k AdamCoef32) {
	for i := range p {
		th := p[i]
		gi := g[i] * k.GSign
		if k.L2 != 0 {
			gi += float32(k.L2 * th)
		}
		th = float32(th * k.Decay)
		ms := float32(m[i]*k.Beta1) + float32(k.OneMinusBeta1*gi)
		vs := float32(v[i]*k.Beta2) + float32(float32(k.OneMinusBeta2*gi)*gi)
		m[i], v[i] = ms, vs
		denom := float32(float32(math.Sqrt(float64(vs)))/k.SqrtBC2) + k.Eps
		p[i] = th + float32(k.NegStep*ms)/denom
	}
}

func TestReluCount32(t *testing.T) {
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for n := 0; n <= 100; n++ {
			for off := 0; off < 4; off++ {
				x := elemRand(r, n, 0)
				want := make([]float32, n)
				wantN := refReluCount(want, x)
				xs := elemAt(x, off)
				z := elemAt(make([]float32, n), (off+1)%4)
				if got := ReluCount32(z, xs); got != wantN {
					t.Fatalf("n=%d off=%d: count %d, want %d", n, off, got, wantN)
				}
				if i := elemSameBits(z, want); i >= 0 {
					t.Fatalf("n=%d off=%d: z[%d] = %#x, want %#x", n, off, i, math.Float32bits(z[i]), math.Float32bits(want[i]))
				}
				if i := elemSameBits(xs, x); i >= 0 {
					t.Fatalf("n=%d off=%d: x changed at %d", n, off, i)
				}
				elemGuard(t, "ReluCount32", z)
				// in place
				if got := ReluCount32(xs, xs); got != wantN || elemSameBits(xs, want) >= 0 {
					t.Fatalf("n=%d off=%d: in place: count %d (want %d), first differing %d", n, off, got, wantN, elemSameBits(xs, want))
				}
				elemGuard(t, "ReluCount32 in place", xs)
			}
		}
	})
}

func TestStepMul32(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		k   float32
		tbl [4]float32
	}{
		{0, [4]float32{0, 1, 0, nan}},
		{0, [4]float32{0, 1, 0.5, nan}},
		{1.5, [4]float32{-2, 3, 0.25, nan}},
		{-2, [4]float32{1, -1, 0, nan}},
		{math.Float32frombits(1), [4]float32{0.5, 2, -0, math.Float32frombits(0xffc12345)}},
		{nan, [4]float32{1, 2, 3, 4}},
		{float32(math.Inf(1)), [4]float32{1, 2, 3, nan}},
	}
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for ci, c := range cases {
			for n := 0; n <= 100; n++ {
				off := (n + ci) % 4
				x := elemRand(r, n, c.k, 0)
				g := elemRand(r, n)
				want := make([]float32, n)
				refStepMul(want, g, x, c.k, c.tbl)
				for alias := range 3 {
					xs, gs := elemAt(x, off), elemAt(g, (off+1)%4)
					z := elemAt(make([]float32, n), (off+3)%4)
					switch alias {
					case 1:
						z = gs
					case 2:
						z = xs
					}
					StepMul32(z, gs, xs, c.k, c.tbl)
					wild := func(i int) bool {
						return elemNaNish(g[i], x[i]) == 2 || elemNaNish(g[i]) == 1 && elemNaNish(c.tbl[:]...) > 0
					}
					if i := elemSameBitsExcept(z, want, wild); i >= 0 {
						t.Fatalf("case %d n=%d alias=%d: z[%d] = %#x, want %#x (g %#x, x %#x)", ci, n, alias, i,
							math.Float32bits(z[i]), math.Float32bits(want[i]), math.Float32bits(g[i]), math.Float32bits(x[i]))
					}
					elemGuard(t, "StepMul32", z)
				}
			}
		}
	})
}

func TestColSum32(t *testing.T) {
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for cols := 0; cols <= 100; cols++ {
			for _, rows := range []int{0, 1, 2, 3, 7} {
				stride := cols + (cols+rows)%3
				src := elemRand(r, max(0, rows*stride))
				want := make([]float32, cols)
				refColSum(want, src, rows, stride)
				d := elemAt(elemRand(r, cols), cols%4)
				ColSum32(d, elemAt(src, rows%4), rows, stride)
				if i := elemSameBitsExcept(d, want, elemColWild(src, rows, stride)); i >= 0 {
					t.Fatalf("cols=%d rows=%d stride=%d: d[%d] = %#x, want %#x", cols, rows, stride, i, math.Float32bits(d[i]), math.Float32bits(want[i]))
				}
				elemGuard(t, "ColSum32", d)
			}
		}
		// many rows and a wide block
		for _, sh := range [][3]int{{128, 300, 300}, {33, 1000, 1003}, {5, 64, 64}} {
			rows, cols, stride := sh[0], sh[1], sh[2]
			src := elemRand(r, rows*stride)
			want, d := make([]float32, cols), make([]float32, cols)
			refColSum(want, src, rows, stride)
			ColSum32(d, src, rows, stride)
			if i := elemSameBitsExcept(d, want, elemColWild(src, rows, stride)); i >= 0 {
				t.Fatalf("%v: d[%d] = %#x, want %#x", sh, i, math.Float32bits(d[i]), math.Float32bits(want[i]))
			}
		}
	})
}

// elemColWild reports the columns with two or more NaNs or infinities.
func elemColWild(src []float32, rows, stride int) func(int) bool {
	return func(j int) bool {
		n := 0
		for r := range rows {
			n += elemNaNish(src[r*stride+j])
		}
		return n >= 2
	}
}

func elemSGDCoefs() []SGDCoef32 {
	var ks []SGDCoef32
	for _, gs := range []float32{1, -1} {
		for _, l2 := range []float32{0, 1e-3} {
			for _, first := range []bool{false, true} {
				for _, nest := range []bool{false, true} {
					ks = append(ks, SGDCoef32{GSign: gs, L2: l2, Decay: 0.9999, NegLR: -0.01,
						Mu: 0.9, OneMinusDamp: 0.75, First: first, Nesterov: nest})
				}
			}
		}
	}
	return ks
}

func TestSGD32(t *testing.T) {
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for ki, k := range elemSGDCoefs() {
			for n := 0; n <= 100; n++ {
				off := (n + ki) % 4
				p, g, b := elemRand(r, n), elemRand(r, n), elemRand(r, n)
				wantP := append([]float32(nil), p...)
				refSGD(wantP, g, k)
				ps := elemAt(p, off)
				SGD32(ps, elemAt(g, (off+1)%4), &k)
				wild := func(i int) bool { return elemNaNish(p[i], g[i], b[i]) >= 2 }
				if i := elemSameBitsExcept(ps, wantP, wild); i >= 0 {
					t.Fatalf("SGD32 %+v n=%d: p[%d] = %#x, want %#x", k, n, i, math.Float32bits(ps[i]), math.Float32bits(wantP[i]))
				}
				elemGuard(t, "SGD32", ps)

				wantP = append(wantP[:0], p...)
				wantB := append([]float32(nil), b...)
				refMomentum(wantP, g, wantB, k)
				ps, bs := elemAt(p, off), elemAt(b, (off+2)%4)
				SGDMomentum32(ps, elemAt(g, (off+1)%4), bs, &k)
				if i := elemSameBitsExcept(ps, wantP, wild); i >= 0 {
					t.Fatalf("SGDMomentum32 %+v n=%d: p[%d] = %#x, want %#x", k, n, i, math.Float32bits(ps[i]), math.Float32bits(wantP[i]))
				}
				if i := elemSameBitsExcept(bs, wantB, wild); i >= 0 {
					t.Fatalf("SGDMomentum32 %+v n=%d: buf[%d] = %#x, want %#x", k, n, i, math.Float32bits(bs[i]), math.Float32bits(wantB[i]))
				}
				elemGuard(t, "SGDMomentum32 p", ps)
				elemGuard(t, "SGDMomentum32 buf", bs)
			}
		}
	})
}

func TestAdam32(t *testing.T) {
	elemPaths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for ki, l2 := range []float32{0, 1e-2} {
			for _, gs := range []float32{1, -1} {
				k := AdamCoef32{GSign: gs, L2: l2, Decay: 0.999, Beta1: 0.9, OneMinusBeta1: 0.1,
					Beta2: 0.999, OneMinusBeta2: 0.001, SqrtBC2: 0.0316, Eps: 1e-8, NegStep: -0.01}
				for n := 0; n <= 100; n++ {
					off := (n + ki) % 4
					p, g, m, v := elemRand(r, n), elemRand(r, n), elemRand(r, n), elemRand(r, n)
					if n%2 == 0 {
						for i := range v {
							v[i] = float32(math.Abs(float64(v[i])))
						}
					}
					wp, wm, wv := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
					refAdam(wp, g, wm, wv, k)
					ps, ms, vs := elemAt(p, off), elemAt(m, (off+1)%4), elemAt(v, (off+2)%4)
					Adam32(ps, elemAt(g, (off+3)%4), ms, vs, &k)
					for _, c := range []struct {
						name      string
						got, want []float32
					}{{"p", ps, wp}, {"m", ms, wm}, {"v", vs, wv}} {
						wild := func(i int) bool {
							neg := 0
							if v[i] < 0 {
								neg = 1
							}
							return elemNaNish(p[i], g[i], m[i], v[i])+neg >= 2
						}
						if i := elemSameBitsExcept(c.got, c.want, wild); i >= 0 {
							t.Fatalf("Adam32 %+v n=%d: %s[%d] = %#x, want %#x", k, n, c.name, i, math.Float32bits(c.got[i]), math.Float32bits(c.want[i]))
						}
						elemGuard(t, "Adam32 "+c.name, c.got)
					}
				}
			}
		}
	})
}
