package workload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// FloorJoiner returns the floor for workloads 6 and 7: a raw gobwas/ws
// client that keeps only the topic list. It pipelines every join without
// waiting for replies and, when the connection drops, redials at once (no
// backoff) and pipelines every join again. Incoming frames are read and
// discarded.
func FloorJoiner() Joiner { return floorJoiner{} }

type floorJoiner struct{}

func (floorJoiner) Join(ctx context.Context, endpoint string, v frames.Vsn, channels int) (Session, error) {
	s := &rawSession{
		url:    Spec{Endpoint: endpoint, Vsn: v}.URL(),
		vsn:    v,
		topics: frames.Topics(channels),
		closed: make(chan struct{}),
	}
	c, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.awaitReplies(len(s.topics)); err != nil {
		_ = c.nc.Close()
		return nil, fmt.Errorf("workload: await joins: %w", err)
	}
	s.wg.Add(1)
	go s.loop(c)
	return s, nil
}

type rawSession struct {
	url    string
	vsn    frames.Vsn
	topics []string

	mu     sync.Mutex
	conn   *rawConn
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

// connect dials and pipelines every join.
func (s *rawSession) connect(ctx context.Context) (*rawConn, error) {
	c, err := dialRaw(ctx, s.url, s.vsn)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		_ = c.nc.Close()
		return nil, net.ErrClosed
	default:
	}
	s.conn = c
	s.mu.Unlock()
	var msg, frame []byte
	for _, t := range s.topics {
		ref := c.nextRef()
		msg = appendMessage(msg[:0], s.vsn, ref, ref, t, "phx_join", []byte(joinPayload))
		frame = appendMasked(frame, ws.OpText, msg)
	}
	if _, err := c.nc.Write(frame); err != nil {
		_ = c.nc.Close()
		return nil, err
	}
	return c, nil
}

// loop reads and discards until the connection drops, then reconnects.
func (s *rawSession) loop(c *rawConn) {
	defer s.wg.Done()
	var head [64]byte
	for {
		for {
			if _, err := c.skip(head[:]); err != nil {
				break
			}
		}
		_ = c.nc.Close()
		for {
			select {
			case <-s.closed:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			nc, err := s.connect(ctx)
			cancel()
			if err == nil {
				c = nc
				break
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.closed:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}
}

func (s *rawSession) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		close(s.closed)
		c := s.conn
		s.mu.Unlock()
		if c != nil {
			// The loop goroutine owns the reads, so no closing
			// handshake here: just end the connection.
			_ = c.nc.Close()
		}
	})
	s.wg.Wait()
	return nil
}
