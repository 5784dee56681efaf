#!/usr/bin/env bash
# The CustomResourceDefinitions the chart's optional resources need, as their
# projects publish them, taken from their Go modules on the module proxy:
#   cert-manager (Certificate, Issuer, ...), KEDA (ScaledObject), prometheus-operator (ServiceMonitor).
# Strimzi (KafkaTopic) is a Java project: its CRDs are in no module here, so KafkaTopic is not validated.
# Usage: test/infra/kube/crds.sh   -> .tools/crds/*.yaml
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
OUT="$ROOT/.tools/crds"
CERT_MANAGER=${CERT_MANAGER_VERSION:-v1.21.2}
KEDA=${KEDA_VERSION:-v2.21.0}
PROM_OPERATOR=${PROM_OPERATOR_VERSION:-v0.85.0}
stamp="$CERT_MANAGER $KEDA $PROM_OPERATOR"
[[ "$(cat "$OUT/.version" 2>/dev/null)" == "$stamp" ]] && exit 0
dir() { GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'; }
rm -rf "$OUT" && mkdir -p "$OUT"
cm="$(dir "github.com/cert-manager/cert-manager@$CERT_MANAGER")"
cp "$cm"/deploy/crds/*.cert-manager.io_*.yaml "$cm"/deploy/crds/cert-manager.io_*.yaml "$OUT/"
keda="$(dir "github.com/kedacore/keda/v2@$KEDA")"
cp "$keda/config/crd/bases/keda.sh_scaledobjects.yaml" "$OUT/"
prom="$(dir "github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR")"
cp "$prom/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" "$OUT/"
chmod u+w "$OUT"/*.yaml
echo "$stamp" > "$OUT/.version"
echo "crds.sh: $(ls "$OUT"/*.yaml | wc -l) CRDs in $OUT" >&2
