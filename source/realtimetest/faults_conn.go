package realtimetest

// DropConn drops one connection abruptly, as [Faults.DropAll] does for
// every connection: its TCP connection is closed without a WebSocket close
// frame (the client sees 1006), and the server forgets its channels. It
// reports whether id was a live connection (see [Server.Clients]).
func (f *Faults) DropConn(id ConnID) bool {
	f.s.settle()
	f.s.mu.Lock()
	c := f.s.conns[id]
	f.s.mu.Unlock()
	if c == nil {
		return false
	}
	_ = c.tc.CloseNow()
	return true
}
