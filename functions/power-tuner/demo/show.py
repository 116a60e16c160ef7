"""Prints the tuning reports power-tuner wrote to the local S3: a table per run and the
key of its SVG chart."""
import json

import boto3

BUCKET = "groundcrew-dev-tuning"

s3 = boto3.client("s3")
objects = s3.list_objects_v2(Bucket=BUCKET, Prefix="reports/").get("Contents", [])
reports = sorted((o for o in objects if o["Key"].endswith(".json")), key=lambda o: o["Key"])
if not reports:
    print("no reports in s3://%s/reports/" % BUCKET)
for obj in reports:
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read())
    rec = report.get("recommendation") or {}
    print(f"\n{report['function']}  strategy={report['strategy']}  num={report['num']}")
    print(f"  {'MB':>6} {'arch':>7} {'avg ms':>9} {'p90 ms':>9} {'USD/inv':>11} {'USD/1M':>9} {'cold':>5} {'init ms':>8}")
    for v in report["values"]:
        init = v.get("init") or {}
        mark = " <- best" if v["value"] == rec.get("power") and v["architecture"] == rec.get("architecture") else ""
        print(f"  {v['value']:>6} {v['architecture']:>7} {v['averageDuration']:>9.1f} {v['duration']['p90']:>9.1f} "
              f"{v['averagePrice']:>11.3e} {v['costPerMillion']:>9.4f} {v['coldStarts']:>5} {init.get('mean', 0):>8.1f}{mark}")
    for f in report.get("failed", []):
        print(f"  {f['value']:>6} {f['architecture']:>7}  failed: {f['reason']}")
    if rec:
        print(f"  recommendation: {rec['reasoning']}")
    print(f"  cleanup complete: {report['cleanup']['complete']}; Power Tuning's Step Functions charge for this run: "
          f"{report['powerTuningExecutionCost']:.6f} USD (ours: 0)")
    print(f"  chart: s3://{BUCKET}/{obj['Key'][:-5]}.svg")
