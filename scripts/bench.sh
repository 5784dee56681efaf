#!/usr/bin/env bash
# make bench: accept throughput and latency over the real broker with tracing
# off and on (the overhead of exporting spans), and in embedded mode; the auth
# stage's time per message (4 KiB and 1 MiB, warm DNS cache) on the test DNS server;
# the reputation stage cold and warm; the content stage on the real scanners.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
trap 'bash scripts/infra.sh down' EXIT
bash scripts/infra.sh up
offset=${PORTCULLIS_TEST_PORT_OFFSET:-0}
export PORTCULLIS_TEST_REDIS=redis://127.0.0.1:$((16379 + offset))
export PORTCULLIS_TEST_KAFKA=127.0.0.1:$((19092 + offset))
export PORTCULLIS_TEST_DNS=127.0.0.1:$((15353 + offset))
export PORTCULLIS_TEST_CLAMD=tcp://127.0.0.1:$((13310 + offset))
export PORTCULLIS_TEST_RSPAMD=http://127.0.0.1:$((11333 + offset))
BENCH_MODE=kafka node test/dist/bench/accept.js
BENCH_MODE=kafka BENCH_TRACING=1 node test/dist/bench/accept.js
BENCH_MODE=embedded node test/dist/bench/accept.js
node test/dist/bench/auth-stage.js
# Reputation: list look-ups per message and the stage's p50/p99, cold and warm cache (test DNS server).
node test/dist/bench/reputation.js
# The content stage alone, on the real clamd and rspamd: p50/p99 per message at 4 KiB and 1 MiB.
node test/dist/bench/content.js
