package data

import (
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// epochIndices runs one epoch and returns the example indices in order,
// checking each batch against the data set.
func epochIndices(t *testing.T, b *Batcher, d *Dataset, size int) (idx []int, sizes []int) {
	t.Helper()
	for x, y := range b.Epoch() {
		n := x.Dim(0)
		if !slices.Equal(x.Shape()[1:], d.Shape) || len(y) != n || n > size {
			t.Fatalf("batch shape %v, %d labels", x.Shape(), len(y))
		}
		for k, i := range b.Indices() {
			if y[k] != d.Labels[i] {
				t.Fatalf("label %d of example %d, want %d", y[k], i, d.Labels[i])
			}
			for j, v := range d.Example(i) {
				if x.AtFlat(k*d.Features()+j) != float64(x.DType().Round(float64(v))) {
					t.Fatalf("batch value differs for example %d", i)
				}
			}
		}
		idx = append(idx, b.Indices()...)
		sizes = append(sizes, n)
	}
	return idx, sizes
}

func TestBatcherCoversEpoch(t *testing.T) {
	d := toyImages(23)
	for _, shuffle := range []bool{false, true} {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64, tensor.Float16, tensor.BFloat16} {
			b, err := NewBatcher(d, 5, dt, BatchOptions{Shuffle: shuffle, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if b.Batches() != 5 {
				t.Fatalf("%d batches, want 5", b.Batches())
			}
			var prev []int
			for e := range 3 {
				idx, sizes := epochIndices(t, b, d, 5)
				if !slices.Equal(sizes, []int{5, 5, 5, 5, 3}) {
					t.Fatalf("batch sizes %v", sizes)
				}
				sorted := slices.Sorted(slices.Values(idx))
				for i, v := range sorted {
					if v != i {
						t.Fatalf("epoch %d does not cover every example once: %v", e, sorted)
					}
				}
				if shuffle && prev != nil && slices.Equal(prev, idx) {
					t.Fatal("two epochs in the same order")
				}
				if !shuffle && !slices.IsSorted(idx) {
					t.Fatal("unshuffled epoch out of order")
				}
				prev = idx
			}
			if b.Epochs() != 3 {
				t.Fatalf("Epochs() = %d", b.Epochs())
			}
		}
	}
}

func TestBatcherSeedAndDropLast(t *testing.T) {
	d := toyImages(23)
	orders := func(seed uint64) [][]int {
		b, err := NewBatcher(d, 4, tensor.Float32, BatchOptions{Shuffle: true, Seed: seed, DropLast: true})
		if err != nil {
			t.Fatal(err)
		}
		var out [][]int
		for range 3 {
			idx, sizes := epochIndices(t, b, d, 4)
			if !slices.Equal(sizes, []int{4, 4, 4, 4, 4}) {
				t.Fatalf("DropLast batch sizes %v", sizes)
			}
			out = append(out, idx)
		}
		return out
	}
	a, b, c := orders(9), orders(9), orders(10)
	for e := range a {
		if !slices.Equal(a[e], b[e]) {
			t.Fatalf("epoch %d: same seed, different orders", e)
		}
	}
	if slices.Equal(a[0], c[0]) {
		t.Fatal("seeds 9 and 10 give the same order")
	}
	_, err := NewBatcher(toyImages(3), 4, tensor.Float32, BatchOptions{DropLast: true})
	wantErr(t, err, "no batch of size 4")
	_, err = NewBatcher(d, 0, tensor.Float32, BatchOptions{})
	wantErr(t, err, "batch size 0")
	_, err = NewBatcher(&Dataset{Shape: []int{2}, X: []float32{1}}, 1, tensor.Float32, BatchOptions{})
	wantErr(t, err, "1 values for 0 examples")
}

func TestBatcherNextAndTargets(t *testing.T) {
	d := &Dataset{Shape: []int{2}, X: []float32{0, 1, 2, 3, 4, 5}, Targets: []float32{10, 11, 12}}
	b, err := NewBatcher(d, 2, tensor.Float64, BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, y := b.Next()
	if y != nil || !slices.Equal(x.Data64(), []float64{0, 1, 2, 3}) || !slices.Equal(b.Targets().Data64(), []float64{10, 11}) {
		t.Fatalf("first batch %v targets %v", x.Data64(), b.Targets().Data64())
	}
	x, _ = b.Next()
	if !slices.Equal(x.Shape(), []int{1, 2}) || x.At(0, 1) != 5 || !slices.Equal(b.Targets().Shape(), []int{1}) || b.Targets().At(0) != 12 {
		t.Fatalf("last batch %v %v", x.Shape(), b.Targets().Data64())
	}
	x1, _ := b.Next() // a new epoch, and the full buffer is reused
	if b.Epochs() != 2 || x1.At(0, 0) != 0 {
		t.Fatalf("epochs %d", b.Epochs())
	}
	// Breaking out of an epoch and starting another restarts it.
	n := 0
	for range b.Epoch() {
		n++
		break
	}
	for range b.Epoch() {
		n++
	}
	if n != 3 || b.Epochs() != 4 {
		t.Fatalf("%d batches, %d epochs", n, b.Epochs())
	}
}

func BenchmarkBatcherMNISTSize(b *testing.B) {
	d := &Dataset{Shape: []int{1, 28, 28}, X: make([]float32, 6000*784), Labels: make([]int, 6000), Classes: 10}
	bt, err := NewBatcher(d, 128, tensor.Float32, BatchOptions{Shuffle: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(128 * 784 * 4)
	for b.Loop() {
		bt.Next()
	}
}
