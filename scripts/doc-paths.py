#!/usr/bin/env python3
"""Every repository path a Markdown document names exists.

Usage: `python3 scripts/doc-paths.py [-v]` (standard library only). It reads every Markdown
file git tracks and checks, in inline code, fenced code blocks and relative links, each word
that names a repository path:

- a word whose first part is a top-level entry of the repository (`scripts/seed.sh`,
  `functions/alarm-fanout/local.env`, `template.yaml`, `.cargo/config.toml`) must exist
  from the repository root;
- a word starting with a crate's own folder (`src/`, `tests/`, `demo/`, `examples/`) must
  exist beside the document, or in some crate (`shared/`, `functions/*/`, `bench/*/`,
  `tests/`): the root README's tables name files of the crate their section is about;
- a relative link target must exist relative to the document.

Words with placeholders (`<name>`, `*`, `{`, `$`, `…`), URLs, absolute paths (`/_next/...`
is a site path, `/groundcrew-dev/...` an SSM name) and build output (`target/`, `.local/`,
`.venv/`) are not repository paths and are skipped. A path outside the repository
(`../...`) is an error: documents must not depend on files beside it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATE_DIRS = ("src/", "tests/", "demo/", "examples/", "benches/")
NOT_REPO = ("target/", "fuzz/target/", ".local/", ".venv/", ".venv-scan/", ".git/")
PLACEHOLDER = re.compile(r"[<>*{}$…]|\.\.\.")
TRIM = ".,;:)('\"`"


def tracked_markdown() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "*.md", "**/*.md"], cwd=ROOT, capture_output=True, text=True, check=True)
    return sorted({ROOT / line for line in out.stdout.splitlines() if line})


def top_level() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return {line.split("/", 1)[0] for line in out.stdout.splitlines() if line}


def crate_roots() -> list[Path]:
    roots = [ROOT / "shared", ROOT / "tests"]
    roots += sorted(p for p in (ROOT / "functions").glob("*") if p.is_dir())
    roots += sorted(p for p in (ROOT / "bench").glob("*") if p.is_dir())
    return roots


def words(md: str) -> list[tuple[int, str, str]]:
    """(line, word, kind) for words in code spans, fenced blocks and link targets."""
    found = []
    fenced = False
    for n, line in enumerate(md.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            for w in re.split(r"[\s=|]+", line):
                found.append((n, w, "code"))
            continue
        for span in re.findall(r"``?([^`]+)``?", line):
            for w in span.split():
                found.append((n, w, "code"))
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            found.append((n, target, "link"))
    return found


def check(path: Path, tops: set[str], crates: list[Path], verbose: bool) -> list[str]:
    problems = []
    rel_doc = path.relative_to(ROOT)
    for n, raw, kind in words(path.read_text()):
        w = raw.strip(TRIM)
        w = re.sub(r"#.*$", "", w)          # anchors
        w = re.sub(r":\d+$", "", w)         # file:line
        if not w or "://" in raw or w.startswith(("/", "~", "-")) or PLACEHOLDER.search(w):
            continue
        if w.startswith(NOT_REPO):
            continue
        if w.startswith("../"):
            target = (path.parent / w).resolve()
            if not str(target).startswith(str(ROOT) + "/"):
                problems.append(f"{rel_doc}:{n}: {w} is outside the repository")
                continue
            if kind == "link" and not target.exists():
                problems.append(f"{rel_doc}:{n}: {w} does not exist")
            continue
        if kind == "link":
            if not (path.parent / w).exists():
                problems.append(f"{rel_doc}:{n}: link {w} does not exist")
            continue
        first = w.split("/", 1)[0]
        if w.startswith(CRATE_DIRS):
            # `tests/` is also the simulation crate at the top of the repository.
            places = [path.parent, ROOT, *crates]
            if not any((p / w).exists() for p in places):
                problems.append(f"{rel_doc}:{n}: {w} exists in no crate (nor beside the document)")
            elif verbose:
                print(f"  ok {rel_doc}:{n}: {w}")
            continue
        if first in tops and ("/" in w or (ROOT / w).is_file()):
            if not (ROOT / w).exists():
                problems.append(f"{rel_doc}:{n}: {w} does not exist")
            elif verbose:
                print(f"  ok {rel_doc}:{n}: {w}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-v", action="store_true", help="list every path found")
    args = ap.parse_args()
    tops, crates = top_level(), crate_roots()
    problems = []
    docs = tracked_markdown()
    for path in docs:
        problems += check(path, tops, crates, args.v)
    for p in problems:
        print(p)
    print(f"doc-paths: {len(docs)} documents, {len(problems)} missing paths")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
