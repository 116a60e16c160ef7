#!/usr/bin/env python3
"""The AWS requests one run of a bootstrap makes against the local AWS, counted per service
and action with moto's own recorder. Runs scripts/harness.py with the arguments after `--`
and prints one JSON object: {"total": N, "requests": {"rds DescribeDBClusters": 2, ...}}.

    scripts/aws-requests.py -- --function aurora-autopause --bootstrap target/release/aurora-autopause \\
        --env-file functions/aurora-autopause/local.env --events events/aurora-autopause/01-status.json

Seed the local AWS first (scripts/seed.sh); the seed's own requests are not counted. Used to
tell a first response that got slower because start-up work moved into it from one that
got slower because the function now asks AWS for more.
"""
import base64
import collections
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.py")
MOTO = "http://127.0.0.1:" + os.environ.get("LOCAL_AWS_PORT", "4566") + "/moto-api/recorder/"


def recorder(verb, method="POST"):
    req = urllib.request.Request(MOTO + verb, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def action(entry):
    """'service Action' of one recorded request."""
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("authorization", ""))
    service = scope.group(1) if scope else "?"
    target = headers.get("x-amz-target")
    if target:
        return f"{service} {target.rsplit('.', 1)[-1]}"
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    found = urllib.parse.parse_qs(body).get("Action") or urllib.parse.parse_qs(
        urllib.parse.urlparse(entry.get("url", "")).query).get("Action")
    if found:
        return f"{service} {found[0]}"
    # REST services (S3, Lambda, CloudFront, Scheduler): the method and the path's first segments.
    path = urllib.parse.urlparse(entry.get("url", "")).path.strip("/").split("/")
    return f"{service} {entry.get('method', '?')} /{'/'.join(path[:2])}"


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    harness_args = sys.argv[sys.argv.index("--") + 1:]
    recorder("stop-recording")
    recorder("reset-recording")
    recorder("start-recording")
    try:
        done = subprocess.run([sys.executable, HARNESS, "--quiet", *harness_args])
    finally:
        recorder("stop-recording")
    log = recorder("download-recording", method="GET")
    counts = collections.Counter(action(json.loads(line)) for line in log.splitlines() if line.strip())
    print(json.dumps({"total": sum(counts.values()), "requests": dict(sorted(counts.items())),
                      "harness_exit": done.returncode}))


if __name__ == "__main__":
    main()
