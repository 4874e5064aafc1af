package source

// A channel's "joined" and "SUBSCRIBED" signals are Go channels closed while the state holds. An idle
// joined channel would keep two closed channels of its own (about 200 bytes); instead a signal is nil until
// someone waits for it, and a fired signal is the one shared closed channel. All three helpers run with the
// owner's lock held.

// closedSignal is the shared fired signal.
var closedSignal = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// waitChan returns the signal to wait on, making it if nobody has yet.
func waitChan(p *chan struct{}) chan struct{} {
	if *p == nil {
		*p = make(chan struct{})
	}
	return *p
}

// fire closes the signal (waking whoever waits on it) and leaves it fired.
func fire(p *chan struct{}) {
	if *p != nil && *p != closedSignal {
		close(*p)
	}
	*p = closedSignal
}

// rearm makes a fired signal unfired again; an unfired one keeps its waiters.
func rearm(p *chan struct{}) {
	if *p == closedSignal {
		*p = nil
	}
}
