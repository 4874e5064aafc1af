package frames

import (
	"bytes"
	"fmt"

	"github.com/gobwas/ws"
)

// DefaultRing is how many distinct frames a [Burst] holds by default; a
// burst of more frames cycles through them.
const DefaultRing = 1024

// Burst is a pre-encoded stream of server WebSocket frames (unmasked text
// frames, header and payload back to back) carrying change frames for one
// or more channels. Frame i of an endless stream is ring frame i mod
// [Burst.Len]; ring frame j goes to channel j mod [Burst.Channels] and
// carries the row with id j+1.
//
// A Burst is immutable and safe for concurrent use.
type Burst struct {
	vsn      Vsn
	topics   []string
	rows     []Row
	wire     []byte
	offs     []int   // offs[j]: start of ring frame j in wire; offs[len] = len(wire)
	hdrs     []int   // hdrs[j]: WebSocket header size of ring frame j
	idPrefix []int64 // idPrefix[j]: sum of the record ids of ring frames [0, j)
}

// NewBurst pre-encodes a ring of at least ring frames (rounded up to a
// multiple of channels) for channels channels ([Topics]) in vsn v.
func NewBurst(v Vsn, channels, ring int) (*Burst, error) {
	if v != V1 && v != V2 {
		return nil, fmt.Errorf("%w: %d", ErrVsn, int(v))
	}
	if channels < 1 {
		return nil, fmt.Errorf("frames: %d channels: need at least 1", channels)
	}
	if ring < 1 {
		ring = DefaultRing
	}
	k := (ring + channels - 1) / channels * channels
	b := &Burst{
		vsn:      v,
		topics:   Topics(channels),
		rows:     Rows(k),
		offs:     make([]int, k+1),
		hdrs:     make([]int, k),
		idPrefix: make([]int64, k+1),
	}
	var buf bytes.Buffer
	var text []byte
	for j := range b.rows {
		text = AppendChange(text[:0], v, b.topics[j%channels], &b.rows[j])
		h := ws.Header{Fin: true, OpCode: ws.OpText, Length: int64(len(text))}
		b.offs[j] = buf.Len()
		if err := ws.WriteHeader(&buf, h); err != nil {
			return nil, err
		}
		b.hdrs[j] = buf.Len() - b.offs[j]
		buf.Write(text)
		b.idPrefix[j+1] = b.idPrefix[j] + b.rows[j].ID
	}
	b.offs[k] = buf.Len()
	b.wire = buf.Bytes()
	return b, nil
}

// Vsn returns the serializer the frames are encoded with.
func (b *Burst) Vsn() Vsn { return b.vsn }

// Len returns the number of distinct frames in the ring.
func (b *Burst) Len() int { return len(b.rows) }

// Channels returns the number of channels the frames go to.
func (b *Burst) Channels() int { return len(b.topics) }

// Topics returns the channels' topics; the caller must not modify it.
func (b *Burst) Topics() []string { return b.topics }

// Row returns the row ring frame j carries.
func (b *Burst) Row(j int) *Row { return &b.rows[j] }

// Text returns the JSON text of ring frame j (the WebSocket payload).
func (b *Burst) Text(j int) []byte { return b.wire[b.offs[j]+b.hdrs[j] : b.offs[j+1]] }

// Wire returns ring frames [i, j) as WebSocket bytes, ready to write.
func (b *Burst) Wire(i, j int) []byte { return b.wire[b.offs[i]:b.offs[j]] }

// WireBytes returns the number of WebSocket bytes of the whole ring.
func (b *Burst) WireBytes() int { return len(b.wire) }

// MeanText returns the mean JSON text size of a frame, in bytes.
func (b *Burst) MeanText() int {
	sum := 0
	for j := range b.rows {
		sum += b.offs[j+1] - b.offs[j] - b.hdrs[j]
	}
	return sum / len(b.rows)
}

// IDSum returns the sum of the record ids of the first n frames of the
// endless stream: the checksum a client that decoded every frame reports.
func (b *Burst) IDSum(n int) int64 {
	k := len(b.rows)
	full, rest := n/k, n%k
	return int64(full)*b.idPrefix[k] + b.idPrefix[rest]
}
