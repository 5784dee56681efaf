#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, broker+controller in one JVM) for the
# integration tests. No Docker, no Kafka distribution tarball: the broker jars
# come from Maven Central (test/infra/kafka/pom.xml) into .tools/kafka/libs.
#
# Usage: test/infra/kafka.sh install|start|stop|kill|restart|status|reset|logs|run CLASS [ARGS...]
#   install  download the jars if missing (start does this too)
#   start    format (first time only) and start the broker; returns once it serves clients
#   stop     SIGTERM, wait up to 30 s, then SIGKILL            (data kept)
#   kill     SIGKILL immediately                               (data kept; crash test)
#   restart  stop + start
#   status   exit 0 if the broker is running
#   reset    stop and delete the data dir (topics/offsets gone)
#   logs     tail the broker log
#   run      run a Kafka tool class on the broker classpath, e.g.
#            kafka.sh run org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:19092 --list
#
# Client listener: 127.0.0.1:19092 (PLAINTEXT). Controller: 127.0.0.1:19093.
# State: .tools/run/kafka/ (data, server.properties), .tools/run/kafka.pid, .tools/run/kafka.log
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INFRA="$ROOT/test/infra/kafka"
TOOLS="$ROOT/.tools"
LIBS="$TOOLS/kafka/libs"
RUN="$TOOLS/run"
STATE="$RUN/kafka"
DATA="$STATE/data"
PROPS="$STATE/server.properties"
PIDFILE="$RUN/kafka.pid"
LOG="$RUN/kafka.log"
LOCK="$RUN/kafka.lock"

HOST=127.0.0.1
# PORTCULLIS_TEST_PORT_OFFSET shifts every fixed test port (several checkouts testing at once).
OFFSET=${PORTCULLIS_TEST_PORT_OFFSET:-0}
PORT=$((19092 + OFFSET))
CONTROLLER_PORT=$((19093 + OFFSET))
# Fixed cluster id (base64url of the 16 bytes "portcullis-test1"): deterministic, valid.
CLUSTER_ID=cG9ydGN1bGxpcy10ZXN0MQ
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
JAVA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}

log() { echo "kafka.sh: $*" >&2; }
die() { echo "kafka.sh: ERROR: $*" >&2; exit 1; }

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then echo "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then command -v java
  else die "java not found (need Java 17+; set JAVA_HOME or put java on PATH)"; fi
}

check_java() {
  local j v major
  j="$(java_bin)"
  v="$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  major="${v%%.*}"
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot determine the Java version of $j"
  (( major >= 17 )) || die "Kafka 4 needs Java 17+, but $j is Java $v"
}

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$INFRA/pom.xml" | head -n1; }

# ---------------------------------------------------------------- install
# .tools/kafka/libs/.installed holds the sha256 of the pom it was built from,
# so bumping the Kafka version in the pom triggers a re-download.
install() {
  local stamp want tmp t0
  want="$(sha256sum "$INFRA/pom.xml" | cut -d' ' -f1)"
  stamp="$LIBS/.installed"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) not found; it is needed to fetch the Kafka jars"
  check_java
  t0=$SECONDS
  log "installing Kafka $(kafka_version) jars from Maven Central into $LIBS ..."
  mkdir -p "$TOOLS/kafka"
  tmp="$(mktemp -d "$TOOLS/kafka/libs.tmp.XXXXXX")"
  # (sed: Debian's Maven 3.8 prints stray ANSI resets even with -q -B)
  if ! timeout 900 mvn -q -B -Dstyle.color=never -f "$INFRA/pom.xml" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 \
        | sed -u -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d' >&2; then
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (see output above)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "Kafka jars missing after mvn run"; }
  echo "$want" >"$tmp/.installed"
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"
  log "installed $(find "$LIBS" -name '*.jar' | wc -l) jars in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- process helpers
# Prints the broker pid if the pid file names a live kafka.Kafka process of ours.
running_pid() {
  local pid
  [[ -f "$PIDFILE" ]] || return 1
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # guard against pid reuse: it must be our broker
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $PROPS" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

java_cmd() { # java_cmd CLASS ARGS... -> runs a Kafka class on the broker classpath
  local cls="$1"; shift
  # shellcheck disable=SC2086
  "$(java_bin)" $JAVA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$INFRA/log4j2.xml" -cp "$LIBS/*" "$cls" "$@"
}

write_props() {
  mkdir -p "$STATE"
  cat >"$PROPS.tmp" <<EOF
# generated by test/infra/kafka.sh on every start; edit the script, not this file
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
log.dirs=$DATA

# single node: every internal topic with RF 1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
# fewer internal partitions -> the first consumer group / transaction is ready sooner
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5
share.coordinator.state.topic.num.partitions=5

num.partitions=3
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=3000
# after a crash (kafka.sh kill) the controller keeps the dead incarnation's lease until
# broker.session.timeout.ms (default 9 s) expires, and the restarted broker waits for it.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000

message.max.bytes=67108864
replica.fetch.max.bytes=67108864
socket.request.max.bytes=268435456

num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=2
log.retention.hours=168
log.segment.bytes=104857600
EOF
  mv "$PROPS.tmp" "$PROPS"
}

tail_log() { [[ -f "$LOG" ]] && { echo "---- last lines of $LOG ----"; tail -n "${1:-40}" "$LOG"; echo "----"; } >&2 || true; }

# ---------------------------------------------------------------- commands
start() {
  local pid t0 deadline
  if pid="$(running_pid)"; then log "already running (pid $pid)"; return 0; fi
  install
  check_java
  mkdir -p "$RUN"
  rm -f "$PIDFILE"
  if port_open "$PORT" || port_open "$CONTROLLER_PORT"; then
    die "port $PORT or $CONTROLLER_PORT on $HOST is already in use by another process:
$(ss -ltnp 2>/dev/null | grep -E ":($PORT|$CONTROLLER_PORT)\b" || true)"
  fi
  write_props
  if [[ ! -f "$DATA/meta.properties" ]]; then
    log "formatting storage in $DATA (cluster id $CLUSTER_ID)"
    mkdir -p "$DATA"
    if ! java_cmd kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$PROPS" --standalone >"$STATE/format.log" 2>&1; then
      cat "$STATE/format.log" >&2
      die "kafka-storage format failed"
    fi
  fi
  [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
  t0=$SECONDS
  log "starting Kafka $(kafka_version) on $HOST:$PORT (log: $LOG)"
  # setsid: own session, so the broker is not hit by signals aimed at the caller's
  # process group. bash -c writes its own pid, then execs java (same pid).
  # 9>&- : the broker must not inherit the flock fd, or it would hold the lock forever.
  # shellcheck disable=SC2016,SC2086
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
    "$(java_bin)" $JAVA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$INFRA/log4j2.xml" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS" </dev/null >"$LOG" 2>&1 9>&- &
  deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if pid="$(running_pid)"; then
      if port_open "$PORT" && grep -q "Kafka Server started" "$LOG" 2>/dev/null; then
        log "started (pid $pid) in $((SECONDS - t0)) s"
        return 0
      fi
    elif [[ -f "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      tail_log 60
      rm -f "$PIDFILE"
      die "the broker exited during startup"
    fi
    sleep 0.3
  done
  tail_log 60
  if pid="$(running_pid)"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
  die "the broker did not become ready within ${START_TIMEOUT} s (killed it)"
}

stop() {
  local pid t0 deadline
  if ! pid="$(running_pid)"; then rm -f "$PIDFILE"; log "not running"; return 0; fi
  t0=$SECONDS
  log "stopping (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after ${STOP_TIMEOUT} s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  log "stopped in $((SECONDS - t0)) s"
}

kill_now() {
  local pid
  if ! pid="$(running_pid)"; then rm -f "$PIDFILE"; log "not running"; return 0; fi
  kill -KILL "$pid" 2>/dev/null || true
  local i=0
  while kill -0 "$pid" 2>/dev/null && (( i++ < 100 )); do sleep 0.1; done
  rm -f "$PIDFILE"
  log "killed (pid $pid)"
}

with_lock() { # serialise concurrent start/stop calls (e.g. parallel test workers)
  mkdir -p "$RUN"
  exec 9>"$LOCK"
  flock -w 180 9 || die "timed out waiting for the lock $LOCK"
  "$@"
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
  install) with_lock install ;;
  start)   with_lock start ;;
  stop)    with_lock stop ;;
  kill)    with_lock kill_now ;;
  restart) with_lock stop; start ;;
  status)
    if pid="$(running_pid)"; then echo "kafka running (pid $pid) on $HOST:$PORT"; exit 0
    else echo "kafka not running"; exit 1; fi ;;
  reset)   with_lock stop; rm -rf "$DATA"; log "data dir $DATA deleted" ;;
  logs)    tail -n "${1:-100}" "$LOG" ;;
  run)
    [[ $# -ge 1 ]] || die "usage: kafka.sh run CLASS [ARGS...]"
    install >&2
    JAVA_HEAP_OPTS=${KAFKA_TOOL_HEAP_OPTS:--Xms64m -Xmx512m}
    java_cmd "$@" ;;
  *)
    echo "usage: $0 install|start|stop|kill|restart|status|reset|logs [N]|run CLASS [ARGS...]" >&2
    exit 2 ;;
esac
