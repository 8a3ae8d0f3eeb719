#!/usr/bin/env bash
# Runs every check of `make test` and ends with one line "N passed, N failed".
# Steps that are not tap tests (typecheck, lint, build) count as one test each.
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0; failed=0; failed_steps=()
step() {
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed+1)); else failed=$((failed+1)); failed_steps+=("$name"); fi
}
step typecheck npx tsc --noEmit -p tsconfig.json
step lint bash -c 'npx biome check . && npx depcruise --config .dependency-cruiser.cjs supervisor hardware flows'
step build bash -c 'npx tsc -p tsconfig.build.json && npx tsc -p flows/tsconfig.json'
step build-ui bash supervisor/web/build.sh
mkdir -p .tap
echo "== tap (unit, integration, e2e)"
npx tap "$@" 2>&1 | tee .tap/last-run.txt
tap_rc=${PIPESTATUS[0]}
read -r tp tf < <(node test/tap-summary.mjs .tap/last-run.txt)
passed=$((passed+tp)); failed=$((failed+tf))
if [ "$tap_rc" -ne 0 ] && [ "$tf" -eq 0 ]; then failed=$((failed+1)); failed_steps+=("tap exited $tap_rc"); fi
[ ${#failed_steps[@]} -gt 0 ] && echo "failed steps: ${failed_steps[*]}"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
