#!/usr/bin/env bash
# make bench: accept throughput and latency over the real broker with tracing
# off and on (the overhead of exporting spans), and in embedded mode.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
trap 'bash scripts/infra.sh down' EXIT
bash scripts/infra.sh up
BENCH_MODE=kafka node test/dist/bench/accept.js
BENCH_MODE=kafka BENCH_TRACING=1 node test/dist/bench/accept.js
BENCH_MODE=embedded node test/dist/bench/accept.js
