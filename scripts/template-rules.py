#!/usr/bin/env python3
"""Template rules that cfn-lint and checkov cannot know: stage isolation, name lengths, the
alarm topic's policy, the IAM conditions the code relies on, the per-function switches and the
Serverless Application Repository metadata.

Run with the project's venv (PyYAML, aws-sam-cli's samtranslator):
`.venv/bin/python scripts/template-rules.py [--variants DIR]`. It runs no AWS.

The template is expanded by SAM's own translator (so SAM's generated roles and policies are
checked too) and then evaluated for given parameter values: Ref, GetAtt, Sub, Join, Split,
Select, If and the condition functions are resolved, resources whose condition is false are
dropped, and every resource gets the physical name and ARN CloudFormation would give it.

Rules (each failure names the rule and what broke it):

- isolation: two deployments with the defaults of `samconfig.toml`'s two environments
  (Name=groundcrew-dev and Name=groundcrew-prod, same account and Region). No Allow
  statement of one deployment's IAM roles and policies may match an ARN of the other's:
  every resource it creates, plus what lives in its namespace (a secret `<Name>/...`, an SSM
  parameter `/<Name>/...`, a topic or function `<Name>-...`). Grants on `Resource: "*"`
  are left to the IAM check (xtask/, which allows them only for actions without resource-level
  permissions), and READS_ANY_ALARM lists the account-wide alarm reads allowed (an alarm from
  anywhere may be routed and drawn). The same deployment in two Regions must not share a name that
  is global (S3 bucket, IAM role). power-tuner may not act on itself: an explicit Deny
  covers every grant that would reach it.
- names: with the longest Name the template allows and the longest Region name, every
  physical name fits its service's limit (functions and schedules 64, buckets 63, ...).
- topic policy: the alarms topic admits CloudWatch, AWS Budgets and EventBridge, each for
  sns:Publish on the topic, only from this account (aws:SourceAccount).
- watched: every function has an alarm on Lambda's `Errors` and one on `Throttles` (under
  the function's condition), notifying alarm-fanout's topic, or for alarm-fanout itself the
  fallback topic; every function has a dead-letter queue or an on-failure destination (all
  are invoked asynchronously by some trigger), and every dead-letter queue an alarm on its
  depth; each telegram-webhook health finding (the metric names in its `health.rs`) has an
  alarm, and `HealthCheckOk`'s treats missing data as breaching.
- routing document: the one the stack creates is what the function reads, has the shape
  alarm-fanout accepts and sends everything to the fallback topic.
- iam conditions: every condition on the opt-in tag (`OPT_IN_TAG`) compares its value
  without case (StringEqualsIgnoreCase), as the code does; the production Deny covers every
  key and value of `PROTECT_TAGS` (from the template, else the code's default), without
  case, for every action aurora-autopause may take that changes something; the scalable
  target grant is scoped to ECS services' desired count; no ARN hard-codes the `aws`
  partition.
- switches: every `Enable<Function>` parameter defaults to true and has a condition; with
  the function disabled none of its resources or outputs remain and nothing left refers to
  them. `--variants DIR` writes one template per disabled function into DIR (for one
  cfn-lint run over all of them).
- metadata: AWS::ServerlessRepo::Application names the license (SPDX), a LICENSE and
  README that exist, a semantic version equal to the crates' version and the source URL;
  every resource type (after SAM's transform) is in the Serverless Application Repository's
  supported list, pinned in scripts/sar-supported-resources.txt.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "111122223333"
PARTITION = "aws"
LONGEST_REGION = "ap-southeast-5"  # 14 characters, the longest Region name in use
# Enable<switch>: (the prefix of its resources' and outputs' logical ids, function name)
FUNCTIONS = {
    "AlarmFanout": ("AlarmFanout", "alarm-fanout"),
    "AuroraAutopause": ("Autopause", "aurora-autopause"),
    "CloudFrontInvalidate": ("CloudFrontInvalidate", "cloudfront-invalidate"),
    "TelegramWebhook": ("Telegram", "telegram-webhook"),
    "PowerTuner": ("PowerTuner", "power-tuner"),
}
# The alarm topics stay without alarm-fanout: every function's alarms and telegram-webhook's
# health alerts go to them (to the fallback email when alarm-fanout is off).
SHARED = {"AlarmFanoutTopic", "AlarmFanoutFallbackTopic", "AlarmFanoutTopicPolicy",
          "AlarmFanoutFallbackSubscription", "AlarmFanoutTopicArn", "AlarmFanoutFallbackTopicArn"}
# (action, resource pattern) pairs that may reach any deployment's resources, with why.
READS_ANY_ALARM = {
    ("cloudwatch:ListTagsForResource", "alarm:*"): "alarm-fanout reads the severity tag of any alarm it routes",
    ("cloudwatch:DescribeAlarms", "alarm:*"): "alarm-fanout reads the metric of any alarm it draws (a picture is opt-in per receiver)",
}
NAME_LIMITS = {  # resource type: (name property, limit)
    "AWS::Lambda::Function": ("FunctionName", 64),
    "AWS::S3::Bucket": ("BucketName", 63),
    "AWS::SQS::Queue": ("QueueName", 80),
    "AWS::SNS::Topic": ("TopicName", 256),
    "AWS::DynamoDB::Table": ("TableName", 255),
    "AWS::Scheduler::Schedule": ("Name", 64),
    "AWS::Events::Rule": ("Name", 64),
    "AWS::IAM::Role": ("RoleName", 64),
    "AWS::Logs::LogGroup": ("LogGroupName", 512),
    "AWS::CloudWatch::Alarm": ("AlarmName", 255),
    "AWS::SSM::Parameter": ("Name", 1011),
}
NAME_PROPERTY = {k: v[0] for k, v in NAME_LIMITS.items()}
MUTATING = re.compile(r":(Stop|Start|Modify|Update|Register|Add|Remove|Tag|Untag|Delete|Put|Create)")


# The translator warns about its own unpublished usage metrics; they mean nothing here.
logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)


class CheckError(Exception):
    pass


# ------------------------------------------------------------------------------ loading
class CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=CfnLoader)


def sam_transform(template: dict) -> dict:
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:
        def load(self):
            return {}

    # The translator wants a Region for its pseudo parameters; which one does not matter.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    fragment = copy.deepcopy(template)
    for r in fragment.get("Resources", {}).values():
        # The translator wants packaged code; where it lives does not matter here.
        if r.get("Type") == "AWS::Serverless::Function":
            r.setdefault("Properties", {})["CodeUri"] = "s3://bucket/code.zip"
    return transform(fragment, {}, NoManagedPolicies())


# --------------------------------------------------------------------------- evaluation
NOVALUE = object()


class Stack:
    """A template evaluated for one set of parameters, account and Region."""

    def __init__(self, template: dict, params: dict, region: str = "us-east-1", stack_name: str | None = None):
        self.t = template
        self.region = region
        self.params = {}
        for name, p in (template.get("Parameters") or {}).items():
            value = params.get(name, p.get("Default"))
            if value is None:
                raise CheckError(f"parameter {name} has no default and no value")
            if p.get("Type") == "CommaDelimitedList":
                value = [] if value == "" else [v.strip() for v in str(value).split(",")]
            self.params[name] = value if isinstance(value, list) else str(value)
        self.stack_name = stack_name or self.params.get("Name", "stack")
        self.conditions: dict[str, bool] = {}
        self.condition_defs = template.get("Conditions") or {}
        self.resources = {
            lid: r for lid, r in (template.get("Resources") or {}).items()
            if "Condition" not in r or self.condition(r["Condition"])
        }
        self.names: dict[str, str] = {}
        for lid, r in self.resources.items():
            prop = NAME_PROPERTY.get(r["Type"])
            props = r.get("Properties") or {}
            if prop and prop in props:
                self.names[lid] = self.eval(props[prop])
            else:
                self.names[lid] = f"{self.stack_name}-{lid}-GENERATED"[:64]

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self.eval(self.condition_defs[name]))
        return self.conditions[name]

    def pseudo(self, name: str):
        return {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": self.region,
            "AWS::Partition": PARTITION,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{self.region}:{ACCOUNT}:stack/{self.stack_name}/id",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NOVALUE,
        }[name]

    def arn(self, lid: str) -> str:
        r = self.resources[lid]
        n = self.names[lid]
        a, reg = ACCOUNT, self.region
        return {
            "AWS::Lambda::Function": f"arn:{PARTITION}:lambda:{reg}:{a}:function:{n}",
            "AWS::S3::Bucket": f"arn:{PARTITION}:s3:::{n}",
            "AWS::SQS::Queue": f"arn:{PARTITION}:sqs:{reg}:{a}:{n}",
            "AWS::SNS::Topic": f"arn:{PARTITION}:sns:{reg}:{a}:{n}",
            "AWS::DynamoDB::Table": f"arn:{PARTITION}:dynamodb:{reg}:{a}:table/{n}",
            "AWS::Scheduler::Schedule": f"arn:{PARTITION}:scheduler:{reg}:{a}:schedule/default/{n}",
            "AWS::Events::Rule": f"arn:{PARTITION}:events:{reg}:{a}:rule/{n}",
            "AWS::IAM::Role": f"arn:{PARTITION}:iam::{a}:role/{n}",
            "AWS::Logs::LogGroup": f"arn:{PARTITION}:logs:{reg}:{a}:log-group:{n}:*",
            "AWS::CloudWatch::Alarm": f"arn:{PARTITION}:cloudwatch:{reg}:{a}:alarm:{n}",
            "AWS::SSM::Parameter": f"arn:{PARTITION}:ssm:{reg}:{a}:parameter{n if n.startswith('/') else '/' + n}",
        }.get(r["Type"], f"arn:{PARTITION}:other:{reg}:{a}:{lid}")

    def ref(self, name: str):
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.params:
            return self.params[name]
        if name not in self.resources:
            raise CheckError(f"Ref to {name}, which is not a parameter or a resource of this variant")
        typ = self.resources[name]["Type"]
        if typ == "AWS::SNS::Topic":
            return self.arn(name)
        if typ == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT}/{self.names[name]}"
        return self.names[name]

    def getatt(self, lid: str, attr: str):
        if lid not in self.resources:
            raise CheckError(f"GetAtt {lid}.{attr}: no such resource in this variant")
        if attr in ("Arn", "TopicArn"):
            return self.arn(lid)
        if attr in ("QueueName", "TopicName", "Name"):
            return self.names[lid]
        return f"{lid}.{attr}"

    def sub(self, text: str, variables: dict) -> str:
        def one(m):
            key = m.group(1)
            if key.startswith("!"):
                return "${" + key[1:] + "}"
            if key in variables:
                return str(variables[key])
            if "." in key and not key.startswith("AWS::"):
                lid, attr = key.split(".", 1)
                return str(self.getatt(lid, attr))
            v = self.ref(key)
            return ",".join(v) if isinstance(v, list) else str(v)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def eval(self, node):
        if isinstance(node, list):
            out = [self.eval(v) for v in node]
            return [v for v in out if v is not NOVALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (k, v), = node.items()
            if k == "Ref":
                return self.ref(v)
            if k == "Condition":
                return self.condition(v)
            if k == "Fn::GetAtt":
                return self.getatt(*v)
            if k == "Fn::Sub":
                if isinstance(v, str):
                    return self.sub(v, {})
                return self.sub(v[0], {n: self.eval(x) for n, x in v[1].items()})
            if k == "Fn::Join":
                items = self.eval(v[1])
                return self.eval(v[0]).join(str(i) for i in items)
            if k == "Fn::Split":
                return str(self.eval(v[1])).split(self.eval(v[0]))
            if k == "Fn::Select":
                return self.eval(v[1])[int(self.eval(v[0]))]
            if k == "Fn::If":
                return self.eval(v[1] if self.condition(v[0]) else v[2])
            if k == "Fn::Equals":
                a, b = self.eval(v[0]), self.eval(v[1])
                return a == b
            if k == "Fn::Not":
                return not self.eval(v[0])
            if k == "Fn::And":
                return all(self.eval(x) for x in v)
            if k == "Fn::Or":
                return any(self.eval(x) for x in v)
            if k in ("Fn::Base64", "Fn::ToJsonString"):
                return self.eval(v)
        out = {}
        for k, v in node.items():
            ev = self.eval(v)
            if ev is not NOVALUE:
                out[k] = ev
        return out

    def props(self, lid: str) -> dict:
        return self.eval(self.resources[lid].get("Properties") or {})


def as_list(x):
    return x if isinstance(x, list) else [x]


def iam_match(pattern: str, value: str) -> bool:
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, value) is not None


def allow_statements(stack: Stack):
    """(where, statement) for every identity-policy Allow statement of the stack."""
    for lid, r in stack.resources.items():
        if r["Type"] == "AWS::IAM::Role":
            for pol in stack.props(lid).get("Policies", []):
                for st in as_list(pol["PolicyDocument"].get("Statement", [])):
                    if st.get("Effect") == "Allow":
                        yield f"{lid}/{pol.get('PolicyName')}", st
        elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for st in as_list(stack.props(lid)["PolicyDocument"].get("Statement", [])):
                if st.get("Effect") == "Allow":
                    yield lid, st


def owned_arns(stack: Stack) -> list[str]:
    """ARNs of what a deployment owns: its resources and its namespaces."""
    n, reg, a, p = stack.params["Name"], stack.region, ACCOUNT, PARTITION
    arns = [stack.arn(lid) for lid in stack.resources]
    arns += [f"{stack.arn(lid)}/reports/x.json" for lid, r in stack.resources.items() if r["Type"] == "AWS::S3::Bucket"]
    arns += [f"{stack.arn(lid)}:1" for lid, r in stack.resources.items() if r["Type"] == "AWS::Lambda::Function"]
    arns += [
        f"arn:{p}:secretsmanager:{reg}:{a}:secret:{n}/receiver-token-AbCdEf",
        f"arn:{p}:secretsmanager:{reg}:{a}:secret:{n}/telegram-webhook-secret-token-AbCdEf",
        f"arn:{p}:ssm:{reg}:{a}:parameter/{n}/alarm-fanout/routing",
        f"arn:{p}:ssm:{reg}:{a}:parameter/{n}/receiver-key",
        f"arn:{p}:sns:{reg}:{a}:{n}-email",
        f"arn:{p}:lambda:{reg}:{a}:function:{n}-api",
        f"arn:{p}:lambda:{reg}:{a}:function:{n}-api:7",
    ]
    return arns


# -------------------------------------------------------------------------------- rules
def check_isolation(sam: dict, problems: list[str]) -> None:
    dev = Stack(sam, {"Name": "groundcrew-dev"})
    prod = Stack(sam, {"Name": "groundcrew-prod"})
    for a, b in ((dev, prod), (prod, dev)):
        theirs = owned_arns(b)
        for where, st in allow_statements(a):
            for res in as_list(st.get("Resource", [])):
                if res == "*":
                    continue
                for action in as_list(st.get("Action", [])):
                    if any(action == act and res.endswith(pat) for act, pat in READS_ANY_ALARM):
                        continue
                    for arn in theirs:
                        if iam_match(res, arn):
                            problems.append(
                                f"isolation: {a.params['Name']} grants {action} on {res} ({where}), "
                                f"which matches {b.params['Name']}'s {arn}")
                            break
    # The same deployment in two Regions: no global name shared.
    east = Stack(sam, {"Name": "groundcrew-dev"}, region="us-east-1")
    west = Stack(sam, {"Name": "groundcrew-dev"}, region="eu-west-1")
    for lid, r in east.resources.items():
        if r["Type"] in ("AWS::S3::Bucket", "AWS::IAM::Role") and NAME_PROPERTY[r["Type"]] in (r.get("Properties") or {}):
            if east.names[lid] == west.names.get(lid):
                problems.append(f"isolation: {lid}'s name {east.names[lid]!r} is the same in two Regions (S3 and IAM names are global)")


def check_power_tuner_not_itself(sam: dict, problems: list[str]) -> None:
    """power-tuner's grants, evaluated, never reach power-tuner itself: a Deny covers them."""
    stack = Stack(sam, {})
    if "PowerTunerFunction" not in stack.resources:
        return
    own = [stack.arn("PowerTunerFunction"), stack.arn("PowerTunerFunction") + ":1"]
    role = stack.props("PowerTunerFunctionRole")
    statements = [st for pol in role.get("Policies", []) for st in as_list(pol["PolicyDocument"]["Statement"])]
    denies = [st for st in statements if st.get("Effect") == "Deny"]
    for st in statements:
        if st.get("Effect") != "Allow":
            continue
        for res in as_list(st.get("Resource", [])):
            for arn in own:
                if res == "*" or not iam_match(res, arn):
                    continue
                for action in as_list(st["Action"]):
                    # The one thing it may do to itself: invoke its unqualified self, which is
                    # how a run continues in its next invocation (functions/power-tuner/README.md).
                    if action == "lambda:InvokeFunction" and arn == own[0]:
                        continue
                    if not any(action in as_list(d["Action"]) and any(iam_match(r, arn) for r in as_list(d["Resource"]))
                               for d in denies):
                        problems.append(f"isolation: power-tuner may {action} on itself ({arn}) and no Deny stops it")


def check_routing_document(sam: dict, problems: list[str]) -> None:
    """The routing document the stack creates is one alarm-fanout accepts (the rules of
    functions/alarm-fanout/src/routing.rs that apply to it) and reaches the fallback topic."""
    stack = Stack(sam, {})
    if "AlarmFanoutRoutingDocument" not in stack.resources:
        problems.append("routing: no AlarmFanoutRoutingDocument with the default parameters")
        return
    props = stack.props("AlarmFanoutRoutingDocument")
    env = stack.props("AlarmFanoutFunction")["Environment"]["Variables"]
    if env.get("ROUTING_SSM_PARAMETER") != props["Name"]:
        problems.append(f"routing: the function reads {env.get('ROUTING_SSM_PARAMETER')}, the stack creates {props['Name']}")
    try:
        doc = yaml.safe_load(props["Value"])
    except yaml.YAMLError as e:
        problems.append(f"routing: the created document is not YAML: {e}")
        return
    if set(doc) - {"receivers", "routes", "default"} or not doc.get("receivers"):
        problems.append(f"routing: the created document has keys {sorted(doc)}; want receivers (non-empty), routes, default")
        return
    for name, r in doc["receivers"].items():
        if r.get("type") != "sns" or set(r) != {"type", "topic_arn"}:
            problems.append(f"routing: receiver {name} must be {{type: sns, topic_arn}}")
        elif r["topic_arn"] != stack.arn("AlarmFanoutFallbackTopic"):
            problems.append(f"routing: receiver {name} publishes to {r['topic_arn']}, not the fallback topic")
    default = as_list(doc.get("default") or [])
    if not default or any(d not in doc["receivers"] for d in default):
        problems.append(f"routing: default {default} must name the document's receivers")
    for route in doc.get("routes") or []:
        if any(x not in doc["receivers"] for x in as_list(route.get("receivers") or [])):
            problems.append(f"routing: a route names a receiver the document lacks: {route}")


def check_name_lengths(sam: dict, problems: list[str]) -> None:
    longest = int((sam.get("Parameters") or {})["Name"]["MaxLength"])
    stack = Stack(sam, {"Name": "a" * longest}, region=LONGEST_REGION)
    for lid, r in stack.resources.items():
        if r["Type"] in NAME_LIMITS and NAME_PROPERTY[r["Type"]] in (r.get("Properties") or {}):
            limit = NAME_LIMITS[r["Type"]][1]
            if len(stack.names[lid]) > limit:
                problems.append(f"names: {lid} would be {len(stack.names[lid])} characters with a {longest}-character "
                                f"Name in {LONGEST_REGION} (limit {limit}): {stack.names[lid]}")


def check_watched(template: dict, problems: list[str]) -> None:
    resources = template.get("Resources") or {}
    alarms = {lid: r for lid, r in resources.items() if r.get("Type") == "AWS::CloudWatch::Alarm"}

    def alarms_on(namespace, metric, dimension=None):
        found = []
        for lid, r in alarms.items():
            props = r.get("Properties") or {}
            if props.get("Namespace") != namespace or props.get("MetricName") != metric:
                continue
            dims = [(d.get("Name"), d.get("Value")) for d in as_list(props.get("Dimensions"))]
            if dimension is None or dimension in dims:
                found.append((lid, r))
        return found

    for lid, r in resources.items():
        if r.get("Type") != "AWS::Serverless::Function":
            continue
        props = r.get("Properties") or {}
        want = {"Ref": "AlarmFanoutFallbackTopic" if lid == "AlarmFanoutFunction" else "AlarmFanoutTopic"}
        for metric in ("Errors", "Throttles"):
            found = alarms_on("AWS/Lambda", metric, ("FunctionName", {"Ref": lid}))
            if not found:
                problems.append(f"watched: {lid} has no alarm on {metric}")
            for alid, alarm in found:
                if alarm.get("Condition") != r.get("Condition"):
                    problems.append(f"watched: {alid} has condition {alarm.get('Condition')}, {lid} {r.get('Condition')}")
                if want not in as_list((alarm.get("Properties") or {}).get("AlarmActions")):
                    problems.append(f"watched: {alid} does not notify {want['Ref']}")
        on_failure = ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure")
        if not props.get("DeadLetterQueue") and not on_failure:
            problems.append(f"watched: {lid} has neither a dead-letter queue nor an on-failure destination")
        dlq = (props.get("DeadLetterQueue") or {}).get("TargetArn")
        if isinstance(dlq, dict) and "Fn::GetAtt" in dlq:
            queue = dlq["Fn::GetAtt"][0]
            if not alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible",
                             ("QueueName", {"Fn::GetAtt": [queue, "QueueName"]})):
                problems.append(f"watched: {lid}'s dead-letter queue {queue} has no depth alarm")
    health = (ROOT / "functions" / "telegram-webhook" / "src" / "health.rs").read_text()
    metrics = re.findall(r'Finding::\w+ => "(\w+)"', health)
    if not metrics:
        problems.append("watched: no finding metrics found in functions/telegram-webhook/src/health.rs")
    for metric in metrics + ["HealthCheckOk"]:
        if not alarms_on("groundcrew/telegram-webhook", metric):
            problems.append(f"watched: no alarm on telegram-webhook's {metric}")
    for alid, alarm in alarms_on("groundcrew/telegram-webhook", "HealthCheckOk"):
        if (alarm.get("Properties") or {}).get("TreatMissingData") != "breaching":
            problems.append(f"watched: {alid} must treat missing data as breaching (a check that stops is an alarm)")


def check_topic_policy(sam: dict, problems: list[str]) -> None:
    stack = Stack(sam, {})
    topic = stack.arn("AlarmFanoutTopic")
    admitted = set()
    for lid, r in stack.resources.items():
        if r["Type"] != "AWS::SNS::TopicPolicy":
            continue
        props = stack.props(lid)
        if topic not in props["Topics"]:
            continue
        for st in as_list(props["PolicyDocument"]["Statement"]):
            service = (st.get("Principal") or {}).get("Service")
            if st.get("Effect") != "Allow" or not service:
                continue
            ok = ("sns:Publish" in as_list(st.get("Action"))
                  and topic in as_list(st.get("Resource"))
                  and (st.get("Condition") or {}).get("StringEquals", {}).get("aws:SourceAccount") == ACCOUNT)
            if ok:
                admitted.update(as_list(service))
            else:
                problems.append(f"topic policy: statement {st.get('Sid')} for {service} must allow sns:Publish on the "
                                f"alarms topic with aws:SourceAccount = this account")
    for service in ("cloudwatch.amazonaws.com", "budgets.amazonaws.com", "events.amazonaws.com"):
        if service not in admitted:
            problems.append(f"topic policy: the alarms topic does not admit {service}")


def tag_rules(text: str) -> list[tuple[str, list[str]]]:
    rules = []
    for item in text.split(","):
        if item.strip():
            key, _, values = item.strip().partition("=")
            rules.append((key.strip(), [v.strip() for v in values.split("|") if v.strip()]))
    return rules


def check_iam_conditions(template: dict, problems: list[str], path: Path) -> None:
    text = path.read_text()
    for n, line in enumerate(text.splitlines(), 1):
        if "arn:aws:" in line:
            problems.append(f"iam: template.yaml:{n} hard-codes the aws partition; use ${{AWS::Partition}}")
    fn = template["Resources"]["AutopauseFunction"]["Properties"]
    env = fn["Environment"]["Variables"]
    code = (ROOT / "functions/aurora-autopause/src/config.rs").read_text()

    def default(const):
        m = re.search(rf'{const}: &str = "([^"]*)"', code)
        return m.group(1) if m else ""

    opt_key = tag_rules(env.get("OPT_IN_TAG") or default("DEFAULT_OPT_IN"))[0][0]
    protect = tag_rules(env.get("PROTECT_TAGS") or default("DEFAULT_PROTECT"))
    statements = [st for pol in fn["Policies"] for st in as_list(pol["Statement"])]
    allow = [st for st in statements if st.get("Effect") == "Allow"]
    deny = [st for st in statements if st.get("Effect") == "Deny"]
    for st in statements:
        for op, body in (st.get("Condition") or {}).items():
            for key in body:
                if key.lower() == f"aws:resourcetag/{opt_key}".lower() and op != "StringEqualsIgnoreCase":
                    problems.append(f"iam: {st.get('Sid')} compares the {opt_key} tag with {op}; "
                                    "the code compares values without case (StringEqualsIgnoreCase)")
    changing = sorted({a for st in allow for a in as_list(st["Action"]) if MUTATING.search(a)})
    for key, values in protect:
        covering = [st for st in deny if st.get("Resource") == "*"
                    and any(k.lower() == f"aws:resourcetag/{key}".lower()
                            for k in (st.get("Condition") or {}).get("StringEqualsIgnoreCase", {}))]
        if not covering:
            problems.append(f"iam: no Deny with StringEqualsIgnoreCase on aws:ResourceTag/{key} (PROTECT_TAGS)")
            continue
        for st in covering:
            cond = st["Condition"]["StringEqualsIgnoreCase"]
            got = {v.lower() for k, vs in cond.items() for v in as_list(vs)}
            missing = [v for v in values if v.lower() not in got]
            if missing:
                problems.append(f"iam: {st.get('Sid')} does not deny {key} = {missing} (PROTECT_TAGS)")
            uncovered = [a for a in changing if a not in as_list(st["Action"])]
            if uncovered:
                problems.append(f"iam: {st.get('Sid')} does not deny {uncovered}, which the function may call")
    for st in allow:
        if "application-autoscaling:RegisterScalableTarget" in as_list(st["Action"]):
            cond = (st.get("Condition") or {}).get("StringEquals", {})
            if cond.get("application-autoscaling:service-namespace") != "ecs" \
                    or cond.get("application-autoscaling:scalable-dimension") != "ecs:service:DesiredCount":
                problems.append(f"iam: {st.get('Sid')} must be scoped to service-namespace ecs and "
                                "scalable-dimension ecs:service:DesiredCount")


def variant(template: dict, prefix: str) -> dict:
    """The template as deployed with Enable<prefix>=false: the parameter's default flipped."""
    t = copy.deepcopy(template)
    t["Parameters"][f"Enable{prefix}"]["Default"] = "false"
    return t


def check_switches(template: dict, problems: list[str], variants_dir: Path | None, path: Path) -> None:
    params = template.get("Parameters") or {}
    for switch, (prefix, name) in FUNCTIONS.items():
        p = params.get(f"Enable{switch}")
        if p is None:
            problems.append(f"switches: no Enable{switch} parameter")
            continue
        if str(p.get("Default")) != "true":
            problems.append(f"switches: Enable{switch} must default to true")
        off = variant(template, switch)
        try:
            stack = Stack(sam_transform(off), {})
        except CheckError as e:
            problems.append(f"switches: with Enable{switch}=false: {e}")
            continue
        for lid in stack.resources:
            if lid.startswith(prefix) and lid not in SHARED:
                problems.append(f"switches: {lid} remains with Enable{switch}=false")
        for lid, r in stack.resources.items():
            dangling = [x for x in as_list(r.get("DependsOn", [])) if x not in stack.resources]
            if dangling:
                problems.append(f"switches: with Enable{switch}=false, {lid} depends on removed {dangling}")
            try:
                stack.props(lid)
            except CheckError as e:
                problems.append(f"switches: with Enable{switch}=false, {lid}: {e}")
        for oid, o in (template.get("Outputs") or {}).items():
            if "Condition" in o and not stack.condition(o["Condition"]):
                continue
            if oid.startswith(prefix) and oid not in SHARED:
                problems.append(f"switches: output {oid} remains with Enable{switch}=false")
            try:
                stack.eval(o["Value"])
            except CheckError as e:
                problems.append(f"switches: with Enable{switch}=false, output {oid}: {e}")
        if variants_dir is not None:
            variants_dir.mkdir(parents=True, exist_ok=True)
            text = path.read_text()
            old = re.search(rf"(  Enable{switch}:\n(?:    .*\n)*?    Default: )\"?true\"?", text)
            if not old:
                problems.append(f"switches: cannot find Enable{switch}'s Default line to write the variant")
                continue
            out = text[:old.start()] + old.group(1) + '"false"' + text[old.end():]
            (variants_dir / f"template-without-{name}.yaml").write_text(out)


SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


# Types SAM's transform produces here that the pinned list lacks, with what publishing needs.
# Printed as notes; any other type outside the list fails.
NOT_IN_PINNED_LIST = {
    "AWS::Scheduler::Schedule": "aurora-autopause's sweep and office-hours schedules (time zones need EventBridge "
                                "Scheduler); publishing needs the live list to include it, or Events rules in UTC",
    "AWS::Lambda::EventInvokeConfig": "alarm-fanout's retry settings (SAM's EventInvokeConfig); publishing needs the "
                                      "live list to include it, or Lambda's defaults (2 retries, 6 hours)",
}


def crate_versions() -> dict[str, str]:
    out = {}
    for path in [ROOT / "shared/Cargo.toml", *sorted(ROOT.glob("functions/*/Cargo.toml"))]:
        package = tomllib.loads(path.read_text()).get("package") or {}
        if isinstance(package.get("version"), str):
            out[str(path.relative_to(ROOT))] = package["version"]
    return out


def check_metadata(template: dict, sam: dict, problems: list[str], notes: list[str]) -> None:
    meta = template.get("Metadata") or {}
    app = meta.get("AWS::ServerlessRepo::Application") or {}
    if not app:
        problems.append("metadata: no AWS::ServerlessRepo::Application")
        return
    for key in ("Name", "Description", "Author", "SpdxLicenseId", "LicenseUrl", "ReadmeUrl", "Labels", "SemanticVersion"):
        if not app.get(key):
            problems.append(f"metadata: AWS::ServerlessRepo::Application has no {key}")
    if not app.get("SourceCodeUrl"):
        notes.append("metadata: no SourceCodeUrl yet; add the public repository's URL before publishing")
    version = str(app.get("SemanticVersion"))
    if not SEMVER.match(version):
        problems.append(f"metadata: SemanticVersion {version!r} is not x.y.z")
    for path, v in crate_versions().items():
        if v != version:
            problems.append(f"metadata: SemanticVersion {version} is not {path}'s version {v}")
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    license_ = ((cargo.get("workspace") or {}).get("package") or {}).get("license")
    if app.get("SpdxLicenseId") != license_:
        problems.append(f"metadata: SpdxLicenseId {app.get('SpdxLicenseId')} is not the crates' license {license_}")
    for key in ("LicenseUrl", "ReadmeUrl"):
        if app.get(key) and not (ROOT / str(app[key])).is_file():
            problems.append(f"metadata: {key} {app[key]} does not exist")
    if len(app.get("Labels") or []) > 10:
        problems.append("metadata: at most 10 Labels")
    # The README's count of guided-deploy questions (sam deploy --guided asks every parameter).
    claimed = re.search(r"asks for every parameter: (\d+) questions", (ROOT / "README.md").read_text())
    count = len(template.get("Parameters") or {})
    if not claimed:
        problems.append("metadata: README.md no longer says how many questions sam deploy --guided asks")
    elif int(claimed.group(1)) != count:
        problems.append(f"metadata: README.md says sam deploy --guided asks {claimed.group(1)} questions; "
                        f"the template has {count} parameters")
    # Every parameter in exactly one console group, with a label.
    iface = meta.get("AWS::CloudFormation::Interface") or {}
    grouped = [p for g in iface.get("ParameterGroups", []) for p in g.get("Parameters", [])]
    labels = iface.get("ParameterLabels") or {}
    for name in template.get("Parameters") or {}:
        if grouped.count(name) != 1:
            problems.append(f"metadata: parameter {name} is in {grouped.count(name)} ParameterGroups (want 1)")
        if name not in labels:
            problems.append(f"metadata: parameter {name} has no ParameterLabels entry")
    for name in set(grouped) | set(labels):
        if name not in (template.get("Parameters") or {}):
            problems.append(f"metadata: the Interface names {name}, which is not a parameter")
    pinned = ROOT / "scripts/sar-supported-resources.txt"
    supported = {ln.strip() for ln in pinned.read_text().splitlines() if ln.strip() and not ln.startswith("#")}
    for typ in sorted({r["Type"] for r in (sam.get("Resources") or {}).values()}):
        if typ in supported or typ.startswith("Custom::"):
            continue
        if typ in NOT_IN_PINNED_LIST:
            notes.append(f"metadata: {typ} is not in the pinned Serverless Application Repository list: {NOT_IN_PINNED_LIST[typ]}")
        else:
            problems.append(f"metadata: {typ} is not in the Serverless Application Repository's supported list "
                            f"(scripts/sar-supported-resources.txt)")


def run_rules(path: Path, variants: Path | None) -> tuple[dict[str, list[str]], list[str]]:
    """Each rule's problems (empty: it passed), and the notes."""
    template = load_template(path)
    sam = sam_transform(template)
    notes: list[str] = []
    rules = [
        ("isolation", lambda p: (check_isolation(sam, p), check_power_tuner_not_itself(sam, p))),
        ("names", lambda p: check_name_lengths(sam, p)),
        ("topic policy", lambda p: check_topic_policy(sam, p)),
        ("watched", lambda p: check_watched(template, p)),
        ("routing document", lambda p: check_routing_document(sam, p)),
        ("iam conditions", lambda p: check_iam_conditions(template, p, path)),
        ("switches", lambda p: check_switches(template, p, variants, path)),
        ("metadata", lambda p: check_metadata(template, sam, p, notes)),
    ]
    results = {}
    for name, rule in rules:
        problems: list[str] = []
        try:
            rule(problems)
        except (CheckError, KeyError) as e:
            problems.append(f"{name}: cannot evaluate the template: {e!r}")
        results[name] = problems
    return results, notes


# --self-test: each rule must fail on a template broken the way it guards against.
# (rule, text in template.yaml, replacement)
BREAKAGES = [
    ("isolation", "secret:${Name}/*", "secret:groundcrew*"),
    ("isolation", "                - lambda:DeleteAlias\n                - lambda:DeleteFunction\n              Resource:\n"
                  "                - !Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}-power-tuner\n",
     "                - lambda:DeleteFunction\n              Resource:\n"
     "                - !Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Name}-power-tuner\n"),
    ("names", "    MaxLength: 28\n", "    MaxLength: 40\n"),
    ("topic policy", "budgets.amazonaws.com", "budget.amazonaws.com"),
    ("routing document", "default: [fallback-email]", "default: [nobody]"),
    ("iam conditions", "StringEqualsIgnoreCase:\n                  aws:ResourceTag/groundcrew:autopause",
     "StringEquals:\n                  aws:ResourceTag/groundcrew:autopause"),
    ("iam conditions", "                  aws:ResourceTag/stage: [prod, production, prd, live]",
     "                  aws:ResourceTag/stage: [prod, production]"),
    ("switches", "  PowerTunerLogGroup:\n    Condition: PowerTunerEnabled\n", "  PowerTunerLogGroup:\n"),
    ("metadata", "    SemanticVersion: 0.1.0\n", "    SemanticVersion: 0.2.0\n"),
    ("watched", "      MetricName: Throttles\n", "      MetricName: Throttle\n"),
    ("watched", "      TreatMissingData: breaching\n", "      TreatMissingData: notBreaching\n"),
    ("watched", "      DeadLetterQueue:\n        Type: SQS\n        TargetArn: !GetAtt PowerTunerDeadLetterQueue.Arn\n", ""),
]


def self_test(path: Path) -> int:
    text = path.read_text()
    failed = 0
    scratch = ROOT / ".local" / "template-rules-self-test.yaml"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    for rule, old, new in BREAKAGES:
        if text.count(old) < 1:
            print(f"FAIL self-test {rule}: the template no longer contains {old[:60]!r}; update BREAKAGES")
            failed += 1
            continue
        scratch.write_text(text.replace(old, new, 1))
        results, _ = run_rules(scratch, None)
        if results[rule]:
            print(f"ok   self-test {rule}: caught {new[:50]!r} ({results[rule][0][:90]})")
        else:
            print(f"FAIL self-test {rule}: did not notice {old[:50]!r} -> {new[:50]!r}")
            failed += 1
    scratch.unlink(missing_ok=True)
    print(f"template-rules self-test: {len(BREAKAGES) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", default=str(ROOT / "template.yaml"))
    ap.add_argument("--variants", type=Path, help="write one template per disabled function here")
    ap.add_argument("--self-test", action="store_true", help="check that each rule fails on a broken template")
    args = ap.parse_args()
    if args.self_test:
        return self_test(Path(args.template))
    results, notes = run_rules(Path(args.template), args.variants)
    failed = 0
    for name, problems in results.items():
        if problems:
            failed += 1
            print(f"FAIL {name}")
            for p in problems:
                print(f"       {p}")
        else:
            print(f"ok   {name}")
    for note in notes:
        print(f"note: {note}")
    print(f"template-rules: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
