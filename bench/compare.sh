#!/usr/bin/env bash
# Runs the peer comparison (workload 1 with the floor, rxrealtime, nshafer/phx
# and realtime-js, alternately) from anywhere. Flags go to the compare
# command, e.g. bench/compare.sh -rounds 7 -n 300000 -vsn 1.0.0 (default: both
# serializers, 2.0.0 then 1.0.0, each with its own table, latency and ratios)
# Needs Go; realtime-js also needs node and npm (npm ci runs on first use).
# It also draws the run as an SVG chart, bench/compare.svg by default
# (-svg FILE, relative to the directory it is started from; -svg off: none).
set -euo pipefail
# The command runs from bench/peers: tell it where it was started from (for
# a relative -svg path) and how (for the chart's title).
export COMPARE_WD="$PWD" COMPARE_AS="bench/compare.sh"
cd "$(dirname "$0")/peers"
exec go run ./compare "$@"
