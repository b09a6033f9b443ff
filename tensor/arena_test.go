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
	// 32×32 = minLend elements: the results are large enough to be recycled
	const k = 32
	w := Full(Float32, 1, k, k) // heap storage
	wa := w.In(a)
	if w.Arena() != nil || wa.Arena() != a || &wa.Data32()[0] != &w.Data32()[0] {
		t.Fatal("In must tag a header sharing the storage, leaving t untagged")
	}
	s := Add(wa, w) // the first tagged operand decides
	m := MatMul(w, wa, false, false)
	v := s.Reshape(k * k)
	for name, r := range map[string]*Tensor{"Add": s, "MatMul": m, "Reshape": v} {
		if r.Arena() != a {
			t.Errorf("%s result lost the arena tag", name)
		}
	}
	c := s.Clone()
	if c.Arena() != nil || &c.Data32()[0] == &s.Data32()[0] {
		t.Error("Clone must return an untagged heap copy")
	}
	lent := map[*float32]bool{&s.Data32()[0]: true, &m.Data32()[0]: true}
	a.Release()
	// the released storage is reused and overwritten; w's storage and the
	// clone are not
	reused := 0
	for i := 0; i < 3; i++ {
		r := a.Empty(Float32, k, k)
		if lent[&r.Data32()[0]] {
			reused++
		}
		for j := range r.Data32() {
			r.Data32()[j] = -7
		}
	}
	if reused != 2 {
		t.Fatalf("%d of the 2 released results were lent again", reused)
	}
	for _, x := range w.Data32() {
		if x != 1 {
			t.Fatal("heap storage tagged with In was reclaimed by Release")
		}
	}
	for _, x := range c.Data32() {
		if x != 2 {
			t.Fatal("the clone was reclaimed by Release")
		}
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
