package tensor

import (
	"archive/zip"
	"bytes"
	bin "encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func npyBytes(t testing.TB, x *Tensor) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteNPY(&b, x); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// specialValues are values every dtype must carry through files.
var specialValues = []float64{0, math.Copysign(0, -1), 1, -2.5, 0.1, 65504, math.Inf(1), math.Inf(-1), 1e-7, 3.14159}

func TestNPYRoundTrip(t *testing.T) {
	g := NewRNG(31)
	shapes := [][]int{{}, {1}, {7}, {2, 3}, {2, 0, 3}, {2, 3, 4}}
	for _, d := range allDTypes {
		for _, shape := range shapes {
			x := g.Normal(d, shape...)
			b := npyBytes(t, x)
			// the data starts at a multiple of 64 and the header ends in '\n'
			hlen := int(bin.LittleEndian.Uint16(b[8:10]))
			if (10+hlen)%64 != 0 || b[10+hlen-1] != '\n' {
				t.Errorf("%v %v: header length %d is not aligned", d, shape, hlen)
			}
			y, err := ReadNPY(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%v %v: %v", d, shape, err)
			}
			want := x
			if d == BFloat16 {
				want = x.AsType(Float32) // exact: NumPy has no bfloat16
			}
			if !sameBits(y, want) {
				t.Errorf("%v %v: round trip changed the tensor: %v vs %v", d, shape, y, want)
			}
		}
		x := FromFloat64s(d, specialValues, 2, 5)
		y, err := ReadNPY(bytes.NewReader(npyBytes(t, x)))
		if err != nil || !sameBits(y.AsType(d), x) {
			t.Errorf("%v special values: %v, %v", d, y, err)
		}
	}
	// NaN survives
	y, err := ReadNPY(bytes.NewReader(npyBytes(t, FromFloat64s(Float16, []float64{math.NaN()}))))
	if err != nil || !math.IsNaN(y.AtFlat(0)) {
		t.Errorf("float16 NaN: %v, %v", y, err)
	}
}

func TestNPYHeaderByHand(t *testing.T) {
	// A header written out by hand from the format description.
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
	pad := 64 - (10+len(dict)+1)%64
	want := "\x93NUMPY\x01\x00" + string([]byte{byte(len(dict) + pad + 1), 0}) + dict + strings.Repeat(" ", pad) + "\n"
	var data [16]byte
	bin.LittleEndian.PutUint64(data[0:], math.Float64bits(1.5))
	bin.LittleEndian.PutUint64(data[8:], math.Float64bits(-2))
	want += string(data[:])
	if got := npyBytes(t, FromFloat64s(Float64, []float64{1.5, -2})); string(got) != want {
		t.Errorf("WriteNPY:\ngot  %q\nwant %q", got, want)
	}
	// the 16-bit formats: f16 as its bits, bf16 as float32
	got := npyBytes(t, FromFloat64s(Float16, []float64{1, -2}))
	if !bytes.Contains(got, []byte("'<f2'")) || !bytes.HasSuffix(got, []byte{0x00, 0x3c, 0x00, 0xc0}) {
		t.Errorf("float16 NPY: %q", got)
	}
	got = npyBytes(t, FromFloat64s(BFloat16, []float64{1}))
	if !bytes.Contains(got, []byte("'<f4'")) || !bytes.HasSuffix(got, []byte{0, 0, 0x80, 0x3f}) {
		t.Errorf("bfloat16 NPY: %q", got)
	}
	// a version 2.0 file with the same dict reads the same
	v2 := "\x93NUMPY\x02\x00" + string([]byte{byte(len(dict) + pad - 1), 0, 0, 0}) + dict + strings.Repeat(" ", pad-2) + "\n" + string(data[:])
	x, err := ReadNPY(strings.NewReader(v2))
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "NPY v2", x, []int{2}, []float64{1.5, -2}, 0)
}

func TestNPYLargeHeaderUsesVersion2(t *testing.T) {
	shape := make([]int, 25000) // a dict longer than 65535 bytes
	for i := range shape {
		shape[i] = 1
	}
	x := New(Float32, shape...)
	b := npyBytes(t, x)
	if b[6] != 2 {
		t.Fatalf("version %d.%d, want 2.0", b[6], b[7])
	}
	if hl := bin.LittleEndian.Uint32(b[8:12]); (12+int(hl))%64 != 0 {
		t.Errorf("v2 header length %d not aligned", hl)
	}
	if _, err := ReadNPY(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

// npyWithDict builds an NPY v1.0 file around an arbitrary header dict.
func npyWithDict(dict string, data []byte) []byte {
	h := dict + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), data...)
}

func TestNPYMalformed(t *testing.T) {
	good := npyBytes(t, FromFloat64s(Float32, []float64{1, 2, 3}))
	eight := make([]byte, 8)
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated magic"},
		{"bad magic", append([]byte("\x93NUMPZ"), good[6:]...), "magic"},
		{"version", append([]byte("\x93NUMPY\x04\x00"), good[8:]...), "version 4.0"},
		{"truncated header", good[:30], "truncated header"},
		{"truncated data", good[:len(good)-1], "truncated data"},
		{"big-endian", npyWithDict("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", eight), "unsupported dtype \">f8\""},
		{"int", npyWithDict("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", eight), "unsupported dtype \"<i8\""},
		{"fortran", npyWithDict("{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }", eight), "Fortran"},
		{"missing shape", npyWithDict("{'descr': '<f8', 'fortran_order': False, }", eight), "missing key \"shape\""},
		{"extra key", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", eight), "unexpected key \"x\""},
		{"repeated key", npyWithDict("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", eight), "repeated key"},
		{"not a dict", npyWithDict("['descr']", eight), "want '{'"},
		{"bad bool", npyWithDict("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", eight), "True or False"},
		{"bad shape", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", eight), "want '('"},
		{"negative dim", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", eight), "non-negative integer"},
		{"one-tuple without comma", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (1)}", eight), "trailing comma"},
		{"unterminated", npyWithDict("{'descr': '<f8", eight), "unterminated string"},
		{"trailing text", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} x", eight), "after the dict"},
		{"huge shape", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", eight), "too large"},
		{"huge declared data", npyWithDict("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,)}", eight), "truncated data"},
	}
	for _, c := range cases {
		_, err := ReadNPY(bytes.NewReader(c.in))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "tensor.ReadNPY: ") {
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.want)
		}
	}
}

// TestNPYFromNumPy reads files written by NumPy (testdata/make_npy.py).
func TestNPYFromNumPy(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		file  string
		dtype DType
		shape []int
		want  []float64
	}{
		{"f64.npy", Float64, []int{2, 3}, []float64{-0.5, -0.25, 0, 0.25, 0.5, 0.75}},
		{"f32.npy", Float32, []int{6}, []float64{1.5, -2.25, inf, -inf, float64(float32(0.1)), float64(float32(1e-30))}},
		{"f16.npy", Float16, []int{2, 2, 2}, []float64{0, 0, 1, 65504, 0x1p-24, -2.5, inf, float64(RoundFloat16(0.1))}},
		{"scalar.npy", Float64, []int{}, []float64{3.25}},
		{"empty.npy", Float32, []int{0, 3}, nil},
	}
	for _, c := range cases {
		f, err := os.Open(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		x, err := ReadNPY(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if x.DType() != c.dtype {
			t.Errorf("%s: dtype %v, want %v", c.file, x.DType(), c.dtype)
		}
		checkValues(t, c.file, x, c.shape, c.want, 0)
		// and what we write is byte for byte what NumPy wrote
		raw, _ := os.ReadFile(filepath.Join("testdata", c.file))
		if got := npyBytes(t, x); !bytes.Equal(got, raw) {
			t.Errorf("%s: WriteNPY differs from NumPy's file:\n%q\n%q", c.file, got, raw)
		}
	}
	if x, _ := ReadNPY(bytes.NewReader(mustRead(t, "f16.npy"))); math.Signbit(x.AtFlat(1)) == false {
		t.Error("f16.npy: -0 lost its sign")
	}
	for file, want := range map[string]string{"fortran.npy": "Fortran", "bigendian.npy": "'>f8'", "int32.npy": "'<i4'"} {
		_, err := ReadNPY(bytes.NewReader(mustRead(t, file)))
		if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), `"`, "'"), want) {
			t.Errorf("%s: error %v, want one mentioning %s", file, err, want)
		}
	}
	for _, file := range []string{"arrays.npz", "arrays_compressed.npz"} {
		raw := mustRead(t, file)
		m, err := ReadNPZ(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(m) != 2 {
			t.Fatalf("%s: %d arrays", file, len(m))
		}
		checkValues(t, file+" a", m["a"], []int{2, 3}, []float64{-0.5, -0.25, 0, 0.25, 0.5, 0.75}, 0)
		checkValues(t, file+" b", m["b"], []int{3}, []float64{1, 2, 3}, 0)
		if m["b"].DType() != Float16 {
			t.Errorf("%s: b has dtype %v", file, m["b"].DType())
		}
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNPZRoundTrip(t *testing.T) {
	g := NewRNG(32)
	in := map[string]*Tensor{
		"w":       g.Normal(Float32, 3, 4),
		"b":       g.Normal(Float64, 4),
		"h":       g.Normal(Float16, 2, 2),
		"scalar":  Scalar(Float64, 7),
		"layer/1": g.Normal(Float32, 0, 2),
	}
	var buf bytes.Buffer
	if err := WriteNPZ(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadNPZ(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d arrays, want %d", len(out), len(in))
	}
	for k, v := range in {
		if !sameBits(out[k], v) {
			t.Errorf("%q changed: %v vs %v", k, out[k], v)
		}
	}
	// the archive is deterministic
	var again bytes.Buffer
	if err := WriteNPZ(&again, in); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Error("WriteNPZ is not deterministic")
	}

	// malformed archives
	bad := func(files map[string][]byte) []byte {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		for name, data := range files {
			w, _ := zw.Create(name)
			w.Write(data)
		}
		zw.Close()
		return b.Bytes()
	}
	good := npyBytes(t, Scalar(Float32, 1))
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"not a zip", []byte("hello"), "zip"},
		{"not npy", bad(map[string][]byte{"x.txt": good}), "not a .npy file"},
		{"bad member", bad(map[string][]byte{"x.npy": good[:20]}), "member \"x.npy\""},
		{"trailing bytes", bad(map[string][]byte{"x.npy": append(good, 1, 2, 3)}), "3 bytes after"},
	}
	for _, c := range cases {
		_, err := ReadNPZ(bytes.NewReader(c.in), int64(len(c.in)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if err := WriteNPZ(&bytes.Buffer{}, map[string]*Tensor{"": Scalar(Float32, 1)}); err == nil {
		t.Error("WriteNPZ accepted an empty name")
	}
}

func FuzzReadNPY(f *testing.F) {
	for _, x := range []*Tensor{
		FromFloat64s(Float64, []float64{1, 2, 3, 4}, 2, 2),
		FromFloat64s(Float32, []float64{1.5}),
		FromFloat64s(Float16, []float64{0.5, -1}, 1, 2),
		Scalar(Float64, 3),
		New(Float32, 0, 2),
	} {
		f.Add(npyBytes(f, x))
	}
	f.Add(npyWithDict("{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }", make([]byte, 8)))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'shape': ()}   "))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadNPY(bytes.NewReader(data))
		if err != nil {
			return
		}
		// whatever reads must write and read back to the same tensor
		var b bytes.Buffer
		if err := WriteNPY(&b, x); err != nil {
			t.Fatal(err)
		}
		y, err := ReadNPY(&b)
		if err != nil {
			t.Fatalf("re-reading: %v", err)
		}
		if !sameBits(x, y) && !(x.HasNaNInf() && fmt.Sprint(x.Shape()) == fmt.Sprint(y.Shape())) {
			t.Fatalf("round trip changed %v into %v", x, y)
		}
	})
}
