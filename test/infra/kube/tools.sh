#!/usr/bin/env bash
# Builds the Kubernetes test tools from the Go module proxy into .tools/bin:
#   helm             helm.sh/helm/v3 (lint, template)
#   kube-apiserver   k8s.io/kubernetes, through a small wrapper module that pins
#                    every k8s.io staging module to the matching v0.x release
#                    (`go install k8s.io/kubernetes/...@v1.x` refuses its replace directives)
#   etcd             go.etcd.io/etcd/server/v3
# Usage: test/infra/kube/tools.sh helm|apiserver|etcd|all   (no-op when already built)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BIN="$ROOT/.tools/bin"
HELM_VERSION=${HELM_VERSION:-v3.22.0}
KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
export GOFLAGS="${GOFLAGS:-} -trimpath" GOTOOLCHAIN=local CGO_ENABLED=0
log() { echo "kube/tools.sh: $*" >&2; }
die() { echo "kube/tools.sh: ERROR: $*" >&2; exit 1; }
command -v go >/dev/null || die "go is not installed (needed to build $1 from the Go module proxy)"
mkdir -p "$BIN"

# Writes the stamp so a version change rebuilds.
built() { [[ -x "$BIN/$1" && "$(cat "$BIN/.$1.version" 2>/dev/null)" == "$2" ]]; }
stamp() { echo "$2" > "$BIN/.$1.version"; log "built $1 $2 in $3 s"; }

helm() {
  built helm "$HELM_VERSION" && return 0
  local t0=$SECONDS
  # The flags helm's own Makefile sets: its version, and the Kubernetes version templates see by default
  # (the minor of the client-go it is built with; without them helm assumes Kubernetes 1.20).
  local minor
  minor="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' | xargs sed -n 's#^\s*k8s.io/client-go v0\.\([0-9]*\)\..*#\1#p')"
  [[ -n "$minor" ]] || die "cannot tell which Kubernetes version helm $HELM_VERSION is built against"
  GOBIN="$BIN" go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" || die "go install helm failed"
  stamp helm "$HELM_VERSION" $((SECONDS - t0))
}

# Builds one main package of a module whose go.mod has replace directives
# (which `go install pkg@version` refuses): a wrapper module requires it and
# pins every module it replaces with a local path to the same release.
# wrapped_build <binary> <module> <version> <package> <pinned version of the replaced modules> [ldflags]
wrapped_build() {
  local bin=$1 module=$2 version=$3 pkg=$4 pin=$5 ldflags=${6:-} mod gomod replaced
  mod="$ROOT/.tools/src/$bin"
  rm -rf "$mod" && mkdir -p "$mod"
  go mod download -json "$module@$version" > "$mod/download.json" || die "cannot download $module@$version"
  gomod="$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' "$mod/download.json")"
  replaced="$(grep -v FORBIDDEN "$gomod" | sed -n 's#^\s*\(replace \)\?\([a-z0-9./-]*\) => \.\.\?/[a-zA-Z0-9_./-]*$#\2#p')"
  {
    echo "module portcullis.test/$bin"
    echo "go $(sed -n 's/^go //p' "$gomod")"
    echo "require $module $version"
    for m in $replaced; do echo "replace $m => $m $pin"; done
  } > "$mod/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" > "$mod/tools.go"
  (cd "$mod" && go mod tidy >&2 && go build -ldflags "-s -w $ldflags" -o "$BIN/$bin" "$pkg") || die "building $bin $version failed"
}

etcd() {
  built etcd "$ETCD_VERSION" && return 0
  local t0=$SECONDS
  wrapped_build etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  stamp etcd "$ETCD_VERSION" $((SECONDS - t0))
}

apiserver() {
  built kube-apiserver "$KUBE_VERSION" && return 0
  local t0=$SECONDS
  # The staging modules (k8s.io/api, client-go, ...) are released as v0.N.M for kubernetes v1.N.M.
  # The version stamp its own build sets (clients such as helm check it against a chart's kubeVersion).
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*} v=k8s.io/component-base/version
  wrapped_build kube-apiserver k8s.io/kubernetes "$KUBE_VERSION" k8s.io/kubernetes/cmd/kube-apiserver "${KUBE_VERSION/v1./v0.}" \
    "-X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
  stamp kube-apiserver "$KUBE_VERSION" $((SECONDS - t0))
}

case "${1:-}" in
  helm) helm ;;
  etcd) etcd ;;
  apiserver) apiserver ;;
  all) helm; etcd; apiserver ;;
  *) echo "usage: $0 helm|etcd|apiserver|all" >&2; exit 2 ;;
esac
