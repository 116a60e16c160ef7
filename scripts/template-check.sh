#!/usr/bin/env bash
# Template checks: the IAM least-privilege check (each function's policy grants exactly the
# actions its code calls; the xtask crate's iam-check, which parses the code with syn), the template rules (stage isolation, names,
# topic policy, IAM conditions, switches, metadata; scripts/template-rules.py), sam validate
# --lint, cfn-lint, sam build (cargo-lambda, arm64), the document paths check and the checkov
# security scan. Each skipped checkov check is justified beside the resource.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# sam validate resolves managed policies through IAM; the local AWS answers for it.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$LOCAL_AWS_PORT"

passed=0; failed=0
check() { # name command...
  local name=$1; shift
  echo "--- $name"
  if "$@"; then passed=$((passed + 1)); echo "ok: $name"; else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
check "iam-check (policies vs code)" cargo run --quiet -p xtask --bin iam-check -- --venv "$VENV"
# Also writes one template per function switched off (Enable<Function>=false), which
# cfn-lint then checks in the same run as template.yaml.
rm -rf .local/template-variants
check "template rules (stage isolation, names, topic policy, every function watched, IAM conditions, switches, metadata)" \
  "$VENV/bin/python" scripts/template-rules.py --variants .local/template-variants
check "template rules self-test (each rule fails on a template broken its way)" \
  "$VENV/bin/python" scripts/template-rules.py --self-test
check "sam validate --lint" sam validate --lint --template template.yaml --region us-east-1
check "cfn-lint (template and each function switched off)" cfn-lint template.yaml .local/template-variants/*.yaml
check "sam build" sam build --template template.yaml --beta-features
check "document paths (every repository path a Markdown file names exists)" "$VENV/bin/python" scripts/doc-paths.py
check "checkov" "$SCAN_VENV/bin/checkov" --quiet --compact --skip-download --framework cloudformation -f template.yaml
echo "template-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
