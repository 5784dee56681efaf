#!/usr/bin/env bash
# Starts (or stops) what the integration tests and benchmarks need: a real
# Apache Kafka broker (KRaft, from Maven Central), a real Redis, a real
# authoritative DNS server (BIND) serving the test zones, and the content
# scanners: Debian's clamd (local EICAR signature, offline) and rspamd.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in
  up)
    bash "$root/test/infra/redis.sh" start
    # Restarted so that it serves the zone files as they are now.
    bash "$root/test/infra/dns.sh" stop
    bash "$root/test/infra/dns.sh" start
    # A fresh broker for every run, so no test sees records of an earlier one.
    bash "$root/test/infra/kafka.sh" reset
    bash "$root/test/infra/kafka.sh" start
    bash "$root/test/infra/clamav.sh" start
    bash "$root/test/infra/rspamd.sh" start
    # etcd + kube-apiserver (built from the Go module proxy within KUBE_BUILD_BUDGET seconds, else skipped).
    bash "$root/test/infra/kube/apiserver.sh" start
    ;;
  down)
    bash "$root/test/infra/kube/apiserver.sh" stop || true
    bash "$root/test/infra/rspamd.sh" stop || true
    bash "$root/test/infra/clamav.sh" stop || true
    bash "$root/test/infra/kafka.sh" stop || true
    bash "$root/test/infra/dns.sh" stop || true
    bash "$root/test/infra/redis.sh" stop || true
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
