#!/usr/bin/env bash
# Installs the Debian packages Vaktpost's tests and `make run` need.
# Idempotent: does nothing when every package is already present.
# Package services are NOT started: the tests run their own daemons on loopback
# with their own configs (test/helpers/*.ts), and a stock kamailio/upsd/chronyd
# would only hold the ports the tests need.
set -euo pipefail
PKGS=(faketime kamailio sip-tester nut-server nut-client chrony rtpengine-daemon espeak-ng sox libsox-fmt-all
      nftables iproute2 iputils-ping chromium procps psmisc
      iptables python3  # iptables: NFQUEUE target for the WAN test-bed delay shim (python3, stdlib only)
      acl               # setfacl: lets vaktpost-flows traverse to a source tree under a private folder (below)
      mmdebstrap systemd-container)  # the appliance test: a Debian 13 rootfs booted with systemd-nspawn (test/helpers/appliance)
[ "${1:-}" = "--print" ] && { echo "${PKGS[@]}"; exit 0; }
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The Node-RED flows run as their own system user, never as root (flows.user).
if [ "$(id -u)" -eq 0 ] && ! id vaktpost-flows >/dev/null 2>&1; then
  echo "vaktpost: creating the system user vaktpost-flows (the flows child runs as it)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vaktpost-flows
fi

# The flows child runs as vaktpost-flows and reads the code it runs from this tree
# (node_modules, flows/, dist/ or the sources). On the box that is /opt/vaktpost; a
# clone under a private folder (/root, a mktemp -d) is out of its reach. Then give
# that one user search (x) on each folder above the tree that it cannot enter — an
# ACL entry, not o+x: nobody else gains anything, and it can list none of them.
flows_reach_tree() {
  [ "$(id -u)" -eq 0 ] && id vaktpost-flows >/dev/null 2>&1 || return 0
  local repo d
  repo=$(cd "$(dirname "$0")/../.." && pwd)
  runuser -u vaktpost-flows -- test -r "$repo/package.json" && return 0
  d=""
  IFS=/ read -ra parts <<< "${repo#/}"
  for part in "${parts[@]}"; do
    d="$d/$part"
    if ! runuser -u vaktpost-flows -- test -x "$d"; then
      echo "vaktpost: letting vaktpost-flows pass through $d (setfacl -m u:vaktpost-flows:x) so the flows child can read $repo"
      setfacl -m u:vaktpost-flows:x "$d"
    fi
  done
  runuser -u vaktpost-flows -- test -r "$repo/package.json" || {
    echo "vaktpost: vaktpost-flows still cannot read $repo/package.json — make the tree world-readable (chmod -R o+rX $repo)" >&2
    return 1
  }
}

if [ ${#missing[@]} -eq 0 ]; then flows_reach_tree; exit $?; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "vaktpost: missing Debian packages: ${missing[*]} — run 'sudo $0' (mangler Debian-pakker: kjør som root)" >&2
  exit 1
fi
echo "vaktpost: installing Debian packages: ${missing[*]}"
# Keep package maintainer scripts from starting stock services.
policy=/usr/sbin/policy-rc.d; created_policy=0
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; created_policy=1; fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends matters: systemd-container recommends libnss-mymachines, which edits this host's nsswitch.conf.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
flows_reach_tree
