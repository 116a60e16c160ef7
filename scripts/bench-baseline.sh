#!/usr/bin/env bash
# This tree against an earlier commit, on this machine and in one run, so that a change of
# host or load cannot pass for a change of code. Writes bench/baseline.md (scripts/bench.sh's
# report copies it into BENCHMARKS.md) and .local/bench-baseline/baseline.json.
#
#   scripts/bench-baseline.sh COMMIT
#
# Run it after `scripts/bench.sh --build-only` (it measures that tree's native release
# builds in target/release) and before `scripts/bench.sh --no-build`, on an idle machine.
# The commit's own native release builds are made in a worktree under .local/bench-baseline/
# with a target directory of their own (its lock file differs); about 30 min on 2 cores the
# first time.
#
# Per function: 50 cold starts, the commit's build and this tree's in turn, and their
# instructions to the first GET /next (callgrind); then three rounds of the sample events
# both trees have (by file name, each tree's own file, environment and seed), the commit's
# build and this tree's in turn: the first event's latency, cold start plus that latency
# ("start to first response"), and the peak resident memory after those events.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

[ $# = 1 ] || die "usage: scripts/bench-baseline.sh COMMIT"
commit=$(git rev-parse --verify "$1^{commit}") || die "not a commit: $1"
base="$LOCAL/bench-baseline"; src="$base/src"; out="$base/run"
mkdir -p "$base"; rm -rf "$out"; mkdir -p "$out"
starts=50; rounds=3

if [ "$(git -C "$src" rev-parse HEAD 2>/dev/null || true)" != "$commit" ]; then
  [ -d "$src" ] && git worktree remove --force "$src"
  git worktree add --detach "$src" "$commit" >/dev/null
fi
for n in $(functions); do
  [ -f "target/release/$n" ] || die "no target/release/$n: run scripts/bench.sh --build-only first"
done

say "native release builds of ${commit:0:7} (in $src)"
pkgs=(); for n in $(functions); do [ -d "$src/functions/$n" ] && pkgs+=(-p "$n"); done
t0=$(date +%s)
(cd "$src" && CARGO_TARGET_DIR="$base/target" cargo build --release --bins "${pkgs[@]}" --quiet)
echo "  $(( $(date +%s) - t0 )) s"

use_local_aws
seed() { scripts/seed.sh "$2" "$1" >/dev/null; } # tree function
env_of() { local f="$1/functions/$2/local.env"; [ -f "$f" ] && echo "$f" || echo /dev/null; }

for n in $(functions); do
  [ -f "$base/target/release/$n" ] || { echo "  $n: not in ${commit:0:7}, skipped"; continue; }
  say "$n: ${commit:0:7} against this tree"
  old_bin="$base/target/release/$n"; new_bin="target/release/$n"
  old_env=$(env_of "$src" "$n"); new_env=$(env_of "$ROOT" "$n")
  # Both seeds, the commit's last, so that a start-up read (alarm-fanout's routing document
  # once was one) finds what the commit expected; this tree's reads happen on first use.
  seed "$ROOT" "$n"; seed "$src" "$n"
  python3 scripts/coldstart.py --function "$n" --bootstrap "$new_bin" --env-file "$new_env" \
    --floor "$old_bin" --floor-function "$n" --floor-env-file "$old_env" --starts "$starts" --instructions \
    > "$out/$n.cold.json" || echo "  some cold starts failed (see $out/$n.cold.json)"
  common=()
  for f in "$ROOT/events/$n"/*.json; do
    [ -f "$src/events/$n/$(basename "$f")" ] && common+=("$(basename "$f")")
  done
  for r in $(seq "$rounds"); do
    for side in old new; do
      if [ $side = old ]; then tree=$src; bin=$old_bin; env=$old_env; else tree=$ROOT; bin=$new_bin; env=$new_env; fi
      seed "$tree" "$n"
      events=(); for e in "${common[@]}"; do events+=("$tree/events/$n/$e"); done
      python3 scripts/harness.py --function "$n" --bootstrap "$bin" --env-file "$env" --events "${events[@]}" \
        --timeout 120 --quiet --report "$out/$n.$side.$r.json" --log "$out/$n.$side.$r.log" \
        || echo "  round $r, ${commit:0:7} side $side: not every event answered as expected (see $out/$n.$side.$r.log)"
    done
  done
done

python3 - "$out" "$commit" "$(git rev-parse --short HEAD)" "$starts" "$rounds" > bench/baseline.md <<'EOF'
import glob, json, os, statistics, subprocess, sys
out, commit, head, starts, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
# This report's own file (being written) and the benchmark files do not make the tree dirty.
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/baseline.md",
                        ":!BENCHMARKS.md", ":!BENCHMARKS.json"], capture_output=True, text=True).stdout.strip()
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
def load(path):
    try:
        return json.load(open(path))
    except (OSError, ValueError):
        return {}
rows, result = [], {}
for cold_path in sorted(glob.glob(os.path.join(out, "*.cold.json"))):
    n = os.path.basename(cold_path).split(".")[0]
    cold = load(cold_path)
    old_cold, new_cold = (cold.get("floor") or {}).get("median_ms"), cold.get("median_ms")
    side = {}
    for s in ("old", "new"):
        reps = [load(os.path.join(out, f"{n}.{s}.{r}.json")) for r in range(1, rounds + 1)]
        firsts = [(rep.get("events") or [{}])[0] for rep in reps]
        side[s] = {
            "first_event": next((f.get("event") for f in firsts if f.get("event")), None),
            "first_ms": med([f.get("ms") for f in firsts]),
            "start_to_first_ms": med([(rep.get("cold_start_ms") or 0) + f["ms"] if f.get("ms") is not None and rep.get("cold_start_ms") is not None else None for rep, f in zip(reps, firsts)]),
            "peak_rss_kb": med([rep.get("peak_rss_kb") for rep in reps]),
            "rss_anon_kb": med([(rep.get("memory_at_end_kb") or {}).get("rss_anon_kb") for rep in reps]),
            "rss_file_kb": med([(rep.get("memory_at_end_kb") or {}).get("rss_file_kb") for rep in reps]),
            "rss_executable_kb": med([(rep.get("memory_at_end_kb") or {}).get("rss_executable_kb") for rep in reps]),
            "events": len((reps[0].get("events") or [])),
            "failures": sum(len(rep.get("failures") or []) for rep in reps),
        }
    side["old"]["cold_median_ms"], side["new"]["cold_median_ms"] = old_cold, new_cold
    side["old"]["instructions"] = (cold.get("floor") or {}).get("instructions")
    side["new"]["instructions"] = cold.get("instructions")
    result[n] = side
    o, w = side["old"], side["new"]
    def pair(a, b, fmt, unit=""):
        if a is None or b is None:
            return "-"
        return f"{fmt.format(a)} → {fmt.format(b)}{unit} ({(b - a) / a * 100:+.0f}%)" if a else f"{fmt.format(a)} → {fmt.format(b)}{unit}"
    rows.append(f"| {n} | {pair(o['cold_median_ms'], w['cold_median_ms'], '{:.1f}', ' ms')} "
                f"| {pair(o['instructions'], w['instructions'], '{:,}')} "
                f"| `{w['first_event']}` | {pair(o['start_to_first_ms'], w['start_to_first_ms'], '{:.1f}', ' ms')} "
                f"| {pair(o['peak_rss_kb'] and o['peak_rss_kb'] / 1024, w['peak_rss_kb'] and w['peak_rss_kb'] / 1024, '{:.1f}', ' MiB')} "
                f"| {pair(o['rss_anon_kb'] and o['rss_anon_kb'] / 1024, w['rss_anon_kb'] and w['rss_anon_kb'] / 1024, '{:.1f}', ' MiB')} "
                f"| {pair(o['rss_file_kb'] and o['rss_file_kb'] / 1024, w['rss_file_kb'] and w['rss_file_kb'] / 1024, '{:.1f}', ' MiB')} "
                f"| {pair(o['rss_executable_kb'] and o['rss_executable_kb'] / 1024, w['rss_executable_kb'] and w['rss_executable_kb'] / 1024, '{:.1f}', ' MiB')} "
                f"| {w['events']} | {o['failures']} / {w['failures']} |")
json.dump({"commit": commit, "tree": head, "dirty": bool(dirty), "starts": int(starts), "rounds": rounds, "functions": result},
          open(os.path.join(out, "baseline.json"), "w"), indent=1)
print(f"## This tree against {commit[:7]}, on the same machine in one run")
print()
print(f"Written by `scripts/bench-baseline.sh {commit[:7]}` on tree `{head}`{' (with uncommitted changes)' if dirty else ''}: "
      f"native release builds of both, {starts} cold starts each with the two builds in turn, then {rounds} rounds "
      "of the sample events both trees have (each tree's own event file, environment and seed), the two builds "
      "in turn; medians. Start to first response is a round's cold start plus its first event's latency; peak RSS "
      "is the process's VmHWM after those events, and the two columns after it split the memory resident at that "
      "moment into anonymous pages (heap, stacks) and file pages (the executable's and the shared libraries'), "
      "and the last memory column is the executable's own pages among the latter. Failures count the events that did not answer as expected, "
      f"over all rounds (before / after).")
print()
print("| function | cold start | instructions to first GET /next | first event | start to first response | peak RSS | anonymous at the end | file-backed at the end | of it the executable | events | failures |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
print("\n".join(rows))
EOF
