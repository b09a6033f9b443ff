package ad

import "math"

// maxPool2x2F32 is maxPool2x2 for float32, on the integer images of the
// values: a float32's bits b map to the key b ^ (b>>31 & 0x7fffffff) plus
// the sign bit, which orders as the floats do and gives −0 and +0 the same
// key, so the maximum, the first element attaining it and the count of
// elements attaining it are integer maxima, compares and conditional moves
// (no unpredictable branches). The value written is the bitwise AND of the
// elements attaining the maximum: that element itself, or +0 when a +0 ties
// with a −0 (as the builtin max). A window whose sum is NaN (a NaN, or
// infinities of both signs) takes maxPool2x2's exact path.
func maxPool2x2F32(x []float32, g poolGeom, out []float32, idx []int32, lo, hi int) int {
	hw, ohw, w, sw := g.h*g.w, g.oh*g.ow, g.w, g.sw
	ties := 0
	for pl := lo; pl < hi; pl++ {
		xp := x[pl*hw:][:hw]
		op := out[pl*ohw:][:ohw]
		var ip []int32
		if idx != nil {
			ip = idx[pl*ohw:][:ohw]
		}
		for oy := 0; oy < g.oh; oy++ {
			i0 := oy * g.sh * w
			r0, r1 := xp[i0:][:w], xp[i0+w:][:w]
			orow := op[oy*g.ow:][:g.ow]
			base := int32(pl*hw + i0)
			for ox := range orow {
				j := ox * sw
				a, b, c, d := r0[j], r0[j+1], r1[j], r1[j+1]
				if s := a + b + c + d; s != s {
					v, bi, cnt := maxWindowNaN(a, b, c, d, w)
					orow[ox] = v
					if ip != nil {
						ip[oy*g.ow+ox] = base + int32(j+bi)
					}
					if cnt > 1 {
						ties++
					}
					continue
				}
				ua, ub, uc, ud := math.Float32bits(a), math.Float32bits(b), math.Float32bits(c), math.Float32bits(d)
				ka, kb, kc, kd := f32key(ua), f32key(ub), f32key(uc), f32key(ud)
				m := max(max(ka, kb), max(kc, kd))
				ea, eb, ec, ed := b2i(ka == m), b2i(kb == m), b2i(kc == m), b2i(kd == m)
				// the AND over the elements attaining m (others masked to ones)
				v := (ua | uint32(ea-1)) & (ub | uint32(eb-1)) & (uc | uint32(ec-1)) & (ud | uint32(ed-1))
				orow[ox] = math.Float32frombits(v)
				if ip != nil {
					bi := w + 1
					if ec != 0 {
						bi = w
					}
					if eb != 0 {
						bi = 1
					}
					if ea != 0 {
						bi = 0
					}
					ip[oy*g.ow+ox] = base + int32(j+bi)
				}
				ties += b2i(ea+eb+ec+ed > 1)
			}
		}
	}
	return ties
}

// f32key maps float32 bits to an int32 ordered as the floats (NaNs aside),
// with −0 and +0 equal.
func f32key(u uint32) int32 {
	s := int32(u)
	return s ^ (s >> 31 & 0x7fffffff) + int32(u>>31)
}

// maxWindowNaN is maxPool2x2's window rule for a window of a, b (row 0)
// and c, d (row 1) in an image of width w: the maximum (the first NaN if
// any), the offset of the first element attaining it and the number of
// elements attaining it.
func maxWindowNaN(a, b, c, d float32, w int) (best float32, bi, cnt int) {
	best = max(max(a, b), max(c, d))
	ea, eb, ec := b2i(a == best), b2i(b == best), b2i(c == best)
	cnt = ea + eb + ec + b2i(d == best)
	first := (1 - ea) * (eb + (1-eb)*(2*ec+(1-ec)*3))
	bi = first&1 + (first>>1)*w
	if cnt == 0 {
		cnt = 1
		switch {
		case a != a:
			best, bi = a, 0
		case b != b:
			best, bi = b, 1
		case c != c:
			best, bi = c, w
		default:
			best, bi = d, w+1
		}
	}
	return best, bi, cnt
}
