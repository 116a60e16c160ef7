"""Seeds the local AWS for telegram-webhook: the bot token secret (a fake token the HTTP
stand-in accepts) and the alarm SNS topic. The webhook's secret token is left absent: the
first Create stores a new one. Idempotent."""
import boto3

BOT_TOKEN_SECRET = "groundcrew/dev/telegram-bot-token"
# Shaped like a real token (<bot id>:<35 characters>) and distinctive ("gc-canary"), so that
# scripts/leak-check.py can tell if it, or the part after the colon, reaches a log or response.
DEMO_TOKEN = "7000000001:AAgc-canary-webhook-bot-4acce48aa08"

sm = boto3.client("secretsmanager")
try:
    sm.create_secret(Name=BOT_TOKEN_SECRET, SecretString=DEMO_TOKEN,
                     Description="Telegram bot token (demo; fake)")
    print(f"created secret {BOT_TOKEN_SECRET}")
except sm.exceptions.ResourceExistsException:
    sm.put_secret_value(SecretId=BOT_TOKEN_SECRET, SecretString=DEMO_TOKEN)
    print(f"secret {BOT_TOKEN_SECRET} exists")

topic = boto3.client("sns").create_topic(Name="groundcrew-dev-alarms")["TopicArn"]
print(f"alarm topic {topic}")
