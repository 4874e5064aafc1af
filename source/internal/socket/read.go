package socket

import "github.com/rxrealtime/rxrealtime/transport/phoenix"

// Read and decode: the first step of the frame path. One goroutine per session reads the socket and
// decodes each frame's envelope (join_ref, ref, topic, event and the bounds of the payload, which stays
// in the frame: whoever reads the payload checks it); route.go takes it from there.

// readLoop reads, decodes and emits frames until the socket fails; its error is why.
func (s *Socket) readLoop(ss *session, emit func(phoenix.Message) bool) error {
	m := new(phoenix.Message) // one per session: decoding through the interface would move each to the heap
	for {
		data, binary, err := ss.conn.ReadFrame()
		if err != nil {
			return err
		}
		s.framesIn.Add(1)
		s.bytesIn.Add(uint64(len(data)))
		*m = phoenix.Message{}
		if err := s.cfg.Serializer.Decode(m, data, binary); err != nil {
			s.decodeErrors.Add(1)
			s.report(err) // the server ignores malformed frames; so do we, once reported
			continue
		}
		if t := s.traffic; t != nil { // off by default: this branch is all it costs
			t.in(m, len(data))
		}
		if !emit(*m) {
			return nil
		}
	}
}
