#!/usr/bin/env bash
# Builds dist-deb/vaktpost_<version>_<arch>.deb from the built tree (`make build`: dist/,
# flows/dist) — `make deb` does both. See ops/deb/README.md for what goes where.
#
#   /usr/lib/vaktpost          package.json, dist/ (supervisor, hardware, web UI), flows/,
#                              node_modules/ (production only), ops/ (nftables file, examples)
#   /usr/bin/vaktpost          sh wrapper: exec node …/dist/supervisor/src/cli/main.js
#   /usr/lib/systemd/system    the five units
#   /etc/vaktpost/vaktpost.yaml  conffile (ops/vaktpost.example.yaml)
#   /var/lib/vaktpost          made by postinst (owner vaktpost, 0700)
#
# node_modules: production only, cached per lock file, Node ABI and architecture in
# dist-deb/cache (from the installed tree pruned, or `npm ci --omit=dev`; see below). Native modules (better-sqlite3, epoll,
# @node-rs/bcrypt) are built/downloaded for THIS machine's architecture and Node ABI: the
# .deb is for the architecture it says, and wants the same Node major on the box.
# A tree whose inputs have not changed since the last build is not packed again
# (dist-deb/.fingerprint); FORCE=1 packs anyway.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
out=dist-deb
# One build at a time (tests that need the package may run side by side): the others wait,
# then find it built and unchanged.
mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9
die() {
  echo "vaktpost deb: $*" >&2
  exit 1
}

for tool in dpkg-deb dpkg node npm sha256sum; do command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg-dev nodejs npm)"; done
test -f dist/supervisor/src/cli/main.js || die "dist/ is not built — run: make build (or make deb)"
test -f dist/web/index.html || die "the web UI is not built — run: make build-ui (or make deb)"
test -f flows/dist/flows/src/nodes/index.js || die "flows/dist is not built — run: npx tsc -p flows/tsconfig.json (or make deb)"
test -f ops/vaktpost.example.yaml || die "ops/vaktpost.example.yaml is missing: it becomes /etc/vaktpost/vaktpost.yaml"

version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
node_abi=$(node -p 'process.versions.modules')
deb="$out/vaktpost_${version}_${arch}.deb"
mkdir -p "$out/cache"

# What goes into the package, hashed: unchanged inputs → the existing .deb is the answer.
inputs=(package.json package-lock.json README.md SECURITY.md dist flows/package.json flows/nodes flows/editor flows/templates flows/dist ops)
fingerprint=$({
  echo "node-abi $node_abi arch $arch"
  find "${inputs[@]}" -type f -print0 | sort -z | xargs -0 sha256sum
} | sha256sum | cut -d' ' -f1)
if [ "${FORCE:-0}" != 1 ] && [ -f "$deb" ] && [ "$(cat "$out/.fingerprint" 2>/dev/null)" = "$fingerprint" ]; then
  echo "vaktpost deb: $deb is up to date (inputs unchanged; FORCE=1 to pack again)"
  exit 0
fi

# Production node_modules, once per lock file / Node ABI / architecture. From the installed
# tree (the one every test ran against; its native modules already built for this Node):
# copied and pruned with `npm prune --omit=dev`, offline, ~20 s, and kept only if
# `npm ls --omit=dev` finds it complete. Otherwise — or with VAKTPOST_DEB_NPM=ci — a clean
# `npm ci --omit=dev` (minutes: it compiles better-sqlite3).
lockkey=$(cat package-lock.json package.json | sha256sum | cut -c1-16)
modcache="$out/cache/npm-$lockkey-abi$node_abi-$arch"
if [ ! -f "$modcache/.complete" ]; then
  rm -rf "$modcache"
  mkdir -p "$modcache"
  cp package.json package-lock.json "$modcache/"
  via=ci
  if [ "${VAKTPOST_DEB_NPM:-prune}" != ci ] && [ -f node_modules/.package-lock.json ]; then
    echo "vaktpost deb: production node_modules from the installed tree (npm prune --omit=dev) into $modcache"
    cp -a node_modules/. "$modcache/node_modules/"
    if (cd "$modcache" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null &&
      npm ls --omit=dev --all --offline >/dev/null 2>&1); then
      via=prune
    else
      echo "vaktpost deb: the installed tree does not match package-lock.json; falling back to npm ci" >&2
      rm -rf "$modcache/node_modules"
    fi
  fi
  if [ "$via" = ci ]; then
    echo "vaktpost deb: npm ci --omit=dev into $modcache (once per package-lock.json)"
    (cd "$modcache" && npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  nm="$modcache/node_modules"
  # typescript is an optional peer of i18next (types only; nothing requires it at run time)
  # and npm keeps it because the root's devDependency satisfies it.
  rm -rf "$nm/typescript" "$nm/.bin/tsc" "$nm/.bin/tsserver"
  # Build leftovers of the native modules: only build/Release/*.node is loaded.
  rm -rf "$nm/better-sqlite3/deps" "$nm/better-sqlite3/src" "$nm"/*/build/Release/obj.target "$nm"/*/build/Release/.deps \
    "$nm"/*/build/Release/obj "$nm"/*/build/Release/*.a "$nm"/*/build/Release/test_extension.node "$nm"/*/build/deps
  # Scopes prune emptied (@biomejs, @tapjs …).
  find "$nm" -mindepth 1 -maxdepth 1 -type d -empty -delete
  touch "$modcache/.complete"
fi

stage="$out/stage"
rm -rf "$stage"
lib="$stage/usr/lib/vaktpost"
mkdir -p "$lib/flows" "$stage/usr/bin" "$stage/usr/lib/systemd/system" "$stage/etc/vaktpost" "$stage/DEBIAN" \
  "$stage/usr/share/doc/vaktpost" "$stage/usr/share/polkit-1/rules.d"
cp package.json "$lib/"
cp -r dist "$lib/dist"
cp -r flows/package.json flows/nodes flows/editor flows/templates flows/dist "$lib/flows/"
rm -f "$lib/flows/dist/.tsbuildinfo"
# Hard links: the cache is not copied byte by byte for every build.
cp -al "$modcache/node_modules" "$lib/node_modules"
# ops/: the nftables file the unit loads, the examples the READMEs refer to. Not the units
# (below) nor this folder.
mkdir -p "$lib/ops"
for d in ops/*/; do
  case "$d" in ops/deb/ | ops/systemd/) ;; *) cp -r "$d" "$lib/ops/" ;; esac
done
rm -rf "$lib"/ops/*/systemd "$lib"/ops/*/*.service
# The packaged units run the daemons as user vaktpost: it joins root on the local control ports.
nft="$lib/ops/nftables/vaktpost-local.nft"
grep -q '^define VAKTPOST_CONTROL_UIDS = { 0 }$' "$nft" || die "$nft: the line 'define VAKTPOST_CONTROL_UIDS = { 0 }' changed; update ops/deb/build.sh"
sed -i 's/^define VAKTPOST_CONTROL_UIDS = { 0 }$/define VAKTPOST_CONTROL_UIDS = { 0, vaktpost }/' "$nft"

install -m 0755 ops/deb/vaktpost.sh "$stage/usr/bin/vaktpost"
install -m 0644 ops/systemd/vaktpost.service ops/kamailio/systemd/*.service ops/rtpengine/systemd/*.service ops/nftables/*.service \
  "$stage/usr/lib/systemd/system/"
install -m 0644 ops/vaktpost.example.yaml "$stage/etc/vaktpost/vaktpost.yaml"
install -m 0644 README.md SECURITY.md "$stage/usr/share/doc/vaktpost/"
install -m 0644 ops/systemd/README.md "$stage/usr/share/doc/vaktpost/systemd.md"
install -m 0644 ops/deb/50-vaktpost.rules "$stage/usr/share/polkit-1/rules.d/"

install -m 0755 ops/deb/postinst ops/deb/prerm ops/deb/postrm "$stage/DEBIAN/"
echo /etc/vaktpost/vaktpost.yaml >"$stage/DEBIAN/conffiles"
# Nothing in the tree may be writable by group or others (npm's umask, a copied file).
chmod -R go-w "$stage"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" ops/deb/control.in >"$stage/DEBIAN/control"

rm -f "$deb"
# zstd: several times faster to pack than xz at a similar size (dpkg reads it since 1.21.18).
dpkg-deb --build --root-owner-group -Zzstd "$stage" "$deb" >/dev/null
rm -rf "$stage"
echo "$fingerprint" >"$out/.fingerprint"
echo "vaktpost deb: built $deb ($(du -h "$deb" | cut -f1), installed size $((size / 1024)) MiB, $arch, Node ABI $node_abi)"
