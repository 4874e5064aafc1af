#!/usr/bin/env bash
# Runs the peer comparison (workload 1 with the floor, rxrealtime, nshafer/phx
# and realtime-js, alternately) from anywhere. Flags go to the compare
# command, e.g. bench/compare.sh -rounds 7 -n 300000 -vsn 1.0.0 (default: both
# serializers, 2.0.0 then 1.0.0, each with its own table, latency and ratios)
# Needs Go; realtime-js also needs node and npm (npm ci runs on first use).
set -euo pipefail
cd "$(dirname "$0")/peers"
exec go run ./compare "$@"
