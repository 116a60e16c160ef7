#!/usr/bin/env python3
"""Least-privilege check: each function's IAM policy in template.yaml grants exactly the
AWS actions its code calls.

Run with the project's venv (PyYAML, cfn-lint): `.venv/bin/python scripts/iam-check.py [-v]`.
It reads the template, the crates' sources and the AWS SDK sources in the cargo registry;
it runs no cargo and no AWS.

For every `AWS::Serverless::Function` (crate = its `CodeUri: functions/<name>`):

1. Grants. The IAM actions of the function's `Policies`: inline policy documents only
   (`Action` a string or a list; statements and values under `!If` count with both
   branches). A SAM policy template, a managed policy, `Role`, `NotAction`,
   `NotResource` or a wildcard action fail the check: they cannot be compared with the
   code. `Effect: Deny` statements are not grants; they are listed with `-v`.
   SAM's own additions (DeadLetterQueue's sqs:SendMessage, X-Ray for `Tracing: Active`,
   CloudWatch Logs) are not in `Policies` and are not checked.

2. Calls, derived from the code. The AWS SDK crates the function depends on
   (functions/<name>/Cargo.toml [dependencies], versions from Cargo.lock) each list their
   operations in `~/.cargo/registry/src/*/aws-sdk-<svc>-<version>/src/operation/`: one
   `operation/<snake>.rs` per operation holding `pub struct <PascalName>;`, and the
   client's fluent method `pub fn <snake>(&self)` in `client/<snake>.rs`. The function's
   non-test source (functions/<name>/src/**/*.rs with comments, strings and every item
   under `#[cfg(test)]` / `#[cfg(any(test, ...))]` removed, and files of modules declared
   under such a cfg) is scanned for calls of those methods:
     - `<receiver>.<snake>()` with empty parentheses (a fluent builder takes no argument),
       counted when the receiver is known to be an SDK client of that service: `self.<field>`
       whose field (in the `struct` of the enclosing `impl`, tuple fields `self.0` included)
       has type `aws_sdk_<svc>::Client` (also through `use aws_sdk_<svc> as x;` or `use
       aws_sdk_<svc>::Client;`), `self` inside `impl .. for aws_sdk_<svc>::Client`, or a
       variable/parameter annotated or built (`Client::new`) with that type;
     - `aws_sdk_<svc>::Client::<snake>(..)` (fully qualified call);
     - when the receiver cannot be typed this way, the call still counts if the chain goes
       on to `.send()`, `.into_paginator()` or `.customize()` (in the same statement, or
       through a `let` binding later sent) and exactly one of the function's SDKs has the
       operation; otherwise it fails as ambiguous.
   A same-named method on a type that is not an SDK client (a trait method such as
   `self.cloudfront.list_distributions()` on a generic field, or a builder getter such as
   `get_item()`) is therefore not a call; `-v` lists what was ignored and why.

   Calls made inside the shared crate (shared/src, crate `groundcrew`) are charged to the
   type that makes them (the `impl` they sit in, e.g. `AwsSecretStore`, which calls
   Secrets Manager GetSecretValue and SSM GetParameter) and to `pub type` aliases of it
   (`Secrets`). A function is charged with them when its non-test source names that
   type through the shared module: `groundcrew::<module>::<Type>`, or a
   `use groundcrew::...` that names both the module and the type. Using other items of
   the module (`SecretRef`, `reveal`) does not charge it.

3. Actions. Operation `<PascalName>` of service <svc> is the IAM action
   `<prefix>:<PascalName>` (prefixes in IAM_PREFIX) except for the few in
   ACTION_EXCEPTIONS. Every granted and every derived action must exist in cfn-lint's IAM
   data (catches a missing exception).

4. Rules (each failure names the function, the action and the statement Sid):
   - a granted action the code never calls fails (least privilege);
   - an action the code calls that no statement grants fails (it would be denied in
     production) unless NOT_GRANTED_OK lists it for that function, with the reason;
     a stale NOT_GRANTED_OK entry fails too;
   - `Resource: "*"` on an Allow fails unless the action is in STAR_OK (actions without
     resource-level permissions; checked against cfn-lint's data).

Output: one line per function (`ok` or `FAIL` with reasons), then
`iam-check: N passed, M failed`; the exit status is non-zero on any failure.

Known limits of the scan: it reads source text, not types. A client it cannot type (a
wrapper with `Deref`, a client returned by a method, a generic `C: ...`, a variable without
annotation) is only found by the `.send()` rule above; an operation reached by a macro, a
hand-built request or another crate is not found. Every call in the source counts, even in
code that is never reached, and a shared type counts with all its calls (a function naming
`AwsSecretStore` is charged with both GetSecretValue and GetParameter). Conditional grants
(`!If`) count as granted. Only the action list is compared: how narrow a scoped `Resource`
or `Condition` is, is not judged (just `Resource: "*"`).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# IAM service prefix of each AWS SDK crate (`aws-sdk-<key>`). A crate missing here fails
# the check until it is added.
IAM_PREFIX = {
    "applicationautoscaling": "application-autoscaling",
    "cloudfront": "cloudfront",
    "cloudwatch": "cloudwatch",
    "codepipeline": "codepipeline",
    "dynamodb": "dynamodb",
    "ecs": "ecs",
    "lambda": "lambda",
    "rds": "rds",
    "resourcegroupstagging": "tag",
    "s3": "s3",
    "secretsmanager": "secretsmanager",
    "sns": "sns",
    "sqs": "sqs",
    "ssm": "ssm",
}

# Operations whose IAM action is not `<prefix>:<OperationName>`. Everything else used
# here maps one to one (e.g. CloudWatch GetMetricData -> cloudwatch:GetMetricData, RDS
# DescribeDBClusters -> rds:DescribeDBClusters); a missing entry shows up as a derived
# action cfn-lint's IAM data does not know.
ACTION_EXCEPTIONS = {
    # The Invoke API is authorised by the lambda:InvokeFunction action.
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    # Listing a bucket's objects (either API version) is authorised by s3:ListBucket.
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    # HEAD on an object needs the permission to GET it.
    ("s3", "HeadObject"): "s3:GetObject",
    # A write transaction is authorised item by item: a put, an update or a delete in it
    # needs that item action. (A ConditionCheck item would need dynamodb:ConditionCheckItem;
    # no crate uses one.)
    ("dynamodb", "TransactWriteItems"): ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
}

# Actions a function's code calls but its policy deliberately does not grant, per
# function, with the reason. Each must still be called and not granted (else: stale).
# (telegram-webhook's SSM calls are granted now, on its registration records; SSM
# references for its secrets need more, which its README tells users to add.)
NOT_GRANTED_OK: dict = {}

# Actions that may be granted on `Resource: "*"` because they have no resource-level
# permissions (Service Authorization Reference; the script checks each against
# cfn-lint's IAM data).
STAR_OK = {
    # Metrics have no ARN: reading AWS/RDS metrics needs "*". (cfn-lint lists one
    # optional resource type, CloudWatch's `dataset`, which plain metrics are not.)
    "cloudwatch:GetMetricData": "metrics have no ARN",
    "ecs:ListClusters": "no resource types",
    "ecs:ListServices": "no resource types (only the ecs:cluster condition key)",
    "application-autoscaling:DescribeScalableTargets": "no resource types",
    "codepipeline:PutJobSuccessResult": "job results have no resource types",
    "codepipeline:PutJobFailureResult": "job results have no resource types",
    "cloudfront:ListDistributions": "no resource types",
    "tag:GetResources": "no resource types",
}
# STAR_OK entries for which cfn-lint's data lists an optional resource type that does
# not cover what the code reads (see the comment on each entry above).
STAR_OK_DESPITE_RESOURCE_TYPES = {"cloudwatch:GetMetricData"}


# --------------------------------------------------------------------------- template


class CfnLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short tags (!Ref, !Sub, !If...) as the
    long-form mappings (`{"Ref": ...}`, `{"Fn::Sub": ...}`)."""


def _cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node):
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def branches(value):
    """The alternatives a value may take: both branches of `Fn::If`, minus AWS::NoValue."""
    if isinstance(value, dict) and len(value) == 1:
        if "Fn::If" in value:
            _cond, yes, no = value["Fn::If"]
            return branches(yes) + branches(no)
        if value.get("Ref") == "AWS::NoValue":
            return []
    return [value]


def flat_list(value):
    """A string-or-list field (Action, Resource), with `Fn::If` branches flattened."""
    out = []
    for v in branches(value):
        if isinstance(v, list):
            for item in v:
                out.extend(branches(item))
        else:
            out.append(v)
    return out


@dataclass
class Statement:
    sid: str
    effect: str
    actions: list
    star: bool  # Resource "*" (in some branch)


def policy_statements(props: dict, problems: list) -> list[Statement]:
    if "Role" in props:
        problems.append("has a Role: its permissions are not in Policies; not supported")
        return []
    policies = props.get("Policies", [])
    if isinstance(policies, (str, dict)):
        policies = [policies]
    statements: list[Statement] = []
    for pol in (p for item in policies for p in branches(item)):
        if isinstance(pol, str):
            problems.append(f"managed policy {pol!r}: expand it into inline statements to check it")
            continue
        if not isinstance(pol, dict) or "Statement" not in pol:
            name = next(iter(pol), "?") if isinstance(pol, dict) else pol
            problems.append(f"SAM policy template or managed policy {name!r}: not expanded; "
                            "write its statements inline to check them")
            continue
        raw = pol["Statement"]
        raw = raw if isinstance(raw, list) else [raw]
        for n, st in enumerate(s for item in raw for s in branches(item)):
            if not isinstance(st, dict):
                problems.append(f"statement #{n + 1} is not a mapping")
                continue
            sid = st.get("Sid", f"#{n + 1}")
            for bad in ("NotAction", "NotResource", "NotPrincipal"):
                if bad in st:
                    problems.append(f"statement {sid}: {bad} cannot be checked")
            actions = []
            for a in flat_list(st.get("Action", [])):
                if not isinstance(a, str):
                    problems.append(f"statement {sid}: action {a!r} is not a plain string")
                elif "*" in a or "?" in a:
                    problems.append(f"statement {sid}: wildcard action {a} (grant named actions)")
                else:
                    actions.append(a)
            star = any(r == "*" for r in flat_list(st.get("Resource", [])))
            statements.append(Statement(sid, st.get("Effect", "Allow"), actions, star))
    return statements


# --------------------------------------------------------------------------- cargo


def cargo_registry_src() -> list[str]:
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    return sorted(glob.glob(os.path.join(home, "registry", "src", "*")))


@dataclass
class SdkCrate:
    svc: str  # the `aws-sdk-<svc>` suffix
    version: str
    ops: dict  # fluent method name -> PascalCase operation name


_SDK_CACHE: dict = {}


def load_sdk(svc: str, version: str) -> SdkCrate:
    key = (svc, version)
    if key in _SDK_CACHE:
        return _SDK_CACHE[key]
    dirs = [d for base in cargo_registry_src()
            for d in [os.path.join(base, f"aws-sdk-{svc}-{version}")] if os.path.isdir(d)]
    if not dirs:
        raise CheckError(f"aws-sdk-{svc} {version} is not in the cargo registry "
                         "(~/.cargo/registry/src); run `cargo fetch` once")
    src = Path(dirs[0]) / "src"
    ops = {}
    for entry in sorted((src / "operation").iterdir()):
        if not entry.is_dir():
            continue
        snake = entry.name
        text = None
        for candidate in (src / "operation" / f"{snake}.rs", entry / "mod.rs"):
            if candidate.is_file():
                text = candidate.read_text()
                break
        m = re.search(r"^pub struct ([A-Z][A-Za-z0-9_]*);", text or "", re.M)
        if not m:
            raise CheckError(f"aws-sdk-{svc} {version}: no `pub struct` in operation {snake}")
        method = snake
        client = src / "client" / f"{snake}.rs"
        if client.is_file():
            mm = re.search(r"pub fn ([a-z_][a-z0-9_]*)\s*\(\s*&self", client.read_text())
            if mm:
                method = mm.group(1)
        ops[method] = m.group(1)
    crate = SdkCrate(svc, version, ops)
    _SDK_CACHE[key] = crate
    return crate


def lock_versions(lock: dict, package: str) -> dict:
    """name -> version of `package`'s dependencies in Cargo.lock."""
    by_name: dict = {}
    for p in lock.get("package", []):
        by_name.setdefault(p["name"], []).append(p)
    members = [p for p in by_name.get(package, []) if "source" not in p]
    if not members:
        raise CheckError(f"{package} is not a workspace member in Cargo.lock")
    out = {}
    for dep in members[0].get("dependencies", []):
        parts = dep.split()
        name = parts[0]
        if len(parts) > 1:
            out[name] = parts[1]
        else:
            versions = {p["version"] for p in by_name.get(name, [])}
            if len(versions) != 1:
                raise CheckError(f"Cargo.lock: {name} has versions {sorted(versions)}")
            out[name] = versions.pop()
    return out


def sdk_crates(crate_dir: Path, workspace: dict, lock: dict) -> tuple[str, dict]:
    """(package name, {rust ident `aws_sdk_x`: SdkCrate}) of a crate's [dependencies]."""
    manifest = tomllib.loads((crate_dir / "Cargo.toml").read_text())
    package = manifest["package"]["name"]
    deps = dict(manifest.get("dependencies", {}))
    for target in manifest.get("target", {}).values():
        deps.update(target.get("dependencies", {}))
    ws_deps = workspace.get("workspace", {}).get("dependencies", {})
    versions = lock_versions(lock, package)
    out = {}
    for key, spec in deps.items():
        real = key
        if isinstance(spec, dict):
            if spec.get("workspace") and isinstance(ws_deps.get(key), dict):
                real = ws_deps[key].get("package", key)
            real = spec.get("package", real)
        if not real.startswith("aws-sdk-"):
            continue
        svc = real[len("aws-sdk-"):]
        if svc not in IAM_PREFIX:
            raise CheckError(f"{package} depends on {real}: add its IAM prefix to IAM_PREFIX")
        out[key.replace("-", "_")] = load_sdk(svc, versions[real])
    return package, out


class CheckError(Exception):
    pass


# --------------------------------------------------------------------------- rust source

_RAW_STR = re.compile(r'[bc]?r(#*)"')
_CFG_TEST = re.compile(r"#\[\s*cfg\s*\(\s*(?:test|any\s*\([^\]]*\btest\b[^\]]*\))\s*\)\s*\]")


def _is_ident(c: str) -> bool:
    return c.isalnum() or c == "_"


def blank_rust(src: str) -> str:
    """The source with comments and the contents of string and char literals replaced by
    spaces (newlines kept, so offsets and line numbers are unchanged)."""
    out = list(src)
    n = len(src)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    i = 0
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif src.startswith("/*", i):
            depth, j = 0, i
            while j < n:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                    if depth == 0:
                        break
                else:
                    j += 1
            blank(i, j)
            i = j
        elif c in "rbc" and (i == 0 or not _is_ident(src[i - 1])) and _RAW_STR.match(src, i):
            m = _RAW_STR.match(src, i)
            close = '"' + m.group(1)
            j = src.find(close, m.end())
            j = n if j < 0 else j
            blank(m.end(), j)
            i = j + len(close)
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            blank(i + 1, j)
            i = j + 1
        elif c == "'":
            if i + 1 < n and src[i + 1] == "\\":  # '\n', '\'', '\u{..}'
                j = src.find("'", i + 3)
                j = n if j < 0 else j
                blank(i + 1, j)
                i = j + 1
            elif i + 2 < n and src[i + 2] == "'":  # 'x'
                blank(i + 1, i + 2)
                i += 3
            else:  # a lifetime or a label
                i += 1
        else:
            i += 1
    return "".join(out)


def match_close(text: str, open_pos: int) -> int:
    """Index just past the bracket closing the one at open_pos (code already blanked)."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    opener = text[open_pos]
    closer = pairs[opener]
    depth = 0
    for k in range(open_pos, len(text)):
        if text[k] == opener:
            depth += 1
        elif text[k] == closer:
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


def item_head_end(text: str, k: int) -> int:
    """Index of the first `;` or `{` at bracket depth 0 from k (where an item's head ends),
    or len(text)."""
    depth = 0
    while k < len(text):
        ch = text[k]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in ";{":
            return k
        k += 1
    return k


def strip_cfg_test(code: str) -> tuple[str, set]:
    """Blanks every item under #[cfg(test)] or #[cfg(any(test, ..))]; returns the code and
    the names of modules declared (`mod x;`) under such a cfg."""
    out = list(code)
    skipped_mods = set()
    pos = 0
    while True:
        m = _CFG_TEST.search(code, pos)
        if not m:
            break
        k = m.end()
        while True:  # further attributes on the same item
            while k < len(code) and code[k].isspace():
                k += 1
            if code.startswith("#[", k):
                k = match_close(code, k + 1)
            else:
                break
        start_item = k
        k = item_head_end(code, k)
        if k < len(code):
            k = match_close(code, k) if code[k] == "{" else k + 1
        item = code[start_item:k]
        mm = re.match(r"\s*(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(\w+)\s*;", item)
        if mm:
            skipped_mods.add(mm.group(1))
        for j in range(m.start(), k):
            if out[j] != "\n":
                out[j] = " "
        pos = k
    return "".join(out), skipped_mods


@dataclass
class RustFile:
    path: Path
    rel: str
    code: str  # blanked, without test items
    module: str = ""  # module path in its crate (`secrets`; "" for lib.rs / main.rs)
    crate_alias: dict = field(default_factory=dict)  # ident -> svc (`aws_sdk_x`, `use .. as y`)
    client_alias: dict = field(default_factory=dict)  # `Client` / `XClient` -> svc

    def line(self, pos: int) -> int:
        return self.code.count("\n", 0, pos) + 1


def load_crate_sources(src_dir: Path, sdk: dict) -> list[RustFile]:
    files = []
    skipped: set = set()  # module paths (without .rs) that only exist in test builds
    for path in sorted(src_dir.rglob("*.rs")):
        code, mods = strip_cfg_test(blank_rust(path.read_text()))
        if re.search(r"#!\[\s*cfg\s*\(\s*test\s*\)\s*\]", code):
            skipped.add(path.with_suffix(""))
        children = path.parent if path.stem in ("lib", "main", "mod") else path.with_suffix("")
        skipped |= {children / m for m in mods}
        files.append((path, code))
    out = []
    for path, code in files:
        module = path.parent if path.stem == "mod" else path.with_suffix("")
        if module in skipped or any(p in skipped for p in module.parents):
            continue
        rel_mod = (path.parent if path.stem == "mod" else path.with_suffix("")).relative_to(src_dir)
        module = "::".join(p for p in rel_mod.parts if p not in ("lib", "main"))
        f = RustFile(path, str(path.relative_to(ROOT)), code, module)
        for ident, crate in sdk.items():
            f.crate_alias[ident] = crate.svc
        for m in re.finditer(r"\buse\s+(aws_sdk_\w+)\s+as\s+(\w+)\s*;", code):
            if m.group(1) in sdk:
                f.crate_alias[m.group(2)] = sdk[m.group(1)].svc
        for m in re.finditer(r"\buse\s+(aws_sdk_\w+)\s*::\s*([^;]*);", code):
            if m.group(1) not in sdk:
                continue
            tree = m.group(2)
            for mm in re.finditer(r"\bClient\b(?:\s+as\s+(\w+))?", tree):
                f.client_alias[mm.group(1) or "Client"] = sdk[m.group(1)].svc
        out.append(f)
    return out


def resolve_type(text: str, f: RustFile):
    """The SDK service of a type written as `aws_sdk_x::Client`, `alias::Client` or an
    imported `Client`; None for anything else."""
    for m in re.finditer(r"(?:\b(\w+)\s*::\s*)?\b(\w+)\b", text):
        prefix, name = m.group(1), m.group(2)
        if name == "Client" and prefix is not None and prefix in f.crate_alias:
            return f.crate_alias[prefix]
        if prefix is None and name in f.client_alias:
            return f.client_alias[name]
    return None


def split_top(text: str, sep: str = ",") -> list[str]:
    parts, depth, cur, i = [], 0, [], 0
    while i < len(text):
        ch = text[i]
        if text.startswith("->", i) or text.startswith("=>", i):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def skip_angles(text: str, k: int) -> int:
    while k < len(text) and text[k].isspace():
        k += 1
    if k < len(text) and text[k] == "<":
        depth = 0
        while k < len(text):
            if text.startswith("->", k) or text.startswith("=>", k):
                k += 2
                continue
            if text[k] == "<":
                depth += 1
            elif text[k] == ">":
                depth -= 1
                if depth == 0:
                    return k + 1
            k += 1
    return k


@dataclass
class StructDef:
    file: RustFile
    fields: dict  # field name (or tuple index) -> type text


def find_structs(files: list[RustFile]) -> dict:
    structs: dict = {}
    for f in files:
        code = f.code
        for m in re.finditer(r"\bstruct\s+(\w+)", code):
            k = skip_angles(code, m.end())
            where = re.compile(r"\s*where\b")
            if where.match(code, k):  # `struct X<T> where T: ..` : fields start at { or (
                k = min([p for p in (code.find("{", k), code.find("(", k)) if p >= 0] or [k])
            while k < len(code) and code[k].isspace():
                k += 1
            if k >= len(code) or code[k] not in "{(":
                continue
            body = code[k + 1:match_close(code, k) - 1]
            fields = {}
            for n, part in enumerate(split_top(body)):
                part = re.sub(r"#\[[^\]]*\]", " ", part).strip()
                part = re.sub(r"^pub(\s*\([^)]*\))?\s+", "", part)
                if code[k] == "(":
                    fields[str(n)] = part
                else:
                    fm = re.match(r"(\w+)\s*:\s*(.*)", part, re.S)
                    if fm:
                        fields[fm.group(1)] = fm.group(2)
            structs.setdefault(m.group(1), []).append(StructDef(f, fields))
    return structs


def enclosing_blocks(code: str, pos: int, keyword: str):
    """(header, body start, body end) of every `impl` / `fn` block containing pos,
    innermost last."""
    found = []
    for m in re.finditer(rf"\b{keyword}\b", code):
        if m.start() > pos:
            break
        before = code[:m.start()].rstrip()
        if keyword == "impl" and before and before[-1] not in "};{]" and not before.endswith("unsafe"):
            continue  # `-> impl Trait`, `x: impl Trait`
        k = item_head_end(code, m.end())
        if k >= len(code) or code[k] != "{":
            continue
        end = match_close(code, k)
        if k < pos < end:
            found.append((code[m.end():k], k, end))
    return found


def impl_self_type(header: str, full: bool = False) -> str | None:
    k = skip_angles(header, 0)
    rest = header[k:]
    rest = re.split(r"\bwhere\b", rest)[0]
    depth, split_at = 0, None
    for m in re.finditer(r"[<>]|\bfor\b", rest):
        if m.group() == "<":
            depth += 1
        elif m.group() == ">":
            depth -= 1
        elif depth == 0:
            split_at = m.end()
    ty = rest[split_at:] if split_at is not None else rest
    ty = re.sub(r"<.*", "", ty, flags=re.S).strip().lstrip("&").strip()
    if full:
        return ty
    ty = ty.split("::")[-1].strip()
    return ty or None


@dataclass
class Call:
    svc: str
    op: str  # PascalCase
    file: str
    line: int
    how: str
    owner: str | None = None  # shared crate: the type or fn making the call


@dataclass
class Ignored:
    method: str
    file: str
    line: int
    why: str


_CHAIN_SDK = re.compile(r"\.\s*(send|into_paginator|customize)\s*\(")


def chain_confirms(code: str, start: int, end: int) -> bool:
    """Whether the expression from the fluent call on goes on to .send() (or to another
    method only SDK fluent builders have), directly or through a `let` binding."""
    depth, k = 0, end
    while k < len(code):
        ch = code[k]
        if ch in "([{" and not (ch == "{" and depth == 0):
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                break
        elif depth == 0 and ch in ";,{":
            break
        elif depth == 0 and ch == "." and _CHAIN_SDK.match(code, k):
            return True
        k += 1
    stmt_end = k
    # `let [mut] name = <...>.op()...;` and later `name.send()`
    j, depth = start, 0
    while j > 0:
        ch = code[j - 1]
        if ch in ")]" or (ch == "}" and depth > 0):
            depth += 1
        elif ch in "([{":
            if depth == 0:
                break
            depth -= 1
        elif ch in ";}" and depth == 0:
            break
        j -= 1
    lm = re.match(r"\s*let\s+(?:mut\s+)?(\w+)\b", code[j:start])
    if lm:
        return re.search(rf"\b{lm.group(1)}\s*\.\s*(send|into_paginator|customize)\s*\(",
                         code[stmt_end:]) is not None
    return False


def scan_crate(files: list[RustFile], sdk: dict, is_shared: bool = False):
    """The SDK calls of a crate's non-test source, and the candidates it ignored."""
    methods: dict = {}  # fluent method -> {svc: PascalName}
    for crate in sdk.values():
        for method, pascal in crate.ops.items():
            methods.setdefault(method, {})[crate.svc] = pascal
    structs = find_structs(files)
    calls: list[Call] = []
    ignored: list[Ignored] = []
    if not methods:
        return calls, ignored
    names = "|".join(sorted(methods, key=len, reverse=True))
    method_call = re.compile(rf"\.\s*({names})\s*\(\s*\)")
    ufcs_call = re.compile(rf"((?:\b\w+\s*::\s*)*)\b(\w+)\s*::\s*({names})\s*\(")

    def owner_of(f: RustFile, pos: int):
        impls = enclosing_blocks(f.code, pos, "impl")
        if impls:
            return impl_self_type(impls[-1][0])
        fns = enclosing_blocks(f.code, pos, "fn")
        if fns:
            m = re.match(r"\s*(\w+)", fns[-1][0])
            return m.group(1) if m else None
        return None

    def field_service(f: RustFile, pos: int, fld: str):
        """(svc or None, known) for `self.<fld>` at pos."""
        impls = enclosing_blocks(f.code, pos, "impl")
        candidates = []
        if impls:
            ty = impl_self_type(impls[-1][0])
            candidates = [s for s in structs.get(ty, []) if fld in s.fields]
        if not candidates:  # a trait's default method, or no struct found: any struct
            candidates = [s for defs in structs.values() for s in defs if fld in s.fields]
        svcs = {resolve_type(s.fields[fld], s.file) for s in candidates}
        if len(svcs) == 1:
            return svcs.pop(), True
        return None, False

    def variable_service(f: RustFile, pos: int, var: str):
        code = f.code[:pos]
        best, svc = -1, None
        for m in re.finditer(rf"\b{var}\s*:(?!:)\s*&?\s*(?:mut\s+)?([^,;=){{]+)", code):
            if m.start() > best:
                best, svc = m.start(), resolve_type(m.group(1), f)
        for m in re.finditer(rf"\blet\s+(?:mut\s+)?{var}\s*=\s*([^;]+)", code):
            if m.start() > best and re.search(r"Client\s*::\s*(new|from_conf)\b", m.group(1)):
                best, svc = m.start(), resolve_type(m.group(1), f)
        return svc, best >= 0

    for f in files:
        code = f.code
        for m in method_call.finditer(code):
            method = m.group(1)
            line = f.line(m.start())
            # the receiver: `self.<field>` or a plain variable
            j = m.start()
            while j > 0 and code[j - 1].isspace():
                j -= 1
            k = j
            while k > 0 and _is_ident(code[k - 1]):
                k -= 1
            token = code[k:j]
            before = code[:k].rstrip()
            svc, known, how = None, False, ""
            if token and before.endswith("."):
                base = before[:-1].rstrip()
                if re.search(r"\bself$", base):
                    svc, known = field_service(f, m.start(), token)
                    how = f"self.{token}"
            elif token == "self":
                impls = enclosing_blocks(f.code, m.start(), "impl")
                if impls:
                    ty = impl_self_type(impls[-1][0], full=True) or ""
                    svc, known, how = resolve_type(ty, f), True, f"self ({ty})"
            elif token and not token[0].isdigit():
                svc, known = variable_service(f, m.start(), token)
                how = token
            if svc is not None:
                if svc not in methods[method]:
                    raise CheckError(f"{f.rel}:{line}: {how} is an aws-sdk-{svc} client, "
                                     f"which has no operation {method}")
                calls.append(Call(svc, methods[method][svc], f.rel, line,
                                  f"{how}: aws_sdk_{svc}::Client",
                                  owner_of(f, m.start()) if is_shared else None))
                continue
            if known:
                ignored.append(Ignored(method, f.rel, line, f"{how} is not an SDK client"))
                continue
            if not chain_confirms(code, k, m.end()):
                ignored.append(Ignored(method, f.rel, line,
                                       "receiver not typed and never sent: not an SDK call"))
                continue
            svcs = sorted(methods[method])
            if len(svcs) != 1:
                raise CheckError(f"{f.rel}:{line}: .{method}() is sent but its client is not "
                                 f"typed, and {', '.join(svcs)} all have it: hold the client "
                                 "in a field or variable of type aws_sdk_<svc>::Client")
            calls.append(Call(svcs[0], methods[method][svcs[0]], f.rel, line,
                              "sent; untyped receiver, only SDK with this operation",
                              owner_of(f, m.start()) if is_shared else None))
        for m in ufcs_call.finditer(code):
            if m.group(2) != "Client" and m.group(2) not in f.client_alias:
                continue
            path = re.sub(r"\s+", "", m.group(1)).rstrip(":").split("::")[-1] if m.group(1) else ""
            svc = resolve_type(f"{path}::Client" if path else m.group(2), f)
            method = m.group(3)
            if svc is None or svc not in methods[method]:
                continue
            calls.append(Call(svc, methods[method][svc], f.rel, f.line(m.start()),
                              f"{path or m.group(2)}::Client::{method}",
                              owner_of(f, m.start()) if is_shared else None))
    return calls, ignored


def shared_owner_names(files: list[RustFile], owners: set) -> dict:
    """{name a function may use: (module, owner)} for the owners of shared calls and the
    `pub type` aliases of them."""
    out = {}
    for f in files:
        module = f.module
        for o in owners:
            if re.search(rf"\b(struct|enum|fn)\s+{o}\b", f.code):
                out[o] = (module, o)
        for m in re.finditer(r"\bpub\s+type\s+(\w+)[^=]*=\s*([^;]+);", f.code):
            for o in owners:
                if re.search(rf"\b{o}\b", m.group(2)):
                    out[m.group(1)] = (module, o)
    return out


def uses_shared(files: list[RustFile], module: str, name: str) -> str | None:
    """Where a function's source names `name` of `groundcrew::<module>`, else None."""
    path = r"\s*::\s*".join(["groundcrew"] + (module.split("::") if module else []))
    last = module.split("::")[-1] if module else "groundcrew"
    for f in files:
        code = f.code
        m = re.search(rf"\b{path}\s*::\s*{name}\b", code)
        if m:
            return f"{f.rel}:{f.line(m.start())}"
        for u in re.finditer(r"\buse\s+groundcrew\b([^;]*);", code):
            tree = u.group(1)
            if not re.search(rf"\b{last}\b", tree) and module:
                continue
            if (re.search(rf"\b{name}\b|\b{last}\s*::\s*\*", tree)
                    or re.search(rf"\b{last}\s*::\s*{name}\b", code)):
                return f"{f.rel}:{f.line(u.start())}"
    return None


# --------------------------------------------------------------------------- iam


def iam_actions_db() -> dict:
    import cfnlint

    path = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    return json.loads(path.read_text())


def iam_known(db: dict, action: str):
    """cfn-lint's entry for an action (None when unknown)."""
    prefix, _, name = action.partition(":")
    return db.get(prefix, {}).get("Actions", {}).get(name.lower())


def to_actions(svc: str, op: str) -> tuple:
    """The IAM actions an operation needs (one, except for a few in ACTION_EXCEPTIONS)."""
    mapped = ACTION_EXCEPTIONS.get((svc, op), f"{IAM_PREFIX[svc]}:{op}")
    return (mapped,) if isinstance(mapped, str) else tuple(mapped)


# --------------------------------------------------------------------------- main


def check_function(logical_id: str, props: dict, ctx: dict, verbose: bool) -> tuple[str, list, list]:
    problems: list[str] = []
    notes: list[str] = []
    code_uri = props.get("CodeUri")
    m = re.fullmatch(r"functions/([\w-]+)/?", code_uri or "")
    if not m:
        return logical_id, [f"CodeUri {code_uri!r} is not functions/<name>"], notes
    name = m.group(1)
    crate_dir = ctx["root"] / "functions" / name
    _package, sdk = sdk_crates(crate_dir, ctx["workspace"], ctx["lock"])
    files = load_crate_sources(crate_dir / "src", sdk)
    calls, ignored = scan_crate(files, sdk)
    for o, (module, owner) in sorted(ctx["shared_names"].items()):
        where = uses_shared(files, module, o)
        if where:
            for c in ctx["shared_calls"]:
                if c.owner == owner:
                    calls.append(Call(c.svc, c.op, c.file, c.line,
                                      f"groundcrew::{module}::{o} (used at {where})"))
    db = ctx["iam_db"]

    # IAM action names are case-insensitive: compare lower-cased, show as written.
    called: dict = {}  # action (lower) -> [Call]
    shown: dict = {}  # action (lower) -> as written
    for c in calls:
        for action in to_actions(c.svc, c.op):
            called.setdefault(action.lower(), []).append(c)
            shown.setdefault(action.lower(), action)
    for key, cs in called.items():
        if iam_known(db, shown[key]) is None:
            problems.append(f"{cs[0].svc} {cs[0].op} ({cs[0].file}:{cs[0].line}) maps to "
                            f"{shown[key]}, which is not an IAM action: add it to ACTION_EXCEPTIONS")

    statements = policy_statements(props, problems)
    granted: dict = {}  # action (lower) -> [Sid]
    star_ok = {a.lower() for a in STAR_OK}
    for st in statements:
        for a in st.actions:
            if iam_known(db, a) is None:
                problems.append(f"statement {st.sid}: {a} is not an IAM action")
        if st.effect != "Allow":
            if verbose:
                notes.append(f"{st.effect} statement {st.sid}: {', '.join(st.actions)}")
            continue
        for a in st.actions:
            granted.setdefault(a.lower(), []).append(st.sid)
            shown.setdefault(a.lower(), a)
            if st.star and a.lower() not in star_ok:
                problems.append(f"statement {st.sid}: {a} on Resource \"*\" (it supports "
                                "resource-level permissions; scope it, or add it to STAR_OK with the reason)")

    for key, sids in sorted(granted.items()):
        if key not in called:
            problems.append(f"statement {'/'.join(sids)} grants {shown[key]}, which the code never calls")
    allow = {a.lower(): (a, why) for a, why in NOT_GRANTED_OK.get(name, {}).items()}
    for key, cs in sorted(called.items()):
        if key in granted:
            continue
        if key in allow:
            notes.append(f"{shown[key]} called, not granted (allowed: {allow[key][1]})")
            continue
        c = cs[0]
        problems.append(f"the code calls {shown[key]} ({c.file}:{c.line}) but no statement grants it")
    for key, (a, _why) in sorted(allow.items()):
        if key not in called or key in granted:
            problems.append(f"NOT_GRANTED_OK lists {a}, which is now "
                            f"{'granted' if key in granted else 'never called'}: remove the entry")

    if verbose:
        for key, cs in sorted(called.items()):
            for c in cs:
                notes.append(f"call {shown[key]}: {c.file}:{c.line} via {c.how}")
        for i in ignored:
            notes.append(f"ignored .{i.method}() at {i.file}:{i.line}: {i.why}")
    summary = f"{len(granted)} granted, {len(called)} called"
    return f"{name} ({logical_id}; {summary})", problems, notes


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--template", default=str(ROOT / "template.yaml"))
    ap.add_argument("-v", "--verbose", action="store_true", help="list call sites, ignored matches, Deny statements")
    args = ap.parse_args()

    passed = failed = 0
    try:
        template = yaml.load(Path(args.template).read_text(), Loader=CfnLoader)
        glob_fn = (template.get("Globals") or {}).get("Function") or {}
        for key in ("Policies", "Role"):
            if key in glob_fn:
                raise CheckError(f"Globals.Function.{key} is not supported by this check")
        ctx = {
            "root": ROOT,
            "workspace": tomllib.loads((ROOT / "Cargo.toml").read_text()),
            "lock": tomllib.loads((ROOT / "Cargo.lock").read_text()),
            "iam_db": iam_actions_db(),
        }
        for action in STAR_OK:
            entry = iam_known(ctx["iam_db"], action)
            if entry is None:
                raise CheckError(f"STAR_OK: {action} is not an IAM action")
            if entry.get("Resources") and action not in STAR_OK_DESPITE_RESOURCE_TYPES:
                raise CheckError(f"STAR_OK: {action} supports resource types "
                                 f"{entry['Resources']}; it does not belong in the list")
        _pkg, shared_sdk = sdk_crates(ROOT / "shared", ctx["workspace"], ctx["lock"])
        shared_files = load_crate_sources(ROOT / "shared" / "src", shared_sdk)
        shared_calls, _ = scan_crate(shared_files, shared_sdk, is_shared=True)
        for c in shared_calls:
            if not c.owner:
                raise CheckError(f"{c.file}:{c.line}: shared SDK call outside any impl or fn")
        ctx["shared_calls"] = shared_calls
        ctx["shared_names"] = shared_owner_names(shared_files, {c.owner for c in shared_calls})
        missing = {c.owner for c in shared_calls} - {o for _m, o in ctx["shared_names"].values()}
        if missing:
            raise CheckError(f"shared SDK calls made by {sorted(missing)}, which no file defines")

        functions = [(lid, r.get("Properties", {})) for lid, r in template["Resources"].items()
                     if r.get("Type") == "AWS::Serverless::Function"]
        if not functions:
            raise CheckError("no AWS::Serverless::Function in the template")
        for lid, props in functions:
            try:
                label, problems, notes = check_function(lid, props, ctx, args.verbose)
            except (CheckError, OSError, KeyError, tomllib.TOMLDecodeError) as e:
                label, problems, notes = lid, [f"cannot check: {e}"], []
            if problems:
                failed += 1
                print(f"FAIL {label}")
                for p in problems:
                    print(f"     - {p}")
            else:
                passed += 1
                print(f"ok   {label}")
            for n in notes:
                print(f"       {n}")
    except (CheckError, OSError, yaml.YAMLError, KeyError, tomllib.TOMLDecodeError) as e:
        print(f"iam-check: error: {e}")
        failed += 1
    print(f"iam-check: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
