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
# Compile apart from running, so that the run time below is the tier's own. One test at a
# time, so that each scenario's lines come out whole.
cargo test -p groundcrew-sim --no-run --quiet 2>&1 | tail -n 20
compiled=$(date +%s)
out="$LOCAL/sim.log"
cargo test -p groundcrew-sim --quiet -- --nocapture --test-threads 1 > "$out" 2>&1
rc=$?
# Each scenario's summary and figures (cargo's progress dots may precede a line).
grep -E '^\.*(sim |[a-z-]+ figures:)' "$out" | sed -E 's/^\.+//'
# A failure's report: what broke, at which seed and step, and the replay line. (The tests
# that prove a violation is reported and replays exactly print one on purpose.)
[ "$rc" = 0 ] || grep -E -A 8 '^\.*INVARIANT VIOLATED' "$out" | grep -v 'on purpose' | head -n 60
done_at=$(date +%s)
# cargo test prints "test result: ok. N passed; M failed; ..." per test binary (the
# scenarios' own figures also say "failed": only those lines count).
passed=$(grep -E '^test result:' "$out" | grep -Eo '[0-9]+ passed' | awk '{s += $1} END {print s + 0}')
failed=$(grep -E '^test result:' "$out" | grep -Eo '[0-9]+ failed' | awk '{s += $1} END {print s + 0}')
[ "$rc" = 0 ] || echo "sim: a scenario failed; its report (seed, step, replay line) is in $out"
echo "sim: compile $((compiled - t0)) s, run $((done_at - compiled)) s"
echo "sim: $passed passed, $failed failed"
exit "$rc"
