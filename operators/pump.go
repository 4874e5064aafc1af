package operators

import (
	"context"

	"github.com/rxrealtime/rxrealtime/stream"
)

// pump runs a source in its own goroutine and hands its values over an unbuffered channel, so that the
// goroutine running the operator can wait on timers or other sources while the source is blocked.
type pump[T any] struct {
	ch     chan T
	err    error // the source's terminal error, valid once ch is closed
	cancel context.CancelFunc
}

func startPump[T any](ctx context.Context, s stream.Stream[T]) *pump[T] {
	ctx, cancel := context.WithCancel(ctx)
	p := &pump[T]{ch: make(chan T), cancel: cancel}
	go func() {
		defer close(p.ch)
		done := ctx.Done()
		p.err = s.Run(ctx, func(v T) bool {
			select {
			case p.ch <- v:
				return true
			case <-done:
				return false
			}
		})
	}()
	return p
}

// stop cancels the source and waits until its goroutine has ended.
func (p *pump[T]) stop() {
	p.cancel()
	for range p.ch {
	}
}

// end decides how an operator holding values ends once its source ended with err: it flushes the held
// values (flush returns false if the consumer stopped) unless the consumer's context ended, then returns err.
func end(ctx context.Context, err error, flush func() bool) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if flush != nil && !flush() {
		return nil
	}
	return err
}
