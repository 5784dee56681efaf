#!/usr/bin/env bash
# Portcullis in its production shape on one host: the five services as five processes, one config
# file, each with its own HTTP and admin ports (--http-port / --admin-port would do the same as the
# PORTCULLIS_HTTP_PORT / PORTCULLIS_ADMIN_PORT used here). Kafka and Redis run beside it (see
# docs/operations.md, "One host without Kubernetes"). Ctrl-C or SIGTERM stops all five; if one
# exits, the others are stopped too, so a supervisor sees the failure.
#
#   deploy/one-host/run.sh [CONFIG]       CONFIG: default $PORTCULLIS_CONFIG, else /etc/portcullis/portcullis.yaml
#
# Logs: one JSON line per event on stdout, each line prefixed with the service name.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=ports.sh
source "$HERE/ports.sh"
CONFIG="${1:-${PORTCULLIS_CONFIG:-/etc/portcullis/portcullis.yaml}}"
[[ -r "$CONFIG" ]] || { echo "run.sh: cannot read the config $CONFIG" >&2; exit 78; }

pids=()
stop() {
  trap - INT TERM EXIT
  # The edge first (no new mail), then the stages, as `portcullis run all` does inside one process.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  wait || true
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for s in "${SERVICES[@]}"; do
  PORTCULLIS_HTTP_PORT=${HTTP_PORT[$s]} PORTCULLIS_ADMIN_PORT=${ADMIN_PORT[$s]} \
    "$ROOT/bin/portcullis" run "$s" --config "$CONFIG" > >(sed -u "s/^/$s | /") 2>&1 &
  pids+=($!)
  echo "run.sh: $s pid $! on http 127.0.0.1:${HTTP_PORT[$s]} (/readyz, /metrics), admin ${ADMIN_PORT[$s]}" >&2
done
# One process gone means the install is broken: stop the rest and say which.
set +e
wait -n "${pids[@]}"
code=$?
echo "run.sh: a service exited with code $code; stopping the others" >&2
exit "$code"
