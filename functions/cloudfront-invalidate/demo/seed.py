"""Seeds the local AWS for cloudfront-invalidate (idempotent).

Creates two CloudFront distributions with aliases and tags (the Next.js app and the docs
site) and the static-site bucket behind the app, holding a small Next.js export, so that
planning can use the bucket as the site inventory; the pending-deploy table and the deploy
queue that S3 notifications are gathered through (names as in local.env). moto has no
CodePipeline job API (PutJobSuccessResult/PutJobFailureResult); the demo points CodePipeline
at the stand-in.
"""
import boto3

cf = boto3.client("cloudfront")
s3 = boto3.client("s3")
ddb = boto3.client("dynamodb")
sqs = boto3.client("sqs")

TABLE = "groundcrew-demo-cloudfront-invalidate"
QUEUE = "groundcrew-demo-cloudfront-invalidate-deploys"

BUCKET = "groundcrew-demo-site"
SITES = [
    {"alias": "app.groundcrew.example", "tags": {"groundcrew:site": "app", "Stage": "dev"}},
    {"alias": "docs.groundcrew.example", "tags": {"groundcrew:site": "docs", "Stage": "dev"}},
]


def existing_aliases():
    found = {}
    marker = ""
    while True:
        page = cf.list_distributions(Marker=marker) if marker else cf.list_distributions()
        dl = page.get("DistributionList", {})
        for d in dl.get("Items", []) or []:
            for a in d.get("Aliases", {}).get("Items", []) or []:
                found[a] = d["Id"]
        marker = dl.get("NextMarker")
        if not dl.get("IsTruncated") or not marker:
            return found


def distribution_config(alias):
    return {
        "CallerReference": f"groundcrew-demo-{alias}",
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "site", "DomainName": f"{BUCKET}.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
        "Comment": f"groundcrew demo: {alias}",
        "Enabled": True,
    }


aliases = existing_aliases()
for site in SITES:
    if site["alias"] in aliases:
        print(f"distribution {aliases[site['alias']]} ({site['alias']}) exists")
        continue
    out = cf.create_distribution_with_tags(DistributionConfigWithTags={
        "DistributionConfig": distribution_config(site["alias"]),
        "Tags": {"Items": [{"Key": k, "Value": v} for k, v in site["tags"].items()]},
    })
    print(f"created distribution {out['Distribution']['Id']} ({site['alias']})")

try:
    s3.create_bucket(Bucket=BUCKET)
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
keys = ["index.html", "pricing.html", "404.html", "favicon.ico"]
keys += [f"blog/{slug}/index.html" for slug in ("launch", "pricing-update", "rust-lambda")]
keys += ["blog/index.html", "docs/index.html", "docs/getting-started.html"]
keys += [f"_next/static/chunks/{n}-3f9a{n}c.js" for n in range(8)]
keys += ["_next/static/css/app-71be.css", "_next/data/build-42/blog/launch.json"]
for key in keys:
    s3.put_object(Bucket=BUCKET, Key=f"www/{key}", Body=b"demo")
print(f"bucket {BUCKET}: {len(keys)} objects under www/")

try:
    ddb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    print(f"created table {TABLE}")
except ddb.exceptions.ResourceInUseException:
    print(f"table {TABLE} exists")
url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
print(f"deploy queue {url}")
