# Common settings for the scripts; sourced, not run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
SCAN_VENV="$ROOT/.venv-scan"
LOCAL="$ROOT/.local"
LOCAL_AWS_PORT="${LOCAL_AWS_PORT:-4566}"
STANDIN_PORT="${STANDIN_PORT:-4580}"
export PATH="$VENV/bin:$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Keep sam from asking for telemetry consent or checking for updates.
export SAM_CLI_TELEMETRY=0 SAM_CLI_DISABLE_TELEMETRY=1
mkdir -p "$LOCAL"

in_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }
# CI builds once, from an empty target/: incremental state there is never reused, only
# disk (gigabytes of it across the test binaries), and a CI machine's disk can be small.
if in_ci; then export CARGO_INCREMENTAL=0; fi
say() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Functions are the crates under functions/ that have a bin (the boot check's unit).
functions() {
  for dir in "$ROOT"/functions/*/; do
    [ -f "$dir/Cargo.toml" ] && [ -f "$dir/src/main.rs" ] && basename "$dir"
  done
}

# Starts the local AWS unless it already answers, and stops at exit only what this started.
# The status goes to a variable first: `status | grep -q` under pipefail fails when grep
# stops reading early, which once made a script "start" (and at exit stop, by the pid file
# test.sh wrote) the local AWS that test.sh had started for the stages after it.
use_local_aws() {
  local status; status=$("$ROOT/scripts/local-aws.sh" status)
  if ! grep -q "moto: running" <<<"$status"; then
    "$ROOT/scripts/local-aws.sh" start
    trap '"$ROOT/scripts/local-aws.sh" stop >/dev/null 2>&1' EXIT
  fi
}
