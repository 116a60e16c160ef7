#!/usr/bin/env python3
"""Seeds the local AWS for alarm-fanout (idempotent): the delivery table (emptied, so that
every run delivers again), the receivers' secrets (pointing at the HTTP stand-in), an SNS topic for email, the routing document in
SSM, and two tagged CloudWatch alarms whose severity comes from their `severity` tag."""
import json
import os

import boto3
from botocore.exceptions import ClientError

STANDIN = os.environ.get("STANDIN_URL", "http://127.0.0.1:4580")
TABLE = "groundcrew-demo-alarm-fanout"
ROUTING_PARAMETER = "/groundcrew/demo/alarm-fanout/routing"
REGION = os.environ.get("AWS_REGION", "us-east-1")

ddb = boto3.client("dynamodb", region_name=REGION)
sm = boto3.client("secretsmanager", region_name=REGION)
ssm = boto3.client("ssm", region_name=REGION)
sqs = boto3.client("sqs", region_name=REGION)
sns = boto3.client("sns", region_name=REGION)
cw = boto3.client("cloudwatch", region_name=REGION)


def table():
    try:
        ddb.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.get_waiter("table_exists").wait(TableName=TABLE)
        ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceInUseException":
            raise


def clear_deliveries():
    """Forgets earlier runs' deliveries, so that every run delivers again (and so reads
    the receivers' secrets) instead of answering "already delivered"."""
    for page in ddb.get_paginator("scan").paginate(TableName=TABLE, ProjectionExpression="pk"):
        for item in page["Items"]:
            ddb.delete_item(TableName=TABLE, Key={"pk": item["pk"]})


def secret(name, value):
    try:
        sm.create_secret(Name=name, SecretString=value)
    except ClientError as e:
        if e.response["Error"]["Code"] != "ResourceExistsException":
            raise
        sm.put_secret_value(SecretId=name, SecretString=value)


def parameter(name, value, kind="SecureString"):
    ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True)


table()
clear_deliveries()
# Fake, distinctive ("gc-canary") secret values: scripts/leak-check.py fails the boot check
# if any of them reaches a log line or a response. Between them the sample events read
# every kind of secret: Secrets Manager plain and JSON field, and SSM SecureString.
secret("groundcrew/demo/telegram", json.dumps({"bot_token": "123456:gc-canary-fanout-bot-d39c1ac646f5e2"}))
secret("groundcrew/demo/slack-webhook", f"{STANDIN}/slack/T0DEMO/B0DEMO/gc-canary-slack-50abb619d00e2fce")
secret("groundcrew/demo/audit-webhook", f"{STANDIN}/hook/audit-gc-canary-b74b0df5a41cbaed")
parameter("/groundcrew/demo/google-chat-webhook",
          f"{STANDIN}/chat/v1/spaces/DEMO/messages?key=gc-canary-chat-key-5b622387d465cabe&token=gc-canary-chat-token-98a03410134968ab")
parameter("/groundcrew/demo/pagerduty-routing-key", "gc-canary-pd-routing-key-42c17cc15402a401")
email_topic = sns.create_topic(Name="groundcrew-demo-ops-email")["TopicArn"]
# The dead-letter queue the `redrive` action reads (DEAD_LETTER_QUEUE_URL in local.env).
sqs.create_queue(QueueName="groundcrew-demo-alarm-fanout-dlq")
alarm_topic = sns.create_topic(Name="groundcrew-demo-alarms")["TopicArn"]

routing = f"""# alarm-fanout demo routing document
receivers:
  oncall:
    type: pagerduty
    routing_key_secret: /groundcrew/demo/pagerduty-routing-key
  ops-telegram:
    type: telegram
    chat_id: -1001234567890
    thread_id: 42
    bot_token_secret: groundcrew/demo/telegram#bot_token
    picture: true                # metric alarms are followed by a picture of their metric
  ops-slack:
    type: slack
    webhook_url_secret: groundcrew/demo/slack-webhook
  ops-chat:
    type: google_chat
    webhook_url_secret: ssm:/groundcrew/demo/google-chat-webhook
  ops-email:
    type: sns
    topic_arn: {email_topic}
  audit:
    type: webhook
    url_secret: groundcrew/demo/audit-webhook
# While a critical database alarm fires, the warnings of the same database instance are
# held (the demo's scene 4); they go out once it clears.
inhibit_rules:
  - source_match: {{severity: critical, namespace: AWS/RDS}}
    target_match: {{severity: warning}}
    equal: [DBInstanceIdentifier]
routes:
  # Critical and error alarms page, and fall through to the team channels.
  - match: {{kind: alarm, severity: [critical, error], state: [ALARM, OK]}}
    receivers: [oncall]
    continue: true
  # The payments team wants a reminder while an alarm keeps firing: every 15 seconds here,
  # so that the demo shows one (an hour or more in real life).
  - match: {{alarm_name: "demo-payments-*"}}
    receivers: [ops-telegram, ops-slack]
    repeat_interval: 15s
  - match: {{alarm_name: "demo-*"}}
    receivers: [ops-telegram, ops-slack, ops-chat]
  - match: {{kind: [rds, budgets, health]}}
    receivers: [ops-email, audit, ops-telegram]
default: [ops-telegram, audit]
"""
parameter(ROUTING_PARAMETER, routing, kind="String")

for name, severity in [("demo-orders-db-cpu-critical", "critical"), ("demo-api-error-rate-P2", "error"), ("demo-queue-depth-warning", "warning")]:
    cw.put_metric_alarm(
        AlarmName=name,
        MetricName="CPUUtilization",
        Namespace="AWS/RDS",
        Statistic="Average",
        Period=300,
        EvaluationPeriods=3,
        Threshold=80.0,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[alarm_topic],
        OKActions=[alarm_topic],
        Tags=[{"Key": "severity", "Value": severity}, {"Key": "team", "Value": "platform"}],
    )

print(f"alarm-fanout: table {TABLE}, routing in {ROUTING_PARAMETER}, email topic {email_topic}, dead-letter queue, 3 tagged alarms")
