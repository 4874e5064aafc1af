package transport

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// WriteFrames writes a batch of frames, text and binary, masked, in order, with one write to the socket, and
// leaves the callers' data as it was.
func TestWriteFramesOneSocketWriteInOrder(t *testing.T) {
	c, mc := memClient(t, nil)
	var frames []Frame
	var want [][]byte
	for i := range 50 {
		p := bytes.Repeat([]byte{byte('a' + i%26)}, 10+i)
		frames = append(frames, Frame{Data: p, Binary: i%3 == 0})
		want = append(want, bytes.Clone(p))
	}
	require.NoError(t, c.WriteFrames(testCtx(t), frames...))
	mc.mu.Lock()
	writes := mc.writes
	mc.mu.Unlock()
	assert.Equal(t, 1, writes, "one socket write for the batch")
	r := bytes.NewReader(mc.written())
	for i, w := range want {
		h, p, err := readClientFrame(r)
		require.NoError(t, err, "frame %d", i)
		assert.True(t, h.Fin)
		wantOp := ws.OpText
		if i%3 == 0 {
			wantOp = ws.OpBinary
		}
		assert.Equal(t, wantOp, h.OpCode, "frame %d", i)
		assert.Equal(t, w, p, "frame %d", i)
		assert.Equal(t, w, frames[i].Data, "frame %d's data is not modified", i)
	}
	assert.Zero(t, r.Len(), "nothing after the batch")
	require.NoError(t, c.WriteFrames(testCtx(t)), "an empty batch does nothing")
}

// A batch larger than the write buffer is still whole and in order; a concurrent WriteFrame never lands
// inside it.
func TestWriteFramesLargeBatchNotInterleaved(t *testing.T) {
	c, mc := memClient(t, nil, WithWriteBufferSize(1024))
	big := make([]Frame, 100)
	for i := range big {
		big[i] = Frame{Data: bytes.Repeat([]byte{'b'}, 300)}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { assert.NoError(t, c.WriteFrames(testCtx(t), big...)) })
		wg.Go(func() { assert.NoError(t, c.WriteFrame(testCtx(t), []byte("single"), false)) })
	}
	wg.Wait()
	r := bytes.NewReader(mc.written())
	run := 0
	for r.Len() > 0 {
		_, p, err := readClientFrame(r)
		require.NoError(t, err)
		if string(p) == "single" {
			assert.Zero(t, run%100, "a single frame inside a batch")
			continue
		}
		run++
	}
	assert.Equal(t, 400, run)
}

// A failed batch blocks later writes, as a failed WriteFrame does.
func TestWriteFramesFailureBlocksLaterWrites(t *testing.T) {
	c, mc := memClient(t, nil)
	boom := errors.New("boom")
	mc.mu.Lock()
	mc.writeErr = boom
	mc.mu.Unlock()
	err := c.WriteFrames(testCtx(t), Frame{Data: []byte("a")}, Frame{Data: []byte("b")})
	require.ErrorIs(t, err, boom)
	mc.mu.Lock()
	mc.writeErr = nil
	mc.mu.Unlock()
	assert.ErrorIs(t, c.WriteFrames(testCtx(t), Frame{Data: []byte("c")}), boom)
	assert.ErrorIs(t, c.WriteFrame(testCtx(t), []byte("d"), false), boom)
}
