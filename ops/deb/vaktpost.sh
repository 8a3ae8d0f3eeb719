#!/bin/sh
# /usr/bin/vaktpost: Vaktpost's CLI and daemon (`vaktpost run`), the packaged build on node.
#
# Run by root, the commands that work on the data dir act as the service's user `vaktpost`
# (setpriv, with that user's groups): whatever they write into /var/lib/vaktpost — the
# store when the supervisor is down, kamailio.cfg from `kamailio-render`, the audio-log
# files — stays owned by the user the units run as (a root-owned 0600 kamailio.cfg would
# stop Kamailio from starting). Other commands (e.g. `apply`, which writes system files,
# backup/restore) keep root. VAKTPOST_AS_ROOT=1 keeps root for all (e.g. `--out` into a
# folder only root may write).
#
# exec: under systemd the main PID stays this process (Type=notify, the watchdog).
if [ "$(id -u)" = 0 ] && [ -z "${VAKTPOST_AS_ROOT:-}" ] && id -u vaktpost >/dev/null 2>&1; then
  case "${1:-}" in
  run | check-config | status | events | route | drill | user | kamailio-render | audiolog | flows | report | deviations | deviation | duties)
    exec /usr/bin/setpriv --reuid=vaktpost --regid=vaktpost --init-groups -- /usr/bin/node /usr/lib/vaktpost/dist/supervisor/src/cli/main.js "$@"
    ;;
  esac
fi
exec /usr/bin/node /usr/lib/vaktpost/dist/supervisor/src/cli/main.js "$@"
