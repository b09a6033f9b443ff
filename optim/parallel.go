package optim

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gradus-ml/gradus/tensor"
)

// Large steps are split into chunks of consecutive elements of one
// parameter tensor and shared between the stepping goroutine and idle
// workers, up to GOMAXPROCS goroutines in all. Every update is elementwise,
// so the result does not depend on the split.
const (
	chunkSize     = 1 << 14 // elements per chunk
	parallelAbove = 1 << 16 // total elements below which a step runs on the caller alone
)

// chunk is the element range [lo, hi) of parameter i.
type chunk struct{ i, lo, hi int }

// job is a set of chunks claimed with an atomic counter by the caller and
// by the workers it was handed to.
type job struct {
	next atomic.Int64
	n    int64
	fn   func(chunk)
	cs   []chunk
	wg   sync.WaitGroup
}

func (j *job) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.n {
			return
		}
		j.fn(j.cs[i])
	}
}

// The workers are shared by all optimizers of the process, like
// GOMAXPROCS: they are started on first use, up to GOMAXPROCS−1, and an
// idle worker is a goroutine parked on its mailbox, listed in idle.
var (
	idle      = make(chan chan *job, 256)
	workersMu sync.Mutex
	workers   int
)

func startWorkers(n int) {
	workersMu.Lock()
	defer workersMu.Unlock()
	for ; workers < n && workers < cap(idle); workers++ {
		go worker()
	}
}

func worker() {
	mailbox := make(chan *job, 1)
	for {
		idle <- mailbox
		j := <-mailbox
		j.work()
		j.wg.Done()
	}
}

// forEach calls c.fn on every chunk of params, in parallel when the step
// is large. It allocates only while the chunk list grows.
func (c *core) forEach(params []*tensor.Tensor) {
	j := c.job
	j.cs = j.cs[:0]
	total := 0
	for i, p := range params {
		n := p.Size()
		total += n
		for lo := 0; lo < n; lo += chunkSize {
			j.cs = append(j.cs, chunk{i, lo, min(lo+chunkSize, n)})
		}
	}
	helpers := min(runtime.GOMAXPROCS(0), len(j.cs)) - 1
	if total < parallelAbove || helpers <= 0 {
		for _, ch := range j.cs {
			c.fn(ch)
		}
		return
	}
	j.n, j.fn = int64(len(j.cs)), c.fn
	j.next.Store(0)
	startWorkers(helpers)
	for range helpers {
		select {
		case mb := <-idle:
			j.wg.Add(1)
			mb <- j
			continue
		default:
		}
		break
	}
	j.work()
	j.wg.Wait()
	j.fn = nil
}

// sub64 and sub32 return the storage of t in the range of ch.
func sub64(t *tensor.Tensor, ch chunk) []float64 { return t.Data64()[ch.lo:ch.hi] }
func sub32(t *tensor.Tensor, ch chunk) []float32 { return t.Data32()[ch.lo:ch.hi] }

// roundChunk re-rounds an emulated 16-bit parameter in the range of ch
// after its update.
func roundChunk(p *tensor.Tensor, ch chunk) {
	switch p.DType() {
	case tensor.Float16:
		d := sub32(p, ch)
		for i, v := range d {
			d[i] = tensor.RoundFloat16(v)
		}
	case tensor.BFloat16:
		d := sub32(p, ch)
		for i, v := range d {
			d[i] = tensor.RoundBFloat16(v)
		}
	}
}
