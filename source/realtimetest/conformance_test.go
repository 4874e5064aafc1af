package realtimetest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rxrealtime/rxrealtime/transport/phoenix"
)

// conformanceDir holds the realtime-js project (package.json, lock file and
// conformance.js); testdata is ignored by the go tool.
const conformanceDir = "testdata/conformance"

// conformanceChecks are the checks conformance.js must report as PASS.
var conformanceChecks = []string{
	"subscribe-v2", "postgres-v2", "broadcast-v2", "presence-v2",
	"subscribe-v1", "postgres-v1", "broadcast-v1", "presence-v1",
	"persist-replay", "token-expiry", "reconnect", "heartbeat-timeout", "shared-channel",
}

// TestConformanceRealtimeJS runs the official client, @supabase/realtime-js
// (pinned in testdata/conformance/package.json), against the server. It is
// skipped when node or npm is missing, except in CI (CI=true) where that is
// a failure.
func TestConformanceRealtimeJS(t *testing.T) {
	node, errNode := exec.LookPath("node")
	npm, errNpm := exec.LookPath("npm")
	if errNode != nil || errNpm != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and npm are required in CI (node: %v, npm: %v)", errNode, errNpm)
		}
		t.Skip("node or npm not installed; the realtime-js conformance check needs both")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	if _, err := os.Stat(filepath.Join(conformanceDir, "node_modules", "@supabase", "realtime-js")); err != nil {
		install := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
		install.Dir = conformanceDir
		out, err := install.CombinedOutput()
		require.NoError(t, err, "npm ci failed:\n%s", out)
	}

	const secret = "conformance-secret-with-at-least-32-characters"
	s := newServer(t, WithJWTSecret(secret))

	cmd := exec.CommandContext(ctx, node, "conformance.js")
	cmd.Dir = conformanceDir
	cmd.Env = append(os.Environ(), "REALTIME_URL="+s.URL(), "REALTIME_JWT_SECRET="+secret)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())

	passed := map[string]bool{}
	var failures, transcript []string
	ended := false
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		transcript = append(transcript, line)
		kw, rest, _ := strings.Cut(line, " ")
		switch kw {
		case "ACTION":
			conformanceAction(t, s, rest, stdin)
		case "PASS":
			passed[rest] = true
		case "FAIL":
			failures = append(failures, rest)
		case "END":
			ended = true
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	log := strings.Join(transcript, "\n") + "\n" + stderr.String()
	t.Logf("conformance.js transcript:\n%s", log)
	require.NoError(t, waitErr, "conformance.js failed:\n%s", log)
	require.True(t, ended, "conformance.js did not finish:\n%s", log)
	assert.Empty(t, failures, "failed checks:\n%s", log)
	for _, c := range conformanceChecks {
		assert.True(t, passed[c], "check %s did not pass:\n%s", c, log)
	}

	// The wire as the official client spoke it: vsn 2.0.0 broadcasts are
	// binary kind 3 in and kind 4 out, vsn 1.0.0 ones JSON text both ways.
	frames := s.Frames()
	has := func(what string, match func(Frame) bool) {
		t.Helper()
		for _, f := range frames {
			if match(f) {
				return
			}
		}
		t.Errorf("the recorder has no %s", what)
	}
	has("kind 3 broadcast from realtime-js (vsn 2.0.0)", func(f Frame) bool {
		return f.Dir == In && f.Binary && f.Msg.Kind == phoenix.KindUserBroadcastPush &&
			f.Msg.Topic == "realtime:room-v2" && f.Msg.UserEvent == "cursor" && !f.Msg.Binary
	})
	has("kind 4 broadcast to realtime-js (vsn 2.0.0)", func(f Frame) bool {
		return f.Dir == Out && f.Binary && f.Data[0] == 4 && f.Msg.Topic == "realtime:room-v2"
	})
	has("JSON broadcast from realtime-js (vsn 1.0.0)", func(f Frame) bool {
		return f.Dir == In && !f.Binary && f.Msg.Kind == phoenix.KindJSON && f.Msg.Topic == "realtime:room-v1" &&
			f.Msg.Event == phoenix.EventBroadcast && bytes.Contains(f.Data, []byte(`"event":"cursor"`))
	})
	has("JSON broadcast to realtime-js (vsn 1.0.0)", func(f Frame) bool {
		return f.Dir == Out && !f.Binary && f.Msg.Topic == "realtime:room-v1" && f.Msg.Event == phoenix.EventBroadcast
	})
	has("ack of the vsn 2.0.0 broadcast", func(f Frame) bool {
		return f.Dir == Out && f.Msg.Topic == "realtime:room-v2" && f.Msg.Event == phoenix.EventReply && f.Msg.Ref != "" &&
			bytes.Contains(f.Data, []byte(`{"status":"ok","response":{}}`))
	})
	// persist-replay: realtime-js's persist metadata on kind 3, httpSend's
	// persist query (the server stored it), and the replays it received.
	has("kind 3 with {\"persist\":true} from realtime-js", func(f Frame) bool {
		return f.Dir == In && f.Msg.Kind == phoenix.KindUserBroadcastPush && f.Msg.Topic == "realtime:persisted" &&
			string(f.Msg.Meta) == `{"persist":true}`
	})
	has("kind 3 with {\"persist\":{\"ttl\":60}} from realtime-js", func(f Frame) bool {
		return f.Dir == In && f.Msg.Kind == phoenix.KindUserBroadcastPush && f.Msg.Topic == "realtime:persisted" &&
			string(f.Msg.Meta) == `{"persist":{"ttl":60}}`
	})
	has("replayed broadcasts to realtime-js", func(f Frame) bool {
		return f.Dir == Out && !f.Binary && f.Msg.Topic == "realtime:persisted" && f.Msg.Event == phoenix.EventBroadcast &&
			f.Msg.JoinRef != "" && bytes.Contains(f.Data, []byte(`"replayed":true`))
	})
	stored := s.StoredBroadcasts("persisted")
	if assert.Len(t, stored, 3, "two socket sends and one httpSend were persisted") {
		assert.Equal(t, 60*time.Second, stored[1].ExpiresAt.Sub(stored[1].InsertedAt), "persist {ttl: 60}")
		assert.JSONEq(t, `{"n":3}`, string(stored[2].Payload), "httpSend with persist")
	}
	has("heartbeat from realtime-js", func(f Frame) bool {
		return f.Dir == In && f.Msg.Topic == phoenix.TopicPhoenix && f.Msg.Event == phoenix.EventHeartbeat
	})
	has("heartbeat reply to realtime-js", func(f Frame) bool {
		return f.Dir == Out && f.Msg.Topic == phoenix.TopicPhoenix && f.Msg.Event == phoenix.EventReply
	})
	has("token expiry system message", func(f Frame) bool {
		return f.Dir == Out && f.Msg.Topic == "realtime:expiring" && f.Msg.Event == phoenix.EventSystem &&
			bytes.Contains(f.Data, []byte(`Token has expired`))
	})
	// shared-channel: realtime-js's two channel() calls for one topic are one
	// join on the wire (rxrealtime's Client.Share is checked the same way by
	// source.TestSharedChannelIsOneJoin).
	joins := 0
	for _, f := range frames {
		if f.Dir == In && f.Msg.Topic == "realtime:shared" && f.Msg.Event == phoenix.EventJoin {
			joins++
		}
	}
	assert.Equal(t, 1, joins, "phx_join frames on realtime:shared from realtime-js")
}

// conformanceAction performs what conformance.js asked for and answers DONE.
func conformanceAction(t *testing.T, s *Server, name string, stdin io.Writer) {
	t.Helper()
	switch name {
	case "insert-v2", "insert-v1":
		n, err := s.EmitChange(Change{
			Type: Insert, Schema: "public", Table: "messages",
			Columns: []Column{{Name: "id", Type: "int8", PrimaryKey: true}, {Name: "body", Type: "text"}},
			Record:  map[string]any{"id": 1, "body": "hello"},
		})
		assert.NoError(t, err)
		assert.Equal(t, 1, n, "the change reaches the subscribed channel")
	case "drop":
		s.Faults().DropAll()
	case "halfopen":
		// Half-open until the client's heartbeat times out and it closes
		// the socket that joined realtime:half-open.
		var id ConnID
		for _, c := range s.Clients() {
			if slices.ContainsFunc(c.Channels, func(ch ChannelInfo) bool { return ch.Topic == "realtime:half-open" }) {
				id = c.ID
			}
		}
		assert.NotZero(t, id, "no connection joined realtime:half-open")
		s.Faults().SetHalfOpen(true)
		deadline := time.Now().Add(10 * time.Second)
		for stillConnected(s, id) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		s.Faults().SetHalfOpen(false)
	default:
		t.Errorf("unknown action %q", name)
	}
	_, err := fmt.Fprintf(stdin, "DONE %s\n", name)
	assert.NoError(t, err)
}

// stillConnected reports whether connection id is still open.
func stillConnected(s *Server, id ConnID) bool {
	for _, c := range s.Clients() {
		if c.ID == id {
			return true
		}
	}
	return false
}
