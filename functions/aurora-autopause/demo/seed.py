"""Seeds a realistic dev estate in the local AWS for aurora-autopause, idempotently.

Every run puts the estate back to its starting point, so the demo can be repeated:

Aurora clusters (aurora-postgresql 16.4):
  gc-demo-dev-orders     dev, opted in, db.r6g.large, idle (0 connections)  -> sweep stops it
  gc-demo-dev-search     dev, opted in, db.t4g.medium, busy (12 connections) -> sweep skips; dev sleep stops it
  gc-demo-dev-analytics  dev, opted in, Serverless v2 0.5-8 ACU, idle        -> auto-pause (MinCapacity 0)
  gc-demo-qa-billing     qa, opted in, paused by groundcrew a week ago and just restarted by AWS
                         (RDS-EVENT-0153) -> the RDS event stops it again
  gc-demo-qa-reports     qa, opted in, no metric data                        -> not idle, skipped
  gc-demo-dev-legacy     dev, NOT opted in, idle                             -> never touched
  gc-demo-prod-orders    opted in by mistake but environment=prod            -> protected, never touched
RDS instances (postgres 16.4, no cluster):
  gc-demo-dev-pg         dev, opted in, db.r6g.large Multi-AZ, idle          -> sweep stops it (saving counted twice)
  gc-demo-dev-reports    dev, opted in, db.t3.small, paused by groundcrew a week ago and just restarted by
                         AWS (RDS-EVENT-0154) -> the RDS event stops it again
ECS (cluster gc-demo-dev-apps): web (3 tasks, scaling 2..10), worker (2 tasks, scaling 1..6),
  cron (1 task, no scaling target), all dev and opted in; admin (1 task, not opted in).
ECS (cluster gc-demo-prod-apps): api (4 tasks, scaling 4..8), opted in but environment=prod.
"""
import datetime
import boto3

rds = boto3.client("rds")
cw = boto3.client("cloudwatch")
ecs = boto3.client("ecs")
aas = boto3.client("application-autoscaling")

OPT = {"Key": "groundcrew:autopause", "Value": "true"}
RECORD = "groundcrew:autopause:record"
PAUSED_AT = "groundcrew:autopause:paused-at"


def env(name):
    return {"Key": "groundcrew:environment", "Value": name}


CLUSTERS = {
    "gc-demo-dev-orders": {"tags": [OPT, env("dev"), {"Key": "team", "Value": "orders"}], "class": "db.r6g.large", "connections": 0},
    "gc-demo-dev-search": {"tags": [OPT, env("dev")], "class": "db.t4g.medium", "connections": 12},
    "gc-demo-dev-analytics": {"tags": [OPT, env("dev")], "class": "db.serverless", "connections": 0, "sv2": (0.5, 8.0)},
    "gc-demo-qa-billing": {"tags": [OPT, env("qa"), {"Key": RECORD, "Value": "mode=stop"},
                                    {"Key": PAUSED_AT, "Value": (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")}],
                           "class": "db.r6g.large", "connections": 0},
    "gc-demo-qa-reports": {"tags": [OPT, env("qa")], "class": "db.t4g.medium", "connections": None},
    "gc-demo-dev-legacy": {"tags": [env("dev")], "class": "db.t3.medium", "connections": 0},
    "gc-demo-prod-orders": {"tags": [OPT, env("prod"), {"Key": "environment", "Value": "prod"}], "class": "db.r6g.xlarge", "connections": 0},
}


def seed_cluster(cid, spec):
    existing = rds.describe_db_clusters(Filters=[{"Name": "db-cluster-id", "Values": [cid]}])["DBClusters"]
    if not existing:
        kwargs = dict(DBClusterIdentifier=cid, Engine="aurora-postgresql", EngineVersion="16.4",
                      MasterUsername="app", MasterUserPassword="demo-only-password", Tags=spec["tags"])
        if "sv2" in spec:
            kwargs["ServerlessV2ScalingConfiguration"] = {"MinCapacity": spec["sv2"][0], "MaxCapacity": spec["sv2"][1]}
        rds.create_db_cluster(**kwargs)
        rds.create_db_instance(DBInstanceIdentifier=f"{cid}-1", DBClusterIdentifier=cid, Engine="aurora-postgresql",
                               DBInstanceClass=spec["class"])
        return
    c = existing[0]
    if c["Status"] == "stopped":
        rds.start_db_cluster(DBClusterIdentifier=cid)
    if "sv2" in spec:
        rds.modify_db_cluster(DBClusterIdentifier=cid, ApplyImmediately=True,
                              ServerlessV2ScalingConfiguration={"MinCapacity": spec["sv2"][0], "MaxCapacity": spec["sv2"][1]})
    stale = [t["Key"] for t in c.get("TagList", []) if t["Key"] not in {x["Key"] for x in spec["tags"]}]
    if stale:
        rds.remove_tags_from_resource(ResourceName=c["DBClusterArn"], TagKeys=stale)
    rds.add_tags_to_resource(ResourceName=c["DBClusterArn"], Tags=spec["tags"])


WEEK_AGO = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")

INSTANCES = {
    "gc-demo-dev-pg": {"tags": [OPT, env("dev")], "class": "db.r6g.large", "multi_az": True, "connections": 0},
    "gc-demo-dev-reports": {"tags": [OPT, env("dev"), {"Key": RECORD, "Value": "mode=stop"}, {"Key": PAUSED_AT, "Value": WEEK_AGO}],
                            "class": "db.t3.small", "multi_az": False, "connections": 0},
}


def seed_instance(iid, spec):
    existing = rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [iid]}])["DBInstances"]
    if not existing:
        rds.create_db_instance(DBInstanceIdentifier=iid, Engine="postgres", EngineVersion="16.4",
                               DBInstanceClass=spec["class"], MultiAZ=spec["multi_az"], AllocatedStorage=20,
                               MasterUsername="app", MasterUserPassword="demo-only-password", Tags=spec["tags"])
        return
    i = existing[0]
    if i["DBInstanceStatus"] == "stopped":
        rds.start_db_instance(DBInstanceIdentifier=iid)
    stale = [t["Key"] for t in i.get("TagList", []) if t["Key"] not in {x["Key"] for x in spec["tags"]}]
    if stale:
        rds.remove_tags_from_resource(ResourceName=i["DBInstanceArn"], TagKeys=stale)
    rds.add_tags_to_resource(ResourceName=i["DBInstanceArn"], Tags=spec["tags"])


def seed_connections(cid, value, dimension="DBClusterIdentifier"):
    # One datapoint a minute for the last 40 minutes, as CloudWatch publishes them for a
    # running database: the idle check wants every minute of its window to have data.
    now = datetime.datetime.now(datetime.timezone.utc)
    cw.put_metric_data(Namespace="AWS/RDS", MetricData=[
        {"MetricName": "DatabaseConnections", "Dimensions": [{"Name": dimension, "Value": cid}],
         "Timestamp": now - datetime.timedelta(minutes=m), "Value": value, "Unit": "Count"} for m in range(1, 41)
    ])


SERVICES = {
    "gc-demo-dev-apps": {
        "web": {"desired": 3, "target": (2, 10), "tags": [OPT, env("dev")]},
        "worker": {"desired": 2, "target": (1, 6), "tags": [OPT, env("dev")]},
        "cron": {"desired": 1, "target": None, "tags": [OPT, env("dev")]},
        "admin": {"desired": 1, "target": None, "tags": [env("dev")]},
    },
    "gc-demo-prod-apps": {
        "api": {"desired": 4, "target": (4, 8), "tags": [OPT, env("prod"), {"Key": "environment", "Value": "prod"}]},
    },
}


def seed_services():
    for cluster, services in SERVICES.items():
        ecs.create_cluster(clusterName=cluster)  # idempotent
        # Half a vCPU and 1 GB a task: the size the savings estimate prices.
        ecs.register_task_definition(family=cluster, cpu="512", memory="1024", requiresCompatibilities=["FARGATE"],
                                     networkMode="awsvpc",
                                     containerDefinitions=[{"name": "app", "image": "nginx:stable", "memory": 256}])
        for name, spec in services.items():
            tags = [{"key": t["Key"], "value": t["Value"]} for t in spec["tags"]]
            found = ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])["services"]
            found = [s for s in found if s.get("status") == "ACTIVE"]
            if not found:
                ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=cluster, desiredCount=spec["desired"], tags=tags)
            else:
                s = found[0]
                stale = [t["key"] for t in s.get("tags", []) if t["key"] not in {x["key"] for x in tags}]
                if stale:
                    ecs.untag_resource(resourceArn=s["serviceArn"], tagKeys=stale)
                ecs.tag_resource(resourceArn=s["serviceArn"], tags=tags)
                ecs.update_service(cluster=cluster, service=name, desiredCount=spec["desired"])
            if spec["target"]:
                aas.register_scalable_target(ServiceNamespace="ecs", ResourceId=f"service/{cluster}/{name}",
                                             ScalableDimension="ecs:service:DesiredCount",
                                             MinCapacity=spec["target"][0], MaxCapacity=spec["target"][1],
                                             SuspendedState={"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False,
                                                             "ScheduledScalingSuspended": False})


def main():
    for cid, spec in CLUSTERS.items():
        seed_cluster(cid, spec)
        if spec["connections"] is not None:
            seed_connections(cid, spec["connections"])
    for iid, spec in INSTANCES.items():
        seed_instance(iid, spec)
        seed_connections(iid, spec["connections"], "DBInstanceIdentifier")
    seed_services()
    print(f"aurora-autopause: seeded {len(CLUSTERS)} Aurora clusters, {len(INSTANCES)} RDS instances and "
          f"{sum(len(s) for s in SERVICES.values())} ECS services")


if __name__ == "__main__":
    main()
