# Shared by the scripts of daemons we run in the foreground under a pid file of
# ours (clamav.sh, rspamd.sh): sourced, not run. Builds on daemon.sh.
# The caller sets NAME (for messages), BIN (the program), PIDFILE, LOG, HOST, PORT, START_TIMEOUT,
# STOP_TIMEOUT, CMD (an array: the daemon staying in the foreground), and defines answers (exit 0
# when the daemon answers on HOST:PORT) and write_config.
# Never the Debian service or systemd: the daemon is ours, with its pid file under .tools/run.

log() { echo "$NAME.sh: $*" >&2; }
die() { echo "$NAME.sh: ERROR: $*" >&2; exit 1; }
# shellcheck source=daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/daemon.sh"


# The pid of our daemon if the pid file names a live one.
running_pid() { daemon_pid "$PIDFILE" "$(basename "$BIN")"; }

start_daemon() {
  local pid deadline t0=$SECONDS
  if pid="$(running_pid)" && answers; then log "already running (pid $pid)"; return 0; fi
  if answers; then die "something else already answers on $HOST:$PORT (no pid file of ours: $PIDFILE)"; fi
  write_config
  rm -f "$PIDFILE"
  : > "$LOG"
  setsid "${CMD[@]}" </dev/null >>"$LOG" 2>&1 &
  echo $! > "$PIDFILE"
  deadline=$((SECONDS + START_TIMEOUT))
  until answers; do
    if ! running_pid >/dev/null || (( SECONDS >= deadline )); then
      tail -n 30 "$LOG" >&2 || true
      stop_daemon || true
      die "$NAME did not answer on $HOST:$PORT within ${START_TIMEOUT} s (log: $LOG)"
    fi
    sleep 0.1
  done
  log "started on $HOST:$PORT (pid $(running_pid)) in $((SECONDS - t0)) s"
}

stop_daemon() {
  local pid deadline
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    answers && die "a $NAME on $HOST:$PORT answers but it is not ours (no pid file); not stopping it"
    log "not running"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${STOP_TIMEOUT} s, sending SIGKILL to its process group"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

# daemon_main INSTALL_FUNCTION "$@": the install|start|stop|status commands.
daemon_main() {
  local install=$1; shift
  case "${1:-}" in
    install) "$install" ;;
    start)   "$install"; start_daemon ;;
    stop)    stop_daemon ;;
    status)
      if pid="$(running_pid)"; then echo "$NAME running (pid $pid) on $HOST:$PORT"; exit 0
      else echo "$NAME not running"; exit 1; fi ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
  esac
}
