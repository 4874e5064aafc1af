package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/rxrealtime/rxrealtime/bench/internal/frames"
	"github.com/rxrealtime/rxrealtime/bench/internal/workload"
	"github.com/rxrealtime/rxrealtime/bench/peers/report"
)

// outcome is one run of one runner.
type outcome struct {
	rep      report.Report
	rssKiB   int64
	notReady bool
	err      error
}

func (o outcome) summary() string {
	switch {
	case o.notReady:
		return "not yet"
	case o.err != nil:
		return "FAILED: " + o.err.Error()
	}
	s := fmt.Sprintf("%9.0f msg/s  rss %6.1f MiB", o.rep.Result().Rate(), float64(o.rssKiB)/1024)
	if o.rep.Mallocs != nil && o.rep.Msgs > 0 {
		s += fmt.Sprintf("  %.1f allocs/msg", float64(*o.rep.Mallocs)/float64(o.rep.Msgs))
	}
	return s
}

// runOnce runs one runner subprocess and checks its report against the
// burst.
func runOnce(e *env, name, endpoint string, v frames.Vsn, n int, timeout time.Duration, b *frames.Burst) outcome {
	return runPaced(e, name, endpoint, v, n, 0, timeout, b)
}

// runPaced is runOnce for a paced run (rate frames/s, the latency
// workload) when rate > 0.
func runPaced(e *env, name, endpoint string, v frames.Vsn, n, rate int, timeout time.Duration, b *frames.Burst) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	if name == "realtime-js" {
		if e.node == "" {
			return outcome{err: errors.New(e.noNode)}
		}
		cmd = exec.CommandContext(ctx, e.node, filepath.Join(e.dir, "js", "run.mjs"),
			"--endpoint", endpoint, "--vsn", v.String(), "--n", strconv.Itoa(n),
			"--timeout-ms", strconv.FormatInt(timeout.Milliseconds(), 10), "--rate", strconv.Itoa(rate))
	} else {
		cmd = exec.CommandContext(ctx, e.runner, "-runner", name, "-endpoint", endpoint,
			"-vsn", v.String(), "-n", strconv.Itoa(n), "-timeout", timeout.String(), "-rate", strconv.Itoa(rate))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var o outcome
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			o.rssKiB = ru.Maxrss // KiB on Linux
		}
	}
	line := bytes.TrimSpace(stdout.Bytes())
	if i := bytes.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal(line, &o.rep); err != nil {
		o.err = fmt.Errorf("no report (%v): %s", runErr, lastLine(stderr.Bytes()))
		return o
	}
	if o.rep.NotReady {
		o.notReady = true
		return o
	}
	if runErr != nil || o.rep.Error != "" {
		o.err = fmt.Errorf("%v: %s %s", runErr, o.rep.Error, lastLine(stderr.Bytes()))
		return o
	}
	spec := workload.Spec{Vsn: v, Frames: n}
	if err := workload.Check(spec, b, o.rep.Result()); err != nil {
		o.err = err
	} else if rate > 0 && o.rep.Result().Latency == nil {
		o.err = errors.New("paced run without latencies")
	}
	return o
}

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	if len(b) > 300 {
		b = b[:300]
	}
	return string(b)
}
