package kernels

import "fmt"

// MaxPool2x2Rows32 pools rows rows of n 2×2 windows with horizontal stride
// 2. Window o of row i covers x[j], x[j+1], x[j+w], x[j+w+1] with
// j = i·step + 2o (in that row-major order: w is the image width, step the
// distance between the first input rows of consecutive window rows). It
// writes the window maximum to out[i·n+o] and to idx[i·n+o] the flat index
// base + j + {0, 1, w, w+1} of the first element attaining it, and returns
// the number of windows whose maximum is attained more than once. A NaN
// wins its window: the first NaN in window order is the result and its
// index, and such a window is not counted as a tie. The value written is
// the winning element itself (so −0 and +0 are kept apart). It panics if x,
// out or idx is too short.
func MaxPool2x2Rows32(x, out []float32, idx []int32, rows, n, w, step, base int) int {
	if rows <= 0 || n <= 0 {
		return 0
	}
	if 2*n > w || len(x) < (rows-1)*step+w+2*n || len(out) < rows*n || len(idx) < rows*n {
		panic(fmt.Sprintf("kernels.MaxPool2x2Rows32: %d×%d windows of width %d and step %d over %d inputs, %d outputs and %d indices", rows, n, w, step, len(x), len(out), len(idx)))
	}
	if hasPoolAsm {
		return maxPool2x2RowsAsm(x, out, idx, rows, n, w, step, base)
	}
	return maxPool2x2RowsGo(x, out, idx, rows, n, w, step, base)
}

// maxPool2x2RowsGo is MaxPool2x2Rows32 a row at a time in Go.
func maxPool2x2RowsGo[T float32 | float64](x, out []T, idx []int32, rows, n, w, step, base int) int {
	ties := 0
	for i := 0; i < rows; i++ {
		j := i * step
		ties += MaxPool2x2RowGo(x[j:][:w], x[j+w:][:w], out[i*n:][:n], idx[i*n:][:n], base+j, w, 2)
	}
	return ties
}

// MaxPool2x2RowGo is one row of MaxPool2x2Rows32 in portable Go, for both
// element types and any horizontal stride sw: r0 and r1 are the two input
// rows (r1 = r0 + w in the image), window o covers r0[o·sw], r0[o·sw+1],
// r1[o·sw], r1[o·sw+1], and base is the flat index of r0[0].
func MaxPool2x2RowGo[T float32 | float64](r0, r1, out []T, idx []int32, base, w, sw int) int {
	ties := 0
	idx = idx[:len(out)]
	for o := range out {
		j := o * sw
		a, b, c, d := r0[j], r0[j+1], r1[j], r1[j+1]
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
		idx[o] = int32(base + j + off)
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

// MaxPoolScatter2x2Rows32 is the adjoint of MaxPool2x2Rows32 for one route
// per window: for each of rows rows of n windows it writes the elements
// dx[j], dx[j+1], dx[j+w], dx[j+w+1] of every window (j = i·step + 2o),
// g[i·n+o] + 0 at the element idx[i·n+o] − base names and 0 at the others
// (adding zero turns −0 into +0, as accumulating g onto a zeroed gradient
// does). An index outside its window leaves the window all zero. Elements
// of dx outside the windows are not touched. It panics if a slice is too
// short.
func MaxPoolScatter2x2Rows32(g []float32, idx []int32, dx []float32, rows, n, w, step, base int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if 2*n > w || len(dx) < (rows-1)*step+w+2*n || len(g) < rows*n || len(idx) < rows*n {
		panic(fmt.Sprintf("kernels.MaxPoolScatter2x2Rows32: %d×%d windows of width %d and step %d over %d inputs, %d cotangents and %d indices", rows, n, w, step, len(dx), len(g), len(idx)))
	}
	if hasPoolAsm {
		maxPoolScatter2x2RowsAsm(g, idx, dx, rows, n, w, step, base)
		return
	}
	MaxPoolScatter2x2RowsGo(g, idx, dx, rows, n, w, step, base)
}

// MaxPoolScatter2x2RowsGo is MaxPoolScatter2x2Rows32 in portable Go, for
// both element types.
func MaxPoolScatter2x2RowsGo[T float32 | float64](g []T, idx []int32, dx []T, rows, n, w, step, base int) {
	for i := 0; i < rows; i++ {
		j0 := i * step
		r0, r1 := dx[j0:][:2*n], dx[j0+w:][:2*n]
		for o, v := range g[i*n:][:n] {
			v += 0
			off := int(idx[i*n+o]) - base - j0 - 2*o
			r0[2*o], r0[2*o+1], r1[2*o], r1[2*o+1] = 0, 0, 0, 0
			switch off {
			case 0:
				r0[2*o] = v
			case 1:
				r0[2*o+1] = v
			case w:
				r1[2*o] = v
			case w + 1:
				r1[2*o+1] = v
			}
		}
	}
}
