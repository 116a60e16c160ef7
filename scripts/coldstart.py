#!/usr/bin/env python3
"""Cold starts of a Lambda bootstrap: starts it N times against a local Lambda Runtime API
(scripts/harness.py with no events) and reports the time from process start to its first
`GET .../invocation/next`, each start a new process. Prints one JSON object:
{"starts": N, "samples_ms": [...], "median_ms": ..., "p90_ms": ..., "min_ms": ..., "max_ms": ...}

With `--floor BOOTSTRAP` the floor (bench/hello-floor) is started between the function's
starts, one of each in turn, so that both see the same load on a busy machine; the object
then also holds "floor" (the same figures for the floor) and "ratio" (median over median).

With `--instructions` the bootstrap also runs once under `valgrind --tool=callgrind`, and
"instructions" is the number of instructions it executed from its first to the first
`GET .../invocation/next` (then it is stopped): a figure that does not depend on the load
of the machine, unlike a time.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")


def percentile(sorted_values, q):
    """Nearest-rank percentile (q in 0..100) of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]


def harness_cmd(tmp, function, bootstrap, env_file, qemu, wrapper=None):
    cmd = [sys.executable, HARNESS, "--function", function, "--bootstrap", bootstrap,
           "--report", os.path.join(tmp, "report.json"), "--quiet", "--log", os.path.join(tmp, "out.log")]
    if env_file:
        cmd += ["--env-file", env_file]
    if qemu:
        cmd.append("--qemu")
    if wrapper:
        cmd += ["--wrapper", wrapper]
    return cmd


def one_start(tmp, function, bootstrap, env_file, qemu):
    """The cold start in ms, or an error text."""
    report_path = os.path.join(tmp, "report.json")
    if os.path.exists(report_path):
        os.remove(report_path)
    done = subprocess.run(harness_cmd(tmp, function, bootstrap, env_file, qemu), capture_output=True, text=True)
    try:
        with open(report_path) as f:
            cold = json.load(f).get("cold_start_ms")
    except (OSError, ValueError):
        cold = None
    if done.returncode != 0 or cold is None:
        return None, f"no GET /next (exit {done.returncode}) {done.stderr.strip()[:200]}"
    return cold, None


def instructions(tmp, function, bootstrap, env_file):
    """Instructions executed up to the first GET /next, counted by callgrind; None without valgrind."""
    if not shutil.which("valgrind"):
        return None
    out = os.path.join(tmp, "callgrind.out")
    wrapper = f"valgrind --tool=callgrind --callgrind-out-file={out} --dump-instr=no --compress-strings=no"
    subprocess.run(harness_cmd(tmp, function, bootstrap, env_file, False, wrapper), capture_output=True, text=True)
    try:
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def figures(samples):
    ordered = sorted(samples)
    return {
        "starts": len(samples),
        "samples_ms": samples,
        "median_ms": round(statistics.median(ordered), 2) if ordered else None,
        "p90_ms": percentile(ordered, 90),
        "min_ms": ordered[0] if ordered else None,
        "max_ms": ordered[-1] if ordered else None,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--function", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--env-file")
    p.add_argument("--starts", type=int, default=20)
    p.add_argument("--qemu", action="store_true")
    p.add_argument("--floor", metavar="BOOTSTRAP", help="the floor's bootstrap, started in turn with the function")
    p.add_argument("--floor-function", default="hello-floor")
    p.add_argument("--floor-env-file", help="the floor's environment (scripts/bench-baseline.sh starts an "
                   "earlier build of the same function in the floor's place)")
    p.add_argument("--instructions", action="store_true",
                   help="also count the instructions to the first GET /next with callgrind (one run each)")
    args = p.parse_args()

    samples, floor_samples, failures = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.starts):
            cold, why = one_start(tmp, args.function, args.bootstrap, args.env_file, args.qemu)
            if why:
                failures.append(f"start {i + 1}: {why}")
            else:
                samples.append(cold)
            if args.floor:
                cold, why = one_start(tmp, args.floor_function, args.floor, args.floor_env_file, args.qemu)
                if why:
                    failures.append(f"floor start {i + 1}: {why}")
                else:
                    floor_samples.append(cold)
        counted = instructions(tmp, args.function, args.bootstrap, args.env_file) if args.instructions else None
        floor_counted = (instructions(tmp, args.floor_function, args.floor, args.floor_env_file)
                         if args.instructions and args.floor else None)
    out = {"function": args.function, "bootstrap": args.bootstrap, **figures(samples), "failures": failures}
    if args.instructions:
        out["instructions"] = counted
    if args.floor:
        floor = {"function": args.floor_function, "bootstrap": args.floor, **figures(floor_samples)}
        if args.instructions:
            floor["instructions"] = floor_counted
        out["floor"] = floor
        if out["median_ms"] and floor["median_ms"]:
            out["ratio"] = round(out["median_ms"] / floor["median_ms"], 2)
        if counted and floor_counted:
            out["instructions_ratio"] = round(counted / floor_counted, 2)
    print(json.dumps(out))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
