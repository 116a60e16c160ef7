#!/usr/bin/env python3
"""Writes BENCHMARKS.md and BENCHMARKS.json from what scripts/bench.sh measured (its
.local/bench/ folder) and the last fuzzing run (fuzz/results.json, from scripts/fuzz.sh).
Reports figures only; never judges a timing beyond printing the goal's ratio."""
import argparse
import datetime
import glob
import json
import os
import statistics

FLOOR = "hello-floor"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def load_lines(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def mib(kb):
    return f"{kb / 1024:.1f} MiB" if kb else "-"


def size(b):
    return f"{b:,} B ({b / 1048576:.2f} MiB)" if b else "-"


def ms(v):
    return f"{v:.1f} ms" if isinstance(v, (int, float)) else "-"


def start_to_first_response(cold, per_event):
    """Process start to the answer of the first sample event: the cold-start median plus the
    first event's latency (handed out right after the first GET /next, so it carries the work
    a function defers to first use, such as building an SDK client)."""
    first = per_event[0] if per_event else {}
    if isinstance(cold.get("median_ms"), (int, float)) and isinstance(first.get("ms"), (int, float)):
        return {"event": first.get("event"), "ms": round(cold["median_ms"] + first["ms"], 2)}
    return None


def pair(a, b, fmt):
    return f"{fmt(a) if a else '-'} → {fmt(b) if b else '-'}"


def before_after(previous, fns):
    """Rows comparing this run with the one it replaces, per function."""
    old_fns = previous.get("functions") or {}
    rows = []
    for n, r in fns.items():
        o = old_fns.get(n)
        if not o:
            continue
        oc, c = o.get("cold_start") or {}, r.get("cold_start") or {}
        old_first = o.get("start_to_first_response") or start_to_first_response(oc, o.get("events") or []) or {}
        first = r.get("start_to_first_response") or {}
        # Only the same first event compares: another one does other work.
        first_cell = (f"{pair(old_first.get('ms'), first.get('ms'), ms)} (`{first.get('event')}`)"
                      if old_first.get("event") == first.get("event") else
                      f"not comparable: first event was `{old_first.get('event')}`, now `{first.get('event')}`")

        rows.append(
            f"| {n} | {pair(o.get('bootstrap_bytes_arm64'), r.get('bootstrap_bytes_arm64'), lambda v: f'{v / 1048576:.2f} MiB')} | "
            f"{pair(o.get('zip_bytes_arm64'), r.get('zip_bytes_arm64'), lambda v: f'{v / 1048576:.2f} MiB')} | "
            f"{pair(oc.get('median_ms'), c.get('median_ms'), ms)} | "
            f"{'1 → 1' if n == FLOOR else pair(oc.get('ratio') or ratio_of(oc, previous), c.get('ratio'), lambda v: f'{v}')} | "
            f"{first_cell} | "
            f"{pair(o.get('peak_rss_kb'), r.get('peak_rss_kb'), mib)} |")
    return rows


def ratio_of(cold, previous):
    """The × floor of a run that did not store it (the 2026-11-22 run): over that run's floor."""
    if not previous or not cold.get("median_ms"):
        return None
    floor = ((previous.get("functions") or {}).get(FLOOR) or {}).get("cold_start") or {}
    return round(cold["median_ms"] / floor["median_ms"], 2) if floor.get("median_ms") else None


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dir", required=True)
    p.add_argument("--profile", required=True)
    p.add_argument("--starts", type=int, required=True)
    p.add_argument("--markdown", required=True)
    p.add_argument("--json", required=True)
    p.add_argument("--fuzz", default=os.path.join(ROOT, "fuzz", "results.json"))
    args = p.parse_args()

    machine = load(os.path.join(args.dir, "machine.json"), {})
    machine_short = f"{machine.get('cores', '?')}-core {machine.get('arch', '?')}, {machine.get('cpu', '?')}"
    names = sorted({os.path.basename(f).split(".")[0] for f in glob.glob(os.path.join(args.dir, "*.cold.json"))})
    names = [n for n in names if n != FLOOR] + ([FLOOR] if FLOOR in names else [])

    results = {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "profile": args.profile, "starts": args.starts, "machine": machine, "functions": {}}
    for n in names:
        cold = load(os.path.join(args.dir, f"{n}.cold.json"), {})
        events = load(os.path.join(args.dir, f"{n}.events.json"), {})
        sizes = load(os.path.join(args.dir, f"{n}.size.json"), {})
        per_event = [{"event": e["event"], "outcome": e.get("outcome"), "ok": e.get("ok"), "ms": e.get("ms")}
                     for e in events.get("events", [])]
        answered = [e["ms"] for e in per_event if isinstance(e.get("ms"), (int, float))]
        results["functions"][n] = {
            "bootstrap_bytes_arm64": sizes.get("bootstrap_bytes"),
            "zip_bytes_arm64": sizes.get("zip_bytes"),
            "cold_start": {**{k: cold.get(k) for k in ("starts", "median_ms", "p90_ms", "min_ms", "max_ms", "samples_ms",
                                                      "instructions", "ratio", "instructions_ratio")},
                           "floor_median_ms": (cold.get("floor") or {}).get("median_ms"),
                           "floor_instructions": (cold.get("floor") or {}).get("instructions")},
            "peak_rss_kb": events.get("peak_rss_kb"),
            "events": per_event,
            "event_ms_median": round(statistics.median(answered), 2) if answered else None,
            "start_to_first_response": start_to_first_response(cold, per_event),
            "example": load_lines(os.path.join(args.dir, f"{n}.example.jsonl")),
        }
    # The run this one replaces, read before it is overwritten: the "before" of every figure.
    previous = load(args.json, {}) if args.profile == "release" else {}
    fuzz = load(args.fuzz)
    if fuzz:
        results["fuzz"] = fuzz
    crates = load(os.path.join(args.dir, "crates.json"))
    if crates:
        results["crate_sizes"] = crates
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")

    fns = results["functions"]
    floor = fns.get(FLOOR, {})
    floor_cold = (floor.get("cold_start") or {}).get("median_ms")
    native = "native release build (opt-level z, fat LTO: the shipped profile)" if args.profile == "release" \
        else f"native {args.profile} build"
    how_cold = (f"time from process start to the first GET /invocation/next on a local Runtime API "
                f"(scripts/coldstart.py), {args.starts} starts, each a new process; {native}")
    L = []
    L.append("# Benchmarks")
    L.append("")
    L.append(f"Generated by `scripts/bench.sh` on {results['generated']}. Machine: {machine_short}, "
             f"{machine.get('memory_gib', '?')} GiB, Linux {machine.get('kernel', '?')}, {machine.get('rustc', '?')}. "
             "Figures are measurements on this machine, not Lambda's; rerun `scripts/bench.sh` to reproduce. "
             "Nothing here is a pass/fail gate.")
    L.append("")
    L.append("## Per function")
    L.append("")
    L.append("| function | arm64 bootstrap | zip | cold start median | p90 | floor's median, same run | × floor (goal ≤ 2) | instructions to first GET /next | × floor's | peak RSS, sample events | events | event latency median |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    missed = []
    for n, r in fns.items():
        c = r["cold_start"] or {}
        ratio = c.get("ratio")
        if ratio is None and n != FLOOR and c.get("median_ms") and floor_cold:
            ratio = round(c["median_ms"] / floor_cold, 2)
        if n == FLOOR:
            ratio = 1.0
        if ratio is not None and ratio > 2:
            missed.append(n)
        instr = c.get("instructions")
        instr_ratio = c.get("instructions_ratio") if n != FLOOR else (1.0 if instr else None)
        L.append(f"| {n} | {size(r['bootstrap_bytes_arm64'])} | {size(r['zip_bytes_arm64'])} | {ms(c.get('median_ms'))} | "
                 f"{ms(c.get('p90_ms'))} | {ms(c.get('floor_median_ms'))} | {ratio if ratio is not None else '-'} | "
                 f"{f'{instr:,}' if instr else '-'} | {instr_ratio if instr_ratio is not None else '-'} | "
                 f"{mib(r['peak_rss_kb'])} | {len(r['events'])} | {ms(r['event_ms_median'])} |")
    L.append("")
    if missed:
        L.append(f"Cold-start goal (within 2× the floor) not met by: {', '.join(missed)}.")
        L.append("")
    L.append("How each figure was measured:")
    L.append("")
    L.append("| figure | how measured | machine |")
    L.append("|---|---|---|")
    L.append(f"| arm64 bootstrap | `cargo lambda build --release --arm64 --bin <name>` in the function's folder (what `sam build` runs), file size | {machine_short} |")
    L.append(f"| zip | that bootstrap alone in a zip, deflated at zlib's default level, as `sam package` uploads it | {machine_short} |")
    L.append(f"| cold start | {how_cold}; a function's start includes its init (configuration, SDK set-up, and for alarm-fanout an inline routing document parsed; one kept in SSM is read on first use, in the first event) | {machine_short} |")
    L.append(f"| × floor | cold start median ÷ the median of `bench/hello-floor` (a hello-world `lambda_runtime` function, same profile) started in turn with the function in the same run ({args.starts} starts each), so both see the same load. Native x86_64 figures: a proxy for Lambda's arm64 init, not a measurement of it | {machine_short} |")
    L.append(f"| instructions | instructions the process executed from its start to its first GET /invocation/next, counted by `valgrind --tool=callgrind` (one run; then stopped): does not depend on the machine's load, unlike the times. × floor's: over hello-floor's count | {machine_short} |")
    L.append(f"| peak RSS | VmHWM of the process after it handled every sample event in `events/<name>/` (scripts/harness.py), {native} | {machine_short} |")
    L.append(f"| event latency | per event, from the runtime API handing the event out to the function's response or error, against moto and the HTTP stand-ins; the first event of a process also opens its connections | {machine_short} |")
    L.append("")
    if crates:
        L.append("## Where the size is: per crate")
        L.append("")
        L.append("`cargo bloat --release --crates` on each function's native x86_64 release build (the shipped profile, "
                 "symbols kept for the count): the code (`.text`) each crate contributes, in KiB; the arm64 bootstrap's "
                 "split is close. Crates below 16 KiB everywhere are summed in \"others\"; \"file\" is the whole "
                 "native binary, data and symbol tables included.")
        L.append("")
        fn_names = sorted(crates)
        totals = {}
        for fn_name in fn_names:
            for c, b in crates[fn_name]["crates"].items():
                totals[c] = max(totals.get(c, 0), b)
        shown = [c for c, b in sorted(totals.items(), key=lambda kv: -kv[1]) if b >= 16 * 1024]
        L.append("| crate | " + " | ".join(fn_names) + " |")
        L.append("|---|" + "---|" * len(fn_names))
        for c in shown:
            L.append(f"| {c} | " + " | ".join(f"{crates[f]['crates'].get(c, 0) / 1024:,.0f}" for f in fn_names) + " |")
        L.append("| others | " + " | ".join(
            f"{sum(b for c, b in crates[f]['crates'].items() if c not in shown) / 1024:,.0f}" for f in fn_names) + " |")
        L.append("| .text | " + " | ".join(f"{crates[f].get('text_bytes', 0) / 1024:,.0f}" for f in fn_names) + " |")
        L.append("| file | " + " | ".join(f"{crates[f].get('file_bytes', 0) / 1024:,.0f}" for f in fn_names) + " |")
        L.append("")
    rows = before_after(previous, fns)
    if rows:
        L.append("## Against the run this one replaced")
        L.append("")
        L.append(f"The previous `BENCHMARKS.json` (generated {previous.get('generated', '?')}, "
                 f"{previous.get('starts', '?')} starts each) → this run. \"Start to first response\" is the cold-start "
                 "median plus the first sample event's latency: SDK clients built on first use move part of the "
                 "start-up into that first event, so this is the figure that shows whether the work only moved.")
        L.append("")
        L.append("| function | arm64 bootstrap | zip | cold start median | × floor | start to first response | peak RSS |")
        L.append("|---|---|---|---|---|---|---|")
        L.extend(rows)
        L.append("")
    # Findings kept beside the generated figures: this tree against an earlier one on the same
    # machine (written by scripts/bench-baseline.sh), each lever's before and after,
    # and where alarm-fanout's size went.
    for note in ("baseline.md", "levers.md", "alarm-fanout-size.md"):
        path = os.path.join(ROOT, "bench", note)
        if os.path.exists(path):
            with open(path) as f:
                L.append(f.read().rstrip())
            L.append("")
    L.append("## Latency per sample event")
    L.append("")
    for n, r in fns.items():
        if not r["events"]:
            continue
        L.append(f"**{n}**")
        L.append("")
        L.append("| event | outcome | latency |")
        L.append("|---|---|---|")
        for e in r["events"]:
            outcome = e.get("outcome") or "no answer"
            L.append(f"| `{e['event']}` | {outcome}{'' if e.get('ok') else ' (unexpected)'} | {ms(e.get('ms'))} |")
        L.append("")
    L.append("## Each function's own benchmark")
    L.append("")
    prof = "--profile measure (release without LTO)" if args.profile == "release" else f"the {args.profile} profile"
    L.append(f"`cargo run -p <name> --example bench` with {prof}; each prints its figures as JSON lines.")
    L.append("")
    L.append("| function | figure | value | how measured | machine |")
    L.append("|---|---|---|---|---|")
    for n, r in fns.items():
        for fig in r["example"]:
            value = fig.get("value")
            unit = fig.get("unit") or ""
            shown = f"{value:,}" if isinstance(value, int) else (f"{value:g}" if isinstance(value, float) else str(value))
            how = str(fig.get("how", "")).replace("|", "\\|")
            L.append(f"| {n} | {fig.get('figure')} | {shown} {unit} | {how} | {machine_short} |")
    L.append("")
    L.append("## Fuzzing")
    L.append("")
    if fuzz:
        L.append(f"`scripts/fuzz.sh [seconds] [target…]` (cargo fuzz, libFuzzer, {fuzz.get('toolchain', 'nightly')}) on "
                 f"{machine_short}; each target's last run. "
                 + ("No target crashed, so fuzzing has added no regression test yet."
                    if not any(t.get("crashes") for t in fuzz.get("targets", []))
                    else "Every crash found is to be fixed and kept as a regression test (fuzz/README.md lists them)."))
        L.append("")
        L.append("| target | what it feeds | run | executions | crashes | corpus |")
        L.append("|---|---|---|---|---|---|")
        for t in fuzz.get("targets", []):
            L.append(f"| `{t['target']}` | {t.get('what', '')} | {t.get('seconds', '?')} s on {t.get('date', '?')} | "
                     f"{t.get('executions', 0):,} | {t.get('crashes', 0)} | {t.get('corpus', '-')} |")
    else:
        L.append("No fuzzing results yet: run `scripts/fuzz.sh`.")
    L.append("")
    with open(args.markdown, "w") as f:
        f.write("\n".join(L))
    print(f"wrote {args.markdown} and {args.json}")


if __name__ == "__main__":
    main()
