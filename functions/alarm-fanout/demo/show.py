#!/usr/bin/env python3
"""Shows what alarm-fanout did: the requests the HTTP stand-in received from it
(Telegram, Slack, Google Chat, PagerDuty, webhook) and its delivery records. A Telegram OK
that replies to its ALARM is marked so, as is a reminder; the scenes' silenced and
inhibited alarms are looked for (they must not have been sent); and the first alarm
picture sent to Telegram is saved as .local/alarm-picture.png for a person to look at."""
import base64
import json
import os
import urllib.request

import boto3

STANDIN = os.environ.get("STANDIN_URL", "http://127.0.0.1:4580")
TABLE = "groundcrew-demo-alarm-fanout"
ddb = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))

with urllib.request.urlopen(f"{STANDIN}/__requests", timeout=5) as r:
    requests = json.load(r)
ours = [q for q in requests if q["path"].startswith(("/bot[token]/sendMessage", "/bot[token]/sendPhoto", "/slack/", "/chat/", "/v2/enqueue", "/hook/audit"))]
picture_saved = None
print(f"== {len(ours)} messages received by the local receivers")
for q in ours:
    body = q["body"]
    if q["path"] == "/bot[token]/sendPhoto":
        raw = base64.b64decode(q.get("raw", ""))
        start = raw.find(b"\x89PNG\r\n\x1a\n")
        end = raw.find(b"IEND", start)
        shown = "[a picture of the alarm]"
        if start >= 0 and end > start and picture_saved is None:
            picture_saved = os.path.join(os.environ.get("LOCAL", ".local"), "alarm-picture.png")
            os.makedirs(os.path.dirname(picture_saved), exist_ok=True)
            with open(picture_saved, "wb") as f:
                f.write(raw[start:end + 8])  # IEND and its CRC
            shown += f" saved as {picture_saved}"
    elif q["path"].startswith("/bot"):
        shown = body.get("text", "")
        if "Reminder:" in shown:
            shown = "[a reminder] " + shown
        reply = body.get("reply_parameters", {}).get("message_id")
        if reply:
            quiet = ", quietly" if body.get("disable_notification") else ""
            shown = f"[a reply to message {reply}{quiet}] " + shown
    elif q["path"].startswith("/slack/"):
        shown = body.get("text", "")
        if "Reminder:" in shown:
            shown = "[a reminder] " + shown
    elif q["path"].startswith("/chat/"):
        shown = body.get("text", "") + f"   [thread {body.get('thread', {}).get('threadKey')}]"
    elif q["path"] == "/v2/enqueue":
        shown = f"{body.get('event_action')} dedup_key={body.get('dedup_key')} severity={body.get('payload', {}).get('severity')}"
    else:
        shown = body.get("headline", "") if isinstance(body, dict) else str(body)
    print(f"-- {q['method']} /{q['path'].split('/')[1]}/…\n   " + shown.replace("\n", "\n   "))

# The scenes (demo/scenes): what the routing held back and what it repeated.
sent = " ".join(json.dumps(q["body"]) for q in ours)
for name, what in [("demo-batch-export-warning", "silenced (scene 2)"),
                   ("demo-payments-db-connections-warning", "inhibited by demo-payments-db-cpu-critical (scene 4)")]:
    print(f"== {name}: {what}: " + ("SENT, which is wrong" if name in sent else "held, not sent"))
reminders = [q for q in ours if "Reminder:" in json.dumps(q["body"])]
print(f"== reminders sent by the sweep (scene 5): {len(reminders)}")

if picture_saved is None:
    print("== no alarm picture was sent (it needs the stand-in's GetMetricWidgetImage answer)")

items = ddb.scan(TableName=TABLE)["Items"]
print(f"== {len(items)} delivery records in {TABLE}")
for it in sorted(items, key=lambda i: i["pk"]["S"]):
    pk = it["pk"]["S"]
    if pk.startswith("thread#"):
        print(f"{pk}: the ALARM's message {it['msg']['S']}, for its OK to reply to")
        continue
    if pk.startswith("stale#"):
        change = it.get("change", {}).get("M", {})
        newest = it.get("newest", {}).get("M", {})
        print(f"{pk}: stale {change.get('s', {}).get('S')} (newer: {newest.get('s', {}).get('S')})")
        continue
    newest = it.get("newest", {}).get("M", {})
    shown = {r: v["M"]["s"]["S"] for r, v in sorted(it.get("rx", {}).get("M", {}).items())}
    head = f"newest {newest['s']['S']} " if newest else ""
    print(f"{pk}: {head}receivers show {shown}")
