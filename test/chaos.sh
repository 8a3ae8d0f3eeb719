#!/usr/bin/env bash
# The chaos suite in its long form: the tests under test/integration/chaos with
# VAKTPOST_CHAOS=long. Each prints what it did and what it found (tap comments);
# ends with "N passed, N failed". The short form of the same files runs in `make test`.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tap
VAKTPOST_CHAOS=long npx tap --timeout 3600 --disable-coverage test/integration/chaos/*.test.ts test/integration/supervisor/ws-*.test.ts test/integration/wan/flap.test.ts test/integration/wan/flap-supervisor.test.ts 2>&1 | tee .tap/chaos.txt
rc=${PIPESTATUS[0]}
read -r p f < <(node test/tap-summary.mjs .tap/chaos.txt)
echo "${p} passed, ${f} failed"
exit "$rc"
