package realtimetest

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// uuidEpochOffset is the number of 100 ns intervals between the UUID epoch
// (1582-10-15) and the Unix epoch.
const uuidEpochOffset = 0x01B21DD213814000

var uuidState struct {
	mu       sync.Mutex
	last     uint64
	clockSeq uint16
	node     [6]byte
	init     bool
}

// newUUIDv1 returns a time-based (version 1) UUID with a random node id, the
// kind the real server generates for presence keys (UUID.uuid1/0).
func newUUIDv1() string {
	st := &uuidState
	st.mu.Lock()
	if !st.init {
		var b [8]byte
		_, _ = rand.Read(b[:])
		st.clockSeq = uint16(b[0])<<8 | uint16(b[1])
		copy(st.node[:], b[2:])
		st.node[0] |= 0x01 // multicast bit: not a real MAC address
		st.init = true
	}
	ts := uint64(time.Now().UnixNano()/100) + uuidEpochOffset
	if ts <= st.last {
		ts = st.last + 1
	}
	st.last = ts
	seq, node := st.clockSeq, st.node
	st.mu.Unlock()

	var u [16]byte
	timeLow := uint32(ts)
	timeMid := uint16(ts >> 32)
	timeHi := uint16(ts>>48)&0x0fff | 0x1000
	u[0], u[1], u[2], u[3] = byte(timeLow>>24), byte(timeLow>>16), byte(timeLow>>8), byte(timeLow)
	u[4], u[5] = byte(timeMid>>8), byte(timeMid)
	u[6], u[7] = byte(timeHi>>8), byte(timeHi)
	u[8] = byte(seq>>8)&0x3f | 0x80
	u[9] = byte(seq)
	copy(u[10:], node[:])
	return formatUUID(u)
}

// newUUIDv4 returns a random (version 4) UUID, as gen_random_uuid()
// gives realtime.messages ids.
func newUUIDv4() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

// formatUUID writes u in the canonical 8-4-4-4-12 hex form.
func formatUUID(u [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return string(out[:])
}
