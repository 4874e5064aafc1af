package realtimetest

import (
	"context"
	"net"
	"sync"
)

// PipeHost is the host of a server started [WithPipe]: its URL is
// ws://realtimetest.pipe/socket, reachable only through [Server.DialPipe].
const PipeHost = "realtimetest.pipe:80"

// WithPipe makes the server listen on an in-memory pipe instead of a TCP
// port: clients connect with [Server.DialPipe] as their dial function
// (transport.WithNetDialer, source.WithDialer). Nothing touches the
// network stack, so the whole exchange, timers included, can run inside a
// testing/synctest bubble, where heartbeat intervals of 25 s pass in no
// real time. Stop, Start and Restart work as on TCP. Its example is a whole
// test of one's own code this way, dropping one client's connection.
func WithPipe() Option { return func(c *config) { c.pipe = true } }

// DialPipe connects to a server started [WithPipe]. Its signature is a
// dial function's; network and addr are ignored.
func (s *Server) DialPipe(ctx context.Context, network, addr string) (net.Conn, error) {
	s.mu.Lock()
	l := s.pipe
	s.mu.Unlock()
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: ErrNoPipe}
	}
	return l.dial(ctx)
}

// pipeListener is a net.Listener over net.Pipe connections.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
	case <-ctx.Done():
	}
	_ = client.Close()
	_ = server.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, &net.OpError{Op: "dial", Net: "pipe", Err: ErrNoPipe}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return PipeHost }
