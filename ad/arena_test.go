package ad_test

import (
	"runtime"
	"slices"
	"testing"

	"github.com/gradus-ml/gradus/ad"
	"github.com/gradus-ml/gradus/tensor"
)

// arenaStep computes the gradient of a two-layer ReLU network's
// cross-entropy on a tape with the given arena (nil: none) and returns
// clones of the gradients.
func arenaStep(t *testing.T, a *tensor.Arena, w1, w2, x *tensor.Tensor, y []int, keep bool) []*tensor.Tensor {
	tp, err := ad.NewTape(&ad.Options{Arena: a})
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := tp.WatchTensor(w1), tp.WatchTensor(w2)
	h := ad.Relu(ad.MatMul(ad.Const(x), v1))
	loss := ad.CrossEntropy(ad.MatMul(h, v2), y)
	gs, err := tp.Backward(loss, nil, v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	if a != nil && gs[0].Value().Arena() != a {
		t.Error("the gradient is not drawn from the tape's arena")
	}
	var out []*tensor.Tensor
	if keep {
		out = []*tensor.Tensor{gs[0].Value().Clone(), gs[1].Value().Clone()}
	}
	a.Release()
	return out
}

// With an arena, repeated steps give the gradients computed without one,
// bit for bit, while the arena recycles the previous steps' memory; the
// inputs (weights, batch) are never reclaimed.
func TestTapeArenaSameGradientsAndInputsKept(t *testing.T) {
	g := tensor.NewRNG(3)
	w1 := g.Normal(tensor.Float32, 64, 128)
	w2 := g.Normal(tensor.Float32, 128, 10)
	x := g.Normal(tensor.Float32, 32, 64)
	y := make([]int, 32)
	for i := range y {
		y[i] = g.IntN(10)
	}
	keep := []*tensor.Tensor{w1.Clone(), w2.Clone(), x.Clone()}
	want := arenaStep(t, nil, w1, w2, x, y, true)
	a := tensor.NewArena()
	for step := 0; step < 3; step++ {
		got := arenaStep(t, a, w1, w2, x, y, true)
		for i := range want {
			if !slices.Equal(got[i].Data32(), want[i].Data32()) {
				t.Fatalf("step %d: gradient %d differs with an arena", step, i)
			}
		}
	}
	for i, k := range []*tensor.Tensor{w1, w2, x} {
		if !slices.Equal(k.Data32(), keep[i].Data32()) || k.Arena() != nil {
			t.Fatalf("input %d changed or was tagged by the arena tape", i)
		}
	}
	// steady state: the activations and cotangents come from the arena
	arenaBytes := bytesPerRun(func() { arenaStep(t, a, w1, w2, x, y, false) })
	heapBytes := bytesPerRun(func() { arenaStep(t, nil, w1, w2, x, y, false) })
	t.Logf("bytes allocated per step: %d with the arena, %d without", arenaBytes, heapBytes)
	if 4*arenaBytes > heapBytes {
		t.Errorf("the arena saves too little: %d bytes per step vs %d without", arenaBytes, heapBytes)
	}
}

// bytesPerRun returns the heap bytes f allocates, averaged over 5 runs.
func bytesPerRun(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := 0; i < 5; i++ {
		f()
	}
	runtime.ReadMemStats(&m1)
	return (m1.TotalAlloc - m0.TotalAlloc) / 5
}
