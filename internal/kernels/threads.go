package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// threads is the SetThreads setting; 0 means GOMAXPROCS.
var threads atomic.Int32

// SetThreads sets the number of goroutines a large product may use and
// returns the previous setting. n <= 0 restores the default, GOMAXPROCS at
// the time of each call. The setting is process-wide, like GOMAXPROCS: the
// kernels share one pool of workers so that concurrent callers do not
// oversubscribe the cores.
func SetThreads(n int) int {
	if n < 0 {
		n = 0
	}
	return int(threads.Swap(int32(n)))
}

// Threads reports the number of goroutines a large product may use.
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// A job is a set of independent tasks shared between the calling goroutine
// and idle pool workers. Tasks are claimed with an atomic counter, so when
// no worker is idle (they are busy with other products) the caller simply
// runs the tasks itself. refs counts the holders of the job (the caller
// and every worker it was handed to); the caller returns once it is the
// last holder, so the job can be reused at once.
type job struct {
	refs  atomic.Int32
	next  atomic.Int32
	ntask int32
	done  chan struct{}
	owner taskRunner
}

type taskRunner interface {
	runTask(i int)
}

// work runs tasks until none are left to claim.
func (j *job) work() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.ntask {
			return
		}
		j.owner.runTask(int(i))
	}
}

// release drops one holder's reference; the last worker to let go wakes
// the caller.
func (j *job) release() {
	if j.refs.Add(-1) == 0 {
		j.done <- struct{}{}
	}
}

// run executes ntask tasks on the caller and on up to helpers idle pool
// workers, and returns when all are done and no worker holds the job.
func (j *job) run(ntask, helpers int) {
	if j.done == nil {
		j.done = make(chan struct{}, 1)
	}
	j.ntask = int32(ntask)
	j.next.Store(0)
	j.refs.Store(1)
	startWorkers(helpers)
	for h := 0; h < helpers; h++ {
		w := popIdle()
		if w == nil {
			break
		}
		j.refs.Add(1)
		w.assign(j)
	}
	j.work()
	if j.refs.Add(-1) != 0 {
		// The workers usually finish at about the same time as the caller:
		// poll briefly before blocking, which would hand the rest of the
		// wake-up to the scheduler.
		spin(func() bool { return j.refs.Load() == 0 })
		<-j.done
	}
}

// spin polls ready for up to spinFor, yielding to other goroutines now and
// then, and reports whether it became true.
func spin(ready func() bool) bool {
	start := time.Now()
	for i := 1; ; i++ {
		if ready() {
			return true
		}
		if i%64 == 0 {
			if time.Since(start) > spinFor {
				return false
			}
			runtime.Gosched()
		}
	}
}

// The worker pool. Workers are started lazily, the first time a product
// wants them, up to the largest number ever requested, and are reused for
// the life of the process. A worker that finishes a job stays ready for
// spinFor (polling, and yielding to other goroutines now and then), so
// back-to-back products do not pay the wake-up latency of a parked thread;
// then it parks on a channel and costs no CPU. A caller waiting for its
// workers likewise polls for spinFor before blocking.
const spinFor = 50 * time.Microsecond

const (
	workerSpinning int32 = iota
	workerParked
	workerAssigned
)

type worker struct {
	slot  atomic.Pointer[job]
	state atomic.Int32
	wake  chan struct{}
}

var (
	idleMu      sync.Mutex
	idle        []*worker
	workersMu   sync.Mutex
	workerCount atomic.Int32
)

func popIdle() *worker {
	idleMu.Lock()
	defer idleMu.Unlock()
	n := len(idle)
	if n == 0 {
		return nil
	}
	w := idle[n-1]
	idle[n-1] = nil
	idle = idle[:n-1]
	return w
}

// assign hands j to an idle worker, waking it if it has parked.
func (w *worker) assign(j *job) {
	w.slot.Store(j)
	if w.state.Swap(workerAssigned) == workerParked {
		w.wake <- struct{}{}
	}
}

func startWorkers(n int) {
	if int(workerCount.Load()) >= n {
		return
	}
	workersMu.Lock()
	for int(workerCount.Load()) < n {
		w := &worker{wake: make(chan struct{}, 1)}
		go w.loop()
		workerCount.Add(1)
	}
	workersMu.Unlock()
}

func (w *worker) loop() {
	w.setIdle()
	for {
		j := w.wait()
		j.work()
		// Become idle before letting go of the job, so that a caller that
		// starts its next product as soon as this one returns finds the
		// worker available.
		w.setIdle()
		j.release()
	}
}

func (w *worker) setIdle() {
	w.state.Store(workerSpinning)
	idleMu.Lock()
	idle = append(idle, w)
	idleMu.Unlock()
}

// wait returns the next job assigned to w, spinning briefly before parking.
func (w *worker) wait() *job {
	if spin(func() bool { return w.state.Load() == workerAssigned }) {
		return w.slot.Swap(nil)
	}
	if w.state.CompareAndSwap(workerSpinning, workerParked) {
		<-w.wake
	}
	return w.slot.Swap(nil)
}
