package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/framesrv"
	"github.com/rxrealtime/rxrealtime/bench/peers/report"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ok(rate float64, rssKiB int64) outcome {
	mallocs, bytes := uint64(2*1000), uint64(900*1000)
	return outcome{
		rep:    report.Report{Msgs: 1000, Decoded: true, ElapsedNS: int64(1000 / rate * 1e9), Mallocs: &mallocs, AllocBytes: &bytes},
		rssKiB: rssKiB,
	}
}

func TestMedian(t *testing.T) {
	assert.Zero(t, median(nil))
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
}

func TestRatiosAreNAWithoutRxrealtime(t *testing.T) {
	res := map[string]*series{}
	for _, n := range []string{"source", "floor/goccy", "rxrealtime", "phx", "realtime-js"} {
		res[n] = &series{name: n}
	}
	res["source"].add(ok(2_000_000, 1024))
	res["floor/goccy"].add(ok(200_000, 1024))
	res["phx"].add(ok(50_000, 1024))
	res["realtime-js"].add(ok(100_000, 1024))
	res["rxrealtime"].add(outcome{notReady: true})
	var out bytes.Buffer
	printSummary(&out, res)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Equal(t, []string{
		"ratio rxrealtime/floor n/a",
		"ratio rxrealtime/realtime-js n/a",
		"ratio rxrealtime/phx n/a",
	}, lines[len(lines)-3:])
	assert.Contains(t, out.String(), "10.0× the fastest client (floor/goccy): ok")

	var table bytes.Buffer
	printTable(&table, []string{"source", "floor/goccy", "rxrealtime", "phx", "realtime-js"}, res)
	assert.Contains(t, table.String(), "| rxrealtime           |      not yet |")
	assert.Contains(t, table.String(), "| floor/goccy          |       200000 |       200000 – 200000 |")
}

func TestRatiosWithRxrealtime(t *testing.T) {
	res := map[string]*series{}
	for _, n := range []string{"source", "floor/encoding-json", "floor/goccy", "rxrealtime", "phx", "realtime-js"} {
		res[n] = &series{name: n}
	}
	for _, r := range []float64{100_000, 90_000, 110_000} {
		res["rxrealtime"].add(ok(r, 1024))
	}
	res["rxrealtime"].add(outcome{err: errors.New("boom")})
	res["floor/encoding-json"].add(ok(80_000, 1024))
	res["floor/goccy"].add(ok(200_000, 1024))
	res["phx"].add(ok(50_000, 1024))
	res["realtime-js"].add(ok(125_000, 1024))
	res["source"].add(ok(500_000, 1024))
	var out bytes.Buffer
	printSummary(&out, res)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Equal(t, []string{
		"ratio rxrealtime/floor 0.50",
		"ratio rxrealtime/realtime-js 0.80",
		"ratio rxrealtime/phx 2.00",
	}, lines[len(lines)-3:])
	assert.Contains(t, out.String(), "2.5× the fastest client (floor/goccy): TOO LOW")
	// Only the first round has both an rxrealtime and a floor run: 100,000 / 200,000.
	assert.Contains(t, out.String(), "spread rxrealtime/floor 0.50 – 0.50 over 1 round(s)")
	assert.Equal(t, 1, res["rxrealtime"].failed)

	var table bytes.Buffer
	printTable(&table, []string{"rxrealtime"}, res)
	assert.Contains(t, table.String(), "3/4")
	assert.Contains(t, table.String(), "rxrealtime: 1 failed run(s), last: boom")
}

// TestRunnersEndToEnd builds the runner binary and runs the fast runners
// (and realtime-js when node and its modules are installed) against a
// source, as the comparison does.
func TestRunnersEndToEnd(t *testing.T) {
	dir, err := moduleDir()
	require.NoError(t, err)
	e := &env{dir: dir, runner: filepath.Join(t.TempDir(), "runner")}
	build := exec.Command("go", "build", "-o", e.runner, "./cmd/runner")
	build.Dir = dir
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	if node, err := exec.LookPath("node"); err == nil {
		if _, err := exec.Command(node, "-e", "require.resolve('@supabase/realtime-js', {paths: ['"+filepath.Join(dir, "js")+"']})").Output(); err == nil {
			e.node = node
		}
	}
	if e.node == "" {
		e.noNode = "node or js/node_modules missing"
	}

	src, err := framesrv.Start(framesrv.WithRing(64))
	require.NoError(t, err)
	defer src.Close()
	for _, v := range []frames.Vsn{frames.V1, frames.V2} {
		b, err := src.Burst(v, 1)
		require.NoError(t, err)
		for _, name := range []string{"source", "floor/goccy", "floor/segmentio", "realtime-js"} {
			if name == "realtime-js" && e.node == "" {
				t.Log("realtime-js skipped:", e.noNode)
				continue
			}
			o := runOnce(e, name, src.Endpoint(), v, 2000, 30*time.Second, b)
			require.NoError(t, o.err, "%s %s", name, v)
			assert.Equal(t, 2000, o.rep.Msgs, name)
			assert.Positive(t, o.rssKiB, name)
		}
		// rxrealtime either is not plugged in yet or passes the check.
		o := runOnce(e, "rxrealtime", src.Endpoint(), v, 2000, 30*time.Second, b)
		assert.True(t, o.notReady || o.err == nil, "rxrealtime: %v", o.err)
		o = runOnce(e, "nope", src.Endpoint(), v, 10, 30*time.Second, b)
		assert.Error(t, o.err)
	}
}

func TestRatioSpreadPairsRounds(t *testing.T) {
	rx, floor := &series{name: "rxrealtime"}, &series{name: "floor/goccy"}
	for i, r := range []float64{100_000, 120_000, 0, 90_000} {
		if r == 0 {
			rx.add(outcome{err: errors.New("boom")})
		} else {
			rx.add(ok(r, 1024))
		}
		floor.add(ok([]float64{100_000, 100_000, 100_000, 60_000}[i], 1024))
	}
	assert.InDeltaSlice(t, []float64{1, 1.2, 1.5}, roundRatios(rx, floor), 1e-6)
	var out bytes.Buffer
	printSummary(&out, map[string]*series{"rxrealtime": rx, "floor/goccy": floor})
	assert.Contains(t, out.String(), "spread rxrealtime/floor 1.00 – 1.50 over 3 round(s)")
	assert.Contains(t, out.String(), "ratio rxrealtime/floor 1.00") // medians: 100,000 over 100,000
}
