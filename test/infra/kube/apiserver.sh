#!/usr/bin/env bash
# A real Kubernetes API server on loopback for the chart and cluster-tool tests:
# etcd (127.0.0.1:12379+offset) and kube-apiserver (https://127.0.0.1:16443+offset),
# both built from the Go module proxy by tools.sh, client-certificate auth, RBAC.
# No kubelet, scheduler or controllers: objects are stored and validated, pods never run.
#
# Usage: test/infra/kube/apiserver.sh start|stop|status
#   start  build the binaries if needed (skipped, exit 0 with a notice, when
#          KUBE_APISERVER=off or the build does not finish within KUBE_BUILD_BUDGET seconds)
# State: .tools/run/kube/ (kubeconfig, certificates, etcd data, logs, pid files)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
RUN="$ROOT/.tools/run/kube"
BIN="$ROOT/.tools/bin"
OFF=${PORTCULLIS_TEST_PORT_OFFSET:-0}
ETCD_PORT=$((12379 + OFF)); ETCD_PEER=$((12380 + OFF)); API_PORT=$((16443 + OFF))
BUDGET=${KUBE_BUILD_BUDGET:-900}
log() { echo "apiserver.sh: $*" >&2; }
die() { echo "apiserver.sh: ERROR: $*" >&2; exit 1; }

alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

certs() {
  [[ -f "$RUN/pki/admin.crt" ]] && return 0
  local p="$RUN/pki"; mkdir -p "$p"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=portcullis-test-ca" \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  # $1 name, $2 subject, $3 extensions
  issue() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" -keyout "$p/$1.key" -out "$p/$1.csr" 2>/dev/null
    openssl x509 -req -in "$p/$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
      -extfile <(printf '%s\n' "$3") -out "$p/$1.crt" 2>/dev/null
  }
  issue server "/CN=kube-apiserver" "subjectAltName=IP:127.0.0.1,DNS:localhost"$'\n'"extendedKeyUsage=serverAuth"
  issue admin "/O=system:masters/CN=portcullis-test-admin" "extendedKeyUsage=clientAuth"
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$p/sa.key" 2>/dev/null
  openssl pkey -in "$p/sa.key" -pubout -out "$p/sa.pub"
}

kubeconfig() {
  cat > "$RUN/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{ name: test, cluster: { server: "https://127.0.0.1:$API_PORT", certificate-authority: "$RUN/pki/ca.crt" } }]
users: [{ name: admin, user: { client-certificate: "$RUN/pki/admin.crt", client-key: "$RUN/pki/admin.key" } }]
contexts: [{ name: test, context: { cluster: test, user: admin, namespace: default } }]
current-context: test
KC
}

ready() { curl -sf --cacert "$RUN/pki/ca.crt" --cert "$RUN/pki/admin.crt" --key "$RUN/pki/admin.key" "https://127.0.0.1:$API_PORT/readyz" >/dev/null 2>&1; }

start() {
  local t0=$SECONDS
  if [[ "${KUBE_APISERVER:-on}" == off ]]; then log "KUBE_APISERVER=off: not started"; return 0; fi
  mkdir -p "$RUN"
  rm -f "$RUN/kubeconfig"
  # Budget for both builds together (about 10.5 min from an empty Go build cache on the shared 2-core machine; then cached).
  if ! timeout "$BUDGET" bash -c "bash '$ROOT/test/infra/kube/tools.sh' etcd && bash '$ROOT/test/infra/kube/tools.sh' apiserver"; then
    log "NOTICE: etcd/kube-apiserver not built within ${BUDGET} s (KUBE_BUILD_BUDGET): API server tests will be skipped"
    return 0
  fi
  bash "$ROOT/test/infra/kube/crds.sh" || die "cannot fetch the CRDs from the Go module proxy"
  if alive apiserver && ready; then kubeconfig; log "already running"; return 0; fi
  certs
  rm -rf "$RUN/etcd"
  "$BIN/etcd" --name default --data-dir "$RUN/etcd" --unsafe-no-fsync \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
    --initial-cluster "default=http://127.0.0.1:$ETCD_PEER" --listen-metrics-urls "" --log-level warn \
    > "$RUN/etcd.log" 2>&1 &
  echo $! > "$RUN/etcd.pid"
  "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --tls-cert-file "$RUN/pki/server.crt" --tls-private-key-file "$RUN/pki/server.key" \
    --client-ca-file "$RUN/pki/ca.crt" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$RUN/pki/sa.pub" --service-account-signing-key-file "$RUN/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
    > "$RUN/apiserver.log" 2>&1 &
  echo $! > "$RUN/apiserver.pid"
  local deadline=$((SECONDS + 90))
  until ready; do
    alive apiserver || { tail -n 30 "$RUN/apiserver.log" >&2; die "kube-apiserver exited (log: $RUN/apiserver.log)"; }
    (( SECONDS < deadline )) || { tail -n 30 "$RUN/apiserver.log" >&2; die "kube-apiserver not ready within 90 s"; }
    sleep 0.5
  done
  kubeconfig
  log "kube-apiserver ready on https://127.0.0.1:$API_PORT in $((SECONDS - t0)) s (kubeconfig $RUN/kubeconfig)"
}

stop1() {
  alive "$1" || { rm -f "$RUN/$1.pid"; return 0; }
  local pid; pid="$(cat "$RUN/$1.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/$1.pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop1 apiserver; stop1 etcd; rm -rf "$RUN/etcd"; log "stopped" ;;
  status) alive apiserver && ready && { echo "running on https://127.0.0.1:$API_PORT"; exit 0; }; echo "not running"; exit 1 ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
