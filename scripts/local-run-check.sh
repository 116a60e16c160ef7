#!/usr/bin/env bash
# The README's "Run one function locally", for real, so that it cannot break silently:
# seed the local AWS, `cargo lambda watch --env-file functions/<fn>/local.env`, then
# `cargo lambda invoke <fn> --data-file <event>`, which must succeed. The local AWS must be
# running (scripts/local-aws.sh start). Stops only the watch it started (by its process id).
# Usage: local-run-check.sh [function [event]]   (default: alarm-fanout, the README's event)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
fn=${1:-alarm-fanout}
event=${2:-events/alarm-fanout/sns-metric-alarm.json}
port=${LOCAL_RUN_PORT:-9077}
log="$LOCAL/local-run-$fn.log"

fail() { echo "FAILED: $*"; [ -f "$log" ] && tail -n 40 "$log"; echo "local-run-check: 0 passed, 1 failed"; exit 1; }

scripts/seed.sh "$fn" >/dev/null || fail "scripts/seed.sh $fn"
# Built first, so that the first invoke does not wait for the compiler.
cargo build --quiet -p "$fn" --bin "$fn" || fail "cargo build -p $fn"

# Its own session, so that the watch and the function process it runs stop together;
# --ignore-changes: edits elsewhere in the tree must not restart it mid-run.
setsid cargo lambda watch --ignore-changes --invoke-port "$port" --env-file "functions/$fn/local.env" >"$log" 2>&1 &
watch_pid=$!
trap 'kill -- -"$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null' EXIT
trap 'exit 1' INT TERM
for _ in $(seq 1 60); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$watch_pid" 2>/dev/null || fail "cargo lambda watch exited"
  sleep 1
done

echo "--- cargo lambda invoke $fn --data-file $event"
if ! out=$(cargo lambda invoke "$fn" --invoke-port "$port" --data-file "$event" --output-format json 2>&1); then
  echo "$out"
  fail "the invocation failed"
fi
echo "$out"
# A deadline misread as long gone fails every receiver at once; say so if it comes back.
if grep -q "deadline passed" <<<"$out"; then fail "the function saw its deadline as passed"; fi
echo "local-run-check: 1 passed, 0 failed"
