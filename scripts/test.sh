#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, fmt, clippy, unit and local-AWS tests,
# the README's local run, the benchmarks (short setting), the arm64 build and boot check,
# the template checks, then a one-line summary.
# With CI=true a missing tool or service is a failure, never a skip.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

started=$(date +%s)
tests_passed=0; tests_failed=0
stages=(); failed_stages=()

disk() { # free space on target/'s disk, and target/'s size: a full disk fails a build
  local free used
  free=$(df -Pk "$ROOT" | awk 'NR == 2 { printf "%.1f GB free", $4 / 1048576 }')
  used=$(du -sk "$ROOT/target" 2>/dev/null | awk '{ printf "target/ %.1f GB", $1 / 1048576 }')
  echo "${used:-target/ empty}, $free"
}

stage() { # name command...
  local name=$1; shift
  local t0; t0=$(date +%s)
  say "$name"
  if "$@"; then
    stages+=("$name ok ($(( $(date +%s) - t0 )) s; $(disk))")
  else
    stages+=("$name FAILED ($(( $(date +%s) - t0 )) s; $(disk))")
    failed_stages+=("$name")
  fi
}

count_from() { # file: adds a runner's "N passed, M failed" to the totals
  local line
  line=$(grep -Eo '[0-9]+ passed(, [0-9]+ failed)?' "$1" | tail -n 1)
  [ -n "$line" ] || return 0
  local p f
  p=$(echo "$line" | grep -Eo '^[0-9]+')
  f=$(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '^[0-9]+' || echo 0)
  tests_passed=$((tests_passed + p)); tests_failed=$((tests_failed + ${f:-0}))
}

nextest() {
  # The simulation tier has its own stage (its figures are worth reading).
  cargo nextest run --workspace --profile ci --no-fail-fast -E 'not package(groundcrew-sim)' 2>&1 | tee "$LOCAL/nextest.log"
  local rc=${PIPESTATUS[0]}
  # "Summary [...] 57 tests run: 57 passed, 2 skipped" / "... 55 passed, 2 failed"
  local summary; summary=$(grep -E 'tests? run:' "$LOCAL/nextest.log" | tail -n 1)
  local p f
  p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+' || echo 0)
  f=$(echo "$summary" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+' || echo 0)
  tests_passed=$((tests_passed + ${p:-0})); tests_failed=$((tests_failed + ${f:-0}))
  if [ "${p:-0}" = 0 ]; then echo "nextest ran no test"; return 1; fi
  return "$rc"
}

simulation() {
  scripts/sim.sh 2>&1 | tee "$LOCAL/sim-stage.log"
  local rc=${PIPESTATUS[0]}
  count_from "$LOCAL/sim-stage.log"
  return "$rc"
}

boot() {
  scripts/boot-check.sh 2>&1 | tee "$LOCAL/boot.log"
  local rc=${PIPESTATUS[0]}
  count_from "$LOCAL/boot.log"
  return "$rc"
}

benchmarks() {
  # Keeps the benchmarks working (short setting, debug builds); never fails on a timing.
  scripts/bench.sh --short 2>&1 | tee "$LOCAL/bench.log"
  local rc=${PIPESTATUS[0]}
  count_from "$LOCAL/bench.log"
  return "$rc"
}

localrun() {
  # The README's "Run one function locally" (cargo lambda watch and invoke), for real.
  scripts/local-run-check.sh 2>&1 | tee "$LOCAL/local-run.log"
  local rc=${PIPESTATUS[0]}
  count_from "$LOCAL/local-run.log"
  return "$rc"
}

free_debug_builds() {
  # Under CI only: every stage after this one builds release arm64 binaries (and the small
  # xtask again), so target/debug (about 6 GB) is dropped before they start and the disk
  # never holds both (stop 24's CI machine ran out of disk in its test build).
  in_ci || { echo "not CI: target/debug kept"; return 0; }
  rm -rf "$ROOT/target/debug"
}

templates() {
  scripts/template-check.sh 2>&1 | tee "$LOCAL/template.log"
  local rc=${PIPESTATUS[0]}
  count_from "$LOCAL/template.log"
  return "$rc"
}

echo "disk at start: $(disk)"
stage "set-up" scripts/setup.sh || true
if [ ${#failed_stages[@]} -gt 0 ]; then
  echo "summary: 0 passed, 1 failed (set-up failed; nothing else can run)"
  exit 1
fi
trap 'scripts/local-aws.sh stop >/dev/null 2>&1' EXIT
stage "local AWS" scripts/local-aws.sh start
stage "cargo fmt --check" cargo fmt --all -- --check
stage "cargo clippy -D warnings" cargo clippy --workspace --all-targets --quiet -- -D warnings
stage "unit and local-AWS tests (nextest)" nextest
stage "simulation (scripts/sim.sh)" simulation
stage "README local run (cargo lambda watch and invoke)" localrun
stage "benchmarks, short setting" benchmarks
stage "free disk: the debug builds are done" free_debug_builds
stage "arm64 build and boot check" boot
stage "template checks" templates

elapsed=$(( $(date +%s) - started ))
echo
echo "---------------------------------------------------------------"
for s in "${stages[@]}"; do echo "  $s"; done
echo "  wall time: ${elapsed} s"
if [ ${#failed_stages[@]} -gt 0 ]; then
  echo "  failed stages: ${failed_stages[*]}"
  tests_failed=$((tests_failed + ${#failed_stages[@]}))
fi
echo "summary: $tests_passed passed, $tests_failed failed"
[ ${#failed_stages[@]} -eq 0 ]
