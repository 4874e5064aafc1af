package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	gojson "github.com/goccy/go-json"
	segjson "github.com/segmentio/encoding/json"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
)

// Decoder is a std-compatible JSON unmarshal function with a name.
type Decoder struct {
	Name      string
	Unmarshal func(data []byte, v any) error
}

// The std-compatible decoders the floor is measured with.
var (
	StdJSON       = Decoder{Name: "encoding-json", Unmarshal: json.Unmarshal}
	GoccyJSON     = Decoder{Name: "goccy", Unmarshal: gojson.Unmarshal}
	SegmentioJSON = Decoder{Name: "segmentio", Unmarshal: segjson.Unmarshal}
)

// Decoders lists every floor decoder.
var Decoders = []Decoder{StdJSON, GoccyJSON, SegmentioJSON}

// Floor returns the floor runner for d: a raw gobwas/ws client that decodes
// every change frame into [frames.Row] with d and does nothing else: no
// routing, no delivery, no copies. vsn 1.0.0 frames are decoded whole in one
// pass ([frames.V1Frame]); vsn 2.0.0 frames are split with
// [frames.SplitV2] and their payload decoded in one pass
// ([frames.Payload]). Pipelines is ignored: the floor has no consumers.
func Floor(d Decoder) Runner { return floor{d} }

type floor struct{ d Decoder }

func (f floor) Name() string { return "floor/" + f.d.Name }

func (f floor) Run(ctx context.Context, s Spec) (Result, error) {
	s = s.Norm()
	c, err := dialRaw(ctx, s.URL(), s.Vsn)
	if err != nil {
		return Result{}, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.Close() })
	defer stop()
	defer c.close()

	r := Result{Decoded: true}
	rec := NewRecorder(s)
	var start time.Time
	for _, t := range frames.Topics(s.Channels) {
		if _, err := c.join(t); err != nil {
			return r, fmt.Errorf("workload: join %s: %w", t, err)
		}
	}
	for {
		text, err := c.next()
		if err != nil {
			return r, runErr(ctx, err)
		}
		msgs := r.Msgs
		done, err := f.decode(s.Vsn, text, &r, rec)
		if err != nil {
			return r, err
		}
		if msgs == 0 && r.Msgs == 1 {
			start = time.Now()
		}
		if done {
			r.Elapsed = since(start)
			r.Latency = rec.Summary()
			return r, nil
		}
	}
}

// decode decodes one frame, counting a change into r; it reports whether
// the frame ended the burst.
func (f floor) decode(v frames.Vsn, text []byte, r *Result, rec *Recorder) (bool, error) {
	if v == frames.V1 {
		var m frames.V1Frame
		if err := f.d.Unmarshal(text, &m); err != nil {
			return false, fmt.Errorf("workload: %s: decode frame: %w", f.d.Name, err)
		}
		switch m.Event {
		case frames.Event:
			r.Msgs++
			r.IDSum += m.Payload.Data.Record.ID
			rec.Add(m.Payload.Data.Record.CreatedAt, time.Now())
			return false, nil
		case frames.BroadcastEvent:
			return true, nil
		}
		return false, nil
	}
	e, err := frames.SplitV2(text)
	if err != nil {
		return false, err
	}
	switch string(e.Event) {
	case frames.Event:
		var p frames.Payload
		if err := f.d.Unmarshal(e.Payload, &p); err != nil {
			return false, fmt.Errorf("workload: %s: decode payload: %w", f.d.Name, err)
		}
		r.Msgs++
		r.IDSum += p.Data.Record.ID
		rec.Add(p.Data.Record.CreatedAt, time.Now())
	case frames.BroadcastEvent:
		return true, nil
	}
	return false, nil
}

// since returns the time since start, or 0 if nothing was delivered.
func since(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}

// runErr prefers ctx's error when ctx ended the run.
func runErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("workload: burst ended early: %w", err)
}

// Source returns the source-capacity probe: a raw client that reads every
// frame off the socket and discards it after a glance at its first bytes
// (enough to tell a change from the end-of-burst broadcast). Its rate is
// what the frame source can emit; it must stay well above every client's.
func Source() Runner { return source{} }

type source struct{}

func (source) Name() string { return "source" }

func (source) Run(ctx context.Context, s Spec) (Result, error) {
	s = s.Norm()
	c, err := dialRaw(ctx, s.URL(), s.Vsn)
	if err != nil {
		return Result{}, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.Close() })
	defer stop()
	defer c.close()

	var r Result
	var start time.Time
	for _, t := range frames.Topics(s.Channels) {
		if _, err := c.join(t); err != nil {
			return r, fmt.Errorf("workload: join %s: %w", t, err)
		}
	}
	var head [80]byte
	for {
		n, err := c.skip(head[:])
		if err != nil {
			return r, runErr(ctx, err)
		}
		switch classify(s.Vsn, head[:n]) {
		case frames.Event:
			r.Msgs++
			if r.Msgs == 1 {
				start = time.Now()
			}
		case frames.BroadcastEvent:
			r.Elapsed = since(start)
			return r, nil
		}
	}
}

// classify finds the event among the first bytes of a server frame: the
// event element of a vsn 2.0.0 array sits between commas, the event of a
// vsn 1.0.0 object follows its key. Payloads that merely mention
// "postgres_changes" (join replies, system messages) do not match.
func classify(v frames.Vsn, head []byte) string {
	pats := &v2Patterns
	if v == frames.V1 {
		pats = &v1Patterns
	}
	for i, ev := range [...]string{frames.Event, frames.BroadcastEvent} {
		if bytes.Contains(head, pats[i]) {
			return ev
		}
	}
	return ""
}

var (
	v1Patterns = [2][]byte{[]byte(`"event":"` + frames.Event + `"`), []byte(`"event":"` + frames.BroadcastEvent + `"`)}
	v2Patterns = [2][]byte{[]byte(`,"` + frames.Event + `",`), []byte(`,"` + frames.BroadcastEvent + `",`)}
)
