#!/usr/bin/env bash
# Debian's dnsmasq (dnsmasq-base: the binary, no service) for tests that need a
# real DNS server with test zones; each test starts its own instance on
# 127.0.0.1:(15353 + PORTCULLIS_TEST_PORT_OFFSET, and the next port) with its records, and stops it.
# Usage: test/infra/dnsmasq.sh install
set -euo pipefail
case "${1:-}" in
  install)
    command -v dnsmasq >/dev/null 2>&1 || [[ -x /usr/sbin/dnsmasq ]] && exit 0
    [[ "$(id -u)" == 0 ]] || { echo "dnsmasq.sh: dnsmasq is missing (apt-get install dnsmasq-base)" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
    timeout 600 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends dnsmasq-base >&2
    ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
