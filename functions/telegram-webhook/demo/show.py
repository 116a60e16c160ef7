"""Shows what telegram-webhook did in the local AWS and the stand-in: the secret token's
secret (created on the first Create; its value is not printed), the webhook Telegram's
stand-in now holds, and the answers CloudFormation's ResponseURL received."""
import json
import os
import urllib.request

import boto3

STANDIN = os.environ.get("STANDIN_URL", "http://127.0.0.1:4580")
sm = boto3.client("secretsmanager")
for name in ("groundcrew/dev/telegram-bot-token", "groundcrew/dev/telegram-webhook-secret"):
    try:
        d = sm.describe_secret(SecretId=name)
        print(f"secret {name}: exists (created {d.get('CreatedDate')})")
    except sm.exceptions.ResourceNotFoundException:
        print(f"secret {name}: absent")

token = sm.get_secret_value(SecretId="groundcrew/dev/telegram-bot-token")["SecretString"]
req = urllib.request.Request(f"{STANDIN}/bot{token}/getWebhookInfo", data=b"{}", method="POST",
                             headers={"Content-Type": "application/json"})
info = json.load(urllib.request.urlopen(req))["result"]
print("webhook now:", json.dumps(info))

with urllib.request.urlopen(f"{STANDIN}/__requests") as r:
    requests = json.load(r)
for r in requests:
    if r["path"].startswith("/cfn/telegram-webhook/"):
        body = r["body"] if isinstance(r["body"], dict) else {}
        print(f"CloudFormation answer {r['path'].split('/')[-1]}: {body.get('Status')} "
              f"{body.get('PhysicalResourceId')} - {body.get('Reason')}")
