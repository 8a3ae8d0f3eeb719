#!/usr/bin/env bash
# Runs every benchmark; each prints JSON lines {"name","value","unit","goal","peer"?}.
# Collected into .bench/latest.jsonl. Long soaks live here, never in `make test`.
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .bench
out=.bench/latest.jsonl; : > "$out"
rc=0
for f in test/bench/*.bench.ts; do
  echo "== $f" >&2
  if ! node --import tsx "$f" ${BENCH_ARGS:-} | tee -a "$out" | grep -E '^\{' ; then rc=1; echo "benchmark failed: $f" >&2; fi
done
echo "wrote $(wc -l < "$out") figures to $out" >&2
exit $rc
