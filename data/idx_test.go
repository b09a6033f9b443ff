package data

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// idxBytes returns a raw IDX file of unsigned bytes.
func idxBytes(t testing.TB, dims []int, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteIDX(&buf, &IDX{Dims: dims, Data: data}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func TestReadIDXRoundTrip(t *testing.T) {
	for _, gz := range []bool{false, true} {
		for _, dims := range [][]int{{5}, {3, 4, 2}, {2, 1, 1, 3}, {0}} {
			data := seq(prod(dims))
			b := idxBytes(t, dims, data)
			if gz {
				b = gzipBytes(t, b)
			}
			x, err := ReadIDX(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("gz=%v dims %v: %v", gz, dims, err)
			}
			if !slices.Equal(x.Dims, dims) || !bytes.Equal(x.Data, data) {
				t.Fatalf("gz=%v: got dims %v, want %v (data equal: %v)", gz, x.Dims, dims, bytes.Equal(x.Data, data))
			}
			if want := uint32(0x800 + len(dims)); x.Magic() != want {
				t.Fatalf("Magic %#x, want %#x", x.Magic(), want)
			}
		}
	}
}

func prod(d []int) int {
	n := 1
	for _, v := range d {
		n *= v
	}
	return n
}

func TestReadIDXMalformed(t *testing.T) {
	good := idxBytes(t, []int{2, 3, 3}, seq(18))
	withMagic := func(m uint32) []byte {
		b := slices.Clone(good)
		binary.BigEndian.PutUint32(b, m)
		return b
	}
	huge := binary.BigEndian.AppendUint32(nil, 0x803)
	for range 3 {
		huge = binary.BigEndian.AppendUint32(huge, 0xffffffff)
	}
	badSum := gzipBytes(t, good)
	badSum[len(badSum)-8] ^= 0xff // corrupt the CRC-32
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"short magic", good[:3], "truncated header"},
		{"wrong magic", withMagic(0x12345678), "wrong magic number 0x12345678"},
		{"float type", withMagic(0x00000d03), "float32"},
		{"unknown type", withMagic(0x00000703), "unknown element type 0x07"},
		{"zero dims", withMagic(0x00000800), "zero dimensions"},
		{"short dims", good[:10], "truncated header"},
		{"truncated data", good[:len(good)-5], "truncated data: dims [2 3 3] need 18 bytes, found 13"},
		{"trailing", append(slices.Clone(good), 1, 2, 3), "3 unexpected bytes"},
		{"huge", huge, "announce more than"},
		{"truncated gzip", gzipBytes(t, good)[:30], "unexpected EOF"},
		{"bad gzip sum", badSum, "checksum"},
		{"bad gzip header", []byte{0x1f, 0x8b, 0, 0}, "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadIDX(bytes.NewReader(c.in))
			wantErr(t, err, "data: IDX", c.want)
		})
	}
}

func TestLoadIDXDataset(t *testing.T) {
	dir := t.TempDir()
	im := writeFile(t, dir, "im.gz", gzipBytes(t, idxBytes(t, []int{3, 2, 2}, []byte{0, 255, 51, 102, 1, 2, 3, 4, 5, 6, 7, 8})))
	lb := writeFile(t, dir, "lb", idxBytes(t, []int{3}, []byte{2, 0, 1}))
	d, err := LoadIDXDataset(im, lb, 3)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || !slices.Equal(d.Shape, []int{1, 2, 2}) || !slices.Equal(d.Labels, []int{2, 0, 1}) {
		t.Fatalf("got len %d shape %v labels %v", d.Len(), d.Shape, d.Labels)
	}
	if d.X[0] != 0 || d.X[1] != 1 || d.X[2] != 0.2 || d.X[3] != 0.4 {
		t.Fatalf("pixels %v, want 0, 1, 0.2, 0.4", d.X[:4])
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}

	lb2 := writeFile(t, dir, "lb2", idxBytes(t, []int{2}, []byte{0, 1}))
	_, err = LoadIDXDataset(im, lb2, 3)
	wantErr(t, err, "2 labels in", "lb2", "3 images in", "im.gz")
	_, err = LoadIDXDataset(lb, lb, 3)
	wantErr(t, err, "lb:", "magic 0x00000801", "want images, magic 0x00000803")
	_, err = LoadIDXDataset(im, im, 3)
	wantErr(t, err, "im.gz", "want labels, magic 0x00000801")
	_, err = LoadIDXDataset(im, lb, 2)
	wantErr(t, err, "lb", "label 2 of example 0 out of range [0, 2)")
	_, err = LoadIDXDataset(im, dir+"/missing", 3)
	wantErr(t, err, "missing", "no such file")
	trunc := writeFile(t, dir, "trunc", idxBytes(t, []int{3, 2, 2}, seq(12))[:20])
	_, err = LoadIDXDataset(trunc, lb, 3)
	wantErr(t, err, "IDX file", "trunc", "truncated data")
}

func TestLoadMNISTLikeDir(t *testing.T) {
	dir := t.TempDir()
	for _, split := range []string{"train", "t10k"} {
		n := 4
		writeFile(t, dir, split+"-images-idx3-ubyte", idxBytes(t, []int{n, 28, 28}, make([]byte, n*784)))
		writeFile(t, dir, split+"-labels-idx1-ubyte.gz", gzipBytes(t, idxBytes(t, []int{n}, []byte{9, 8, 7, 6})))
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 4 || test.Len() != 4 || train.Name != "MNIST train" {
		t.Fatalf("got %d/%d examples, name %q", train.Len(), test.Len(), train.Name)
	}
	// wrong image size
	writeFile(t, dir, "t10k-images-idx3-ubyte", idxBytes(t, []int{4, 27, 29}, make([]byte, 4*27*29)))
	_, _, err = LoadFashionMNIST(dir)
	wantErr(t, err, "t10k-images-idx3-ubyte", "27×29, want 28×28")
	_, err = MNISTDir(t.TempDir())
	wantErr(t, err, "does not hold the MNIST files")
}
