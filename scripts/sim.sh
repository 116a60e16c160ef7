#!/usr/bin/env bash
# The simulation tier: every function's real logic against models of AWS on a virtual
# clock (tests/, crate groundcrew-sim). Prints, per scenario, the seeds run, the simulated
# time covered, steps, faults injected, invariant checks made and violations, then a
# `sim: N passed, M failed` line.
#
#   scripts/sim.sh                         every scenario, its default seeds
#   scripts/sim.sh --seeds 20              20 seeds per scenario (seeds 1..20)
#   scripts/sim.sh --scenario aurora-weeks --seed 7
#                                          replays one run exactly (a violation prints this line)
#   scripts/sim.sh --first-seed 100 --seeds 50
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) export SIM_SEEDS="$2"; shift 2 ;;
    --seed) export SIM_SEED="$2"; shift 2 ;;
    --first-seed) export SIM_FIRST_SEED="$2"; shift 2 ;;
    --scenario) export SIM_SCENARIO="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see scripts/sim.sh --help)" ;;
  esac
done

t0=$(date +%s)
# Built with the workspace's feature set (as the nextest stage builds it), so that on a
# cold machine nothing is compiled twice; then run apart, so the run time is the tier's own.
# One test at a time, so that each scenario's lines come out whole.
filter='package(groundcrew-sim)'
cargo nextest run --workspace -E "$filter" --no-run --cargo-quiet 2>&1 | tail -n 20
compiled=$(date +%s)
out="$LOCAL/sim.log"
cargo nextest run --workspace -E "$filter" --no-capture --test-threads 1 --no-fail-fast --cargo-quiet > "$out" 2>&1
rc=$?
# Each scenario's summary and figures.
grep -E '^(sim |[a-z-]+ figures:)' "$out"
# A failure's report: what broke, at which seed and step, and the replay line. (The tests
# that prove a violation is reported and replays exactly print one on purpose.)
[ "$rc" = 0 ] || grep -E -A 8 '^INVARIANT VIOLATED' "$out" | grep -v 'on purpose' | head -n 60
done_at=$(date +%s)
# nextest's closing line: "Summary [ 30.1s] 32 tests run: 32 passed, 0 skipped" (or "..., 1 failed").
summary=$(grep -E 'tests? run:' "$out" | tail -n 1)
passed=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
failed=$(echo "$summary" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
[ "$rc" = 0 ] || echo "sim: a scenario failed; its report (seed, step, replay line) is in $out"
echo "sim: compile $((compiled - t0)) s, run $((done_at - compiled)) s"
echo "sim: ${passed:-0} passed, ${failed:-0} failed"
exit "$rc"
