#!/usr/bin/env bash
# Fuzzing: runs every cargo fuzz target in fuzz/ for a bounded time (default 60 s each),
# seeded with the sample events and fuzz/seeds/<target>/, and writes fuzz/results.json
# (executions and crashes per target; scripts/bench-report.py puts them in BENCHMARKS.md).
#
#   scripts/fuzz.sh [seconds per target] [target...]
#
# Needs the nightly toolchain (rustup toolchain install nightly) and cargo-fuzz, which this
# script installs when missing. A crash leaves its input in fuzz/artifacts/<target>/;
# reproduce with `cargo +nightly fuzz run <target> <file>`, fix, and keep the input as a
# regression test (fuzz/README.md). The script exits non-zero when a target crashed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

seconds=${1:-60}
shift || true
all_targets=(alarm_fanout_event alarm_fanout_routing aurora_event cloudfront_event cloudfront_planner
  power_tuner_input power_tuner_report telegram_properties)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

rustup run nightly rustc --version >/dev/null 2>&1 || die "no nightly toolchain: rustup toolchain install nightly"
command -v cargo-fuzz >/dev/null 2>&1 || cargo +nightly install cargo-fuzz --locked --version 0.13.2

what() {
  case $1 in
    alarm_fanout_event) echo "alarm-fanout: SNS/EventBridge/alarm-action events and plain messages → notices → every receiver's message; Telegram split within its limit" ;;
    alarm_fanout_routing) echo "alarm-fanout: routing documents (JSON/YAML); a valid one routes only to receivers it defines" ;;
    aurora_event) echo "aurora-autopause: schedules, RDS events, direct actions" ;;
    cloudfront_event) echo "cloudfront-invalidate: direct invokes, deploy events, CodePipeline jobs, S3 notifications" ;;
    cloudfront_planner) echo "cloudfront-invalidate: path normalisation and the planner; the plan covers every changed path within the wildcard limit" ;;
    power_tuner_input) echo "power-tuner: tuning input, direct or in an EventBridge detail" ;;
    power_tuner_report) echo "power-tuner: the REPORT line in a log tail (text, JSON, base64)" ;;
    telegram_properties) echo "telegram-webhook: custom-resource properties and action settings; what is accepted is a valid webhook" ;;
  esac
}

seeds() { # target -> the sample files that seed its corpus
  case $1 in
    alarm_fanout_event) ls events/alarm-fanout/*.json ;;
    aurora_event) ls events/aurora-autopause/*.json ;;
    cloudfront_event) ls events/cloudfront-invalidate/*.json ;;
    power_tuner_input) ls events/power-tuner/*.json ;;
    telegram_properties) ls events/telegram-webhook/*.json ;;
  esac
  [ -d "fuzz/seeds/$1" ] && find "fuzz/seeds/$1" -type f
  true
}

say "building the fuzz targets (cargo +nightly fuzz build)"
mkdir -p "$LOCAL/fuzz"
(cd fuzz && cargo +nightly fuzz build) > "$LOCAL/fuzz/build.log" 2>&1 \
  || { tail -n 30 "$LOCAL/fuzz/build.log"; die "cargo fuzz build failed"; }

results=()
crashed=0
for t in "${targets[@]}"; do
  corpus="$LOCAL/fuzz/corpus/$t"
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  for s in $(seeds "$t"); do cp -n "$s" "$corpus/seed-$(basename "$s")" 2>/dev/null || true; done
  before=$(find "fuzz/artifacts/$t" -type f | wc -l)
  say "$t: ${seconds} s"
  log="$LOCAL/fuzz/$t.log"
  (cd fuzz && cargo +nightly fuzz run "$t" "$corpus" -- -max_total_time="$seconds" -max_len=16384 \
     -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3) > "$log" 2>&1 || true
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1)
  after=$(find "fuzz/artifacts/$t" -type f | wc -l)
  crashes=$((after - before))
  files=$(find "$corpus" -type f | wc -l)
  echo "  executions: ${execs:-0}, new crashes: $crashes, corpus: $files inputs"
  if [ "$crashes" -gt 0 ] || grep -q "ERROR: libFuzzer" "$log"; then
    crashed=$((crashed + 1))
    grep -E "panicked at|ERROR: libFuzzer|Test unit written" "$log" | head -n 5 | sed 's/^/  /'
  fi
  results+=("$(python3 -c 'import datetime,json,sys; print(json.dumps({"target": sys.argv[1], "what": sys.argv[2], "executions": int(sys.argv[3]), "crashes": int(sys.argv[4]), "corpus": int(sys.argv[5]), "seconds": int(sys.argv[6]), "date": datetime.date.today().isoformat()}))' \
    "$t" "$(what "$t")" "${execs:-0}" "$crashes" "$files" "$seconds")")
done

# Merged by target into fuzz/results.json, so a run of some targets keeps the others' figures.
printf '%s\n' "${results[@]}" | python3 -c '
import json, subprocess, sys
new = [json.loads(l) for l in sys.stdin if l.strip()]
try:
    old = json.load(open("fuzz/results.json")).get("targets", [])
except (OSError, ValueError):
    old = []
by_name = {t["target"]: t for t in old}
by_name.update({t["target"]: t for t in new})
order = sys.argv[1].split()
targets = sorted(by_name.values(), key=lambda t: order.index(t["target"]) if t["target"] in order else len(order))
toolchain = subprocess.run(["rustup", "run", "nightly", "rustc", "--version"], capture_output=True, text=True).stdout.strip()
json.dump({"toolchain": toolchain, "targets": targets}, open("fuzz/results.json", "w"), indent=2)
' "${all_targets[*]}"
echo "fuzz: $(( ${#targets[@]} - crashed )) passed, $crashed failed (results in fuzz/results.json)"
[ "$crashed" = 0 ]
