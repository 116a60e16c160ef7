#!/usr/bin/env python3
"""Runs a Lambda bootstrap against a local Lambda Runtime API and feeds it events.

Used by the arm64 boot check (the release bootstrap under qemu-aarch64-static), by the
demo (native debug builds) and by the benchmarks. Generic: a function is covered by its
folder `functions/<name>/` (with `local.env`) and its events `events/<name>/*.json`.

Event files whose name starts with `bad-` must be answered with an invocation error
(`POST .../error`) that names what was wrong; every other event must get a response.
Writes a JSON report with each event's outcome, the cold start (process start to the
first `GET .../invocation/next`) and the peak resident memory.

With `--expect-init-error TEXT` (and `--set NAME=VALUE` to break a setting) the run checks
a start-up failure instead: the function must report it to the Runtime API's init error
endpoint (`POST .../init/error` with `{"errorType", "errorMessage"}`, the message naming
TEXT), exit non-zero, and take no event. Exiting without that report is what Lambda shows
as `Runtime.ExitError`, with no cause: that fails.
"""
import argparse
import http.server
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid

API = "/2018-06-01/runtime"


class RuntimeApi:
    def __init__(self, events, timeout_s):
        self.pending = queue.Queue()
        for path in events:
            self.pending.put(path)
        self.timeout_s = timeout_s
        self.results = {}
        self.current = {}
        self.first_next_at = None
        self.init_error = None
        self.done = threading.Event()
        self.answered = threading.Condition()

    def handler(self):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, code, body=b"", headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != f"{API}/invocation/next":
                    return self._reply(404)
                if api.first_next_at is None:
                    api.first_next_at = time.monotonic()
                try:
                    path = api.pending.get_nowait()
                except queue.Empty:
                    api.done.set()
                    # Park the runtime until the harness stops it.
                    time.sleep(3600)
                    return
                with open(path, "rb") as f:
                    body = f.read()
                request_id = str(uuid.uuid4())
                deadline_ms = int(time.time() * 1000 + api.timeout_s * 1000)
                api.current[request_id] = {"event": path, "started": time.monotonic()}
                self._reply(200, body, {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        f"arn:aws:lambda:us-east-1:123456789012:function:{os.environ.get('GC_FUNCTION', 'fn')}",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                })

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = self.path[len(API):].strip("/").split("/")
                if parts[:2] == ["init", "error"]:
                    api.init_error = body.decode("utf-8", "replace")
                    api.done.set()
                    return self._reply(202, b"{}")
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    started = api.current.pop(parts[1], None)
                    if started is None:
                        return self._reply(400, b'{"errorMessage":"unknown request id"}')
                    with api.answered:
                        api.results[started["event"]] = {
                            "outcome": parts[2],
                            "body": body.decode("utf-8", "replace"),
                            "ms": round((time.monotonic() - started["started"]) * 1000, 2),
                        }
                        api.answered.notify_all()
                    return self._reply(202, b"{}")
                return self._reply(404)

        return Handler


def read_env_file(path):
    env = {}
    if not os.path.exists(path):
        return env
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip().strip('"').strip("'")
    return env


def memory_kb(pid):
    """The process's peak resident memory (VmHWM) and its resident memory now, split into
    anonymous pages (heap, stacks) and file pages (the binary's code and data read in):
    the split says which of the two a change of the peak came from."""
    fields = {"VmHWM": "peak_rss_kb", "VmRSS": "rss_kb", "RssAnon": "rss_anon_kb", "RssFile": "rss_file_kb"}
    found = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in fields:
                    found[fields[key]] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    found.update(resident_by_mapping(pid))
    return found


def resident_by_mapping(pid):
    """Resident memory now per kind of mapping (kB): the executable's own pages, other
    files' (shared libraries), the heap with the other anonymous mappings, the stacks."""
    totals = {}
    kind = None
    try:
        exe = os.path.realpath(f"/proc/{pid}/exe")
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                fields = line.split()
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    path = fields[5] if len(fields) > 5 else ""
                    if path == "[stack]":
                        kind = "rss_stack_kb"
                    elif path.startswith("/") and os.path.realpath(path) == exe:
                        # Code (r-x) apart from read-only data and unwind tables (r--) and
                        # written data (rw-).
                        kind = {"r-xp": "rss_executable_code_kb", "r--p": "rss_executable_rodata_kb"}.get(
                            fields[1], "rss_executable_data_kb")
                    elif path.startswith("/"):
                        kind = "rss_libraries_and_other_files_kb"
                    else:
                        kind = "rss_heap_and_anonymous_kb"
                elif fields and fields[0] == "Rss:" and kind:
                    totals[kind] = totals.get(kind, 0) + int(fields[1])
                    if kind.startswith("rss_executable_"):
                        totals["rss_executable_kb"] = totals.get("rss_executable_kb", 0) + int(fields[1])
    except (OSError, ValueError, IndexError):
        return {}
    return totals


def check_init_error(init_error, exited, first_next_at, text):
    """What is wrong with an expected start-up failure (empty: it was reported properly)."""
    problems = []
    if init_error is None:
        problems.append("no init error was reported to the Runtime API "
                        "(Lambda would show only Runtime.ExitError)")
    else:
        if not init_error.get("errorType"):
            problems.append(f"the init error has no errorType: {init_error}")
        if text not in str(init_error.get("errorMessage", "")):
            problems.append(f"the init error does not name {text!r}: {init_error}")
    if exited is None or exited <= 0:
        # None: still running when stopped; negative: ended by a signal, not by itself.
        problems.append(f"the process did not exit non-zero after its start-up failed (exit {exited})")
    if first_next_at is not None:
        problems.append("the process asked for an event after its start-up failed")
    return problems


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--function", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--qemu", action="store_true", help="run under qemu-aarch64-static")
    p.add_argument("--wrapper", help="a command the bootstrap runs under (for example valgrind); "
                   "the process is then ended with SIGTERM, so that the wrapper can write its report")
    p.add_argument("--env-file")
    p.add_argument("--events", nargs="*", default=[])
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per event")
    p.add_argument("--report", help="write the JSON report here")
    p.add_argument("--log", help="write the function's output here")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--show", action="store_true", help="print each response in full")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a variable of the env file (repeatable)")
    p.add_argument("--expect-init-error", metavar="TEXT",
                   help="expect a start-up failure reported to the init error endpoint, naming TEXT")
    args = p.parse_args()

    events = sorted(args.events)
    api = RuntimeApi(events, args.timeout)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), api.handler())
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ") if k in os.environ}
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": args.function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{args.function}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "_HANDLER": "bootstrap",
    })
    env.update(read_env_file(args.env_file) if args.env_file else {})
    for item in args.set:
        name, _, value = item.partition("=")
        env[name] = value
    os.environ["GC_FUNCTION"] = args.function
    cmd = [args.bootstrap]
    if args.qemu:
        cmd = ["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu", args.bootstrap]
    if args.wrapper:
        cmd = shlex.split(args.wrapper) + cmd
    log = open(args.log, "wb") if args.log else subprocess.DEVNULL
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    limit = started + 30 + args.timeout * max(len(events), 1)
    while not api.done.is_set() and proc.poll() is None and time.monotonic() < limit:
        api.done.wait(0.05)
    memory = memory_kb(proc.pid)
    if api.init_error is not None:
        # A start-up failure was reported: the process should now exit on its own.
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    exited = proc.poll()
    if exited is None and args.wrapper:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    if exited is None and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    server.shutdown()

    cold_ms = round((api.first_next_at - started) * 1000, 2) if api.first_next_at else None
    failures = []
    report_events = []
    init_error = None
    if api.init_error is not None:
        try:
            init_error = json.loads(api.init_error)
        except ValueError:
            init_error = {"unparsed": api.init_error}
    if args.expect_init_error is not None:
        failures.extend(check_init_error(init_error, exited, api.first_next_at, args.expect_init_error))
        if not args.quiet:
            mark = "FAIL" if failures else "ok  "
            print(f"  {mark} {args.function:<24} {'init error':<36} exit {exited}  {api.init_error}")
    for path in events:
        name = os.path.basename(path)
        expect = "error" if name.startswith("bad-") else "response"
        result = api.results.get(path)
        ok = result is not None and result["outcome"] == expect
        if result is None:
            why = "no answer" + (f" (process exited with {exited})" if exited is not None else "")
            if api.init_error:
                why += f"; init error: {api.init_error}"
        else:
            why = f"got {result['outcome']}, expected {expect}"
        if not ok:
            failures.append(f"{name}: {why}")
        report_events.append({"event": name, "expected": expect, "ok": ok, **(result or {})})
        if not args.quiet:
            mark = "ok  " if ok else "FAIL"
            ms = f"{result['ms']:>8.1f} ms" if result else "        -   "
            body = (result or {}).get("body", why)
            if not args.show and len(body) > 160:
                body = body[:157] + "..."
            print(f"  {mark} {args.function:<24} {name:<36} {ms}  {body}")

    report = {
        "function": args.function,
        "bootstrap": args.bootstrap,
        "qemu": args.qemu,
        "bootstrap_bytes": os.path.getsize(args.bootstrap),
        "cold_start_ms": cold_ms,
        "peak_rss_kb": memory.get("peak_rss_kb"),
        "memory_at_end_kb": {k: v for k, v in memory.items() if k != "peak_rss_kb"},
        "events": report_events,
        "init_error": init_error,
        "exit_code": exited,
        "failures": failures,
    }
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=2)
    if failures:
        print(f"  {args.function}: {len(failures)} check(s) failed:", file=sys.stderr)
        for failure in failures:
            print(f"    - {failure}", file=sys.stderr)
        if args.log:
            print(f"    function output: {args.log}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
