#!/usr/bin/env python3
"""Lists the crates whose features differ between one function's own build and a build of
all the functions together (for the arm64 target, as `sam build` and the boot check build).

`sam build` builds each function on its own (`cargo lambda build --release --arm64 --bin
<name>` in its folder) and cargo resolves features per build: a crate two functions share,
asked for different features, is compiled once per feature set, and with it every crate
that depends on it (for the SDK's core crates: every SDK crate). groundcrew's Cargo.toml
asks for the union of such features so that the five builds share their units. This prints
what is left to unify, one line a function and crate; exit status 1 if anything is.

Features are not all: a crate whose library is also a cdylib or staticlib makes cargo build
every crate below it as object code as well as bitcode (LTO), so a build that has it and one
that lacks it compile those crates as different units. Such crates present in the build of
all functions but missing from one function's own build are listed too.

    scripts/feature-check.py [--target aarch64-unknown-linux-gnu]
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE = re.compile(r"(\S+) (v\S+)(?: \([^)]*\))?(?: (.*))?$")


def features(target, packages):
    """{"crate vX": {features}} of a build of `packages` together."""
    cmd = ["cargo", "tree", "-e", "normal,build", "--target", target, "-f", "{p} {f}", "--prefix", "none"]
    for p in packages:
        cmd += ["-p", p]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        m = LINE.match(line.replace(" (*)", "").strip())
        if m:
            found[f"{m.group(1)} {m.group(2)}"] = set(filter(None, (m.group(3) or "").split(",")))
    return found


def object_code_crates(target):
    """{"crate vX"} of the dependencies whose library is also a cdylib or staticlib."""
    cmd = ["cargo", "metadata", "--format-version", "1", "--filter-platform", target]
    meta = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = set()
    for pkg in json.loads(meta)["packages"]:
        for t in pkg["targets"]:
            if "lib" in t["kind"] and set(t["crate_types"]) & {"cdylib", "staticlib", "dylib"}:
                found.add(f"{pkg['name']} v{pkg['version']}")
    return found


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", default="aarch64-unknown-linux-gnu")
    args = p.parse_args()
    functions = sorted(d for d in os.listdir(os.path.join(ROOT, "functions"))
                       if os.path.isfile(os.path.join(ROOT, "functions", d, "Cargo.toml")))
    together = features(args.target, functions)
    objects = object_code_crates(args.target) & set(together)
    differences = 0
    for name in functions:
        alone = features(args.target, [name])
        for crate, feats in sorted(alone.items()):
            missing = together.get(crate, set()) - feats
            if missing:
                differences += 1
                print(f"{name}: {crate} lacks {','.join(sorted(missing))} (add them in shared/Cargo.toml)")
        for crate in sorted(objects - set(alone)):
            differences += 1
            print(f"{name}: lacks {crate}, a cdylib/staticlib crate of the others' builds (depend on it in shared/Cargo.toml)")
    print(f"feature-check: {len(functions)} functions, {differences} crate(s) with other features or crate types alone than together")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
