#!/usr/bin/env bash
# Local rspamd for the content tests: its normal worker (the /checkv2 HTTP API) on
# 127.0.0.1:11333 (+ PORTCULLIS_TEST_PORT_OFFSET), Debian's stock rules, our own top-level
# config and local.d (test/infra/rspamd/local.d). Uses Debian's rspamd (installed with
# apt-get if missing); never the Debian service or systemd: we run our own rspamd.
#
# Offline: the modules that look things up on the network (RBLs, SPF/DKIM/DMARC and the
# HELO/rDNS filter, which Portcullis's own stages do, fuzzy hashes) are switched off, and its
# DNS points at a closed loopback port so any look-up left fails at once. The first start
# compiles the rules' regular expressions (about 25 s); later starts reuse them (about 1 s).
#
# Usage: test/infra/rspamd.sh install|start|stop|status
# State: .tools/run/rspamd.pid, .tools/run/rspamd.log, .tools/run/rspamd/ (config, db, run dir)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.tools/run"
DIR="$RUN/rspamd"
NAME=rspamd
BIN=/usr/bin/rspamd
PIDFILE="$RUN/rspamd.pid"
LOG="$RUN/rspamd.log"
HOST=127.0.0.1
PORT=$((11333 + ${PORTCULLIS_TEST_PORT_OFFSET:-0}))
# Nothing listens here: a DNS query gets "port unreachable" straight away.
DNS_PORT=$((11353 + ${PORTCULLIS_TEST_PORT_OFFSET:-0}))
START_TIMEOUT=${RSPAMD_START_TIMEOUT:-90}
STOP_TIMEOUT=${RSPAMD_STOP_TIMEOUT:-15}
# -f: stay in the foreground (our pid file); -i: run as the invoking user (root in CI), not _rspamd.
CMD=("$BIN" -f -i -c "$DIR/rspamd.conf" "--var=LOCAL_CONFDIR=$DIR/local" "--var=DBDIR=$DIR/db" "--var=RUNDIR=$DIR/run" "--var=LOGDIR=$RUN")
# shellcheck source=foreground-daemon.sh
source "$ROOT/test/infra/foreground-daemon.sh"

answers() { [[ "$(timeout 3 curl -s "http://$HOST:$PORT/ping" 2>/dev/null || true)" == pong* ]]; }

write_config() {
  mkdir -p "$DIR/db" "$DIR/run" "$DIR/local"
  rm -rf "$DIR/local/local.d"
  cp -r "$ROOT/test/infra/rspamd/local.d" "$DIR/local/local.d"
  cat > "$DIR/rspamd.conf" <<CONF
# Written by test/infra/rspamd.sh: Debian's rules, one normal worker on our port.
.include "\$CONFDIR/common.conf"
options {
  pidfile = "$DIR/run/rspamd.pid";
  .include "\$CONFDIR/options.inc"
  dns { nameserver = ["$HOST:$DNS_PORT"]; timeout = 0.2s; retransmits = 1; }
}
logging { type = "file"; filename = "$LOG"; level = "warning"; }
worker "normal" {
  bind_socket = "$HOST:$PORT";
  .include "\$CONFDIR/worker-normal.inc"
  count = 2;
  task_timeout = 8s;
}
CONF
}

install_rspamd() { apt_install_for "$BIN" rspamd; }

daemon_main install_rspamd "$@"
