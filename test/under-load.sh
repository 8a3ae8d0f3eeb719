#!/usr/bin/env bash
# Runs `make test` several times in a row while two CPU-bound processes run
# beside it, to show the suite passes on a busy machine (functional tests await
# events; speed is the benchmarks' business). Prints each run's closing line
# "N passed, N failed" and its duration; exits non-zero if any run failed.
#
#   bash test/under-load.sh              3 runs
#   RUNS=5 bash test/under-load.sh       5 runs
#   HOGS=1 bash test/under-load.sh       one CPU hog instead of two
#   MAKE_TEST='echo "3 passed, 0 failed"' bash test/under-load.sh   dry run
#
# Full output of run i is kept in .tap/under-load-<i>.txt.
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
HOGS=${HOGS:-2}
MAKE_TEST=${MAKE_TEST:-make test}

if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then echo "under-load: RUNS must be a positive integer (got '$RUNS')" >&2; exit 2; fi
if ! [[ "$HOGS" =~ ^[0-9]+$ ]]; then echo "under-load: HOGS must be a non-negative integer (got '$HOGS')" >&2; exit 2; fi

hog_pids=()
stop_hogs() {
  # Only the processes this script started, by their id.
  for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hog_pids[@]}"; do wait "$pid" 2>/dev/null; done
  hog_pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ((h = 0; h < HOGS; h++)); do
  # A bash busy loop: pure CPU, no I/O, no memory growth.
  bash -c 'while :; do :; done' &
  hog_pids+=("$!")
done
echo "under-load: $HOGS CPU hog(s) running (pids ${hog_pids[*]:-none}) on $(nproc) core(s); $RUNS run(s) of: $MAKE_TEST"

mkdir -p .tap
failed_runs=0
summary=()
for ((i = 1; i <= RUNS; i++)); do
  log=.tap/under-load-$i.txt
  echo "== run $i/$RUNS"
  start=$(date +%s)
  bash -c "$MAKE_TEST" >"$log" 2>&1
  rc=$?
  secs=$(($(date +%s) - start))
  closing=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
  [ -n "$closing" ] || closing="no closing line (see $log)"
  if [ "$rc" -ne 0 ]; then
    failed_runs=$((failed_runs + 1))
    grep -E '^\s*not ok|^failed steps:' "$log" | head -n 20
  fi
  line="run $i: $closing, exit $rc, $((secs / 60)) min $((secs % 60)) s"
  echo "$line"
  summary+=("$line")
done

echo "== under load ($HOGS CPU hogs):"
printf '%s\n' "${summary[@]}"
echo "$((RUNS - failed_runs)) of $RUNS runs passed"
[ "$failed_runs" -eq 0 ]
