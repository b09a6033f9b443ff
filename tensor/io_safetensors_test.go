package tensor

import (
	"bytes"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func stBytes(t testing.TB, named map[string]*Tensor, meta map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSafetensors(&b, named, meta); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSafetensorsRoundTrip(t *testing.T) {
	g := NewRNG(41)
	named := map[string]*Tensor{
		"f64":        g.Normal(Float64, 2, 3),
		"f32":        g.Normal(Float32, 4),
		"f16":        FromFloat64s(Float16, specialValues, 2, 5),
		"bf16":       FromFloat64s(BFloat16, specialValues, 5, 2),
		"scalar":     Scalar(Float32, 2.5),
		"empty":      New(Float16, 0, 4),
		"layers.0.w": g.Normal(BFloat16, 3, 3),
		"ünïcode":    g.Normal(Float64, 1),
	}
	meta := map[string]string{"format": "pt", "note": "quote \" and\nnewline"}
	raw := stBytes(t, named, meta)

	// check the layout independently with encoding/json
	n := bin.LittleEndian.Uint64(raw[:8])
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &header); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	var gotMeta map[string]string
	if err := json.Unmarshal(header["__metadata__"], &gotMeta); err != nil || !maps.Equal(gotMeta, meta) {
		t.Errorf("metadata %v, %v", gotMeta, err)
	}
	data := raw[8+n:]
	names := slices.Sorted(maps.Keys(named))
	var off int64
	for _, k := range names {
		var e struct {
			DType       string  `json:"dtype"`
			Shape       []int   `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(header[k], &e); err != nil {
			t.Fatalf("%q: %v", k, err)
		}
		x := named[k]
		want := map[DType]string{Float64: "F64", Float32: "F32", Float16: "F16", BFloat16: "BF16"}[x.DType()]
		if e.DType != want || fmt.Sprint(e.Shape) != fmt.Sprint(x.Shape()) || len(e.Shape) != x.Dims() {
			t.Errorf("%q: entry %+v", k, e)
		}
		if e.DataOffsets[0] != off {
			t.Errorf("%q: data not laid out in sorted name order: begins at %d, want %d", k, e.DataOffsets[0], off)
		}
		off = e.DataOffsets[1]
		// the data of 16-bit tensors holds their bit patterns
		if x.DType() == Float16 || x.DType() == BFloat16 {
			for i := 0; i < x.Size(); i++ {
				h := bin.LittleEndian.Uint16(data[e.DataOffsets[0]+int64(2*i):])
				var v float32
				if x.DType() == Float16 {
					v = float32(refFloat16(h))
				} else {
					v = float32(refBFloat16(h))
				}
				if math.Float32bits(v) != math.Float32bits(float32(x.AtFlat(i))) {
					t.Errorf("%q[%d]: stored %#04x = %v, want %v", k, i, h, v, x.AtFlat(i))
				}
			}
		}
	}
	if int64(len(data)) != off {
		t.Errorf("data section %d bytes, tensors cover %d", len(data), off)
	}

	got, gotMeta2, err := ReadSafetensors(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(gotMeta2, meta) {
		t.Errorf("metadata %v, want %v", gotMeta2, meta)
	}
	if len(got) != len(named) {
		t.Errorf("%d tensors, want %d", len(got), len(named))
	}
	for k, x := range named {
		if !sameBits(got[k], x) {
			t.Errorf("%q changed: %v vs %v", k, got[k], x)
		}
	}
	// no metadata → no "__metadata__" and a nil map back
	raw = stBytes(t, map[string]*Tensor{"a": Scalar(Float64, 1)}, nil)
	if bytes.Contains(raw, []byte("__metadata__")) {
		t.Error("empty metadata written")
	}
	if _, m, err := ReadSafetensors(bytes.NewReader(raw)); err != nil || m != nil {
		t.Errorf("metadata %v, %v; want nil", m, err)
	}
	// an empty file is valid
	if got, _, err := ReadSafetensors(bytes.NewReader(stBytes(t, nil, nil))); err != nil || len(got) != 0 {
		t.Errorf("empty file: %v, %v", got, err)
	}
}

// stFile assembles a safetensors file from a header string and data.
func stFile(header string, data []byte) []byte {
	b := bin.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestSafetensorsMalformed(t *testing.T) {
	d8 := make([]byte, 8)
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty input", nil, "truncated header length"},
		{"short length", []byte{1, 2, 3}, "truncated header length"},
		{"huge header length", bin.LittleEndian.AppendUint64(nil, 1<<40), "header length 1099511627776 out of range"},
		{"tiny header length", stFile("{", nil), "out of range"},
		{"truncated header", bin.LittleEndian.AppendUint64(nil, 100), "truncated header"},
		{"not JSON", stFile("{oops}  ", nil), "header JSON"},
		{"not an object", stFile("[1, 2]  ", nil), "does not start with '{'"},
		{"trailing text", stFile(`{}xx`, nil), "after the object"},
		{"unknown dtype", stFile(`{"a":{"dtype":"F99","shape":[1],"data_offsets":[0,8]}}`, d8), "unknown dtype \"F99\""},
		{"unsupported dtype", stFile(`{"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}`, d8), "unsupported dtype \"I32\""},
		{"size mismatch", stFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, d8), "needs 12"},
		{"offsets past the data", stFile(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}`, d8), "truncated data"},
		{"reversed offsets", stFile(`{"a":{"dtype":"F64","shape":[0],"data_offsets":[8,0]}}`, d8), "invalid data_offsets"},
		{"three offsets", stFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8,8]}}`, d8), "two entries"},
		{"negative offset", stFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[-8,0]}}`, d8), "invalid entry"},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), "overlap"},
		{"hole", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), "hole"},
		{"trailing data", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, d8), "bytes after the end of the data"},
		{"negative dim", stFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, d8), "invalid dimension"},
		{"huge shape", stFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, d8), "too large"},
		{"missing field", stFile(`{"a":{"dtype":"F32","shape":[1]}}`, d8), "lacks"},
		{"unknown field", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, d8), "unknown field"},
		{"repeated name", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8), "repeated key \"a\""},
		{"metadata not strings", stFile(`{"__metadata__":{"a":1}}`, nil), "object of strings"},
		{"metadata null", stFile(`{"__metadata__":null}`, nil), "object of strings"},
		{"entry not an object", stFile(`{"a":3}`, nil), "invalid entry"},
		{"invalid UTF-8", stFile("{\"\xff\":{}}", nil), "UTF-8"},
	}
	for _, c := range cases {
		_, _, err := ReadSafetensors(bytes.NewReader(c.in))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "tensor.ReadSafetensors: ") {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
	// write-side errors
	for name, m := range map[string]map[string]*Tensor{
		"reserved name": {"__metadata__": Scalar(Float32, 1)},
		"empty name":    {"": Scalar(Float32, 1)},
		"nil tensor":    {"a": nil},
	} {
		if err := WriteSafetensors(&bytes.Buffer{}, m, nil); err == nil {
			t.Errorf("WriteSafetensors with %s: no error", name)
		}
	}
}

// TestSafetensorsFromPython reads a file written by testdata/make_npy.py
// (standard-library Python following the format description), whose
// tensors are laid out in another order than ours.
func TestSafetensorsFromPython(t *testing.T) {
	named, meta, err := LoadSafetensorsFile(filepath.Join("testdata", "numpy.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(meta, map[string]string{"format": "pt", "source": "make_npy.py"}) {
		t.Errorf("metadata %v", meta)
	}
	cases := []struct {
		name  string
		dtype DType
		shape []int
		want  []float64
	}{
		{"double", Float64, []int{3}, []float64{1, -0.5, 1e300}},
		{"weight", Float32, []int{2, 3}, []float64{0, 1, 2, 3, 4, 5}},
		{"half", Float16, []int{2, 2}, []float64{0.5, -1, 65504, float64(RoundFloat16(0.1))}},
		{"bf", BFloat16, []int{4}, []float64{1, -2, 0.5, 3}},
		{"nothing", Float32, []int{0, 2}, nil},
	}
	if len(named) != len(cases) {
		t.Errorf("%d tensors, want %d", len(named), len(cases))
	}
	for _, c := range cases {
		x := named[c.name]
		if x == nil {
			t.Errorf("%q missing", c.name)
			continue
		}
		if x.DType() != c.dtype {
			t.Errorf("%q: dtype %v, want %v", c.name, x.DType(), c.dtype)
		}
		checkValues(t, c.name, x, c.shape, c.want, 0)
	}
}

func TestSafetensorsFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	g := NewRNG(42)
	first := map[string]*Tensor{"w": g.Normal(Float32, 2, 2)}
	second := map[string]*Tensor{"w": g.Normal(Float16, 3), "b": g.Normal(Float64, 1)}
	for _, named := range []map[string]*Tensor{first, second} { // the second overwrites
		if err := SaveSafetensorsFile(path, named, map[string]string{"step": "1"}); err != nil {
			t.Fatal(err)
		}
		got, meta, err := LoadSafetensorsFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if meta["step"] != "1" || len(got) != len(named) {
			t.Errorf("loaded %v, %v", got, meta)
		}
		for k, x := range named {
			if !sameBits(got[k], x) {
				t.Errorf("%q changed", k)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v, %v", fi.Mode(), err)
	}
	// a failed write leaves the old file and no temporary file
	if err := SaveSafetensorsFile(path, map[string]*Tensor{"": Scalar(Float32, 1)}, nil); err == nil {
		t.Error("no error for an empty name")
	}
	if got, _, err := LoadSafetensorsFile(path); err != nil || len(got) != 2 {
		t.Errorf("old file damaged: %v, %v", got, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind after a failure: %v", entries)
	}
	if err := SaveSafetensorsFile(filepath.Join(dir, "missing", "x.safetensors"), first, nil); err == nil {
		t.Error("no error for a missing directory")
	}
	if _, _, err := LoadSafetensorsFile(filepath.Join(dir, "nope")); err == nil {
		t.Error("no error for a missing file")
	}
	// a corrupt file reports its path
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("garbage"), 0o644)
	if _, _, err := LoadSafetensorsFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("corrupt file: %v", err)
	}
}

func FuzzReadSafetensors(f *testing.F) {
	f.Add(stBytes(f, map[string]*Tensor{
		"a": FromFloat64s(Float32, []float64{1, 2, 3, 4}, 2, 2),
		"b": FromFloat64s(Float16, []float64{0.5}),
	}, map[string]string{"k": "v"}))
	f.Add(stBytes(f, map[string]*Tensor{"x": Scalar(Float64, 1), "y": FromFloat64s(BFloat16, []float64{2, 3})}, nil))
	f.Add(stBytes(f, nil, nil))
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Fuzz(func(t *testing.T, data []byte) {
		named, meta, err := ReadSafetensors(bytes.NewReader(data))
		if err != nil {
			return
		}
		// whatever reads must write and read back unchanged
		var b bytes.Buffer
		if err := WriteSafetensors(&b, named, meta); err != nil {
			if _, reserved := named[""]; reserved {
				return // an empty name reads but is refused on write
			}
			t.Fatal(err)
		}
		again, meta2, err := ReadSafetensors(&b)
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if len(again) != len(named) || (len(meta) > 0 && !maps.Equal(meta, meta2)) {
			t.Fatalf("round trip changed the file")
		}
		for k, x := range named {
			if y := again[k]; y == nil || (!sameBits(x, y) && !x.HasNaNInf()) {
				t.Fatalf("round trip changed %q", k)
			}
		}
	})
}
