"""Prints the aurora-autopause demo estate as it is now in the local AWS."""
import boto3

rds = boto3.client("rds")
ecs = boto3.client("ecs")
aas = boto3.client("application-autoscaling")


def main():
    print("Aurora clusters")
    for c in sorted(rds.describe_db_clusters()["DBClusters"], key=lambda c: c["DBClusterIdentifier"]):
        if not c["DBClusterIdentifier"].startswith("gc-demo-"):
            continue
        tags = {t["Key"]: t["Value"] for t in c.get("TagList", [])}
        sv2 = c.get("ServerlessV2ScalingConfiguration")
        scaling = f" ACU {sv2.get('MinCapacity')}-{sv2.get('MaxCapacity')} pause {sv2.get('SecondsUntilAutoPause', '-')}s" if sv2 else ""
        record = tags.get("groundcrew:autopause:record")
        paused = f"  [{record}, paused {tags.get('groundcrew:autopause:paused-at')}]" if record else ""
        print(f"  {c['DBClusterIdentifier']:<24} {c['Status']:<10}{scaling}{paused}")
    print("ECS services")
    for cluster in ("gc-demo-dev-apps", "gc-demo-prod-apps"):
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        if not arns:
            continue
        for s in ecs.describe_services(cluster=cluster, services=arns, include=["TAGS"])["services"]:
            tags = {t["key"]: t["value"] for t in s.get("tags", [])}
            rid = f"service/{cluster}/{s['serviceName']}"
            targets = aas.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[rid])["ScalableTargets"]
            scaling = ""
            if targets:
                t = targets[0]
                suspended = any((t.get("SuspendedState") or {}).values())
                scaling = f" scaling {t['MinCapacity']}..{t['MaxCapacity']}{' suspended' if suspended else ''}"
            record = tags.get("groundcrew:autopause:record")
            print(f"  {cluster}/{s['serviceName']:<8} desired {s['desiredCount']}{scaling}{'  [' + record + ']' if record else ''}")


if __name__ == "__main__":
    main()
