"""Seeds the local AWS for power-tuner: the report bucket (reportS3 / GC_REPORT_S3).

The functions being tuned live in the HTTP stand-in's Lambda API emulation
(scripts/standin.py), which creates groundcrew-dev-* functions on first use.
"""
import boto3

BUCKET = "groundcrew-dev-tuning"

s3 = boto3.client("s3")
existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
if BUCKET not in existing:
    s3.create_bucket(Bucket=BUCKET)
print(f"report bucket s3://{BUCKET} ready")
