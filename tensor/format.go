package tensor

import (
	"math"
	"strconv"
	"strings"
)

// Printing follows NumPy's repr: nested brackets, one row of the last axis
// per line (wrapped at lineWidth columns), blank lines between blocks of
// three or more dimensions, and all elements in one aligned column width.
// Tensors with more than summarizeSize elements show only edgeItems items
// at each end of every longer axis, with "..." between.
const (
	summarizeSize = 1000
	edgeItems     = 3
	lineWidth     = 75
	maxDecimals   = 8
)

// String returns a NumPy-style representation of t, for example
//
//	tensor([[1, 2],
//	        [3, 4]], dtype=float32)
//
// A zero-dimensional tensor prints its scalar, an empty tensor its shape.
// Numbers are printed with the fewest digits (at most 8 after the point)
// that identify every shown value in t's dtype, in positional notation, or
// in scientific notation when a magnitude reaches 1e8 or a non-integer
// one is below 1e-4. Fmt's %v and %s use String.
func (t *Tensor) String() string {
	if t == nil {
		return "tensor(nil)"
	}
	var b strings.Builder
	b.WriteString("tensor(")
	if t.Size() == 0 {
		b.WriteString("[], shape=[")
		for i, d := range t.shape {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString("]")
	} else {
		p := printer{t: t, summarize: t.Size() > summarizeSize}
		p.collect(0, 0)
		p.chooseFormat()
		if len(t.shape) == 0 {
			b.WriteString(strings.TrimLeft(p.format(t.AtFlat(0)), " "))
		} else {
			p.write(&b, 0, 0, len("tensor("))
		}
	}
	b.WriteString(", dtype=")
	b.WriteString(t.dtype.String())
	b.WriteByte(')')
	return b.String()
}

type printer struct {
	t         *Tensor
	summarize bool
	shown     []float64 // the elements that will be printed

	mode     byte // 'd' integers, 'f' positional, 'e' scientific
	decimals int  // digits after the point
	intWidth int  // width of the part before the point ('d', 'f') or the whole number ('e')
	fracPad  int  // width of the part from the point on ('f')
	width    int  // width of every printed element
}

// shownIndices lists the indices printed along an axis of size n; −1 marks
// the ellipsis.
func (p *printer) shownIndices(n int) []int {
	if p.summarize && n > 2*edgeItems {
		idx := make([]int, 0, 2*edgeItems+1)
		for i := 0; i < edgeItems; i++ {
			idx = append(idx, i)
		}
		idx = append(idx, -1)
		for i := n - edgeItems; i < n; i++ {
			idx = append(idx, i)
		}
		return idx
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// collect gathers the shown elements below the flat offset off at axis ax.
func (p *printer) collect(ax, off int) {
	if ax == len(p.t.shape) {
		p.shown = append(p.shown, p.t.AtFlat(off))
		return
	}
	stride := 1
	for _, d := range p.t.shape[ax+1:] {
		stride *= d
	}
	for _, i := range p.shownIndices(p.t.shape[ax]) {
		if i >= 0 {
			p.collect(ax+1, off+i*stride)
		}
	}
}

// digits returns the fewest digits k ≤ maxDecimals such that v formatted
// with verb and precision k reads back as v in the tensor's dtype.
func (p *printer) digits(v float64, verb byte) int {
	for k := 0; k < maxDecimals; k++ {
		s := strconv.FormatFloat(v, verb, k, 64)
		if w, err := strconv.ParseFloat(s, 64); err == nil && p.t.dtype.Round(w) == v {
			return k
		}
	}
	return maxDecimals
}

func (p *printer) chooseFormat() {
	p.mode = 'd'
	maxAbs, minAbs := 0.0, math.Inf(1)
	for _, v := range p.shown {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		a := math.Abs(v)
		maxAbs = max(maxAbs, a)
		if a != 0 {
			minAbs = min(minAbs, a)
		}
		if v != math.Trunc(v) {
			p.mode = 'f'
		}
	}
	if maxAbs >= 1e8 || (p.mode == 'f' && minAbs < 1e-4) {
		p.mode = 'e'
	}
	if p.mode != 'd' {
		for _, v := range p.shown {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				p.decimals = max(p.decimals, p.digits(v, p.mode))
			}
		}
	}
	// finite numbers align on the point; nan and ±inf align right
	special := 0
	for _, v := range p.shown {
		s := p.number(v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			special = max(special, len(s))
			continue
		}
		ip, fp := p.splitPoint(s)
		p.intWidth = max(p.intWidth, len(ip))
		p.fracPad = max(p.fracPad, len(fp))
	}
	p.width = max(p.intWidth+p.fracPad, special)
}

// splitPoint splits a positional number at its point.
func (p *printer) splitPoint(s string) (ip, fp string) {
	if p.mode == 'f' {
		if i := strings.IndexByte(s, '.'); i >= 0 {
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// number formats v without padding.
func (p *printer) number(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	switch p.mode {
	case 'd':
		return strconv.FormatFloat(v, 'f', 0, 64)
	case 'e':
		s := strconv.FormatFloat(v, 'e', p.decimals, 64)
		if p.decimals == 0 { // 1.e+09, as NumPy prints it
			i := strings.IndexByte(s, 'e')
			s = s[:i] + "." + s[i:]
		}
		return s
	}
	// positional: the fewest digits for this value, so that the points
	// align and trailing zeros become spaces, as in NumPy
	s := strconv.FormatFloat(v, 'f', p.digits(v, 'f'), 64)
	if !strings.Contains(s, ".") {
		s += "."
	}
	return s
}

// format returns v padded to the common width.
func (p *printer) format(v float64) string {
	s := p.number(v)
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		ip, fp := p.splitPoint(s)
		s = strings.Repeat(" ", p.intWidth-len(ip)) + ip + fp + strings.Repeat(" ", p.fracPad-len(fp))
	}
	return strings.Repeat(" ", p.width-len(s)) + s
}

// write prints the sub-array at axis ax, flat offset off, whose opening
// bracket is at column col.
func (p *printer) write(b *strings.Builder, ax, off, col int) {
	shape := p.t.shape
	stride := 1
	for _, d := range shape[ax+1:] {
		stride *= d
	}
	b.WriteByte('[')
	idx := p.shownIndices(shape[ax])
	if ax == len(shape)-1 {
		c := col + 1
		for j, i := range idx {
			s := "..."
			if i >= 0 {
				s = p.format(p.t.AtFlat(off + i))
			}
			if j > 0 {
				if c+2+len(s)+1 > lineWidth {
					b.WriteString(",\n")
					b.WriteString(strings.Repeat(" ", col+1))
					c = col + 1
				} else {
					b.WriteString(", ")
					c += 2
				}
			}
			b.WriteString(s)
			c += len(s)
		}
		b.WriteByte(']')
		return
	}
	sep := ",\n" + strings.Repeat("\n", len(shape)-ax-2) + strings.Repeat(" ", col+1)
	for j, i := range idx {
		if j > 0 {
			b.WriteString(sep)
		}
		if i < 0 {
			b.WriteString("...")
			continue
		}
		p.write(b, ax+1, off+i*stride, col+1)
	}
	b.WriteByte(']')
}
