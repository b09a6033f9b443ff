package tensor

import "testing"

func TestArenaReusesReleasedStorage(t *testing.T) {
	a := NewArena()
	x := a.Empty(Float32, 64, 64)
	if x.Arena() != a {
		t.Fatal("Empty result is not tagged with its arena")
	}
	p := &x.Data32()[0]
	a.Release()
	y := a.Empty(Float32, 4096) // same length, other shape
	if &y.Data32()[0] != p {
		t.Fatal("a released buffer of the same length was not reused")
	}
	y.Data32()[0] = 7
	z := a.New(Float32, 4096)
	for i, v := range z.Data32() {
		if v != 0 {
			t.Fatalf("Arena.New element %d = %v, want 0", i, v)
		}
	}
	if &z.Data32()[0] == p {
		t.Fatal("a buffer was lent twice")
	}
	a.Release()
}

func TestArenaTagPropagatesAndForeignStorageIsKept(t *testing.T) {
	a := NewArena()
	w := FromFloat64s(Float32, []float64{1, 2, 3, 4}, 2, 2) // heap storage
	wa := w.In(a)
	if w.Arena() != nil || wa.Arena() != a || &wa.Data32()[0] != &w.Data32()[0] {
		t.Fatal("In must tag a header sharing the storage, leaving t untagged")
	}
	s := Add(wa, w) // the first tagged operand decides
	m := MatMul(w, wa, false, false)
	v := s.Reshape(4)
	for name, r := range map[string]*Tensor{"Add": s, "MatMul": m, "Reshape": v} {
		if r.Arena() != a {
			t.Errorf("%s result lost the arena tag", name)
		}
	}
	c := s.Clone()
	if c.Arena() != nil {
		t.Error("Clone must return an untagged heap copy")
	}
	a.Release()
	// the released storage is reused; w's storage and the clone are intact
	for i := 0; i < 3; i++ {
		r := a.Empty(Float32, 2, 2)
		clear(r.Data32())
	}
	want := []float32{1, 2, 3, 4}
	for i, x := range w.Data32() {
		if x != want[i] {
			t.Fatalf("heap storage changed by Release: %v", w.Data32())
		}
	}
	if c.At(1, 1) != 8 {
		t.Fatalf("clone changed: %v", c)
	}
}

func TestArenaDropsStaleBuffers(t *testing.T) {
	a := NewArena()
	const n = 3 * minLend
	a.Float64s(n)
	a.Release()
	for i := 0; i < keepEpochs; i++ {
		NewArena().Release()
	}
	free.mu.Lock()
	left := len(free.f64[n])
	free.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d stale buffers kept after %d releases", left, keepEpochs)
	}
}

func TestNilArenaAllocatesZeroedHeap(t *testing.T) {
	var a *Arena
	x := a.Empty(Float64, 3)
	if x.Arena() != nil || x.Data64()[2] != 0 || len(a.Int32s(5)) != 5 {
		t.Fatal("nil arena must allocate zeroed heap storage")
	}
	a.Release()
}

// Arenas on several goroutines share the free lists: no buffer is ever
// lent to two of them at once (each writes its own pattern and finds it
// intact after the others ran).
func TestArenaConcurrentNoDoubleLending(t *testing.T) {
	const workers, rounds, n = 4, 200, 2 * minLend
	errs := make(chan string, workers)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func(w int) {
			defer func() { done <- struct{}{} }()
			a := NewArena()
			for r := 0; r < rounds; r++ {
				bufs := [][]float32{a.Float32s(n), a.Empty(Float32, n).Data32(), a.New(Float32, 2, minLend).Data32()}
				for k, b := range bufs {
					for i := range b {
						b[i] = float32(w*1000 + k)
					}
				}
				for k, b := range bufs {
					for _, v := range b {
						if v != float32(w*1000+k) {
							errs <- "a buffer was lent to two arenas at once"
							return
						}
					}
				}
				a.Release()
			}
		}(w)
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
