package stream

import (
	"context"
	"sync/atomic"
)

// pump is a consumer of a MapHub stream observed on the shared workers: its mailbox (c.q), its map
// function and its channel. It has no goroutine: whoever holds it (a worker, its catch-up goroutine, or
// Observe while it sets it up) takes its mailbox, maps the values and hands them to out.
//
// state counts the wake-ups (a value queued into an empty mailbox, the end of the hub, the end of ctx)
// since the holder last looked: the wake-up that moves it from 0 schedules the pump, and the holder
// lets go only when no wake-up came while it ran. A finished pump keeps state above 0 for ever, so it is
// never scheduled again.
type pump[T, U any] struct {
	state   atomic.Int64
	w       *Workers
	ctx     context.Context
	out     chan U
	h       *Hub[T]
	c       *consumer[T]
	done    chan struct{} // the hub's
	stop    func() bool   // ends the context.AfterFunc that wakes the pump when ctx ends
	newMap  func() func(T) (U, bool)
	f       func(T) (U, bool) // made on first use, by the holder
	onError func(error)
	batch   []T    // the last batch taken, handed back to the mailbox
	last    int    // the index in batch of the value claimed last; -1 before the first
	cur     cursor // counts the values handed on, for the end of slow-consumer episodes
	held    U      // a value that did not fit in out, for the catch-up goroutine to send first
}

// taken is how many values the consumer's user has taken: those handed on (sent into out, or discarded by
// the map function) less those still waiting in out.
func (p *pump[T, U]) taken() int64 { return int64(p.cur.handed) - int64(len(p.out)) }

// wake tells the pump that it has something to do. It never blocks.
func (p *pump[T, U]) wake() {
	if p.state.Add(1) == 1 {
		p.w.submit(p)
	}
}

// release lets go of the pump once Observe has set it up, or schedules it when wake-ups came meanwhile.
func (p *pump[T, U]) release() {
	if p.state.Add(-1) != 0 {
		p.w.submit(p)
	}
}

// run is called by a worker: it works until the pump has nothing left to do, has finished, or was
// handed to a catch-up goroutine.
func (p *pump[T, U]) run() { p.loop(false) }

// loop works on the pump while wake-ups come, delivering without waiting on a worker (blocking false)
// or waiting for room in out on the catch-up goroutine (blocking true).
func (p *pump[T, U]) loop(blocking bool) {
	for {
		n := p.state.Load()
		if !p.step(blocking) {
			return
		}
		if p.state.Add(-n) == 0 {
			return
		}
	}
}

// step delivers what the mailbox holds. It returns false when the pump is no longer the caller's: it
// finished, or a worker (blocking false) handed it to a catch-up goroutine.
func (p *pump[T, U]) step(blocking bool) bool {
	for {
		if p.ctx.Err() != nil {
			p.finish(nil) // the consumer's own end is not an error
			return false
		}
		ended := isClosed(p.done)
		p.batch = p.c.q.take(p.batch, &p.cur, p.taken())
		p.last = -1
		if len(p.batch) == 0 {
			if ended {
				p.finish(p.h.err) // written before done was closed
				return false
			}
			return true
		}
		if !p.deliver(blocking) {
			return false
		}
	}
}

// deliver claims, maps and sends the values of p.batch one at a time. On a worker (blocking false) a value
// that does not fit in out is kept in p.held, and the rest of the batch and the pump go to a catch-up
// goroutine. It returns false when the pump is no longer the caller's.
func (p *pump[T, U]) deliver(blocking bool) bool {
	if p.f == nil {
		p.f = p.newMap()
	}
	q := p.c.q
	for {
		i := q.claim(&p.cur, p.last, len(p.batch))
		if i == len(p.batch) {
			return true
		}
		p.last = i
		if p.cur.armed && p.cur.caughtUp(p.taken()) {
			q.endEpisode(&p.cur)
		}
		u, ok := p.f(p.batch[i])
		if !ok {
			p.cur.handed++
			continue
		}
		select {
		case p.out <- u:
			p.cur.handed++
			continue
		default:
		}
		if !blocking {
			p.held = u
			go p.catchUp()
			return false
		}
		if !p.send(u) {
			return false
		}
		p.cur.handed++
	}
}

// send waits until out takes u or ctx ends; then it finishes the pump and returns false.
func (p *pump[T, U]) send(u U) bool {
	select {
	case p.out <- u:
		return true
	case <-p.ctx.Done():
		p.finish(nil)
		return false
	}
}

// catchUp runs on a goroutine of the pump's own once out was full: it waits to send p.held, delivers the
// rest of the batch, then goes on delivering, waiting for room in out, until the pump has nothing left to
// do; the next wake-up schedules it on a worker again.
func (p *pump[T, U]) catchUp() {
	var zero U
	u := p.held
	p.held = zero
	if !p.send(u) {
		return
	}
	p.cur.handed++
	if !p.deliver(true) {
		return
	}
	p.loop(true)
}

// finish ends the consumer: it leaves the hub, then closes out, after telling err, if any.
func (p *pump[T, U]) finish(err error) {
	if p.stop != nil {
		p.stop()
	}
	p.h.unregister(p.c)
	clear(p.batch)
	p.batch, p.f = nil, nil
	p.end(err)
}

// end closes out, after telling err, if any, to OnError or the unhandled-error handler, on a goroutine of
// its own so that neither can hold up a worker.
func (p *pump[T, U]) end(err error) {
	if err == nil {
		close(p.out)
		return
	}
	go func() {
		defer close(p.out)
		if p.onError != nil {
			p.onError(err)
		} else {
			reportUnhandled(err)
		}
	}()
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
