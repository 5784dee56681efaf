# Helpers shared by the test/infra/*.sh scripts (sourced, not run). Each script
# defines log() before sourcing this.

# daemon_pid PIDFILE NAME: prints the pid if PIDFILE names a live process whose command line has NAME.
daemon_pid() {
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(cat "$1" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q "$2" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# daemon_wait_exit PID TIMEOUT: waits for PID to exit, SIGKILL after TIMEOUT seconds.
daemon_wait_exit() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    log "still alive after $2 s, sending SIGKILL"
    kill -KILL "$1" 2>/dev/null || true
  fi
}
