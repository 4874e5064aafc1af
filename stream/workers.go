package stream

import (
	"runtime"
	"sync"
)

// task is work for the shared workers.
type task interface{ run() }

// Workers is a pool of goroutines that run the consumers of [MapHub] streams observed with [Stream.Observe]:
// at most GOMAXPROCS of them, started when a consumer has values queued and ending soon after there is
// none, so that an idle pool keeps no goroutine. The zero Workers is ready to use; a Workers must not be
// copied after first use.
//
// A pool is meant for the streams of one owner, such as a client, which is then the only one whose
// consumers can hold its workers up; with testing/synctest, each bubble must use a pool of its own.
type Workers struct {
	mu      sync.Mutex
	tasks   []task // in submission order
	spare   []task // a worker's last list, emptied, for the next tasks
	running int
}

// workerSpins is how many times an idle worker yields before it ends.
const workerSpins = 3

// submit queues t and starts a worker when none is running, or when tasks are waiting and fewer than
// GOMAXPROCS are.
func (w *Workers) submit(t task) {
	w.mu.Lock()
	w.tasks = append(w.tasks, t)
	start := w.running == 0 || len(w.tasks) > 1 && w.running < runtime.GOMAXPROCS(0)
	if start {
		w.running++
	}
	w.mu.Unlock()
	if start {
		go w.work()
	}
}

// work takes every queued task at once and runs them in order, until none is left.
func (w *Workers) work() {
	var list []task
	idle := 0
	for {
		w.mu.Lock()
		if list != nil && w.spare == nil {
			w.spare = list[:0]
		}
		list = nil
		if len(w.tasks) == 0 {
			if idle < workerSpins {
				// Let the producers run once before ending: a worker that ends
				// and a new one that starts cost more than a yield.
				w.mu.Unlock()
				idle++
				runtime.Gosched()
				continue
			}
			w.running--
			w.mu.Unlock()
			return
		}
		idle = 0
		list, w.tasks, w.spare = w.tasks, w.spare, nil
		w.mu.Unlock()
		for i, t := range list {
			list[i] = nil
			t.run()
		}
	}
}
