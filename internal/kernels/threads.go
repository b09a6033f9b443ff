package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
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
		select {
		case w := <-idleWorkers:
			j.refs.Add(1)
			w <- j
			continue
		default:
		}
		break
	}
	j.work()
	if j.refs.Add(-1) != 0 {
		<-j.done
	}
}

// The worker pool. Workers are started lazily, the first time a product
// wants them, up to the largest number ever requested, and are reused for
// the life of the process: an idle worker is a goroutine parked on its
// mailbox, listed in idleWorkers, and costs no CPU.
var (
	idleWorkers = make(chan chan *job, 1024)
	workersMu   sync.Mutex
	workerCount atomic.Int32
)

func startWorkers(n int) {
	if int(workerCount.Load()) >= n {
		return
	}
	workersMu.Lock()
	for int(workerCount.Load()) < n && workerCount.Load() < int32(cap(idleWorkers)) {
		go worker()
		workerCount.Add(1)
	}
	workersMu.Unlock()
}

func worker() {
	mailbox := make(chan *job, 1)
	for {
		idleWorkers <- mailbox
		j := <-mailbox
		j.work()
		j.release()
	}
}
