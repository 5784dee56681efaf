#!/usr/bin/env bash
# The README's test command runs this (through make test): unit tests, the
# bus contract against both buses, then end to end against a real broker,
# Redis and SMTP peers on loopback. Infrastructure is stopped whatever happens.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
make --no-print-directory lint  # eslint.config.js and the layout: a finding fails the run before any test
trap 'bash scripts/infra.sh down' EXIT
bash scripts/infra.sh up
rm -rf var/test-mail
# helm for the chart tests, built from the Go module proxy into .tools/bin (once).
bash test/infra/kube/tools.sh helm
export PORTCULLIS_TEST_HELM="$root/.tools/bin/helm"
# The API server tests skip (saying so) only when apiserver.sh could not build one within its budget.
if [[ -f "$root/.tools/run/kube/kubeconfig" ]]; then export PORTCULLIS_TEST_KUBECONFIG="$root/.tools/run/kube/kubeconfig"; fi
# Tests that need Redis fail (rather than skip) when this one is not there.
offset=${PORTCULLIS_TEST_PORT_OFFSET:-0}
export PORTCULLIS_TEST_REDIS=redis://127.0.0.1:$((16379 + offset))
export PORTCULLIS_TEST_KAFKA=127.0.0.1:$((19092 + offset))
# The test DNS server (test/infra/dns.sh); tests that need it fail rather than skip.
export PORTCULLIS_TEST_DNS=127.0.0.1:$((15353 + offset))
# The content scanners (test/infra/clamav.sh, test/infra/rspamd.sh).
export PORTCULLIS_TEST_CLAMD=tcp://127.0.0.1:$((13310 + offset))
export PORTCULLIS_TEST_CLAMD_SOCKET=unix:$root/.tools/run/clamav/clamd.sock
export PORTCULLIS_TEST_RSPAMD=http://127.0.0.1:$((11333 + offset))
# The container image (buildah from scratch, no Docker engine); a test starts it.
if [[ "${PORTCULLIS_IMAGE_TEST:-on}" != off ]]; then
  bash scripts/image.sh portcullis:test
  export PORTCULLIS_TEST_IMAGE=portcullis:test
  export PORTCULLIS_TEST_IMAGE_SMTP_PORT=$((12525 + offset)) PORTCULLIS_TEST_IMAGE_HTTP_PORT=$((18025 + offset))
fi
node --test --test-concurrency=2 --test-timeout=120000 \
  'libs/*/dist/test/**/*.test.js' 'services/*/dist/test/**/*.test.js' 'apps/*/dist/test/**/*.test.js'
# One file at a time: these share the broker, and one of them stops it.
node --test --test-concurrency=1 --test-timeout=900000 \
  'test/dist/contract/**/*.test.js' 'test/dist/e2e/**/*.test.js'
