package tensor

import (
	"bufio"
	"bytes"
	bin "encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"unicode/utf8"

	"github.com/gradus-ml/gradus/internal/atomicfile"
)

// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON header, then the data. The header maps each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// start of the data) and may hold "__metadata__", a map of strings. The
// data must be covered exactly by the tensors' byte ranges, without holes
// or overlaps. We write the header padded with spaces to a multiple of 8
// bytes, so the data is 8-byte aligned, and lay out the tensors in sorted
// name order.

const (
	stMetadataKey = "__metadata__"
	// maxSafetensorsHeader bounds the header length accepted on read, as
	// the reference implementation does (100 MB).
	maxSafetensorsHeader = 100_000_000
)

func stDType(d DType) (string, int) {
	switch d {
	case Float64:
		return "F64", 8
	case Float32:
		return "F32", 4
	case Float16:
		return "F16", 2
	case BFloat16:
		return "BF16", 2
	}
	return "", 0
}

// WriteSafetensors writes the named tensors and optional metadata to w in
// the safetensors format. F16 and BF16 tensors are stored as their 16-bit
// patterns. Names must be valid UTF-8, non-empty and not "__metadata__".
func WriteSafetensors(w io.Writer, named map[string]*Tensor, metadata map[string]string) error {
	if err := writeSafetensors(w, named, metadata); err != nil {
		return fmt.Errorf("tensor.WriteSafetensors: %w", err)
	}
	return nil
}

func writeSafetensors(w io.Writer, named map[string]*Tensor, metadata map[string]string) error {
	names := make([]string, 0, len(named))
	for k, t := range named {
		switch {
		case k == "":
			return errors.New("empty tensor name")
		case k == stMetadataKey:
			return fmt.Errorf("tensor name %q is reserved", k)
		case !utf8.ValidString(k):
			return fmt.Errorf("tensor name %q is not valid UTF-8", k)
		case t == nil:
			return fmt.Errorf("tensor %q is nil", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("metadata %q: %q is not valid UTF-8", k, v)
		}
	}

	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	comma := func() {
		if !first {
			h.WriteByte(',')
		}
		first = false
	}
	if len(metadata) > 0 {
		comma()
		mk, _ := json.Marshal(stMetadataKey)
		mv, err := json.Marshal(metadata) // sorted keys
		if err != nil {
			return err
		}
		h.Write(mk)
		h.WriteByte(':')
		h.Write(mv)
	}
	var off int64
	for _, k := range names {
		t := named[k]
		code, width := stDType(t.dtype)
		if code == "" {
			return fmt.Errorf("tensor %q has invalid dtype %v", k, t.dtype)
		}
		n := int64(t.Size()) * int64(width)
		comma()
		kb, _ := json.Marshal(k)
		h.Write(kb)
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":[`, code)
		for i, d := range t.shape {
			if i > 0 {
				h.WriteByte(',')
			}
			fmt.Fprint(&h, d)
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, off+n)
		off += n
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	var lenBuf [8]byte
	bin.LittleEndian.PutUint64(lenBuf[:], uint64(h.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	for _, k := range names {
		t := named[k]
		if err := writeRaw(w, t, t.dtype == Float16 || t.dtype == BFloat16); err != nil {
			return fmt.Errorf("tensor %q: %w", k, err)
		}
	}
	return nil
}

// ReadSafetensors reads a safetensors file: its tensors (dtypes F64, F32,
// F16 and BF16) and its metadata (nil when absent). Everything is
// validated: the header length, the JSON, each entry's dtype, shape and
// offsets (in range, matching shape × dtype size, covering the data with
// no holes or overlaps), and that the input ends with the data.
func ReadSafetensors(r io.Reader) (map[string]*Tensor, map[string]string, error) {
	named, meta, err := readSafetensors(r)
	if err != nil {
		return nil, nil, fmt.Errorf("tensor.ReadSafetensors: %w", err)
	}
	return named, meta, nil
}

type stEntry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int64
}

func readSafetensors(r io.Reader) (map[string]*Tensor, map[string]string, error) {
	lb, err := readFull(r, 8, "header length")
	if err != nil {
		return nil, nil, err
	}
	hlen := bin.LittleEndian.Uint64(lb)
	if hlen < 2 || hlen > maxSafetensorsHeader {
		return nil, nil, fmt.Errorf("header length %d out of range [2, %d]", hlen, maxSafetensorsHeader)
	}
	hb, err := readFull(r, int64(hlen), "header")
	if err != nil {
		return nil, nil, err
	}
	entries, meta, err := parseSafetensorsHeader(hb)
	if err != nil {
		return nil, nil, err
	}
	// The byte ranges, in order, must tile [0, total) exactly.
	sorted := make([]*stEntry, len(entries))
	for i := range entries {
		sorted[i] = &entries[i]
	}
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		return a.end < b.end
	})
	var total int64
	for _, e := range sorted {
		switch {
		case e.begin < total:
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] overlap the previous tensor's data, which ends at %d", e.name, e.begin, e.end, total)
		case e.begin > total:
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] leave a hole: the previous tensor's data ends at %d", e.name, e.begin, e.end, total)
		}
		total = e.end
	}
	data, err := readFull(r, total, "data")
	if err != nil {
		return nil, nil, err
	}
	var one [1]byte
	if n, _ := io.ReadFull(r, one[:]); n > 0 {
		return nil, nil, fmt.Errorf("bytes after the end of the data (%d bytes) that no tensor covers", total)
	}
	named := make(map[string]*Tensor, len(entries))
	for _, e := range entries {
		named[e.name] = decodeRaw(e.dtype, e.shape, data[e.begin:e.end])
	}
	return named, meta, nil
}

func parseSafetensorsHeader(hb []byte) ([]stEntry, map[string]string, error) {
	if !utf8.Valid(hb) {
		return nil, nil, errors.New("header is not valid UTF-8")
	}
	if hb[0] != '{' {
		return nil, nil, fmt.Errorf("header does not start with '{' (starts with %q)", hb[0])
	}
	dec := json.NewDecoder(bytes.NewReader(hb))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("header JSON: %w", err)
	}
	var entries []stEntry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("header JSON: key %v is not a string", tok)
		}
		if seen[key] {
			return nil, nil, fmt.Errorf("header JSON: repeated key %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("header JSON: value of %q: %w", key, err)
		}
		if key == stMetadataKey {
			if err := json.Unmarshal(raw, &meta); err != nil || meta == nil {
				return nil, nil, fmt.Errorf("header: %q must be an object of strings: %s", key, truncate(string(raw), 80))
			}
			continue
		}
		e, err := parseSTEntry(key, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, fmt.Errorf("header JSON: %w", err)
	}
	rest := hb[dec.InputOffset():]
	if len(bytes.Trim(rest, " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("header JSON: unexpected text after the object: %q", truncate(string(rest), 40))
	}
	return entries, meta, nil
}

func parseSTEntry(name string, raw json.RawMessage) (stEntry, error) {
	e := stEntry{name: name}
	var v struct {
		DType       *string   `json:"dtype"`
		Shape       *[]int64  `json:"shape"`
		DataOffsets *[]uint64 `json:"data_offsets"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return e, fmt.Errorf("tensor %q: invalid entry %s: %w", name, truncate(string(raw), 80), err)
	}
	if v.DType == nil || v.Shape == nil || v.DataOffsets == nil {
		return e, fmt.Errorf("tensor %q: entry %s lacks one of dtype, shape, data_offsets", name, truncate(string(raw), 80))
	}
	var width int64
	switch *v.DType {
	case "F64":
		e.dtype, width = Float64, 8
	case "F32":
		e.dtype, width = Float32, 4
	case "F16":
		e.dtype, width = Float16, 2
	case "BF16":
		e.dtype, width = BFloat16, 2
	case "BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "F8_E4M3", "F8_E5M2":
		return e, fmt.Errorf("tensor %q: unsupported dtype %q (want F64, F32, F16 or BF16)", name, *v.DType)
	default:
		return e, fmt.Errorf("tensor %q: unknown dtype %q", name, *v.DType)
	}
	e.shape = make([]int, len(*v.Shape))
	for i, d := range *v.Shape {
		if d < 0 || d > math.MaxInt {
			return e, fmt.Errorf("tensor %q: invalid dimension %d in shape %v", name, d, *v.Shape)
		}
		e.shape[i] = int(d)
	}
	n, err := shapeSize(e.shape, width)
	if err != nil {
		return e, fmt.Errorf("tensor %q: %w", name, err)
	}
	off := *v.DataOffsets
	if len(off) != 2 {
		return e, fmt.Errorf("tensor %q: data_offsets %v must have two entries", name, off)
	}
	if off[0] > off[1] || off[1] > math.MaxInt64 {
		return e, fmt.Errorf("tensor %q: invalid data_offsets %v", name, off)
	}
	e.begin, e.end = int64(off[0]), int64(off[1])
	if e.end-e.begin != n*width {
		return e, fmt.Errorf("tensor %q: data_offsets %v hold %d bytes, but shape %v of %s needs %d", name, off, e.end-e.begin, e.shape, *v.DType, n*width)
	}
	return e, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SaveSafetensorsFile writes the named tensors and metadata to the file at
// path atomically: it writes a temporary file in the same directory,
// syncs it to disk and renames it over path, so a reader never sees a
// partial file.
func SaveSafetensorsFile(path string, named map[string]*Tensor, metadata map[string]string) error {
	err := atomicfile.Write(path, func(w io.Writer) error { return WriteSafetensors(w, named, metadata) })
	if err != nil {
		return fmt.Errorf("tensor.SaveSafetensorsFile: %s: %w", path, err)
	}
	return nil
}

// LoadSafetensorsFile reads the safetensors file at path (see
// ReadSafetensors).
func LoadSafetensorsFile(path string) (map[string]*Tensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("tensor.LoadSafetensorsFile: %w", err)
	}
	defer f.Close()
	named, meta, err := ReadSafetensors(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return named, meta, nil
}
