#!/usr/bin/env bash
# Runs every benchmark; each prints JSON lines {"name","value","unit","goal"?,"better"?,"peer"?}.
# Then judges the run (test/bench/judge.ts): every figure with a goal is met or missed
# ("better": "lower" | "higher" says which way), .bench/latest.jsonl gets every figure with
# its file and `met`, .bench/summary.json the totals and each miss; the verdict is printed
# last. Exits non-zero on any missed goal or any bench file that failed, printed no
# figure, or did not stop by itself within BENCH_TIMEOUT_S (default 1800 s per file).
# Long soaks live here, never in `make test`.
#   BENCH_ONLY='ui|power'  runs only the bench files whose path matches (grep -E).
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .bench/out
runs=.bench/runs.tsv; : > "$runs"
rm -f .bench/out/*.jsonl .bench/summary.json
timeout_s=${BENCH_TIMEOUT_S:-1800}
for f in test/bench/*.bench.ts; do
  if [ -n "${BENCH_ONLY:-}" ] && ! grep -qE "$BENCH_ONLY" <<<"$f"; then continue; fi
  base=$(basename "$f" .bench.ts)
  echo "== $f" >&2
  # On timeout: SIGTERM to the bench's whole process group (timeout(1) runs it in its own),
  # so the daemons it started go too; SIGKILL 30 s later if anything is left.
  # shellcheck disable=SC2086
  timeout --kill-after=30 "$timeout_s" node --import tsx "$f" ${BENCH_ARGS:-} | tee ".bench/out/$base.jsonl" | grep --line-buffered -E '^\{'
  rc=${PIPESTATUS[0]}
  printf '%s\t%s\t%s\n' "$f" "$rc" "out/$base.jsonl" >> "$runs"
  [ "$rc" -eq 0 ] || echo "benchmark failed: $f (exit $rc)" >&2
done
bench_rc=0
node --import tsx test/bench/judge.ts .bench || bench_rc=$?
# The chaos suite's long form (50 kills at 20 calls/s, …) belongs to the long runs too.
# CHAOS=0 skips it.
chaos_rc=0
if [ "${CHAOS:-1}" != 0 ] && [ -z "${BENCH_ONLY:-}" ]; then
  echo "== chaos suite (long form)" >&2
  bash test/chaos.sh || chaos_rc=$?
fi
[ "$bench_rc" -eq 0 ] && [ "$chaos_rc" -eq 0 ]
