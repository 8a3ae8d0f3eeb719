#!/usr/bin/env bash
# Pins one uplink's traffic by source address — what Vaktpost's probes rely on
# (Node cannot bind a socket to a device). Idempotent; run after the uplink has its
# address, e.g. from an ifupdown `post-up` line or a networkd-dispatcher hook.
# (With systemd-networkd prefer ops/net/networkd/*.network, which does the same and
# re-adds the routes whenever the link comes back.)
#
#   uplink-routing.sh <interface> <source-address> <gateway> <table>
#   uplink-routing.sh eth1 100.64.1.2 100.64.1.1 101
set -euo pipefail
if [ $# -ne 4 ]; then
  echo "usage: $0 <interface> <source-address> <gateway> <table>   (e.g. $0 eth1 100.64.1.2 100.64.1.1 101)" >&2
  exit 2
fi
dev=$1 addr=$2 gw=$3 table=$4
pref=$((1000 + table))

# Routes over a link without carrier are ignored, so a dead link cannot look alive.
sysctl -qw net.ipv4.conf.all.ignore_routes_with_linkdown=1 "net.ipv4.conf.${dev}.ignore_routes_with_linkdown=1"
# Replies arrive on the uplink they were sent from; loose mode keeps multi-uplink sane.
sysctl -qw net.ipv4.conf.all.rp_filter=2 "net.ipv4.conf.${dev}.rp_filter=2"

ip route replace default via "$gw" dev "$dev" table "$table"
# Fallback: if this uplink's default route is gone (admin down deletes it) or ignored
# (no carrier), fail at once with EHOSTUNREACH instead of leaking out of another uplink.
ip route replace unreachable default metric 4278198272 table "$table"
while ip rule del pref "$pref" 2>/dev/null; do :; done
ip rule add from "$addr" lookup "$table" pref "$pref"
echo "uplink $dev: traffic from $addr uses table $table (via $gw, else unreachable)"
