#!/usr/bin/env bash
# The benchmarks: builds release binaries and measures every function and the floor
# (bench/hello-floor), then writes BENCHMARKS.md and BENCHMARKS.json.
#
#   scripts/bench.sh           full run (release builds; 50 cold starts each, in turn with the
#                              floor's, and an instruction count under callgrind; on 2 cores
#                              from a cold target/ about 45 min of builds, 20 min when only
#                              groundcrew changed, then about 10 min of measurements)
#   scripts/bench.sh --no-build   the full run's measurements on what target/ already holds
#                              (after a full run whose builds finished but whose measurements
#                              were disturbed; nothing is rebuilt, so say which commit built it)
#   scripts/bench.sh --build-only   the full run's builds and nothing else (build while the machine
#                              is busy, then measure with --no-build once it is idle)
#   scripts/bench.sh --short   what CI runs to keep the benchmarks working: the debug builds
#                              the tests already made, 3 cold starts, the examples in the dev
#                              profile; figures go to .local/bench/ only, never BENCHMARKS.md
#
# Per function: the arm64 bootstrap and its zip; cold start (process start to the first
# GET .../invocation/next on a local Runtime API, native build, median and p90); peak
# resident memory and per-event latency handling its sample events against the local AWS;
# then its own benchmark (functions/<name>/examples/bench.rs). Benchmarks report figures;
# nothing here fails on a timing, only on a benchmark that could not run at all.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

short=false; build=true; measure=true
[ "${1:-}" = "--short" ] && short=true
[ "${1:-}" = "--no-build" ] && build=false
[ "${1:-}" = "--build-only" ] && measure=false
OUT="$LOCAL/bench"
$measure && rm -rf "$OUT"; mkdir -p "$OUT"

if $short; then starts=3; profile=dev; native_dir=target/debug; else starts=50; profile=release; native_dir=target/release; fi
floor=hello-floor
names=($(functions) "$floor")

scripts/setup.sh >/dev/null
use_local_aws

say "native $profile builds"
pkgs=(); for n in "${names[@]}"; do pkgs+=(-p "$n"); done
if $short; then
  # The test build's own executables (bins and examples), so that nothing is compiled with
  # another feature set than the tests already were; the floor has no tests, so it is built.
  cargo build -p "$floor" --quiet
  cargo test --workspace --no-run --quiet --message-format=json 2>/dev/null | python3 -c '
import json, sys
found = {}
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        kind = m["target"]["kind"][0]
        if kind in ("bin", "example") and not m["profile"]["test"]:
            found[kind + ":" + m["target"]["name"] + ":" + m["package_id"]] = m["executable"]
json.dump(found, open(sys.argv[1], "w"), indent=1)
' "$OUT/artifacts.json"
else
  # Symbols are kept (the shipped profile strips them) so that cargo bloat reads this very
  # build below instead of compiling everything a second time; symbol tables are not loaded
  # at start-up, so the cold starts measured on it are the stripped binary's.
  export CARGO_PROFILE_RELEASE_STRIP=false
fi
bloat() { # name: the per-crate sizes of its native release build (building it if needed)
  cargo bloat --release -p "$1" --bin "$1" --crates -n 0 \
    --message-format json > "$OUT/$1.bloat.json" 2> "$OUT/$1.bloat.err" \
    || echo "  cargo bloat of $1 failed (see $OUT/$1.bloat.err)"
}
if ! $short && $build; then
  # One function at a time, through cargo bloat (it builds exactly `-p X --bin X`, then
  # charges the binary's code to crates): a build of all six at once resolves some units
  # differently, and cargo bloat afterwards compiled the SDK's crates a second time.
  command -v cargo-bloat >/dev/null || cargo install cargo-bloat --locked --quiet
  for n in "${names[@]}"; do
    t0=$(date +%s)
    if [ "$n" = "$floor" ]; then
      cargo build --release -p "$n" --bin "$n" --quiet
    else
      bloat "$n"
    fi
    echo "  native release build of $n: $(( $(date +%s) - t0 )) s"
  done
fi

if ! $short && $build; then
  # One build of the five functions (the final fat-LTO links run side by side), then sam's
  # own command per function (its folder, one binary). When every function resolves the same
  # features alone as together (scripts/feature-check.py) the second should find every unit
  # fresh; its time says whether it did, and cargo's fingerprint log (in $OUT/<name>.arm64.log)
  # says why a unit was rebuilt.
  say "arm64 release builds: the five at once, then sam's command per function"
  sel=(); for n in $(functions); do sel+=(-p "$n" --bin "$n"); done
  t0=$(date +%s)
  CARGO_PROFILE_RELEASE_STRIP=symbols cargo lambda build --release --arm64 "${sel[@]}" --quiet
  echo "  arm64, one build of the five: $(( $(date +%s) - t0 )) s"
  for n in "${names[@]}"; do
    dir="functions/$n"; [ -d "$dir" ] || dir="bench/$n"
    t0=$(date +%s)
    (cd "$dir" && CARGO_LOG=cargo::core::compiler::fingerprint=info CARGO_PROFILE_RELEASE_STRIP=symbols \
      cargo lambda build --release --arm64 --bin "$n" --quiet) 2> "$OUT/$n.arm64.log"
    echo "  arm64, sam's command for $n afterwards: $(( $(date +%s) - t0 )) s"
  done
fi

if ! $short && $build; then
  # The examples' own builds too, so that the measurements below compile nothing.
  say "examples/bench.rs builds (profile measure)"
  for n in $(functions); do
    [ -f "functions/$n/examples/bench.rs" ] || continue
    t0=$(date +%s)
    cargo build -p "$n" --example bench --profile measure --quiet
    echo "  $n: $(( $(date +%s) - t0 )) s"
  done
fi

$measure || { echo "bench: built (measure with scripts/bench.sh --no-build)"; exit 0; }

failed=0
for n in "${names[@]}"; do
  say "$n"
  env_file="functions/$n/local.env"; [ -f "$env_file" ] || env_file=/dev/null
  events_dir="events/$n"; [ -d "$events_dir" ] || events_dir="bench/$n/events"
  scripts/seed.sh "$n"
  # A function's starts alternate with the floor's (same load for both); in the full setting
  # callgrind also counts the instructions to the first GET /next, a figure the load of a
  # busy machine does not move.
  cold_args=(--starts "$starts")
  [ "$n" = "$floor" ] || cold_args+=(--floor "$native_dir/$floor")
  $short || cold_args+=(--instructions)
  python3 scripts/coldstart.py --function "$n" --bootstrap "$native_dir/$n" --env-file "$env_file" \
    "${cold_args[@]}" > "$OUT/$n.cold.json" || { echo "cold starts of $n failed"; failed=$((failed + 1)); }
  python3 - "$OUT/$n.cold.json" <<'EOF' || true
import json, sys
r = json.load(open(sys.argv[1]))
floor = r.get("floor") or {}
line = f"  cold start: median {r['median_ms']} ms, p90 {r['p90_ms']} ms over {r['starts']} starts"
if floor:
    line += f"; the floor in turn: median {floor['median_ms']} ms, ratio {r.get('ratio')}"
if r.get("instructions"):
    line += f"; {r['instructions']:,} instructions to the first GET /next"
    if r.get("instructions_ratio"):
        line += f" ({r['instructions_ratio']}x the floor's)"
print(line)
EOF
  shopt -s nullglob; events=("$events_dir"/*.json); shopt -u nullglob
  python3 scripts/harness.py --function "$n" --bootstrap "$native_dir/$n" --env-file "$env_file" \
    --events "${events[@]}" --timeout 120 --report "$OUT/$n.events.json" --log "$OUT/$n.log" \
    || { echo "the sample events of $n did not all answer as expected"; failed=$((failed + 1)); }
  arm="target/lambda/$n/bootstrap"
  if [ -f "$arm" ]; then
    python3 - "$arm" "$OUT/$n.size.json" <<'EOF'
import json, os, sys, zipfile, io
path, out = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
# What sam package uploads: a zip holding `bootstrap`, deflated at zlib's default level.
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(path, "bootstrap")
json.dump({"bootstrap_bytes": os.path.getsize(path), "zip_bytes": len(buf.getvalue()), "path": path}, open(out, "w"))
EOF
  else
    echo "  no $arm (cargo lambda build --release --arm64): size not measured"
  fi
  if [ -f "functions/$n/examples/bench.rs" ]; then
    echo "  examples/bench.rs:"
    if $short; then
      exe=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next((v for k,v in d.items() if k.startswith("example:bench:") and ("/functions/"+sys.argv[2]+"#") in k), ""))' "$OUT/artifacts.json" "$n")
      run_example=("$exe")
      [ -n "$exe" ] || run_example=(cargo run -p "$n" --example bench --quiet)
    else
      run_example=(cargo run -p "$n" --example bench --profile measure --quiet)
    fi
    if "${run_example[@]}" > "$OUT/$n.example.jsonl" 2> "$OUT/$n.example.err"; then
      sed 's/^/    /' "$OUT/$n.example.jsonl"
    else
      echo "  the benchmark of $n failed (see $OUT/$n.example.err)"; failed=$((failed + 1))
    fi
  fi
done

if ! $short; then
  say "size per crate (cargo bloat --crates on the native release builds above)"
  # --no-build: the builds are there (one function at a time, as above), so this only reads them.
  if ! $build; then for n in $(functions); do bloat "$n"; done; fi
  python3 - "$OUT" <<'EOF'
import glob, json, os, sys
out = {}
for path in glob.glob(os.path.join(sys.argv[1], "*.bloat.json")):
    try:
        b = json.load(open(path))
    except ValueError:
        continue
    out[os.path.basename(path).split(".")[0]] = {
        "file_bytes": b.get("file-size"), "text_bytes": b.get("text-section-size"),
        "crates": {c["name"]: c["size"] for c in b.get("crates", [])}}
json.dump(out, open(os.path.join(sys.argv[1], "crates.json"), "w"), indent=1)
EOF
fi

machine() {
  python3 - <<'EOF'
import json, os, platform, subprocess
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
print(json.dumps({"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem / 1048576, 1),
                  "kernel": platform.release(), "arch": platform.machine(), "rustc": rustc}))
EOF
}
machine > "$OUT/machine.json"

if $short; then
  python3 scripts/bench-report.py --dir "$OUT" --profile "$profile" --starts "$starts" \
    --markdown "$OUT/BENCHMARKS.md" --json "$OUT/BENCHMARKS.json"
else
  python3 scripts/bench-report.py --dir "$OUT" --profile "$profile" --starts "$starts" \
    --markdown BENCHMARKS.md --json BENCHMARKS.json
fi
echo "bench: $(( ${#names[@]} - failed )) passed, $failed failed"
[ "$failed" = 0 ]
