"""Prints the invalidations the demo created on the seeded distributions."""
import boto3

cf = boto3.client("cloudfront")
page = cf.list_distributions().get("DistributionList", {})
for d in page.get("Items", []) or []:
    aliases = d.get("Aliases", {}).get("Items", []) or []
    if not any(a.endswith(".groundcrew.example") for a in aliases):
        continue
    invs = cf.list_invalidations(DistributionId=d["Id"]).get("InvalidationList", {}).get("Items", []) or []
    print(f"{d['Id']} {','.join(aliases)}: {len(invs)} invalidation(s)")
    for summary in invs[-10:]:
        inv = cf.get_invalidation(DistributionId=d["Id"], Id=summary["Id"])["Invalidation"]
        batch = inv["InvalidationBatch"]
        items = batch["Paths"].get("Items", []) or []
        shown = " ".join(items[:8]) + (" ..." if len(items) > 8 else "")
        print(f"  {inv['Id']} {inv['Status']} ref={batch['CallerReference']} {len(items)} path(s): {shown}")
