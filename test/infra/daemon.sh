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

# apt_install_for "CMD..." PACKAGE...: installs the Debian packages unless every command is
# already there (a command may be a path). Callers define log() and die(). Other sessions may
# hold the dpkg lock (parallel checkouts): wait for it rather than fail.
apt_install_for() {
  local commands=$1 c missing="" t0=$SECONDS; shift
  for c in $commands; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
  [[ -z "$missing" ]] && return 0
  [[ "$(id -u)" == 0 ]] || die "missing:$missing and we are not root (apt-get install -y $*)"
  command -v apt-get >/dev/null 2>&1 || die "missing:$missing and there is no apt-get"
  log "installing $* with apt-get ..."
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || die "apt-get update failed"
  # A package may try to start its own service (no systemd here); we never use it.
  timeout 900 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >&2 \
    || die "apt-get install $* failed"
  for c in $commands; do command -v "$c" >/dev/null 2>&1 || die "$c still missing after apt-get install $*"; done
  log "installed $* in $((SECONDS - t0)) s"
}
