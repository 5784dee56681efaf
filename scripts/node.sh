#!/usr/bin/env bash
# Prints (on stdout, nothing else) the absolute path of a directory that holds a
# `node` binary of major version >= $NODE_MAJOR (default 24). Progress goes to stderr.
#
#   export PATH="$(scripts/node.sh):$PATH"    # node 24 first; npm/npx then run on it
#
# If the node on PATH is new enough, its directory is printed. Otherwise Node is
# installed from the npm registry into .tools/node: the package `node-linux-<arch>@<major>`
# (the platform package that `node@24` itself pulls in via a preinstall script; installing
# it directly avoids that nested npm run and npm's install-script approval rules).
# npm itself is not installed: the system npm (a `#!/usr/bin/env node` script) runs on
# whichever node comes first on PATH. Idempotent; fast when already installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_MAJOR="${NODE_MAJOR:-24}"
PREFIX="$ROOT/.tools/node"

log() { echo "node.sh: $*" >&2; }
die() { echo "node.sh: ERROR: $*" >&2; exit 1; }

# major version of the node binary $1, or nothing if it does not run
major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }

ok() { local m; m="$(major_of "$1")"; [[ "$m" =~ ^[0-9]+$ ]] && (( m >= NODE_MAJOR )); }

# 1. the node on PATH
if sys="$(command -v node 2>/dev/null)" && ok "$sys"; then
  dirname "$sys"
  exit 0
fi

case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) die "unsupported CPU architecture $(uname -m)" ;;
esac
pkg="node-linux-$arch"
bindir="$PREFIX/node_modules/$pkg/bin"

# 2. already installed under .tools/node
if ok "$bindir/node"; then
  echo "$bindir"
  exit 0
fi

# 3. install it
command -v npm >/dev/null 2>&1 || die "node ${NODE_MAJOR}+ is not installed and there is no npm to install it with (need the system node/npm)"
mkdir -p "$ROOT/.tools"
exec 9>"$ROOT/.tools/node.lock"
flock -w 600 9 || die "timed out waiting for $ROOT/.tools/node.lock"
if ok "$bindir/node"; then echo "$bindir"; exit 0; fi   # installed by a concurrent run

t0=$SECONDS
log "installing $pkg@$NODE_MAJOR from the npm registry into $PREFIX ..."
tmp="$(mktemp -d "$ROOT/.tools/node.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# a package.json of its own, so npm never walks up into the repo's workspaces
echo '{ "name": "portcullis-node-toolchain", "private": true }' >"$tmp/package.json"
if ! (cd "$tmp" && timeout 600 npm install --prefix "$tmp" --no-save --no-package-lock \
        --no-audit --no-fund --ignore-scripts --loglevel=error "$pkg@$NODE_MAJOR") >&2; then
  die "npm install $pkg@$NODE_MAJOR failed (see above)"
fi
ok "$tmp/node_modules/$pkg/bin/node" || die "installed $pkg does not run as node >= $NODE_MAJOR"
rm -rf "$PREFIX"
mv "$tmp" "$PREFIX"
trap - EXIT
ok "$bindir/node" || die "node missing in $bindir after install"
log "installed node $("$bindir/node" --version) in $((SECONDS - t0)) s"
echo "$bindir"
