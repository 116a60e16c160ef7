#!/usr/bin/env bash
# The demo: sets up, starts the local AWS and the HTTP stand-ins (if they are not running),
# seeds a realistic dev estate, runs every function (native build) against its events,
# then its scenes (functions/<name>/demo/scenes/*.json, one at a time, in name order; a
# scene named *-after-<N>s.json runs N seconds after the one before), and prints what
# each did and what changed.  Usage: demo.sh [function ...] (all functions by default).
#
# The local AWS is shared with the tests (and other people's runs), so the demo neither
# stops nor resets it: each function's seed makes its own resources idempotently (and
# empties its own tables). DEMO_RESET=1 resets moto first, for a demo on a machine of
# your own.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

if [ "$#" -gt 0 ]; then fns=("$@"); else mapfile -t fns < <(functions); fi
scripts/setup.sh
scripts/local-aws.sh start
if [ "${DEMO_RESET:-0}" = "1" ]; then
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$LOCAL_AWS_PORT/moto-api/reset', method='POST'))"
fi

say "building ${fns[*]}"
packages=()
for fn in "${fns[@]}"; do packages+=(-p "$fn"); done
cargo build "${packages[@]}" --bins --quiet
bin="${CARGO_TARGET_DIR:-target}/debug"

for fn in "${fns[@]}"; do
  say "$fn"
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$STANDIN_PORT/__requests', method='DELETE'))"
  echo "seeding the local AWS:"
  scripts/seed.sh "$fn"
  shopt -s nullglob; events=(events/"$fn"/*.json); shopt -u nullglob
  echo "events (bad-* are malformed on purpose and must be refused with a clear error):"
  python3 scripts/harness.py --function "$fn" --bootstrap "$bin/$fn" \
    --env-file "functions/$fn/local.env" --events "${events[@]}" --show \
    --report "$LOCAL/demo-$fn.json" --log "$LOCAL/demo-$fn.log"
  echo "secrets in its logs and responses (scripts/leak-check.py):"
  "$VENV/bin/python" scripts/leak-check.py --function "$fn" --env-file "functions/$fn/local.env" \
    --events "${events[@]}" --report "$LOCAL/demo-$fn.json" --log "$LOCAL/demo-$fn.log" || true
  shopt -s nullglob; scenes=(functions/"$fn"/demo/scenes/*.json); shopt -u nullglob
  for scene in "${scenes[@]}"; do
    name=$(basename "$scene" .json)
    if [[ "$name" =~ -after-([0-9]+)s$ ]]; then
      echo "(waiting ${BASH_REMATCH[1]} s)"
      sleep "${BASH_REMATCH[1]}"
    fi
    echo "scene $name:"
    python3 scripts/harness.py --function "$fn" --bootstrap "$bin/$fn" \
      --env-file "functions/$fn/local.env" --events "$scene" --show \
      --report "$LOCAL/demo-$fn-$name.json" --log "$LOCAL/demo-$fn-$name.log"
  done
  echo "what the HTTP stand-ins received:"
  "$VENV/bin/python" scripts/show-requests.py "http://127.0.0.1:$STANDIN_PORT/__requests"
  if [ -f "functions/$fn/demo/show.py" ]; then
    echo "what changed in the local AWS:"
    AWS_ENDPOINT_URL="http://127.0.0.1:$LOCAL_AWS_PORT" AWS_DEFAULT_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "$VENV/bin/python" "functions/$fn/demo/show.py"
  fi
done
say "demo finished; function logs are in .local/demo-<function>.log"
