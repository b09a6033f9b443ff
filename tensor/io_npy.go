package tensor

import (
	"archive/zip"
	"bufio"
	bin "encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// NumPy's .npy format: the magic string "\x93NUMPY", a major and a minor
// version byte, the header length (uint16 little-endian in version 1,
// uint32 in versions 2 and 3), then an ASCII (version 3: UTF-8) Python
// dict literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// padded with spaces and a final newline so that the data starts at a
// multiple of 64 bytes, then the raw elements.

const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length accepted on read (NumPy itself
// refuses headers over 10000 bytes unless told otherwise).
const maxNPYHeader = 1 << 20

// npyDescr returns the NumPy type string written for d.
func npyDescr(d DType) string {
	switch d {
	case Float64:
		return "<f8"
	case Float16:
		return "<f2"
	}
	return "<f4" // Float32, and BFloat16, which NumPy has no type for
}

// WriteNPY writes t to w in NumPy's .npy format (version 1.0, or 2.0 when
// the header needs it), little-endian, C order: Float64 as '<f8', Float32
// as '<f4', Float16 as '<f2' (its binary16 bits). NumPy has no bfloat16
// type, so a BFloat16 tensor is written as '<f4' (exactly, since every
// bfloat16 value is a float32) and reads back as Float32.
func WriteNPY(w io.Writer, t *Tensor) error {
	if t == nil {
		return errors.New("tensor.WriteNPY: nil tensor")
	}
	var dict strings.Builder
	dict.WriteString("{'descr': '")
	dict.WriteString(npyDescr(t.dtype))
	dict.WriteString("', 'fortran_order': False, 'shape': (")
	for i, d := range t.shape {
		if i > 0 {
			dict.WriteString(", ")
		}
		dict.WriteString(strconv.Itoa(d))
	}
	if len(t.shape) == 1 {
		dict.WriteByte(',')
	}
	dict.WriteString("), }")
	h := dict.String()
	// total = magic + 2 version bytes + length field + header + '\n'
	major, lenField := byte(1), 2
	if pre := len(npyMagic) + 2 + lenField; (pre+len(h)+1+63)/64*64-pre > math.MaxUint16 {
		major, lenField = 2, 4
	}
	pre := len(npyMagic) + 2 + lenField
	total := (pre + len(h) + 1 + 63) / 64 * 64
	hlen := total - pre
	buf := make([]byte, 0, total)
	buf = append(buf, npyMagic...)
	buf = append(buf, major, 0)
	if major == 1 {
		buf = bin.LittleEndian.AppendUint16(buf, uint16(hlen))
	} else {
		buf = bin.LittleEndian.AppendUint32(buf, uint32(hlen))
	}
	buf = append(buf, h...)
	for len(buf) < total-1 {
		buf = append(buf, ' ')
	}
	buf = append(buf, '\n')
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("tensor.WriteNPY: %w", err)
	}
	if err := writeRaw(w, t, t.dtype == Float16); err != nil {
		return fmt.Errorf("tensor.WriteNPY: %w", err)
	}
	return nil
}

// writeRaw writes the elements of t little-endian in row-major order:
// float64, float32, or 16-bit patterns (binary16 or bfloat16 by t's dtype)
// when half is set. It writes in chunks, without a copy of the whole data.
func writeRaw(w io.Writer, t *Tensor, half bool) error {
	const chunk = 1 << 16
	var buf []byte
	switch {
	case t.dtype.is64():
		for s := t.f64; len(s) > 0; {
			n := min(len(s), chunk)
			buf = buf[:0]
			for _, v := range s[:n] {
				buf = bin.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			s = s[n:]
		}
	default:
		enc := func(v float32) uint16 { return Float16Bits(v) }
		if t.dtype == BFloat16 {
			enc = func(v float32) uint16 { return BFloat16Bits(v) }
		}
		for s := t.f32; len(s) > 0; {
			n := min(len(s), chunk)
			buf = buf[:0]
			for _, v := range s[:n] {
				if half {
					buf = bin.LittleEndian.AppendUint16(buf, enc(v))
				} else {
					buf = bin.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				}
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			s = s[n:]
		}
	}
	return nil
}

// readFull reads exactly n bytes, growing its buffer as data arrives so a
// header that promises more data than the input holds costs no more memory
// than the input. The error names what was being read.
func readFull(r io.Reader, n int64, what string) ([]byte, error) {
	const chunk = 1 << 24
	buf := make([]byte, 0, min(n, chunk))
	for int64(len(buf)) < n {
		k := int(min(n-int64(len(buf)), chunk))
		if cap(buf)-len(buf) < k {
			buf = slices.Grow(buf, max(k, cap(buf)))
		}
		m, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+m]
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("truncated %s: want %d bytes, got %d", what, n, len(buf))
			}
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
	}
	return buf, nil
}

// ReadNPY reads one array in NumPy's .npy format (versions 1.0, 2.0 and
// 3.0) with dtype '<f8', '<f4' or '<f2' in C order, returning a Float64,
// Float32 or Float16 tensor. It reads no further than the end of the array.
// Malformed headers, other dtypes (including big-endian), Fortran order and
// truncated data are errors that say what was wrong.
func ReadNPY(r io.Reader) (*Tensor, error) {
	t, err := readNPY(r)
	if err != nil {
		return nil, fmt.Errorf("tensor.ReadNPY: %w", err)
	}
	return t, nil
}

func readNPY(r io.Reader) (*Tensor, error) {
	pre, err := readFull(r, int64(len(npyMagic)+2), "magic string")
	if err != nil {
		return nil, err
	}
	if string(pre[:len(npyMagic)]) != npyMagic {
		return nil, fmt.Errorf("not an NPY file: magic string is %q, want %q", pre[:len(npyMagic)], npyMagic)
	}
	major, minor := pre[len(npyMagic)], pre[len(npyMagic)+1]
	var hlen int64
	switch major {
	case 1:
		b, err := readFull(r, 2, "header length")
		if err != nil {
			return nil, err
		}
		hlen = int64(bin.LittleEndian.Uint16(b))
	case 2, 3:
		b, err := readFull(r, 4, "header length")
		if err != nil {
			return nil, err
		}
		hlen = int64(bin.LittleEndian.Uint32(b))
	default:
		return nil, fmt.Errorf("unsupported NPY format version %d.%d", major, minor)
	}
	if hlen > maxNPYHeader {
		return nil, fmt.Errorf("header length %d exceeds the limit of %d bytes", hlen, maxNPYHeader)
	}
	hb, err := readFull(r, hlen, "header")
	if err != nil {
		return nil, err
	}
	h, err := parseNPYHeader(hb, major == 3)
	if err != nil {
		return nil, err
	}
	var d DType
	var width int64
	switch h.descr {
	case "<f8":
		d, width = Float64, 8
	case "<f4":
		d, width = Float32, 4
	case "<f2":
		d, width = Float16, 2
	default:
		return nil, fmt.Errorf("unsupported dtype %q (want '<f8', '<f4' or '<f2')", h.descr)
	}
	if h.fortran {
		return nil, fmt.Errorf("Fortran-order arrays are not supported (shape %v)", h.shape)
	}
	n, err := shapeSize(h.shape, width)
	if err != nil {
		return nil, err
	}
	data, err := readFull(r, n*width, fmt.Sprintf("data for shape %v of %s", h.shape, h.descr))
	if err != nil {
		return nil, err
	}
	return decodeRaw(d, h.shape, data), nil
}

// shapeSize returns the element count of shape, or an error when a
// dimension is negative or the byte size overflows.
func shapeSize(shape []int, width int64) (int64, error) {
	n := int64(1)
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if s != 0 && n > math.MaxInt64/width/int64(s) {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= int64(s)
	}
	if n > math.MaxInt/8 {
		return 0, fmt.Errorf("shape %v is too large", shape)
	}
	return n, nil
}

// decodeRaw builds a tensor of dtype d from little-endian data of its
// storage width: float64, float32, binary16 or bfloat16 patterns.
func decodeRaw(d DType, shape []int, data []byte) *Tensor {
	t := New(d, shape...)
	switch d {
	case Float64:
		for i := range t.f64 {
			t.f64[i] = math.Float64frombits(bin.LittleEndian.Uint64(data[8*i:]))
		}
	case Float32:
		for i := range t.f32 {
			t.f32[i] = math.Float32frombits(bin.LittleEndian.Uint32(data[4*i:]))
		}
	case Float16:
		for i := range t.f32 {
			t.f32[i] = Float16From(bin.LittleEndian.Uint16(data[2*i:]))
		}
	case BFloat16:
		for i := range t.f32 {
			t.f32[i] = BFloat16From(bin.LittleEndian.Uint16(data[2*i:]))
		}
	}
	return t
}

type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNPYHeader parses the Python dict literal of an NPY header: exactly
// the keys 'descr' (a string), 'fortran_order' (True or False) and 'shape'
// (a tuple of non-negative integers), in any order.
func parseNPYHeader(b []byte, utf8 bool) (npyHeader, error) {
	var h npyHeader
	if !utf8 {
		for _, c := range b {
			if c >= 0x80 {
				return h, fmt.Errorf("malformed header: non-ASCII byte 0x%02x", c)
			}
		}
	}
	p := &dictParser{s: strings.TrimRight(string(b), " \t\r\n\x00")}
	seen := map[string]bool{}
	p.skip()
	if !p.eat('{') {
		return h, p.fail("want '{'")
	}
	for {
		p.skip()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		p.skip()
		if !p.eat(':') {
			return h, p.fail("want ':' after key " + strconv.Quote(key))
		}
		p.skip()
		if seen[key] {
			return h, fmt.Errorf("malformed header: repeated key %q", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return h, p.fail("want True or False for 'fortran_order'")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("malformed header: unexpected key %q", key)
		}
		p.skip()
		if p.eat(',') {
			continue
		}
		p.skip()
		if !p.eat('}') {
			return h, p.fail("want ',' or '}'")
		}
		break
	}
	p.skip()
	if p.i != len(p.s) {
		return h, p.fail("unexpected text after the dict")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("malformed header: missing key %q", k)
		}
	}
	return h, nil
}

// dictParser reads the small subset of Python literals NPY headers use.
type dictParser struct {
	s string
	i int
}

func (p *dictParser) fail(msg string) error {
	ctx := p.s[p.i:]
	if len(ctx) > 20 {
		ctx = ctx[:20] + "…"
	}
	return fmt.Errorf("malformed header at byte %d (%q): %s", p.i, ctx, msg)
}

func (p *dictParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *dictParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dictParser) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

// str reads a quoted string without escapes (NPY keys and dtype strings
// never need them).
func (p *dictParser) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.fail("want a quoted string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", p.fail("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsRune(v, '\\') {
		return "", p.fail("escape sequences are not supported")
	}
	p.i += end + 2
	return v, nil
}

// tuple reads (), (n,) or (n1, n2, …) with an optional trailing comma.
func (p *dictParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.fail("want '(' for 'shape'")
	}
	shape := []int{}
	for {
		p.skip()
		if p.eat(')') { // "()" or a trailing comma
			return shape, nil
		}
		j := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if j == p.i {
			return nil, p.fail("want a non-negative integer in 'shape'")
		}
		v, err := strconv.Atoi(p.s[j:p.i])
		if err != nil {
			return nil, fmt.Errorf("malformed header: dimension %s in 'shape' is too large", p.s[j:p.i])
		}
		shape = append(shape, v)
		p.skip()
		if p.eat(',') {
			continue
		}
		if p.eat(')') {
			if len(shape) == 1 {
				return nil, fmt.Errorf("malformed header: one-element shape tuple needs a trailing comma")
			}
			return shape, nil
		}
		return nil, p.fail("want ',' or ')' in 'shape'")
	}
}

// WriteNPZ writes the named tensors to w as an NPZ archive (a zip of .npy
// files, uncompressed, as numpy.savez writes), in sorted name order. Names
// must be non-empty.
func WriteNPZ(w io.Writer, named map[string]*Tensor) error {
	names := make([]string, 0, len(named))
	for k := range named {
		if k == "" {
			return errors.New("tensor.WriteNPZ: empty tensor name")
		}
		names = append(names, k)
	}
	sort.Strings(names)
	zw := zip.NewWriter(w)
	for _, k := range names {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: zip.Store})
		if err != nil {
			return fmt.Errorf("tensor.WriteNPZ: %q: %w", k, err)
		}
		bw := bufio.NewWriter(f)
		if err := WriteNPY(bw, named[k]); err != nil {
			return fmt.Errorf("tensor.WriteNPZ: %q: %w", k, err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("tensor.WriteNPZ: %q: %w", k, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("tensor.WriteNPZ: %w", err)
	}
	return nil
}

// ReadNPZ reads an NPZ archive (as written by numpy.savez or
// numpy.savez_compressed) of the given size. The map's keys are the member
// names without their ".npy" suffix. A member that is not a .npy file, a
// repeated name, or a member with bytes after its array is an error.
func ReadNPZ(r io.ReaderAt, size int64) (map[string]*Tensor, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("tensor.ReadNPZ: %w", err)
	}
	out := make(map[string]*Tensor, len(zr.File))
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("tensor.ReadNPZ: member %q is not a .npy file", f.Name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("tensor.ReadNPZ: repeated member %q", f.Name)
		}
		t, err := readNPZMember(f)
		if err != nil {
			return nil, fmt.Errorf("tensor.ReadNPZ: member %q: %w", f.Name, err)
		}
		out[name] = t
	}
	return out, nil
}

func readNPZMember(f *zip.File) (*Tensor, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	t, err := readNPY(br)
	if err != nil {
		return nil, err
	}
	// reading to the end lets the zip reader verify the checksum
	rest, err := io.Copy(io.Discard, br)
	if err != nil {
		return nil, err
	}
	if rest > 0 {
		return nil, fmt.Errorf("%d bytes after the array data", rest)
	}
	return t, nil
}
