package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// cifarRecords returns n binary records; record i has label labels[i%len]
// and all pixels equal to byte(i).
func cifarRecords(n int, labels ...byte) []byte {
	var b []byte
	for i := range n {
		b = append(b, labels[i%len(labels)])
		b = append(b, bytes.Repeat([]byte{byte(i)}, cifarPixels)...)
	}
	return b
}

func TestReadCIFAR10Binary(t *testing.T) {
	d, err := ReadCIFAR10Binary(bytes.NewReader(cifarRecords(3, 7, 0, 9)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 3 || !slices.Equal(d.Labels, []int{7, 0, 9}) || !slices.Equal(d.Shape, []int{3, 32, 32}) {
		t.Fatalf("got %d examples, labels %v, shape %v", d.Len(), d.Labels, d.Shape)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Example(2)[3071] != 2.0/255 {
		t.Fatalf("pixel %v, want 2/255", d.Example(2)[3071])
	}
	// channel-major: record bytes 1..1024 are red
	rec := cifarRecords(1, 3)
	rec[1], rec[1+1024], rec[1+2048] = 255, 0, 51
	d, err = ReadCIFAR10Binary(bytes.NewReader(rec), 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.X[0] != 1 || d.X[1024] != 0 || d.X[2048] != 0.2 {
		t.Fatalf("first pixel of each channel %v %v %v", d.X[0], d.X[1024], d.X[2048])
	}
	d, err = ReadCIFAR10Binary(bytes.NewReader(cifarRecords(5, 1)), 2)
	if err != nil || d.Len() != 2 {
		t.Fatalf("limit 2: %v, %v", d, err)
	}

	bad := cifarRecords(3, 1)
	bad[2*cifarRecord] = 10
	cases := []struct {
		name string
		in   []byte
		want []string
	}{
		{"empty", nil, []string{"no records"}},
		{"truncated", cifarRecords(2, 1)[:cifarRecord+100], []string{"truncated record 1: 100 of 3073 bytes"}},
		{"label", bad, []string{"record 2", "label 10 out of range"}},
	}
	for _, c := range cases {
		_, err := ReadCIFAR10Binary(bytes.NewReader(c.in), 0)
		wantErr(t, err, append([]string{"data: CIFAR-10 binary"}, c.want...)...)
	}
}

// writeCIFARDir writes six small batch files (n records each) into dir.
func writeCIFARDir(t *testing.T, dir string, n int) {
	for k, name := range cifarBatchNames {
		writeFile(t, dir, name, cifarRecords(n, byte(k), byte(k+1)))
	}
}

func TestLoadCIFAR10BinaryDir(t *testing.T) {
	dir := t.TempDir()
	writeCIFARDir(t, filepath.Join(dir, CIFAR10BinDir), 4)
	train, test, err := LoadCIFAR10(dir, CIFAROptions{})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 20 || test.Len() != 4 || train.Name != "CIFAR-10 train" {
		t.Fatalf("got %d train, %d test (%q)", train.Len(), test.Len(), train.Name)
	}
	if !slices.Equal(train.Labels[:6], []int{0, 1, 0, 1, 1, 2}) || test.Labels[0] != 5 {
		t.Fatalf("labels %v / %v", train.Labels, test.Labels)
	}
	train, test, err = LoadCIFAR10(dir, CIFAROptions{Limit: 6})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 6 || test.Len() != 4 || len(train.X) != 6*cifarPixels {
		t.Fatalf("limit 6: got %d train, %d test", train.Len(), test.Len())
	}

	// A missing batch and a truncated batch are named.
	sub := filepath.Join(dir, CIFAR10BinDir)
	os.Remove(filepath.Join(sub, "data_batch_4.bin"))
	_, _, err = LoadCIFAR10(sub, CIFAROptions{})
	wantErr(t, err, "data_batch_4.bin not found")
	writeFile(t, sub, "data_batch_4.bin", cifarRecords(2, 1)[:5000])
	_, _, err = LoadCIFAR10(dir, CIFAROptions{})
	wantErr(t, err, "data_batch_4.bin", "size 5000 is not a multiple of the record size 3073")
}

// tarGz builds a tar.gz of the given entries (name → content), in order.
func tarGz(t *testing.T, names []string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, n := range names {
		b := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadCIFAR10BinaryArchive(t *testing.T) {
	files := map[string][]byte{}
	var names []string
	for k, name := range cifarBatchNames {
		n := "cifar-10-batches-bin/" + name
		names = append(names, n)
		files[n] = cifarRecords(3, byte(k))
	}
	names = append(names, "cifar-10-batches-bin/batches.meta.txt")
	files[names[len(names)-1]] = []byte("airplane\n")
	p := writeFile(t, t.TempDir(), "c.tar.gz", tarGz(t, names, files))
	train, test, err := LoadCIFAR10(p, CIFAROptions{})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 15 || test.Len() != 3 || train.Labels[14] != 4 || test.Labels[0] != 5 {
		t.Fatalf("got %d/%d, labels %v %v", train.Len(), test.Len(), train.Labels, test.Labels)
	}
	train, test, err = LoadCIFAR10(p, CIFAROptions{Limit: 4})
	if err != nil || train.Len() != 4 || test.Len() != 3 || train.Labels[3] != 1 {
		t.Fatalf("limit 4: %v, %v", train, err)
	}
	// without test_batch.bin
	p2 := writeFile(t, t.TempDir(), "c.tar.gz", tarGz(t, names[:5], files))
	_, _, err = LoadCIFAR10(p2, CIFAROptions{})
	wantErr(t, err, "c.tar.gz", "no entry test_batch.bin")
	// not gzip
	p3 := writeFile(t, t.TempDir(), "c.tar.gz", []byte("plain text"))
	_, _, err = LoadCIFAR10(p3, CIFAROptions{})
	wantErr(t, err, "c.tar.gz", "not a gzip file")
}

// jpegOf encodes a w×h image of one colour.
func jpegOf(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadCIFAR10JPEGArchive(t *testing.T) {
	files := map[string][]byte{"README.md": []byte("hi")}
	names := []string{"README.md"}
	for s, split := range []string{"test", "train"} {
		for c, class := range CIFAR10Classes {
			for i := range 3 - s { // 3 test and 2 train images per class
				n := fmt.Sprintf("%s/%s/%04d.jpg", split, class, 2-i) // reverse name order
				names = append(names, n)
				files[n] = jpegOf(t, 32, 32, color.RGBA{uint8(20 * c), uint8(10 * i), 200, 255})
			}
		}
	}
	dir := t.TempDir()
	p := writeFile(t, dir, "j.tar.gz", tarGz(t, names, files))
	train, test, err := LoadCIFAR10(p, CIFAROptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 20 || test.Len() != 30 || train.Name != "CIFAR-10 (JPEG copy) train" {
		t.Fatalf("got %d train, %d test (%q)", train.Len(), test.Len(), train.Name)
	}
	for _, d := range []*Dataset{train, test} {
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	// Classes interleaved, and within a class sorted by name: test/<c>/0000
	// (i = 2) comes first.
	if !slices.Equal(test.Labels[:12], []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}) {
		t.Fatalf("test labels %v", test.Labels)
	}
	for k, want := range []float64{20 * 3 / 255.0, 20 / 255.0, 200 / 255.0} {
		if got := float64(test.Example(3)[k*1024+5]); math.Abs(got-want) > 3/255.0 {
			t.Fatalf("example 3 channel %d: %v, want %v", k, got, want)
		}
	}
	train, test, err = LoadCIFAR10(p, CIFAROptions{Limit: 12})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 12 || test.Len() != 12 || test.Labels[11] != 1 {
		t.Fatalf("limit 12: %d/%d %v", train.Len(), test.Len(), test.Labels)
	}

	// An undecodable image, a wrong size and an unknown class are named.
	bad := func(name string, content []byte) error {
		f := map[string][]byte{name: content}
		for k, v := range files {
			f[k] = v
		}
		pp := writeFile(t, t.TempDir(), "b.tar.gz", tarGz(t, append(slices.Clone(names[:7]), name), f))
		_, _, err := LoadCIFAR10(pp, CIFAROptions{})
		return err
	}
	wantErr(t, bad("train/cat/bad.jpg", []byte("not a jpeg")), "b.tar.gz", "entry train/cat/bad.jpg", "decoding JPEG")
	wantErr(t, bad("train/cat/big.jpg", jpegOf(t, 33, 32, color.RGBA{A: 255})), "entry train/cat/big.jpg", "33×32 pixels, want 32×32")
	wantErr(t, bad("train/cow/0.jpg", files[names[1]]), "entry train/cow/0.jpg", "class among")
	wantErr(t, bad("x.jpg", files[names[1]]), "entry x.jpg", "want train/<class>/<file>.jpg")
}

func TestCIFAR10JPEGReal(t *testing.T) {
	d := sharedData(t)
	p := filepath.Join(d, CIFAR10JPEGArchive)
	if d == "" || !isFile(p) {
		t.Skipf("%s not found beside the repository", CIFAR10JPEGArchive)
	}
	train, test, err := LoadCIFAR10(p, CIFAROptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Dataset{train, test} {
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.Len() != 500 || !slices.Equal(d.Shape, []int{3, 32, 32}) {
			t.Fatalf("%s: %d examples of shape %v", d.Name, d.Len(), d.Shape)
		}
		for c, n := range d.ClassCounts() {
			if n != 50 {
				t.Fatalf("%s: class %d has %d examples, want 50", d.Name, c, n)
			}
		}
		lo, hi := d.ChannelMinMax()
		for c := range 3 {
			if lo[c] < 0 || hi[c] > 1 || hi[c]-lo[c] < 0.9 {
				t.Fatalf("%s: channel %d in [%v, %v]", d.Name, c, lo[c], hi[c])
			}
		}
	}
	// Per-channel means of the full training set are 0.4912, 0.4820,
	// 0.4464; a class-balanced 500-image sample is within a few hundredths.
	m, s := train.ChannelMeanStd()
	for c, want := range []float64{0.4912, 0.4820, 0.4464} {
		if math.Abs(m[c]-want) > 0.03 || s[c] < 0.2 || s[c] > 0.3 {
			t.Errorf("channel %d: mean %.4f std %.4f, want mean ≈ %.4f", c, m[c], s[c], want)
		}
	}
}
