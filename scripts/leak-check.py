#!/usr/bin/env python3
"""Fails if a secret value reaches a function's logs or responses.

Run after `scripts/harness.py` (by the boot check and the demo), with the local AWS the
function ran against still up:

    .venv/bin/python scripts/leak-check.py --function alarm-fanout \\
        --report .local/boot/alarm-fanout.json --log .local/boot/alarm-fanout.log

The secret values looked for are every value that was configured for the run:
  - every Secrets Manager secret in the local AWS, every version, and, when a value is a
    JSON object, each of its string fields (`name#field`, as the functions refer to them);
  - every SSM SecureString parameter in the local AWS (decrypted), every version;
  - the secret-bearing variables of functions/<name>/local.env: AWS_SECRET_ACCESS_KEY,
    AWS_SESSION_TOKEN and any key containing TOKEN, SECRET or PASSWORD, except keys that
    name where a secret is stored rather than hold one (`..._SECRET`, `..._SECRET_ARN`,
    `..._SECRET_NAME`, `..._PARAMETER`, e.g. BOT_TOKEN_SECRET=groundcrew/dev/telegram-bot-token;
    the value they name is collected from Secrets Manager or SSM);
  - credentials carried by the sample events themselves (keys such as secretAccessKey,
    sessionToken or password, e.g. CodePipeline's artifactCredentials).

Each value is looked for as it is and in the forms that would still be a leak: URL-encoded,
JSON-escaped, for a Telegram bot token (`<bot id>:<secret>`) the part after the colon (the
bot id is public), and for a URL (webhook secrets) everything after the host and each query
value. Every log line is searched as text and, when it is JSON, field by field (decoded, and
JSON inside a string decoded again), so a finding names the field; so is every response and
error body in the report.

Values shorter than MIN_LENGTH characters are ignored: a value that short ("testing",
"true", "keep-me") would match ordinary words in the logs and fail the check for nothing,
and no real credential or token is that short. The values the demo seeds and local.env sets
are long and carry the marker CANARY ("gc-canary"), which appears nowhere else: any text
containing it is a leak even when it is only a fragment of a value (cut short, or rebuilt
around the secret part).

A finding names the function, the file, the line or event, the field and the secret (by its
name, never its value). Exit status: 0 no leak, 1 a leak, 2 the check could not run.
"""
import argparse
import json
import os
import re
import sys
import urllib.parse

# The harness's own reading of local.env, so both see the same variables.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import read_env_file  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIN_LENGTH = 8
CANARY = "gc-canary"
# local.env keys that name where a secret is stored (a reference, logged freely) rather than hold it.
REFERENCE_SUFFIXES = ("_SECRET", "_SECRET_ARN", "_SECRET_NAME", "_SECRET_ID", "_PARAMETER", "_PARAMETER_NAME")
SECRET_ENV_KEY = re.compile(r"TOKEN|SECRET|PASSWORD")
# Event keys (lower case, without _ and -) whose values are credentials.
SECRET_EVENT_KEYS = {"secretaccesskey", "sessiontoken", "password", "clientsecret", "privatekey",
                     "accesstoken", "refreshtoken", "apikey"}
TELEGRAM_TOKEN = re.compile(r"^\d{1,20}:([A-Za-z0-9_-]+)$")


def shown(path):
    """A path as printed: relative to the repository when inside it."""
    full = os.path.abspath(path)
    return os.path.relpath(full, ROOT) if full.startswith(ROOT + os.sep) else path


class Secrets:
    """Secret values, each with the names it is known by (never printed: only the names are)."""

    def __init__(self):
        self.names = {}  # value -> [name, ...]
        self.sources = {}  # source -> count of values
        self.short = 0

    def add(self, source, name, value):
        if not isinstance(value, str) or not value:
            return
        if len(value) < MIN_LENGTH:
            self.short += 1
            return
        if value not in self.names:
            self.names[value] = []
            self.sources[source] = self.sources.get(source, 0) + 1
        earlier = " (an earlier version)"
        if name.endswith(earlier) and name[:-len(earlier)] in self.names[value]:
            return  # the current version holds the same value: name that one
        if not name.endswith(earlier) and name + earlier in self.names[value]:
            self.names[value].remove(name + earlier)
        if name not in self.names[value]:
            self.names[value].append(name)

    def add_with_fields(self, source, name, value, note=""):
        """A value, and if it is a JSON object, each string in it as `name#field`."""
        self.add(source, name + note, value)
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError):
            return
        if isinstance(parsed, dict):
            for path, leaf in leaves(parsed):
                self.add(source, f"{name}#{path}{note}", leaf)

    def needles(self):
        """(text to look for, secret names, form) for every value and its leaking forms."""
        out = []
        for value, names in self.names.items():
            forms = {value: "as is"}

            def form(text, how):
                if text and len(text) >= MIN_LENGTH and text not in forms:
                    forms[text] = how

            form(urllib.parse.quote(value, safe=""), "URL-encoded")
            form(urllib.parse.quote(value), "URL-encoded")
            form(urllib.parse.quote_plus(value), "URL-encoded")
            form(json.dumps(value)[1:-1], "JSON-escaped")
            m = TELEGRAM_TOKEN.match(value)
            if m:
                form(m.group(1), "the part of a Telegram bot token after the colon")
            if value.startswith(("http://", "https://")):
                url = urllib.parse.urlsplit(value)
                after_host = url.path + (f"?{url.query}" if url.query else "")
                if after_host.strip("/"):
                    form(after_host, "the URL without its host")
                for _, v in urllib.parse.parse_qsl(url.query):
                    form(v, "a query value of the URL")
            for text, how in forms.items():
                out.append((text, names, how))
        return out


def leaves(value, path="", keys=False):
    """(path, string) for every string in a JSON value, and with `keys` every key."""
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else str(k)
            if keys:
                yield p + " (key)", str(k)
            yield from leaves(v, p, keys)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]", keys)
    elif isinstance(value, str):
        yield path, value


def fragment_owners(fragment, canary_names):
    """The names of the canary values that share the longest run of text with `fragment`
    (which starts at the marker), if it goes at least a few characters past the marker."""
    def shared(value):
        best = 0
        for i in [m.start() for m in re.finditer(re.escape(CANARY), value)]:
            n = 0
            while n < len(fragment) and i + n < len(value) and fragment[n] == value[i + n]:
                n += 1
            best = max(best, n)
        return best
    scores = {v: shared(v) for v in canary_names}
    top = max(scores.values(), default=0)
    if top < len(CANARY) + 4:
        return set()
    return {n for v, s in scores.items() if s == top for n in canary_names[v]}


def views(text):
    """(field, text) pairs to search: each string field of a JSON text (JSON inside a string
    decoded again, a few levels deep), then the whole text."""
    out = []

    def walk(raw, prefix, depth):
        try:
            parsed = json.loads(raw)
        except (TypeError, ValueError):
            return
        if not isinstance(parsed, (dict, list)):
            return
        for path, leaf in leaves(parsed, keys=True):
            field = f"{prefix}{path}" if path else prefix or "(value)"
            out.append((field, leaf))
            if depth < 3 and leaf.lstrip()[:1] in ("{", "["):
                walk(leaf, field + " > ", depth + 1)

    walk(text, "", 0)
    out.append(("(whole text)", text))
    return out


def collect_aws(secrets, endpoint, region):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3})
    kwargs = dict(endpoint_url=endpoint, region_name=region, config=config,
                  aws_access_key_id="testing", aws_secret_access_key="testing")
    sm = boto3.client("secretsmanager", **kwargs)
    ssm = boto3.client("ssm", **kwargs)

    for page in sm.get_paginator("list_secrets").paginate(IncludePlannedDeletion=True):
        for entry in page.get("SecretList", []):
            name = entry["Name"]
            versions, token = [], None
            try:
                while True:
                    page_args = {"SecretId": entry["ARN"], "IncludeDeprecated": True}
                    if token:
                        page_args["NextToken"] = token
                    listed = sm.list_secret_version_ids(**page_args)
                    versions += [(v["VersionId"], "AWSCURRENT" in v.get("VersionStages", []))
                                 for v in listed.get("Versions", [])]
                    token = listed.get("NextToken")
                    if not token:
                        break
            except ClientError:
                pass
            for version, current in versions or [(None, True)]:
                try:
                    args = {"SecretId": entry["ARN"]}
                    if version:
                        args["VersionId"] = version
                    got = sm.get_secret_value(**args)
                except ClientError:
                    continue  # deleted, or a version without a value
                value = got.get("SecretString")
                if value is None and got.get("SecretBinary") is not None:
                    try:
                        value = bytes(got["SecretBinary"]).decode("utf-8")
                    except UnicodeDecodeError:
                        continue
                secrets.add_with_fields("Secrets Manager", name, value, "" if current else " (an earlier version)")

    pages = ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])
    for page in pages:
        for entry in page.get("Parameters", []):
            name = entry["Name"]
            try:
                history = [p for hist in ssm.get_paginator("get_parameter_history").paginate(Name=name, WithDecryption=True)
                           for p in hist.get("Parameters", [])]
                latest = max((p.get("Version", 0) for p in history), default=0)
                for p in history:
                    if p.get("Type") == "SecureString":
                        note = "" if p.get("Version", 0) == latest else " (an earlier version)"
                        secrets.add_with_fields("SSM SecureString", f"ssm:{name}", p.get("Value"), note)
            except ClientError:
                got = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
                secrets.add_with_fields("SSM SecureString", f"ssm:{name}", got.get("Value"))


def collect_env(secrets, env, env_file):
    for key, value in env.items():
        if key in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN") or (
                SECRET_ENV_KEY.search(key) and not key.endswith(REFERENCE_SUFFIXES)):
            secrets.add("local.env", f"{shown(env_file)} {key}", value)


def collect_events(secrets, paths):
    for path in paths:
        try:
            with open(path) as f:
                event = json.load(f)
        except (OSError, ValueError):
            continue  # bad-*.json may not even be JSON

        def walk(value, trail):
            if isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(v, str) and re.sub(r"[_-]", "", str(k)).lower() in SECRET_EVENT_KEYS:
                        secrets.add("events", f"{os.path.basename(path)} {trail}{k}", v)
                    walk(v, f"{trail}{k}.")
            elif isinstance(value, list):
                for i, v in enumerate(value):
                    walk(v, f"{trail}{i}.")

        walk(event, "")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--function", required=True)
    p.add_argument("--report", required=True, help="the harness report (JSON)")
    p.add_argument("--log", required=True, help="the harness log (the function's output)")
    p.add_argument("--env-file", help="default: functions/<function>/local.env")
    p.add_argument("--events", nargs="*", help="the events run; default: those in the report, from events/<function>/")
    p.add_argument("--endpoint", help="the local AWS; default: AWS_ENDPOINT_URL from the env file, or http://127.0.0.1:4566")
    p.add_argument("--verbose", action="store_true", help="list the names of the secrets looked for")
    args = p.parse_args()
    fn = args.function
    env_file = args.env_file or os.path.join(ROOT, "functions", fn, "local.env")

    def cannot(why):
        print(f"leak-check {fn}: could not check: {why}")
        sys.exit(2)

    try:
        with open(args.report) as f:
            report = json.load(f)
        with open(args.log, "rb") as f:
            log_lines = f.read().decode("utf-8", "replace").splitlines()
        env = read_env_file(env_file) if os.path.exists(env_file) else {}
    except (OSError, ValueError) as e:
        cannot(e)

    secrets = Secrets()
    collect_env(secrets, env, env_file)
    if args.events is not None:
        event_paths = args.events
    else:
        event_paths = [os.path.join(ROOT, "events", fn, e["event"]) for e in report.get("events", [])]
    collect_events(secrets, event_paths)
    endpoint = args.endpoint or env.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566"
    try:
        collect_aws(secrets, endpoint, env.get("AWS_REGION", "us-east-1"))
    except Exception as e:  # noqa: an unreachable local AWS must not pass as "no leak"
        cannot(f"reading the secrets from {endpoint}: {type(e).__name__}: {e}")
    if not secrets.names:
        cannot("no secret value to look for (is the local AWS seeded? does local.env set AWS_SECRET_ACCESS_KEY?)")
    needles = sorted(secrets.needles(), key=lambda n: -len(n[0]))  # longest first: a value before its parts
    if args.verbose:
        forms = {}
        for _, names, how in needles:
            forms.setdefault(" = ".join(names), []).append(how)
        for names, hows in sorted(forms.items()):
            print(f"  looking for {names}: {', '.join(sorted(set(hows), key=hows.index))}")
    any_needle = re.compile("|".join(re.escape(t) for t, _, _ in needles))
    canary_names = {v: n for v, n in secrets.names.items() if CANARY in v}

    findings = []

    def search(where, text):
        if not any_needle.search(text) and CANARY not in text:
            return
        fields = {}  # (names, form) -> the fields it was found in
        for field, view in views(text):
            hits, rest = {}, view
            for t, names, how in needles:
                if t in view:
                    hits.setdefault(tuple(names), how)
                    rest = rest.replace(t, "\0")
            hits = list(hits.items())
            if CANARY in rest:
                # A fragment of a canary value: name the values the text around the marker belongs to.
                owners = set()
                for m in re.finditer(re.escape(CANARY) + r"[A-Za-z0-9_~%-]*", rest):
                    owners |= fragment_owners(m.group(0), canary_names)
                hits.append((tuple(sorted(owners)) or ("an unknown gc-canary value",), f"a fragment carrying the marker {CANARY!r}"))
            for hit in hits:
                fields.setdefault(hit, []).append(field)
        for (names, how), found in fields.items():
            # The most specific field: a JSON string inside a field before the field, any field before the whole text.
            named = sorted((f for f in found if f != "(whole text)"), key=lambda f: (-f.count(" > "), f))
            shown = named[0] if named else "(whole text)"
            others = len({f.split(" > ")[0] for f in named[1:]} - {shown.split(" > ")[0]})
            extra = f" (and {others} other field{'s' if others > 1 else ''})" if others else ""
            findings.append(f"{where}, field {shown}{extra}: {' = '.join(names)} ({how})")

    log_name, report_name = shown(args.log), shown(args.report)
    for n, line in enumerate(log_lines, 1):
        search(f"{log_name} line {n}", line)
    responses = 0
    for e in report.get("events", []):
        if "body" in e:
            responses += 1
            search(f"{report_name} event {e['event']} ({e.get('outcome')} body)", e["body"])
    for i, failure in enumerate(report.get("failures", [])):
        search(f"{report_name} failures[{i}]", failure)

    counts = ", ".join(f"{n} {source}" for source, n in sorted(secrets.sources.items()))
    looked = (f"{len(secrets.names)} secret values ({counts}; {secrets.short} shorter than {MIN_LENGTH} "
              f"characters ignored) in {len(log_lines)} log lines and {responses} responses")
    if findings:
        print(f"leak-check {fn}: FAIL: {len(findings)} secret leak(s) (values not shown):")
        for finding in findings:
            print(f"  LEAK {fn}: {finding}")
        print(f"  looked for {looked}")
        sys.exit(1)
    print(f"leak-check {fn}: ok: none of {looked}")


if __name__ == "__main__":
    main()
