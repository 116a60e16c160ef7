#!/usr/bin/env bash
# The demo: sets up, starts the local AWS and the HTTP stand-ins, seeds a realistic dev
# estate, runs every function (native build) against its events, prints what each did
# and what changed, then stops the local AWS.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

scripts/setup.sh
trap 'scripts/local-aws.sh stop >/dev/null 2>&1' EXIT
scripts/local-aws.sh start
# A clean estate every run.
"$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$LOCAL_AWS_PORT/moto-api/reset', method='POST'))"

say "building the functions"
cargo build --workspace --bins --quiet

for fn in $(functions); do
  say "$fn"
  "$VENV/bin/python" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$STANDIN_PORT/__requests', method='DELETE'))"
  echo "seeding the local AWS:"
  scripts/seed.sh "$fn"
  shopt -s nullglob; events=(events/"$fn"/*.json); shopt -u nullglob
  echo "events (bad-* are malformed on purpose and must be refused with a clear error):"
  python3 scripts/harness.py --function "$fn" --bootstrap "target/debug/$fn" \
    --env-file "functions/$fn/local.env" --events "${events[@]}" --show \
    --report "$LOCAL/demo-$fn.json" --log "$LOCAL/demo-$fn.log"
  echo "secrets in its logs and responses (scripts/leak-check.py):"
  "$VENV/bin/python" scripts/leak-check.py --function "$fn" --env-file "functions/$fn/local.env" \
    --events "${events[@]}" --report "$LOCAL/demo-$fn.json" --log "$LOCAL/demo-$fn.log" || true
  echo "what the HTTP stand-ins received:"
  "$VENV/bin/python" scripts/show-requests.py "http://127.0.0.1:$STANDIN_PORT/__requests"
  if [ -f "functions/$fn/demo/show.py" ]; then
    echo "what changed in the local AWS:"
    AWS_ENDPOINT_URL="http://127.0.0.1:$LOCAL_AWS_PORT" AWS_DEFAULT_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "$VENV/bin/python" "functions/$fn/demo/show.py"
  fi
done
say "demo finished; function logs are in .local/demo-<function>.log"
