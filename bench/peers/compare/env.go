package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

const modulePath = "github.com/rxrealtime/rxrealtime/bench/peers"

// env is what the runs need: the Go runner binary and, if available, node.
type env struct {
	dir    string // bench/peers
	runner string // bench/peers/bin/runner
	node   string // path of node, "" if missing
	noNode string // why realtime-js cannot run
}

// moduleDir returns the bench/peers module directory, which must be the
// current directory's module.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}} {{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w (run from bench/peers, or use bench/compare.sh)", err)
	}
	path, dir, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	if path != modulePath {
		return "", fmt.Errorf("current module is %s, not %s: run from bench/peers, or use bench/compare.sh", path, modulePath)
	}
	return dir, nil
}

// prepare builds the Go runner and installs the realtime-js runner's
// dependencies (npm ci) if they are missing.
func prepare(dir string, names []string) (*env, error) {
	e := &env{dir: dir, runner: filepath.Join(dir, "bin", "runner")}
	build := exec.Command("go", "build", "-o", e.runner, "./cmd/runner")
	build.Dir = dir
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build runner: %w", err)
	}
	if !slices.Contains(names, "realtime-js") {
		return e, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		e.noNode = "node not found"
		return e, nil
	}
	js := filepath.Join(dir, "js")
	if _, err := os.Stat(filepath.Join(js, "node_modules", "@supabase", "realtime-js")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, "installing realtime-js (npm ci in bench/peers/js)")
		ci := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		ci.Dir = js
		ci.Stdout, ci.Stderr = os.Stderr, os.Stderr
		if err := ci.Run(); err != nil {
			e.noNode = "npm ci failed: " + err.Error()
			return e, nil
		}
	}
	e.node = node
	return e, nil
}

// machine describes where the comparison ran.
func machine(e *env) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	nodeV := "no node"
	if e.node != "" {
		if out, err := exec.Command(e.node, "--version").Output(); err == nil {
			nodeV = "node " + string(bytes.TrimSpace(out))
		}
	}
	return fmt.Sprintf("machine: %s, %d cores%s, %s/%s, %s, %s",
		cpu, runtime.NumCPU(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), nodeV)
}
