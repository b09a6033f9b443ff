package tensor

import "math"

// Float16Bits returns the IEEE 754 binary16 encoding of f rounded to nearest,
// ties to even. Overflow gives ±Inf; NaN stays NaN (quieted, sign and top
// payload bits kept).
func Float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(man>>13)
	}
	if exp == 0 {
		// float32 zero or subnormal: far below half of the smallest float16 subnormal.
		return sign
	}
	m := man | 0x800000 // 24 significant bits
	e := exp - 127      // value = m · 2^(e-23)
	if e > 15 {
		return sign | 0x7c00
	}
	if e >= -14 {
		q := m >> 13
		rem := m & 0x1fff
		if rem > 0x1000 || (rem == 0x1000 && q&1 == 1) {
			q++
		}
		// q carries the implicit bit (0x400), which adds one to the exponent
		// field; a rounding carry to 0x800 moves to the next binade (or Inf).
		return sign | (uint16(e+14)<<10 + uint16(q))
	}
	s := uint(-(e + 1)) // value / 2^-24 = m · 2^-s
	if s >= 25 {
		return sign
	}
	q := m >> s
	rem := m & (1<<s - 1)
	half := uint32(1) << (s - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return sign | uint16(q)
}

// Float16From returns the float32 value of the binary16 encoding h (exact).
func Float16From(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0:
		v := float32(man) * 0x1p-24
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// BFloat16Bits returns the bfloat16 encoding of f (the top 16 bits of a
// float32) rounded to nearest, ties to even. NaN stays NaN (quieted).
func BFloat16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7f800000 == 0x7f800000 && b&0x7fffff != 0 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// BFloat16From returns the float32 value of the bfloat16 encoding h (exact).
func BFloat16From(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// RoundFloat16 rounds f to the nearest float16 value, returned as float32.
func RoundFloat16(f float32) float32 { return Float16From(Float16Bits(f)) }

// RoundBFloat16 rounds f to the nearest bfloat16 value, returned as float32.
func RoundBFloat16(f float32) float32 { return BFloat16From(BFloat16Bits(f)) }

// roundSlice rounds every element of s to the format d (a no-op for
// Float32 and Float64).
func roundSlice(d DType, s []float32) {
	switch d {
	case Float16:
		for i, v := range s {
			s[i] = RoundFloat16(v)
		}
	case BFloat16:
		for i, v := range s {
			s[i] = RoundBFloat16(v)
		}
	}
}
