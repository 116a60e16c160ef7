#!/usr/bin/env python3
"""Cold starts of a Lambda bootstrap: starts it N times against a local Lambda Runtime API
(scripts/harness.py with no events) and reports the time from process start to its first
`GET .../invocation/next`, each start a new process. Prints one JSON object:
{"starts": N, "samples_ms": [...], "median_ms": ..., "p90_ms": ..., "min_ms": ..., "max_ms": ...}
"""
import argparse
import json
import os
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--function", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--env-file")
    p.add_argument("--starts", type=int, default=20)
    p.add_argument("--qemu", action="store_true")
    args = p.parse_args()

    samples = []
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        report_path = os.path.join(tmp, "report.json")
        for i in range(args.starts):
            cmd = [sys.executable, HARNESS, "--function", args.function, "--bootstrap", args.bootstrap,
                   "--report", report_path, "--quiet", "--log", os.path.join(tmp, "out.log")]
            if args.env_file:
                cmd += ["--env-file", args.env_file]
            if args.qemu:
                cmd.append("--qemu")
            done = subprocess.run(cmd, capture_output=True, text=True)
            try:
                with open(report_path) as f:
                    cold = json.load(f).get("cold_start_ms")
            except (OSError, ValueError):
                cold = None
            if done.returncode != 0 or cold is None:
                failures.append(f"start {i + 1}: no GET /next (exit {done.returncode}) {done.stderr.strip()[:200]}")
                continue
            samples.append(cold)
    ordered = sorted(samples)
    out = {
        "function": args.function,
        "bootstrap": args.bootstrap,
        "starts": len(samples),
        "samples_ms": samples,
        "median_ms": round(statistics.median(ordered), 2) if ordered else None,
        "p90_ms": percentile(ordered, 90),
        "min_ms": ordered[0] if ordered else None,
        "max_ms": ordered[-1] if ordered else None,
        "failures": failures,
    }
    print(json.dumps(out))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
