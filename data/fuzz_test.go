package data

import (
	"bytes"
	"strings"
	"testing"
)

// The fuzz targets check that no input makes a reader panic, and that what
// a reader accepts is consistent. Seed corpora are in testdata/fuzz.

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(f, []int{2, 2, 2}, seq(8)))
	f.Add(idxBytes(f, []int{3}, []byte{1, 2, 3}))
	f.Add(gzipBytes(f, idxBytes(f, []int{1, 2}, []byte{9, 9})))
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		x, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "data: IDX: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		if len(x.Data) != prod(x.Dims) || len(x.Dims) == 0 {
			t.Fatalf("dims %v with %d bytes", x.Dims, len(x.Data))
		}
	})
}

func FuzzReadCIFARBinary(f *testing.F) {
	f.Add(cifarRecords(1, 3), 0)
	f.Add(cifarRecords(2, 9, 0)[:4000], 0)
	f.Add(cifarRecords(3, 1), 2)
	f.Add([]byte{10}, 0)
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		d, err := ReadCIFAR10Binary(bytes.NewReader(in), limit)
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.Len() == 0 || len(in) < d.Len()*cifarRecord || (limit <= 0 && len(in) != d.Len()*cifarRecord) {
			t.Fatalf("%d records from %d bytes (limit %d)", d.Len(), len(in), limit)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add("a,b,y\n1,2,3\n4,5,6\n", "", false)
	f.Add("a,y\n1,cat\n2,dog\n", "y", true)
	f.Add("x;y\n1;\"2\"\n", "x", false)
	f.Add("a,b\n1,2\n3\n", "", true)
	f.Fuzz(func(t *testing.T, in, target string, classify bool) {
		d, err := ReadCSV(strings.NewReader(in), CSVOptions{Target: target, Classify: classify})
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if classify == (d.Labels == nil) || d.Len() == 0 {
			t.Fatalf("classify=%v: %d labels, %d targets", classify, len(d.Labels), len(d.Targets))
		}
	})
}

func FuzzReadARFF(f *testing.F) {
	f.Add(pimaLike, "", true)
	f.Add("@attribute a numeric\n@attribute b numeric\n@data\n1,2\n", "a", false)
	f.Fuzz(func(t *testing.T, in, target string, oneHot bool) {
		d, err := ReadARFF(strings.NewReader(in), ARFFOptions{Target: target, OneHot: oneHot})
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}
