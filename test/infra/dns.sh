#!/usr/bin/env bash
# Local authoritative DNS server for the tests: BIND 9 (Debian's bind9) on
# 127.0.0.1, UDP and TCP, port 15353 + PORTCULLIS_TEST_PORT_OFFSET.
# Serves every test/infra/dns/zones/<origin>.zone (the origin is the file name
# without .zone; drop a file there and restart, no config to edit), plus the
# faults described in test/infra/dns/README.md:
#   *.timeout.test and timeout.test    never answered (queries dropped: a real timeout)
#   *.servfail.test and servfail.test  SERVFAIL (a zone that is configured but never loaded)
#   *.refused.test and refused.test    REFUSED
#   any other name                     NXDOMAIN (an empty root zone: nothing reaches the Internet)
# Never relies on systemd or the Debian service: we run our own named.
#
# Usage: test/infra/dns.sh install|start|stop|restart|status
# State: .tools/run/dns.pid, .tools/run/dns.log, .tools/run/dns/ (generated named.conf, working dir)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.tools/run"
WORK="$RUN/dns"
PIDFILE="$RUN/dns.pid"
LOG="$RUN/dns.log"
ZONES="$ROOT/test/infra/dns/zones"
HOST=127.0.0.1
# PORTCULLIS_TEST_PORT_OFFSET shifts every fixed test port (several checkouts testing at once).
PORT=$((15353 + ${PORTCULLIS_TEST_PORT_OFFSET:-0}))
START_TIMEOUT=${DNS_START_TIMEOUT:-20}
STOP_TIMEOUT=${DNS_STOP_TIMEOUT:-15}

log() { echo "dns.sh: $*" >&2; }
# shellcheck source=daemon.sh
source "$ROOT/test/infra/daemon.sh"
die() { echo "dns.sh: ERROR: $*" >&2; exit 1; }

install() { apt_install_for "named dig" bind9 bind9-dnsutils; }

# Writes named.conf: one primary zone per zone file, the fault zones, the drop policy.
configure() {
  local f origin
  mkdir -p "$WORK"
  cat >"$WORK/faults.rpz" <<RPZ
\$TTL 60
@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@ IN NS localhost.
; rpz-drop: the query is silently dropped, so the client times out
timeout.test CNAME rpz-drop.
*.timeout.test CNAME rpz-drop.
RPZ
  # The names to drop must be in a zone served here: RPZ rewrites only answers we are authoritative for.
  cat >"$WORK/timeout.test.db" <<ZONE
\$TTL 60
@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@ IN NS localhost.
@ IN TXT "never answered"
* IN TXT "never answered"
* IN A 192.0.2.1
ZONE
  # An empty root zone: a name that no zone here holds is NXDOMAIN, as the real DNS would say of
  # a domain that does not exist (DMARC's tree walk asks _dmarc.test, mail comes from sender.example).
  cat >"$WORK/root.db" <<ZONE
\$TTL 60
@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@ IN NS localhost.
localhost. IN A 127.0.0.1
ZONE
  cat >"$WORK/empty.db" <<ZONE
\$TTL 60
@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 60
@ IN NS localhost.
ZONE
  {
    cat <<CONF
options {
  directory "$WORK";
  pid-file "$PIDFILE";
  listen-on port $PORT { $HOST; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  allow-transfer { none; };
  dnssec-validation no;
  edns-udp-size 1232;
  max-udp-size 1232;
  minimal-responses no;
  response-policy { zone "rpz.invalid" recursive-only no; } qname-wait-recurse no break-dnssec yes;
  rate-limit { responses-per-second 0; };
};
controls { };
logging {
  channel main { file "$LOG" versions 2 size 5m; severity info; print-time yes; };
  category default { main; };
  category lame-servers { null; };
  category xfer-in { null; };
};
zone "rpz.invalid" { type primary; file "$WORK/faults.rpz"; };
zone "timeout.test" { type primary; file "$WORK/timeout.test.db"; };
zone "." { type primary; file "$WORK/root.db"; };
// Served to nobody: every query gets REFUSED.
zone "refused.test" { type primary; file "$WORK/empty.db"; allow-query { none; }; };
// Configured but never loaded (its primary does not exist): every query gets SERVFAIL.
zone "servfail.test" { type secondary; primaries { 127.0.0.1 port 9; }; file "$WORK/servfail.test.db"; };
CONF
    for f in "$ZONES"/*.zone; do
      [[ -e "$f" ]] || continue
      origin="$(basename "$f" .zone)"
      echo "zone \"$origin\" { type primary; file \"$f\"; check-names ignore; };"
    done
  } >"$WORK/named.conf"
  rm -f "$WORK/servfail.test.db"
  named-checkconf "$WORK/named.conf" >&2 || die "generated named.conf is invalid ($WORK/named.conf)"
}

# true when named answers NOERROR for a name it serves (dig exits non-zero when nothing answers)
soa() { timeout 3 dig +time=1 +tries=1 -p "$PORT" @"$HOST" "$1" SOA 2>/dev/null | grep -q 'status: NOERROR'; }
answers() { soa rpz.invalid; }

running_pid() { daemon_pid "$PIDFILE" named; }

# Zone files that failed to load are not served (REFUSED); say which, loudly.
report_zones() {
  local f origin bad=0
  soa . || { log "the generated root zone is not served (see $LOG)"; bad=1; }
  for f in "$ZONES"/*.zone; do
    [[ -e "$f" ]] || continue
    origin="$(basename "$f" .zone)"
    if ! soa "$origin"; then
      log "zone $origin ($f) is not served: $(named-checkzone "$origin" "$f" 2>&1 | tail -n 2 | tr '\n' ' ')"
      bad=1
    fi
  done
  return $bad
}

start() {
  local pid deadline t0=$SECONDS
  install
  if pid="$(running_pid)" && answers; then log "already running (pid $pid)"; return 0; fi
  if answers; then die "something else already answers on $HOST:$PORT (no pid file of ours: $PIDFILE)"; fi
  configure
  rm -f "$PIDFILE"
  # -u is not used: we run as whoever runs the tests; -4 IPv4 only; -n 1 one worker thread.
  named -4 -n 1 -c "$WORK/named.conf" </dev/null >>"$LOG" 2>&1 || die "named failed to start (log: $LOG)"
  deadline=$((SECONDS + START_TIMEOUT))
  until answers; do
    if (( SECONDS >= deadline )); then
      [[ -f "$LOG" ]] && tail -n 30 "$LOG" >&2
      die "named did not answer on $HOST:$PORT within ${START_TIMEOUT} s"
    fi
    sleep 0.1
  done
  deadline=$((SECONDS + 5))
  until pid="$(running_pid)"; do
    (( SECONDS < deadline )) || die "named answers but $PIDFILE names no live named"
    sleep 0.1
  done
  report_zones || die "some zone files do not load (see above)"
  log "started on $HOST:$PORT UDP+TCP (pid $pid) in $((SECONDS - t0)) s"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    answers && die "a DNS server on $HOST:$PORT answers but it is not ours (no pid file); not stopping it"
    log "not running"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  daemon_wait_exit "$pid" "$STOP_TIMEOUT"
  rm -f "$PIDFILE"
  log "stopped"
}

case "${1:-}" in
  install) install ;;
  start)   start ;;
  stop)    stop ;;
  restart) stop; start ;;
  status)
    if pid="$(running_pid)"; then echo "dns running (pid $pid) on $HOST:$PORT"; exit 0
    else echo "dns not running"; exit 1; fi ;;
  *) echo "usage: $0 install|start|stop|restart|status" >&2; exit 2 ;;
esac
