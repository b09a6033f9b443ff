package data

import (
	"math"
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/tensor"
)

// toyImages returns n examples of shape (2, 1, 2); example i has values
// i, i+1 in channel 0 and 10i, 10i+2 in channel 1, label i%3.
func toyImages(n int) *Dataset {
	d := &Dataset{Name: "toy", Shape: []int{2, 1, 2}, Classes: 3}
	for i := range n {
		f := float32(i)
		d.X = append(d.X, f, f+1, 10*f, 10*f+2)
		d.Labels = append(d.Labels, i%3)
	}
	return d
}

func TestDatasetBasics(t *testing.T) {
	d := toyImages(5)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Len() != 5 || d.Features() != 4 || !slices.Equal(d.Example(2), []float32{2, 3, 20, 22}) {
		t.Fatalf("len %d features %d example %v", d.Len(), d.Features(), d.Example(2))
	}
	if !slices.Equal(d.ClassCounts(), []int{2, 2, 1}) {
		t.Fatal(d.ClassCounts())
	}
	h, tl := d.Split(2)
	if h.Len() != 2 || tl.Len() != 3 || tl.Example(0)[0] != 2 || tl.Labels[0] != 2 {
		t.Fatalf("split: %d + %d", h.Len(), tl.Len())
	}
	s := d.Subset([]int{4, 0})
	if !slices.Equal(s.Labels, []int{1, 0}) || s.X[0] != 4 || s.Len() != 2 {
		t.Fatalf("subset %v %v", s.Labels, s.X)
	}
	s.X[0] = 99
	if d.X[16] != 4 {
		t.Fatal("Subset shares storage")
	}
	c := d.Clone()
	c.Labels[0] = 2
	if d.Labels[0] != 0 {
		t.Fatal("Clone shares labels")
	}
	x := d.Tensor(tensor.Float32)
	if !slices.Equal(x.Shape(), []int{5, 2, 1, 2}) || x.At(3, 1, 0, 1) != 32 {
		t.Fatalf("tensor shape %v", x.Shape())
	}
	if d.TargetTensor(tensor.Float64) != nil {
		t.Fatal("target tensor of a classification set")
	}

	bad := []*Dataset{
		{Name: "a", Shape: []int{2}, X: []float32{1, 2, 3}},
		{Name: "b", Shape: []int{1}, X: []float32{1}, Labels: []int{3}, Classes: 3},
		{Name: "c", Shape: []int{1}, X: []float32{1}, Labels: []int{0}},
		{Name: "d", Shape: []int{0}},
		{Name: "e", Shape: []int{1}, X: []float32{1}, Labels: []int{0}, Targets: []float32{1}, Classes: 1},
		{Name: "f", Shape: []int{1}, X: []float32{1}, Labels: []int{0}, Classes: 1, ClassNames: []string{"x", "y"}},
	}
	for _, b := range bad {
		if err := b.Validate(); err == nil {
			t.Errorf("dataset %s: no error", b.Name)
		}
	}
}

func TestNormalize(t *testing.T) {
	d := toyImages(4) // channel 0: 0,1,1,2,2,3,3,4; channel 1: 0,2,10,12,20,22,30,32
	m, s := d.ChannelMeanStd()
	wantM := []float64{2, 16}
	wantS := []float64{math.Sqrt(1.5), math.Sqrt((256 + 196 + 36 + 16 + 16 + 36 + 196 + 256) / 8.0)}
	for c := range 2 {
		if math.Abs(m[c]-wantM[c]) > 1e-12 || math.Abs(s[c]-wantS[c]) > 1e-12 {
			t.Fatalf("channel %d: mean %v std %v, want %v %v", c, m[c], s[c], wantM[c], wantS[c])
		}
	}
	if err := d.Normalize(m, s); err != nil {
		t.Fatal(err)
	}
	m2, s2 := d.ChannelMeanStd()
	for c := range 2 {
		if math.Abs(m2[c]) > 1e-6 || math.Abs(s2[c]-1) > 1e-6 {
			t.Fatalf("after Normalize channel %d: mean %v std %v", c, m2[c], s2[c])
		}
	}
	wantErr(t, d.Normalize([]float64{0}, []float64{1}), "1 means and 1 stds for 2 channels")
	wantErr(t, d.Normalize([]float64{0, 0}, []float64{1, 0}), "channel 1", "std 0")

	// tables: one channel per feature
	tb := &Dataset{Shape: []int{2}, X: []float32{1, 100, 3, 300, 5, 200}, Targets: []float32{0, 0, 0}}
	lo, hi := tb.ChannelMinMax()
	if !slices.Equal(lo, []float64{1, 100}) || !slices.Equal(hi, []float64{5, 300}) {
		t.Fatalf("min %v max %v", lo, hi)
	}
	if err := tb.Rescale(lo, hi); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tb.X, []float32{0, 0, 0.5, 1, 1, 0.5}) {
		t.Fatalf("rescaled %v", tb.X)
	}
	wantErr(t, tb.Rescale([]float64{1, 2}, []float64{0, 3}), "channel 0 has bounds [1, 0]")
	flat := &Dataset{Shape: []int{1}, X: []float32{7, 7}, Targets: []float32{1, 2}}
	if err := flat.Rescale([]float64{7}, []float64{7}); err != nil || flat.X[1] != 0 {
		t.Fatalf("constant channel: %v %v", flat.X, err)
	}
	if tt := flat.TargetTensor(tensor.Float64); tt.At(1) != 2 {
		t.Fatal("target tensor")
	}
}

func TestShuffleAndTrainValSplit(t *testing.T) {
	d := toyImages(30)
	a, b := d.Clone(), d.Clone()
	a.Shuffle(tensor.NewRNG(7))
	b.Shuffle(tensor.NewRNG(7))
	if !slices.Equal(a.X, b.X) || !slices.Equal(a.Labels, b.Labels) {
		t.Fatal("same seed, different shuffles")
	}
	if slices.Equal(a.X, d.X) {
		t.Fatal("shuffle left the order unchanged")
	}
	for i := range a.Len() { // examples stay whole, labels follow
		e := a.Example(i)
		if e[1] != e[0]+1 || e[2] != 10*e[0] || a.Labels[i] != int(e[0])%3 {
			t.Fatalf("example %d torn: %v label %d", i, e, a.Labels[i])
		}
	}
	tr, va, err := d.TrainValSplit(0.2, 3)
	if err != nil {
		t.Fatal(err)
	}
	tr2, va2, _ := d.TrainValSplit(0.2, 3)
	if tr.Len() != 24 || va.Len() != 6 || !slices.Equal(va.X, va2.X) || !slices.Equal(tr.Labels, tr2.Labels) {
		t.Fatalf("split %d/%d", tr.Len(), va.Len())
	}
	seen := map[float32]int{}
	for _, p := range []*Dataset{tr, va} {
		for i := range p.Len() {
			seen[p.Example(i)[0]]++
		}
	}
	if len(seen) != 30 {
		t.Fatalf("split covers %d of 30 examples", len(seen))
	}
	_, _, err = d.TrainValSplit(1, 0)
	wantErr(t, err, "validation fraction 1 outside [0, 1)")
}
