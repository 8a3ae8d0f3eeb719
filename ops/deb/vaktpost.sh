#!/bin/sh
# /usr/bin/vaktpost: Vaktpost's CLI and daemon (`vaktpost run`), the packaged build on node.
# exec: under systemd the main PID stays this process (Type=notify, the watchdog).
exec /usr/bin/node /usr/lib/vaktpost/dist/supervisor/src/cli/main.js "$@"
