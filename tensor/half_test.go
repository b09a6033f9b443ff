package tensor

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// refFloat16 decodes a binary16 pattern from the IEEE 754 definition.
func refFloat16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>10) & 0x1f
	m := float64(h & 0x3ff)
	switch e {
	case 0x1f:
		if m == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	case 0:
		return math.Copysign(math.Ldexp(m, -24), sign) // m · 2^(1−15−10)
	}
	return sign * math.Ldexp(1024+m, e-15-10)
}

// refBFloat16 decodes a bfloat16 pattern (1 sign, 8 exponent, 7 mantissa
// bits, bias 127) from the definition.
func refBFloat16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e := int(h>>7) & 0xff
	m := float64(h & 0x7f)
	switch e {
	case 0xff:
		if m == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	case 0:
		return math.Copysign(math.Ldexp(m, -133), sign) // m · 2^(1−127−7)
	}
	return sign * math.Ldexp(128+m, e-127-7)
}

type halfFormat struct {
	name      string
	ref       func(uint16) float64
	decode    func(uint16) float32
	encode    func(float32) uint16
	maxFinite uint16 // largest finite positive pattern
	inf       uint16
	isNaN     func(uint16) bool
}

var halfFormats = []halfFormat{
	{"float16", refFloat16, Float16From, Float16Bits, 0x7bff, 0x7c00,
		func(h uint16) bool { return h&0x7c00 == 0x7c00 && h&0x3ff != 0 }},
	{"bfloat16", refBFloat16, BFloat16From, BFloat16Bits, 0x7f7f, 0x7f80,
		func(h uint16) bool { return h&0x7f80 == 0x7f80 && h&0x7f != 0 }},
}

func TestHalfDecodeAllPatterns(t *testing.T) {
	for _, f := range halfFormats {
		for i := 0; i < 1<<16; i++ {
			h := uint16(i)
			want := f.ref(h)
			got := f.decode(h)
			if math.IsNaN(want) {
				if !math.IsNaN(float64(got)) {
					t.Fatalf("%s: decode(%#04x) = %v, want NaN", f.name, h, got)
				}
				if e := f.encode(got); !f.isNaN(e) {
					t.Fatalf("%s: encode(decode(%#04x)) = %#04x is not NaN", f.name, h, e)
				}
				continue
			}
			// exact, including the sign of zero
			if math.Float32bits(got) != math.Float32bits(float32(want)) || float64(float32(want)) != want {
				t.Fatalf("%s: decode(%#04x) = %v, want %v", f.name, h, got, want)
			}
			if e := f.encode(got); e != h {
				t.Fatalf("%s: encode(decode(%#04x)) = %#04x", f.name, h, e)
			}
		}
	}
}

// TestHalfRoundingPairs checks ties-to-even and correct rounding at and
// next to the midpoint of every pair of adjacent finite values, positive
// and negative, including subnormals and the pair (0, smallest subnormal).
func TestHalfRoundingPairs(t *testing.T) {
	for _, f := range halfFormats {
		for h := uint16(0); h < f.maxFinite; h++ {
			for _, sign := range []uint16{0, 0x8000} {
				a, b := h|sign, (h+1)|sign
				va, vb := f.ref(a), f.ref(b)
				mid := (va + vb) / 2
				m32 := float32(mid)
				if float64(m32) != mid {
					t.Fatalf("%s: midpoint of %#04x and %#04x is not a float32", f.name, a, b)
				}
				even := a
				if a&1 == 1 {
					even = b
				}
				if got := f.encode(m32); got != even {
					t.Fatalf("%s: midpoint %v of %#04x, %#04x → %#04x, want %#04x (even)", f.name, mid, a, b, got, even)
				}
				below := math.Nextafter32(m32, float32(va))
				above := math.Nextafter32(m32, float32(vb))
				if got := f.encode(below); got != a {
					t.Fatalf("%s: %v (just past midpoint toward %#04x) → %#04x", f.name, below, a, got)
				}
				if got := f.encode(above); got != b {
					t.Fatalf("%s: %v (just past midpoint toward %#04x) → %#04x", f.name, above, b, got)
				}
			}
		}
	}
}

func TestFloat16Boundaries(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{65504, 0x7bff},
		{65520, 0x7c00},
		{math.Nextafter32(65520, 0), 0x7bff},
		{-65520, 0xfc00},
		{math.Nextafter32(-65520, 0), 0xfbff},
		{1e10, 0x7c00},
		{math.MaxFloat32, 0x7c00},
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{0x1p-24, 0x0001}, // smallest subnormal
		{0x1p-25, 0x0000}, // tie between 0 and 2^-24 → 0 (even)
		{math.Nextafter32(0x1p-25, 1), 0x0001},
		{-0x1p-25, 0x8000},
		{0x1p-14, 0x0400},           // smallest normal
		{0x1p-14 - 0x1p-25, 0x0400}, // tie between largest subnormal (odd) and smallest normal
		{1e-30, 0x0000},             // far below
		{math.SmallestNonzeroFloat32, 0x0000},
		{-math.SmallestNonzeroFloat32, 0x8000},
		{1, 0x3c00},
		{1 + 0x1p-11, 0x3c00},   // tie → even (1)
		{1 + 3*0x1p-11, 0x3c02}, // tie → even (1+2^-9)
		{-2, 0xc000},
	}
	for _, c := range cases {
		if got := Float16Bits(c.in); got != c.want {
			t.Errorf("Float16Bits(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if h := Float16Bits(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("Float16Bits(NaN) = %#04x, not NaN", h)
	}
}

func TestBFloat16Boundaries(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{math.Float32frombits(0x7f7f0000), 0x7f7f}, // largest finite
		{math.Float32frombits(0x7f7f8000), 0x7f80}, // midpoint to 2^128 → Inf
		{math.Float32frombits(0x7f7f7fff), 0x7f7f},
		{math.MaxFloat32, 0x7f80},
		{-math.MaxFloat32, 0xff80},
		{float32(math.Inf(1)), 0x7f80},
		{float32(math.Inf(-1)), 0xff80},
		{0, 0},
		{float32(math.Copysign(0, -1)), 0x8000},
		{math.SmallestNonzeroFloat32, 0}, // 2^-149 < half of 2^-133
		{1, 0x3f80},
		{1 + 0x1p-8, 0x3f80},                       // tie → even
		{1 + 3*0x1p-8, 0x3f82},                     // tie → even
		{math.Float32frombits(0x00008000), 0x0000}, // tie between 0 and the smallest subnormal
		{math.Float32frombits(0x00018000), 0x0002}, // tie between 1 and 2 → 2
	}
	for _, c := range cases {
		if got := BFloat16Bits(c.in); got != c.want {
			t.Errorf("BFloat16Bits(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if h := BFloat16Bits(float32(math.NaN())); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("BFloat16Bits(NaN) = %#04x, not NaN", h)
	}
	// a NaN whose payload lies only in the low 16 bits must stay NaN
	if h := BFloat16Bits(math.Float32frombits(0x7f800001)); h&0x7f == 0 {
		t.Errorf("BFloat16Bits(NaN 0x7f800001) = %#04x, not NaN", h)
	}
}

// refRound rounds x to the nearest of the sorted finite values vals (with
// their patterns pats), ties to the even pattern, overflowing to ±Inf past
// the midpoint between the largest value and the next power of two.
func refRound(x float64, vals []float64, pats []uint16, overflow float64, inf uint16) uint16 {
	if x >= overflow {
		return inf
	}
	if x <= -overflow {
		return inf | 0x8000
	}
	i := sort.SearchFloat64s(vals, x) // vals[i-1] < x ≤ vals[i]
	if i < len(vals) && vals[i] == x {
		return pats[i]
	}
	switch i {
	case 0: // between −overflow and the most negative value
		return pats[0]
	case len(vals):
		return pats[len(vals)-1]
	}
	lo, hi := i-1, i
	dl, dh := x-vals[lo], vals[hi]-x
	var p uint16
	switch {
	case dl < dh:
		p = pats[lo]
	case dh < dl:
		p = pats[hi]
	case pats[lo]&1 == 0:
		p = pats[lo]
	default:
		p = pats[hi]
	}
	if p&0x7fff == 0 && x < 0 {
		p = 0x8000 // −0 for negative values rounding to zero
	}
	return p
}

// TestHalfRoundingRandom compares rounding of random float32 bit patterns
// (all magnitudes) with a table-based nearest-value search.
func TestHalfRoundingRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range halfFormats {
		var vals []float64
		var pats []uint16
		for h := int(f.maxFinite) | 0x8000; h > 0x8000; h-- { // negatives, ascending
			vals = append(vals, f.ref(uint16(h)))
			pats = append(pats, uint16(h))
		}
		for h := 0; h <= int(f.maxFinite); h++ {
			vals = append(vals, f.ref(uint16(h)))
			pats = append(pats, uint16(h))
		}
		top := f.ref(f.maxFinite)
		ulp := top - f.ref(f.maxFinite-1)
		overflow := top + ulp/2
		for n := 0; n < 200000; n++ {
			x := math.Float32frombits(rng.Uint32())
			if n%2 == 0 { // concentrate half the samples on the format's range
				x = float32(math.Ldexp(rng.Float64()*2-1, rng.IntN(60)-45))
			}
			if x != x || math.IsInf(float64(x), 0) {
				continue
			}
			want := refRound(float64(x), vals, pats, overflow, f.inf)
			if got := f.encode(x); got != want {
				t.Fatalf("%s: encode(%v) = %#04x, want %#04x", f.name, x, got, want)
			}
		}
	}
}

// TestEmulatedFloat16Ops checks that a Float16 op gives the bits of the
// Float32 op with each output rounded by RoundFloat16.
func TestEmulatedFloat16Ops(t *testing.T) {
	g := NewRNG(7)
	for _, d := range []DType{Float16, BFloat16} {
		round := RoundFloat16
		if d == BFloat16 {
			round = RoundBFloat16
		}
		a := Scale(g.Normal(Float32, 17, 33), 3).AsType(d)
		b := Scale(g.Normal(Float32, 17, 33), 3).AsType(d)
		c := g.Normal(Float32, 33, 9).AsType(d)
		row := g.Normal(Float32, 33).AsType(d)
		ops := []struct {
			name string
			f    func(x, y, z, r *Tensor) *Tensor
		}{
			{"Add", func(x, y, _, _ *Tensor) *Tensor { return Add(x, y) }},
			{"AddBroadcast", func(x, _, _, r *Tensor) *Tensor { return Add(x, r) }},
			{"Mul", func(x, y, _, _ *Tensor) *Tensor { return Mul(x, y) }},
			{"Exp", func(x, _, _, _ *Tensor) *Tensor { return Exp(x) }},
			{"MatMul", func(x, _, z, _ *Tensor) *Tensor { return MatMul(x, z, false, false) }},
			{"Sum", func(x, _, _, _ *Tensor) *Tensor { return Sum(x, []int{1}, false) }},
			{"SumAll", func(x, _, _, _ *Tensor) *Tensor { return Sum(x, nil, false) }},
		}
		for _, op := range ops {
			got := op.f(a, b, c, row)
			ref := op.f(a.AsType(Float32), b.AsType(Float32), c.AsType(Float32), row.AsType(Float32))
			if got.DType() != d {
				t.Errorf("%v %s: dtype %v", d, op.name, got.DType())
			}
			r32 := ref.Data32()
			for i, v := range got.Data32() {
				if w := round(r32[i]); math.Float32bits(v) != math.Float32bits(w) {
					t.Fatalf("%v %s: element %d = %v, want %v", d, op.name, i, v, w)
				}
			}
		}
	}
}
