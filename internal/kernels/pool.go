package kernels

import "fmt"

// MaxPool2x2Row32 pools one output row of 2×2 windows with horizontal
// stride 2. Window o covers r0[2o], r0[2o+1], r1[2o], r1[2o+1] (in that
// row-major order; r1 is the input row below r0, w elements further in the
// image). It writes the window maximum to out[o] and to idx[o] the flat
// index base + {0, 1, w, w+1} of the first element attaining it, for
// o < len(out), and returns the number of windows whose maximum is attained
// more than once. A NaN wins its window: the first NaN in window order is
// the result and its index, and such a window is not counted as a tie. The
// value written is the winning element itself (so −0 and +0 are kept
// apart). It panics if r0, r1 or idx is too short.
func MaxPool2x2Row32(r0, r1, out []float32, idx []int32, base, w int) int {
	n := len(out)
	if len(r0) < 2*n || len(r1) < 2*n || len(idx) < n {
		panic(fmt.Sprintf("kernels.MaxPool2x2Row32: rows of %d and %d and %d indices for %d outputs", len(r0), len(r1), len(idx), n))
	}
	if n == 0 {
		return 0
	}
	if hasPoolAsm {
		return maxPool2x2RowAsm(r0, r1, out, idx, base, w)
	}
	return MaxPool2x2RowGo(r0, r1, out, idx, base, w)
}

// MaxPool2x2RowGo is MaxPool2x2Row32 in portable Go, for both element
// types: the reference the assembly is tested against.
func MaxPool2x2RowGo[T float32 | float64](r0, r1, out []T, idx []int32, base, w int) int {
	ties := 0
	r0, r1, idx = r0[:2*len(out)], r1[:2*len(out)], idx[:len(out)]
	for o := range out {
		a, b, c, d := r0[2*o], r0[2*o+1], r1[2*o], r1[2*o+1]
		best := max(max(a, b), max(c, d)) // NaN if any is NaN
		ea, eb, ec, ed := b2i(a == best), b2i(b == best), b2i(c == best), b2i(d == best)
		v, off := d, w+1
		if ec != 0 {
			v, off = c, w
		}
		if eb != 0 {
			v, off = b, 1
		}
		if ea != 0 {
			v, off = a, 0
		}
		cnt := ea + eb + ec + ed
		if best != best { // a NaN: the first one wins
			cnt = 1
			switch {
			case a != a:
				v, off = a, 0
			case b != b:
				v, off = b, 1
			case c != c:
				v, off = c, w
			default:
				v, off = d, w+1
			}
		}
		out[o] = v
		idx[o] = int32(base + 2*o + off)
		ties += b2i(cnt > 1)
	}
	return ties
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
