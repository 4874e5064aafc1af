package source

import (
	"sync"

	"github.com/rxrealtime/rxrealtime/stream"
	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// topicHandler is the channel state machine attached to a topic. Its
// methods run on the socket's reader goroutine and must not block.
type topicHandler interface {
	// handle sees every message for the topic before its stream does.
	// It returns false to keep the message off the topic stream (for
	// instance one carrying a stale join_ref).
	handle(m *phoenix.Message) bool
	// socketOpened is called when a session opens.
	socketOpened()
	// socketClosed is called when a session ends.
	socketClosed(cause error)
}

// route is one topic's entry in the router: its hot stream and, for a
// channel, the state machine that sees messages first. An idle route owns
// no goroutine.
type route struct {
	topic string
	hub   *stream.Hub[phoenix.Message]
	// changes carries the topic's postgres_changes with their envelope
	// parsed once by the reader, for the typed Changes streams.
	changes *stream.Hub[*inboundChange]
	handler topicHandler
	// owned are the other streams of the topic's channel (presence events), completed with the route.
	owned []interface{ Complete(error) }
}

// router maps topics to routes. Lookups are lock-free (sync.Map is built
// for keys written once and read often), so routing cost does not depend
// on the number of topics.
type router struct {
	routes   sync.Map // string → *route
	mu       sync.Mutex
	newRoute func(topic string) *route // a route with its hubs (set by New)
}

func (r *router) get(topic string) *route {
	v, ok := r.routes.Load(topic)
	if !ok {
		return nil
	}
	return v.(*route)
}

// ensure returns the topic's route, creating it if needed.
func (r *router) ensure(topic string) *route {
	if rt := r.get(topic); rt != nil {
		return rt
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if rt := r.get(topic); rt != nil {
		return rt
	}
	rt := r.newRoute(topic)
	r.routes.Store(topic, rt)
	return rt
}

// attach sets the topic's handler, keeping its stream if one exists.
// Routes are immutable once stored, so the reader never sees a half-made
// one: attach stores a new route that shares the old hub.
func (r *router) attach(topic string, h topicHandler, owned ...interface{ Complete(error) }) *route {
	r.mu.Lock()
	defer r.mu.Unlock()
	rt := r.newRoute(topic)
	if old := r.get(topic); old != nil {
		rt.hub, rt.changes = old.hub, old.changes
	}
	rt.handler, rt.owned = h, owned
	r.routes.Store(topic, rt)
	return rt
}

// detach removes rt if it is still the topic's route, and completes every stream it owns: the one place
// a topic's streams end, whatever ended the channel.
func (r *router) detach(rt *route, err error) {
	r.mu.Lock()
	if v, ok := r.routes.Load(rt.topic); ok && v.(*route) == rt {
		r.routes.Delete(rt.topic)
	}
	r.mu.Unlock()
	rt.complete(err)
}

// remove drops the topic's route and completes its stream.
func (r *router) remove(topic string, err error) {
	r.mu.Lock()
	v, ok := r.routes.LoadAndDelete(topic)
	r.mu.Unlock()
	if ok {
		v.(*route).complete(err)
	}
}

// each calls f for every route.
func (r *router) each(f func(*route)) {
	r.routes.Range(func(_, v any) bool {
		f(v.(*route))
		return true
	})
}

// closeAll completes every topic stream.
func (r *router) closeAll(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes.Range(func(k, v any) bool {
		r.routes.Delete(k)
		v.(*route).complete(err)
		return true
	})
}

// complete ends every stream of the route.
func (rt *route) complete(err error) {
	rt.hub.Complete(err)
	rt.changes.Complete(err)
	for _, h := range rt.owned {
		h.Complete(err)
	}
}
