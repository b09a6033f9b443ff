package tensor

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Arena lends storage to short-lived tensors and takes it all back at once.
// A training step makes the same intermediate tensors (activations,
// cotangents) every time; drawing them from an arena that is released at
// the end of the step lets the next step reuse the memory instead of
// asking the garbage collector for fresh, zeroed pages.
//
// A tensor tagged with an arena (see In) passes the tag on: every tensor
// operation whose first tagged operand carries an arena allocates its
// result from that arena. Release invalidates every tensor and slice the
// arena lent since it was made or last released: the caller must keep
// nothing of them (copy with Clone, which always allocates on the heap).
// Storage the arena did not lend, such as the storage of a tensor tagged
// with In, is never touched.
//
// The methods of a nil *Arena allocate on the heap, so code can take an
// optional arena. An Arena is safe for concurrent use.
type Arena struct {
	mu  sync.Mutex
	f32 [][]float32
	f64 [][]float64
	i32 [][]int32
}

// NewArena returns an empty arena.
func NewArena() *Arena { return &Arena{} }

// In returns a tensor that shares t's storage and is tagged with arena a
// (nil removes the tag): results computed from it are allocated from a.
// t's own storage stays t's; Release does not reclaim it.
func (t *Tensor) In(a *Arena) *Tensor {
	if t.arena == a {
		return t
	}
	u := *t
	u.arena = a
	return &u
}

// Arena returns the arena t is tagged with (nil if none).
func (t *Tensor) Arena() *Arena { return t.arena }

// ArenaOf returns the arena of the first tagged tensor among ts (nil if
// none).
func ArenaOf(ts ...*Tensor) *Arena {
	for _, t := range ts {
		if t != nil && t.arena != nil {
			return t.arena
		}
	}
	return nil
}

// Empty returns a tensor of dtype d and the given shape, tagged with a,
// whose storage a lends; its contents are unspecified, so the caller must
// write every element (rounded, for 16-bit dtypes). A nil arena allocates a
// zeroed tensor on the heap.
func (a *Arena) Empty(d DType, shape ...int) *Tensor {
	if a == nil {
		return New(d, shape...)
	}
	if !d.valid() {
		panic(fmt.Sprintf("tensor.Arena.Empty: invalid dtype %d", d))
	}
	n := checkShape("Arena.Empty", shape)
	t := &Tensor{dtype: d, shape: cloneShape(shape), arena: a}
	if d.is64() {
		t.f64 = a.Float64s(n)
	} else {
		t.f32 = a.Float32s(n)
	}
	return t
}

// New is Empty with every element zero.
func (a *Arena) New(d DType, shape ...int) *Tensor {
	t := a.Empty(d, shape...)
	if a != nil {
		clear(t.f64)
		clear(t.f32)
	}
	return t
}

// Float32s lends a slice of n float32 with unspecified contents (zeroed and
// on the heap for a nil arena).
func (a *Arena) Float32s(n int) []float32 {
	return lendSlice(a, func(a *Arena) *[][]float32 { return &a.f32 }, &free.f32, n)
}

// Float64s is Float32s for float64.
func (a *Arena) Float64s(n int) []float64 {
	return lendSlice(a, func(a *Arena) *[][]float64 { return &a.f64 }, &free.f64, n)
}

// Int32s is Float32s for int32.
func (a *Arena) Int32s(n int) []int32 {
	return lendSlice(a, func(a *Arena) *[][]int32 { return &a.i32 }, &free.i32, n)
}

// lendSlice takes a slice of length n from the free list l and records it
// in a's list of that element type (lent(a)), for Release.
func lendSlice[T float32 | float64 | int32](a *Arena, lent func(*Arena) *[][]T, l *freeList[T], n int) []T {
	if a == nil {
		return make([]T, n)
	}
	s := take(l, n)
	a.mu.Lock()
	list := lent(a)
	*list = append(*list, s)
	a.mu.Unlock()
	return s
}

// Release takes back everything the arena lent, for later arenas to reuse.
// The arena can be used again afterwards.
func (a *Arena) Release() {
	if a == nil {
		return
	}
	a.mu.Lock()
	f32, f64, i32 := a.f32, a.f64, a.i32
	a.f32, a.f64, a.i32 = nil, nil, nil
	a.mu.Unlock()
	free.mu.Lock()
	defer free.mu.Unlock()
	free.epoch++
	give(&free.f32, f32)
	give(&free.f64, f64)
	give(&free.i32, i32)
}

// The free lists shared by all arenas, by exact length: a repeated
// computation asks for the same lengths every time. A buffer not reused
// within keepEpochs releases is dropped for the garbage collector.
var free struct {
	mu    sync.Mutex
	epoch int
	f32   freeList[float32]
	f64   freeList[float64]
	i32   freeList[int32]
}

const keepEpochs = 4

type freeBuf[T any] struct {
	s     []T
	epoch int
}

type freeList[T any] map[int][]freeBuf[T]

// minLend is the smallest length worth recycling: below it the heap is as
// fast and the bookkeeping would dominate.
const minLend = 1024

func take[T float32 | float64 | int32](l *freeList[T], n int) []T {
	if n >= minLend {
		free.mu.Lock()
		bufs := (*l)[n]
		if k := len(bufs); k > 0 {
			s := bufs[k-1].s
			bufs[k-1] = freeBuf[T]{}
			(*l)[n] = bufs[:k-1]
			free.mu.Unlock()
			if poison.Load() {
				fillPoison(s)
			}
			return s
		}
		free.mu.Unlock()
	}
	s := make([]T, n)
	if poison.Load() {
		fillPoison(s)
	}
	return s
}

var poison atomic.Bool

// PoisonArenas makes every arena fill what it lends with NaN (−1 for
// int32) when on is true, so that a kernel reading an element it did not
// write shows up in its results. It is a debugging aid for tests.
func PoisonArenas(on bool) { poison.Store(on) }

func fillPoison[T float32 | float64 | int32](s []T) {
	v := T(-1)
	switch p := any(&v).(type) {
	case *float32:
		*p = float32(math.NaN())
	case *float64:
		*p = math.NaN()
	}
	for i := range s {
		s[i] = v
	}
}

// give adds bufs to l and drops the buffers released keepEpochs ago or
// earlier; free.mu is held.
func give[T any](l *freeList[T], bufs [][]T) {
	if *l == nil {
		*l = freeList[T]{}
	}
	for _, s := range bufs {
		if len(s) >= minLend {
			(*l)[len(s)] = append((*l)[len(s)], freeBuf[T]{s: s, epoch: free.epoch})
		}
	}
	for n, list := range *l {
		k := 0
		for _, b := range list {
			if free.epoch-b.epoch < keepEpochs {
				list[k] = b
				k++
			}
		}
		clear(list[k:])
		if k == 0 {
			delete(*l, n)
		} else {
			(*l)[n] = list[:k]
		}
	}
}
