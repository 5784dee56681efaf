#!/usr/bin/env bash
# Local Redis for the integration tests: 127.0.0.1:16379, no persistence.
# Uses Debian's redis-server (installed with apt-get if missing); never relies on
# systemd or the Debian service — we run our own daemonized instance.
#
# Usage: test/infra/redis.sh install|start|stop|status
#   start   install if needed, start (no-op if already running), wait for PONG
#   stop    SHUTDOWN NOSAVE, wait for the process to exit (SIGKILL after 15 s)
#   status  exit 0 if running
# State: .tools/run/redis.pid, .tools/run/redis.log, .tools/run/redis/ (working dir)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.tools/run"
PIDFILE="$RUN/redis.pid"
LOG="$RUN/redis.log"
HOST=127.0.0.1
# PORTCULLIS_TEST_PORT_OFFSET shifts every fixed test port (several checkouts testing at once).
PORT=$((16379 + ${PORTCULLIS_TEST_PORT_OFFSET:-0}))
START_TIMEOUT=${REDIS_START_TIMEOUT:-20}
STOP_TIMEOUT=${REDIS_STOP_TIMEOUT:-15}

log() { echo "redis.sh: $*" >&2; }
# shellcheck source=daemon.sh
source "$ROOT/test/infra/daemon.sh"
die() { echo "redis.sh: ERROR: $*" >&2; exit 1; }

install() { apt_install_for "redis-server redis-cli" redis-server redis-tools; }

cli() { timeout 5 redis-cli -h "$HOST" -p "$PORT" "$@"; }

pong() { [[ "$(cli ping 2>/dev/null || true)" == PONG ]]; }

# pid of our redis-server if the pid file names a live one
running_pid() { daemon_pid "$PIDFILE" redis-server; }

start() {
  local pid deadline t0=$SECONDS
  install
  if pid="$(running_pid)" && pong; then log "already running (pid $pid)"; return 0; fi
  if pong; then die "something else already answers on $HOST:$PORT (no pid file of ours: $PIDFILE)"; fi
  mkdir -p "$RUN/redis"
  rm -f "$PIDFILE"
  redis-server --bind "$HOST" --port "$PORT" --protected-mode yes \
    --save '' --appendonly no \
    --daemonize yes --pidfile "$PIDFILE" --logfile "$LOG" --dir "$RUN/redis" \
    --loglevel notice </dev/null >&2 || die "redis-server failed to start (log: $LOG)"
  deadline=$((SECONDS + START_TIMEOUT))
  until pong; do
    if (( SECONDS >= deadline )); then
      [[ -f "$LOG" ]] && tail -n 30 "$LOG" >&2
      die "redis did not answer PING on $HOST:$PORT within ${START_TIMEOUT} s"
    fi
    sleep 0.1
  done
  # the pid file is written by the daemonized child; give it a moment
  deadline=$((SECONDS + 5))
  until pid="$(running_pid)"; do
    (( SECONDS < deadline )) || die "redis answers PONG but $PIDFILE names no live redis-server"
    sleep 0.1
  done
  log "started on $HOST:$PORT (pid $pid) in $((SECONDS - t0)) s"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    pong && die "a redis on $HOST:$PORT answers but it is not ours (no pid file); not stopping it"
    log "not running"; return 0
  fi
  cli shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  daemon_wait_exit "$pid" "$STOP_TIMEOUT"
  rm -f "$PIDFILE"
  log "stopped"
}

case "${1:-}" in
  install) install ;;
  start)   start ;;
  stop)    stop ;;
  status)
    if pid="$(running_pid)"; then echo "redis running (pid $pid) on $HOST:$PORT"; exit 0
    else echo "redis not running"; exit 1; fi ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
