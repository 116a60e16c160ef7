#!/usr/bin/env bash
# Seeds the local AWS for one function: runs functions/<name>/demo/seed.py, if it has one,
# against the local AWS with dummy credentials.  Usage: seed.sh <function> [tree]
# (tree: another checkout whose seed to run, as scripts/bench-baseline.sh does)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
seed="${2:-$ROOT}/functions/$1/demo/seed.py"
[ -f "$seed" ] || exit 0
AWS_ENDPOINT_URL="http://127.0.0.1:$LOCAL_AWS_PORT" AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 \
AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing STANDIN_URL="http://127.0.0.1:$STANDIN_PORT" \
  "$VENV/bin/python" "$seed"
