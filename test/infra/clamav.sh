#!/usr/bin/env bash
# Local clamd for the content tests: TCP 127.0.0.1:13310 (+ PORTCULLIS_TEST_PORT_OFFSET)
# and a Unix socket, with one local signature file that detects EICAR (offline: no
# freshclam, no downloaded databases). Uses Debian's clamav-daemon (installed with
# apt-get if missing); never the Debian service or systemd: we run our own clamd.
#
# Usage: test/infra/clamav.sh install|start|stop|status
# State: .tools/run/clamav.pid, .tools/run/clamav.log, .tools/run/clamav/ (config, db, socket)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="$ROOT/.tools/run"
DIR="$RUN/clamav"
NAME=clamav
BIN=/usr/sbin/clamd
PIDFILE="$RUN/clamav.pid"
LOG="$RUN/clamav.log"
HOST=127.0.0.1
PORT=$((13310 + ${PORTCULLIS_TEST_PORT_OFFSET:-0}))
SOCKET="$DIR/clamd.sock"
START_TIMEOUT=${CLAMAV_START_TIMEOUT:-60}
STOP_TIMEOUT=${CLAMAV_STOP_TIMEOUT:-15}
CMD=("$BIN" "--config-file=$DIR/clamd.conf")
# shellcheck source=foreground-daemon.sh
source "$ROOT/test/infra/foreground-daemon.sh"

# One PING over TCP; clamd answers PONG.
answers() { [[ "$(timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$PORT; printf 'zPING\0' >&3; tr -d '\0' <&3" 2>/dev/null || true)" == PONG ]]; }

write_config() {
  mkdir -p "$DIR/db"
  rm -f "$SOCKET"
  cp "$ROOT/test/infra/clamav/portcullis-test.ndb" "$DIR/db/"
  # StreamMaxLength bounds what INSTREAM takes: content.antivirus.maxBytes must stay below it.
  cat > "$DIR/clamd.conf" <<CONF
TCPSocket $PORT
TCPAddr $HOST
LocalSocket $SOCKET
FixStaleSocket yes
Foreground yes
DatabaseDirectory $DIR/db
LogFile $LOG
LogTime yes
StreamMaxLength 30M
MaxScanSize 100M
MaxFileSize 30M
MaxThreads 4
MaxConnectionQueueLength 32
ReadTimeout 30
CommandReadTimeout 5
IdleTimeout 30
ScanMail yes
ScanArchive yes
ScanOLE2 yes
ScanPDF yes
Bytecode no
CONF
}

install_clamd() { apt_install_for "$BIN" clamav-daemon; }

daemon_main install_clamd "$@"
