package realtimetest

import (
	"context"
	"errors"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rxrealtime/rxrealtime/transport"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// conn is one client socket. Its reader runs in the HTTP handler goroutine,
// its writer in a goroutine of its own that drains an unbounded queue, so
// that frames are written in exactly the order the server produced them and
// no fan-out ever blocks on a slow client.
type conn struct {
	s       *Server
	id      ConnID
	tc      *transport.Conn
	ser     phoenix.Serializer
	vsn     string
	token   string // the socket's apikey (x-api-key header or apikey param)
	remote  string
	params  url.Values // the handshake query without apikey
	started time.Time
	refused atomic.Bool // CloseOn matched a frame: the connection is closing, nothing more is read

	// Guarded by s.mu.
	channels map[string]*channel // topic → channel
	counted  bool                // counted in s.users
	dead     bool

	out  outQueue
	done chan struct{} // closed when the connection is torn down
	idle *time.Timer
}

// outItem is one queued write.
type outItem struct {
	data   []byte
	binary bool
	msg    phoenix.Message
	reply  bool // a phx_reply: subject to DelayReplies / DropReplies
	close  bool // send a close frame with code and stop writing
	code   transport.StatusCode
}

// outQueue is an unbounded FIFO with a wake-up signal.
type outQueue struct {
	mu    sync.Mutex
	items []outItem
	wake  chan struct{} // capacity 1
}

func (q *outQueue) push(it outItem) {
	q.mu.Lock()
	q.items = append(q.items, it)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop returns the next item, waiting for one until done is closed.
func (q *outQueue) pop(done <-chan struct{}) (outItem, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			it := q.items[0]
			q.items[0] = outItem{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return it, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-done:
			return outItem{}, false
		}
	}
}

// register adds an upgraded socket and starts its writer; it returns nil if
// the server is stopping. On success the caller must call s.connWG.Done
// when its read loop returns.
func (s *Server) register(tc *transport.Conn, ser phoenix.Serializer, token string, params url.Values) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.nextID++
	c := &conn{
		s:        s,
		id:       s.nextID,
		tc:       tc,
		ser:      ser,
		vsn:      ser.Version(),
		token:    token,
		remote:   tc.RemoteAddr().String(),
		params:   params,
		started:  time.Now(),
		channels: map[string]*channel{},
		done:     make(chan struct{}),
	}
	c.out.wake = make(chan struct{}, 1)
	s.conns[c.id] = c
	s.connWG.Add(2) // reader (the handler) and writer
	go c.writeLoop()
	c.idle = time.AfterFunc(s.cfg.idleTimeout, c.checkIdle)
	return c
}

// checkIdle closes the socket with 1000 when nothing arrived for the idle
// timeout, as Cowboy does, and re-arms itself otherwise.
func (c *conn) checkIdle() {
	idleFor := time.Since(c.tc.LastRead())
	if idleFor >= c.s.cfg.idleTimeout {
		_ = c.tc.Close(transport.StatusNormalClosure, "")
		return
	}
	c.s.mu.Lock()
	if !c.dead {
		c.idle.Reset(c.s.cfg.idleTimeout - idleFor)
	}
	c.s.mu.Unlock()
}

// readLoop reads frames until the socket ends, then tears the connection
// down.
func (c *conn) readLoop() {
	var frames int64
	abort := true
	for {
		data, binary, err := c.tc.ReadFrame()
		if err != nil {
			// Closed on this side: by a drop (the socket is gone already) or by a close under way, whose
			// close frame must not be cut off by dropping the socket under it.
			abort = !errors.Is(err, net.ErrClosed)
			break
		}
		c.s.handleFrame(c, data, binary)
		frames++
		// A connection closing for a frame it would not take (CloseOn) is not dropped as well: its close
		// frame, with the code that tells the client which frame, goes out first.
		if n := c.s.faults.dropAfter.Load(); n > 0 && frames >= n && !c.refused.Load() {
			_ = c.tc.CloseNow()
			break
		}
	}
	c.s.dropConn(c, abort)
}

// writeLoop writes queued frames in order until the connection is torn down
// or a write fails.
func (c *conn) writeLoop() {
	defer c.s.connWG.Done()
	f := &c.s.faults
	for {
		it, ok := c.out.pop(c.done)
		if !ok {
			return
		}
		if held := f.held(); held != nil { // HoldWrites: it and what follows wait
			select {
			case <-held:
			case <-c.done:
				return
			}
		}
		if it.close {
			_ = c.tc.Close(it.code, "")
			return
		}
		if f.drops(it.reply) {
			continue
		}
		if it.reply {
			if d := time.Duration(f.replyDelay.Load()); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-c.done:
					t.Stop()
					return
				}
			}
		}
		if f.drops(it.reply) { // checked again: the fault may have begun meanwhile
			continue
		}
		// Recorded before the write, so that a client never sees a frame
		// the recorder does not have yet.
		c.s.rec.add(Frame{Dir: Out, Conn: c.id, Time: time.Now(), Data: it.data, Binary: it.binary, Msg: it.msg})
		if err := c.tc.WriteFrame(context.Background(), it.data, it.binary); err != nil {
			return // the socket is closed; the reader notices and cleans up
		}
	}
}

// dropConn removes a finished connection and everything it joined. With
// abort it closes the socket at once; without, the socket is left to the
// close already under way on this side.
func (s *Server) dropConn(c *conn, abort bool) {
	if abort {
		_ = c.tc.CloseNow()
	}
	s.mu.Lock()
	if !c.dead {
		c.dead = true
		c.idle.Stop()
		for _, ch := range c.channels {
			s.removeChannel(ch)
		}
		delete(s.conns, c.id)
		if c.counted {
			s.users--
			c.counted = false
		}
		close(c.done)
	}
	s.mu.Unlock()
}

// send encodes m with the connection's serializer and queues it. V1 frames
// never carry join_ref, as the real server's V1 serializer never writes it.
// The caller holds s.mu.
func (c *conn) send(m phoenix.Message, reply bool) {
	if c.dead {
		return
	}
	if m.JoinRef != "" {
		if ch := c.channels[m.Topic]; ch != nil && ch.holding && ch.joinRef == m.JoinRef {
			ch.held = append(ch.held, heldFrame{m: m, reply: reply}) // behind its slow replay
			return
		}
	}
	if c.vsn == phoenix.VersionV1 {
		m.JoinRef = ""
	}
	if c.s.faults.drops(reply) {
		return
	}
	data, binary, err := c.ser.Encode(nil, &m)
	if err != nil {
		return // a message this serializer cannot carry is not sent, as on the real server
	}
	c.out.push(outItem{data: data, binary: binary, msg: m, reply: reply})
}

// sendEncoded queues an already encoded frame. The caller holds s.mu.
func (c *conn) sendEncoded(data []byte, binary bool, m phoenix.Message) {
	if c.dead || c.s.faults.drops(false) {
		return
	}
	c.out.push(outItem{data: data, binary: binary, msg: m})
}

// closeAfterQueued queues a close frame behind everything already queued.
// The caller holds s.mu.
func (c *conn) closeAfterQueued(code transport.StatusCode) {
	if c.dead {
		return
	}
	c.out.push(outItem{close: true, code: code})
}

// reply queues a phx_reply with status and a raw JSON response. The caller
// holds s.mu.
func (c *conn) reply(joinRef, ref, topic, status string, response []byte) {
	p := make([]byte, 0, len(response)+32)
	p = append(p, `{"status":`...)
	p = appendString(p, status)
	p = append(p, `,"response":`...)
	p = append(p, response...)
	p = append(p, '}')
	c.send(phoenix.Message{JoinRef: joinRef, Ref: ref, Topic: topic, Event: phoenix.EventReply, Payload: p}, true)
}
