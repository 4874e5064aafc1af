package socket

import (
	"sync"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// Route: the second step of the frame path. A decoded message's reply goes to its push (reply.go), then
// the message goes to its topic's route, found with a map lookup whose cost does not depend on the number
// of topics; deliver.go hands it on.

// Handler is the owner of a topic's route (a channel). Its methods are called on the socket's goroutines
// and must not block.
type Handler interface {
	// Handle sees every message of the topic, on the reader goroutine, before the topic's stream does; it
	// returns false to keep the message off the stream (a stale join_ref, say).
	Handle(m *phoenix.Message) bool
	// Opened is told that a session opened: rejoin.
	Opened()
	// Lost is told that the session ended with cause; another one is being dialled.
	Lost(cause error)
	// Returned gives back the messages bound to the handler's join that the session never wrote, in
	// order: send them again under the next join (or fail them).
	Returned(msgs []Returned)
	// Stopped is told that the socket stopped for good: err is nil after Close, else why it gave up.
	Stopped(err error)
}

// Returned is a message handed back to its channel (Handler.Returned). Done, when not nil, is how its
// push learns its outcome: pass it to PushAsync when sending the message again, or call it with an error.
type Returned struct {
	M    *phoenix.Message
	Done func(Reply, error)
}

// Route is one topic's entry: its hot stream and, for a channel, the handler that sees messages first.
// An idle route owns no goroutine.
type Route struct {
	topic   string
	hub     *stream.Hub[phoenix.Message]
	handler Handler
	r       *router
}

// Stream is the hot stream of the route's messages.
func (rt *Route) Stream() stream.Stream[phoenix.Message] { return rt.hub.Stream() }

// Hub is the route's hub, for streams that filter on the reader (stream.Hub.Where).
func (rt *Route) Hub() *stream.Hub[phoenix.Message] { return rt.hub }

// router maps topics to routes. Lookups are lock-free (sync.Map is built for keys written once and read
// often), so routing cost does not depend on the number of topics.
type router struct {
	routes sync.Map // string → *Route
	mu     sync.Mutex
	newHub func(topic string) *stream.Hub[phoenix.Message]
}

func (r *router) get(topic string) *Route {
	v, ok := r.routes.Load(topic)
	if !ok {
		return nil
	}
	return v.(*Route)
}

// Topic returns the hot stream of the messages on topic. It costs a map entry; it owns no goroutine until
// observed.
func (s *Socket) Topic(topic string) stream.Stream[phoenix.Message] {
	r := &s.routes
	if rt := r.get(topic); rt != nil {
		return rt.Stream()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rt := r.get(topic); rt != nil {
		return rt.Stream()
	}
	rt := &Route{topic: topic, hub: r.newHub(topic), r: r}
	r.routes.Store(topic, rt)
	return rt.Stream()
}

// Attach makes h the handler of topic's route, keeping the topic's stream if it has one. Routes are
// immutable once stored, so the reader never sees a half-made one: Attach stores a new route that shares
// the old hub.
func (s *Socket) Attach(topic string, h Handler) *Route {
	r := &s.routes
	r.mu.Lock()
	defer r.mu.Unlock()
	rt := &Route{topic: topic, handler: h, r: r}
	if old := r.get(topic); old != nil {
		rt.hub = old.hub
	} else {
		rt.hub = r.newHub(topic)
	}
	r.routes.Store(topic, rt)
	return rt
}

// Close removes rt if it is still its topic's route, and completes its stream with err: the one place
// a topic's stream ends, whatever ended its channel.
func (rt *Route) Close(err error) {
	r := rt.r
	r.mu.Lock()
	if v, ok := r.routes.Load(rt.topic); ok && v.(*Route) == rt {
		r.routes.Delete(rt.topic)
	}
	r.mu.Unlock()
	rt.hub.Complete(err)
}

// each calls f for every route.
func (r *router) each(f func(*Route)) {
	r.routes.Range(func(_, v any) bool {
		f(v.(*Route))
		return true
	})
}

// closeAll completes every topic stream.
func (r *router) closeAll(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes.Range(func(k, v any) bool {
		r.routes.Delete(k)
		v.(*Route).hub.Complete(err)
		return true
	})
}

// Dispatch routes m as if the reader had just decoded it: for benchmarks of the routing path.
func (s *Socket) Dispatch(m *phoenix.Message) { s.dispatch(m) }

// dispatch routes one incoming message: a reply to its push, then the message to its topic's route and
// to the stream of every message.
func (s *Socket) dispatch(m *phoenix.Message) {
	if m.Event == phoenix.EventReply && m.Ref != "" {
		s.pending.resolve(m)
	}
	s.deliver(s.routes.get(m.Topic), m)
}
