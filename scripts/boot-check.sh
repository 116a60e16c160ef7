#!/usr/bin/env bash
# arm64 boot check: builds every function's release bootstrap for arm64 with cargo-lambda,
# then runs each under qemu-aarch64-static against a local Lambda Runtime API and the local
# AWS, fed every event in events/<name>/, then checks that no secret configured for the run
# (seeded secrets, local.env credentials) reached its logs or responses (scripts/leak-check.py).
# Needs the local AWS running (local-aws.sh start).
# Prints each bootstrap's size; writes .local/boot/<name>.json and .local/boot/<name>.log.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

mkdir -p "$LOCAL/boot"

# One start-up failure a function (groundcrew::runtime): a malformed setting must fail the
# init phase through the Runtime API's init error endpoint, naming the variable, and exit
# non-zero, never end the process with Lambda's bare Runtime.ExitError. Prints
# "NAME=VALUE NAME"; none for telegram-webhook, which starts on bad settings on purpose (it
# answers CloudFormation FAILED with them instead).
bad_setting() {
  case $1 in
    alarm-fanout) echo "RECEIVER_MAX_ATTEMPTS=many RECEIVER_MAX_ATTEMPTS" ;;
    aurora-autopause) echo "IDLE_MINUTES=1 IDLE_MINUTES" ;;
    cloudfront-invalidate) echo "MAX_SHARE=half MAX_SHARE" ;;
    power-tuner) echo "GC_MAX_CONCURRENCY=lots GC_MAX_CONCURRENCY" ;;
  esac
}

failed=0; passed=0
# One build of the five functions from the root first: cargo runs the final fat-LTO links
# side by side on both cores, where one function at a time leaves a core idle through each
# link. Then, per function, exactly the command `sam build` runs (its folder, one binary):
# when every function's own build resolves the same units as the build of all five
# (scripts/feature-check.py: features, and crates that are also cdylibs or staticlibs) that
# command finds everything fresh in about a second, and so does sam build in the template
# stage. Its time is printed: more than a few seconds means the units drifted apart again.
fns=($(functions))
if ! python3 scripts/feature-check.py > "$LOCAL/boot/features.txt" 2>&1; then
  cat "$LOCAL/boot/features.txt"
  echo "note: the functions' own builds differ from the build of all five: sam build will compile again"
fi
say "the five functions at once: cargo lambda build --release --arm64 -p <name> --bin <name> ..."
sel=(); for fn in "${fns[@]}"; do sel+=(-p "$fn" --bin "$fn"); done
t0=$(date +%s)
if ! cargo lambda build --release --arm64 "${sel[@]}" --quiet; then
  echo "note: the build of all five failed; each function is built on its own below"
fi
echo "arm64 build of the five: $(( $(date +%s) - t0 )) s"
for fn in "${fns[@]}"; do
  # Exactly the command `sam build` runs (from the package folder, one binary).
  say "$fn: cargo lambda build --release --arm64 --bin $fn"
  t0=$(date +%s)
  if ! (cd "functions/$fn" && cargo lambda build --release --arm64 --bin "$fn" --quiet); then
    echo "FAIL $fn: the arm64 build failed"; failed=$((failed + 1)); continue
  fi
  echo "$fn: sam's arm64 build command $(( $(date +%s) - t0 )) s"
  t0=$(date +%s)
  bootstrap="target/lambda/$fn/bootstrap"
  [ -f "$bootstrap" ] || { echo "FAIL $fn: no $bootstrap"; failed=$((failed + 1)); continue; }
  size=$(stat -c %s "$bootstrap")
  awk -v f="$fn" -v s="$size" 'BEGIN { printf "\n%s: bootstrap %d bytes (%.2f MiB)\n", f, s, s / 1048576 }'
  scripts/seed.sh "$fn"
  shopt -s nullglob; events=(events/"$fn"/*.json); shopt -u nullglob
  rm -f "$LOCAL/boot/$fn.json" "$LOCAL/boot/$fn.log"  # never leak-check an earlier run's output
  if python3 scripts/harness.py --function "$fn" --bootstrap "$bootstrap" --qemu \
      --env-file "functions/$fn/local.env" --events "${events[@]}" --timeout 120 \
      --report "$LOCAL/boot/$fn.json" --log "$LOCAL/boot/$fn.log"; then
    passed=$((passed + ${#events[@]}))
  else
    failed=$((failed + 1))
  fi
  read -r setting named <<<"$(bad_setting "$fn")" || true
  if [ -n "${setting:-}" ]; then
    if python3 scripts/harness.py --function "$fn" --bootstrap "$bootstrap" --qemu \
        --env-file "functions/$fn/local.env" --set "$setting" --expect-init-error "$named" \
        --timeout 60 --report "$LOCAL/boot/$fn-init.json" --log "$LOCAL/boot/$fn-init.log"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  fi
  # One more check a function: no secret value in what the function printed or answered.
  if "$VENV/bin/python" scripts/leak-check.py --function "$fn" --env-file "functions/$fn/local.env" \
      --events "${events[@]}" --report "$LOCAL/boot/$fn.json" --log "$LOCAL/boot/$fn.log"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  echo "$fn: checks under qemu $(( $(date +%s) - t0 )) s"
done
echo "boot-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
