#!/usr/bin/env python3
"""Shows what alarm-fanout did: the requests the HTTP stand-in received from it
(Telegram, Slack, Google Chat, PagerDuty, webhook) and its delivery records. A Telegram OK
that replies to its ALARM is marked so, as is a reminder; the first alarm picture sent to
Telegram is saved as .local/alarm-picture.png for a person to look at. It ends with what
the scenes (demo/scenes) must show, one line each, and exits 1 when one is missing: a
silenced alarm never sent, an inhibited warning sent only after its source's OK, a
reminder, a threaded OK, and a picture that is a whole PNG."""
import base64
import json
import os
import struct
import sys
import urllib.request
import zlib

import boto3

STANDIN = os.environ.get("STANDIN_URL", "http://127.0.0.1:4580")
TABLE = "groundcrew-demo-alarm-fanout"
PICTURE = os.path.join(os.environ.get("LOCAL", ".local"), "alarm-picture.png")
ddb = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))


def png_problem(data):
    """Why `data` is not a whole PNG (signature, IHDR first, every chunk's CRC, IEND last),
    or None."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "no PNG signature"
    at, kinds = 8, []
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length] or b"\0\0\0\0")
        if len(body) != length or zlib.crc32(kind + body) != crc:
            return f"chunk {kind!r} at byte {at} is cut short or fails its CRC"
        kinds.append(kind)
        at += 12 + length
    if not kinds or kinds[0] != b"IHDR" or kinds[-1] != b"IEND" or at != len(data):
        return f"chunks {[k.decode(errors='replace') for k in kinds]} do not run from IHDR to IEND"
    return None


# A picture left by an earlier run must not pass for this one's.
if os.path.exists(PICTURE):
    os.remove(PICTURE)

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
            picture_saved = PICTURE
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



# What the scenes (demo/scenes) must show, in the order the receivers got it.
def sends_of(name, state=None):
    return [i for i, q in enumerate(ours)
            if name in json.dumps(q["body"], ensure_ascii=False)
            and (state is None or state in json.dumps(q["body"], ensure_ascii=False))]


source_ok = sends_of("demo-payments-db-cpu-critical", "✅")  # its OK in Telegram and Slack
warning = sends_of("demo-payments-db-connections-warning")
reminders = [q for q in ours if "Reminder:" in json.dumps(q["body"])]
anchors = {it["pk"]["S"].rsplit(":alarm:", 1)[-1]: it["msg"]["S"] for it in items
           if it["pk"]["S"].startswith("thread#telegram:")}
# A Telegram OK that replies to the message its alarm's thread record keeps.
threaded = [q for q in ours if q["path"] == "/bot[token]/sendMessage" and "✅" in q["body"].get("text", "")
            and "demo-payments-db-cpu-critical" in q["body"]["text"]
            and q["body"].get("disable_notification")
            and str(q["body"].get("reply_parameters", {}).get("message_id"))
            == anchors.get("demo-payments-db-cpu-critical")]
problem = png_problem(open(PICTURE, "rb").read()) if picture_saved else "no picture was sent"
checks = [
    ("a silence: demo-batch-export-warning (scene 2) held, never sent",
     not sends_of("demo-batch-export-warning")),
    ("an inhibited warning: demo-payments-db-connections-warning held while "
     "demo-payments-db-cpu-critical fired (scene 4), sent after its OK (scenes 6, 7)",
     bool(warning) and bool(source_ok) and min(warning) > min(source_ok)),
    (f"a reminder: {len(reminders)} sent by the sweeps (scenes 0 and 5), marked [a reminder]",
     bool(reminders)),
    ("a threaded OK: the Telegram OK of demo-payments-db-cpu-critical (scene 6) replies, quietly, "
     "to the message its thread# record keeps", bool(threaded)),
    (f"a picture: {PICTURE}" + (f" ({problem})" if problem else " is a whole PNG"), problem is None),
]
print("== what the demo must show")
for what, ok in checks:
    print(f"   {'ok     ' if ok else 'MISSING'} {what}")
if not all(ok for _, ok in checks):
    sys.exit(1)
