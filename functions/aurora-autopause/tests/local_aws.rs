//! Local-AWS tests: the real SDK clients against moto (RDS, CloudWatch, ECS, Application
//! Auto Scaling, tags). `scripts/local-aws.sh start` first; in CI a missing moto fails.

mod common;

use aurora_autopause::model::{Suspended, Target, PAUSED_AT_TAG, RECORD_TAG};
use aurora_autopause::report::Outcome;
use common::{item, reason, tag_keys, Estate};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn sweep_pauses_only_idle_opted_in_clusters_and_wake_restores_them() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "sweep").await;
    let idle = e.cluster("idle", &e.tags(true, &[]), None).await;
    let busy = e.cluster("busy", &e.tags(true, &[]), None).await;
    let nodata = e.cluster("nodata", &e.tags(true, &[]), None).await;
    let untagged = e.cluster("untagged", &e.tags(false, &[]), None).await;
    let prod = e
        .cluster("prod", &e.tags(true, &[("environment", "prod")]), None)
        .await;
    let sv2 = e.cluster("sv2", &e.tags(true, &[]), Some((0.5, 8.0))).await;
    for id in [&idle, &untagged, &prod, &sv2] {
        e.connections(id, 0.0).await;
    }
    e.connections(&busy, 5.0).await;

    let report = e.invoke(json!({"action": "sweep"})).await.expect("sweep");

    assert_eq!(e.status(&idle).await, "stopped");
    for id in [&busy, &nodata, &untagged, &prod, &sv2] {
        assert_eq!(e.status(id).await, "available", "{id}");
    }
    assert!(reason(&report, &busy).contains("busy"));
    assert!(reason(&report, &nodata).contains("no DatabaseConnections data"));
    assert!(reason(&report, &prod).contains("protected"));
    assert!(
        item(&report, &untagged).is_none(),
        "untagged clusters are not even considered"
    );
    assert!(
        tag_keys(e.describe(&untagged).await.tag_list()).len() == 1,
        "untagged cluster's tags untouched"
    );
    assert!(!tag_keys(e.describe(&prod).await.tag_list()).contains(&RECORD_TAG.to_string()));
    let stopped = item(&report, &idle).unwrap();
    assert_eq!((stopped.action, stopped.outcome), ("stop", Outcome::Done));
    assert_eq!(stopped.hourly_saving_usd, Some(0.26));
    assert!(tag_keys(e.describe(&idle).await.tag_list()).contains(&PAUSED_AT_TAG.to_string()));

    // Serverless v2: native auto-pause, previous scaling recorded.
    let c = e.describe(&sv2).await;
    let s = c.serverless_v2_scaling_configuration().expect("scaling");
    assert_eq!(
        (
            s.min_capacity(),
            s.max_capacity(),
            s.seconds_until_auto_pause()
        ),
        (Some(0.0), Some(8.0), Some(1800))
    );
    let record = c
        .tag_list()
        .iter()
        .find(|t| t.key() == Some(RECORD_TAG))
        .and_then(|t| t.value())
        .unwrap()
        .to_string();
    assert_eq!(record, "mode=auto-pause min=0.5 max=8 pause=-");
    assert_eq!(item(&report, &sv2).unwrap().action, "auto-pause");
    assert_eq!(report.summary.paused, 2);
    assert_eq!(
        report.summary.get_metric_data_calls,
        Some(1),
        "every database's minutes in one GetMetricData call"
    );

    // A second sweep changes nothing (idempotent).
    let again = e
        .invoke(json!({"action": "sweep"}))
        .await
        .expect("sweep again");
    assert_eq!(again.summary.paused, 0);
    assert!(reason(&again, &sv2).contains("already set to auto-pause"));

    // Status reports when they were paused.
    let status = e
        .invoke(json!({"action": "status", "environment": e.env}))
        .await
        .expect("status");
    assert!(item(&status, &idle).unwrap().paused_at.is_some());
    assert!(item(&status, &busy).unwrap().paused_at.is_none());

    // Wake: the stopped one starts, the Serverless v2 one gets its scaling back.
    let woke = e
        .invoke(json!({"action": "wake", "environment": e.env}))
        .await
        .expect("wake");
    assert_eq!(woke.summary.woken, 2);
    assert_eq!(e.status(&idle).await, "available");
    let c = e.describe(&sv2).await;
    let s = c.serverless_v2_scaling_configuration().expect("scaling");
    assert_eq!((s.min_capacity(), s.max_capacity()), (Some(0.5), Some(8.0)));
    for id in [&idle, &sv2] {
        let keys = tag_keys(e.describe(id).await.tag_list());
        assert!(
            !keys.contains(&RECORD_TAG.to_string()) && !keys.contains(&PAUSED_AT_TAG.to_string()),
            "{id}: {keys:?}"
        );
    }
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "dry").await;
    let idle = e.cluster("idle", &e.tags(true, &[]), None).await;
    let sv2 = e.cluster("sv2", &e.tags(true, &[]), Some((1.0, 4.0))).await;
    e.connections(&idle, 0.0).await;
    e.connections(&sv2, 0.0).await;
    e.service("web", 3, &e.tags(true, &[]), Some((2, 10))).await;

    for event in [
        json!({"action": "sweep", "dry_run": true}),
        json!({"action": "pause", "environment": e.env, "dry_run": true}),
    ] {
        let before = e.aws.calls();
        let report = e.invoke(event.clone()).await.expect("dry run");
        assert!(report.dry_run);
        assert!(report.summary.paused >= 2, "{event}: {report:?}");
        assert!(
            report.resources.iter().all(|i| i.outcome != Outcome::Done),
            "{event}"
        );
        assert!(e.aws.calls() > before);
    }
    assert_eq!(e.status(&idle).await, "available");
    let c = e.describe(&sv2).await;
    assert_eq!(
        c.serverless_v2_scaling_configuration()
            .and_then(|s| s.min_capacity()),
        Some(1.0)
    );
    assert_eq!(tag_keys(c.tag_list()).len(), 2);
    assert_eq!(tag_keys(e.describe(&idle).await.tag_list()).len(), 2);
    let (desired, target, tags) = e.service_state("web").await;
    assert_eq!(
        (desired, target.map(|t| (t.min, t.max))),
        (3, Some((2, 10)))
    );
    assert!(!tags.contains(&RECORD_TAG.to_string()));
    assert!(target.unwrap().suspended == Suspended::default());

    // The configured dry run applies when the event does not say.
    let mut config = e.config.clone();
    config.dry_run = true;
    let handler = aurora_autopause::Handler {
        cloud: e.aws.clone(),
        config,
    };
    let report = handler
        .handle(
            &json!({"action": "sweep"}),
            &groundcrew::Invocation::with_budget("test", std::time::Duration::from_secs(60)),
        )
        .await
        .expect("sweep");
    assert!(report.dry_run);
    assert_eq!(e.status(&idle).await, "available");
}

#[tokio::test]
async fn ecs_counts_and_scaling_limits_survive_a_pause_wake_round_trip() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "ecs").await;
    e.service("web", 3, &e.tags(true, &[]), Some((2, 10))).await;
    e.service("cron", 1, &e.tags(true, &[]), None).await;
    e.service("admin", 2, &e.tags(false, &[]), Some((1, 4)))
        .await;
    e.service(
        "api",
        4,
        &e.tags(true, &[("environment", "production")]),
        Some((4, 8)),
    )
    .await;

    let report = e
        .invoke(json!({"action": "pause", "environment": e.env}))
        .await
        .expect("pause");
    assert_eq!(report.summary.paused, 2, "{report:?}");
    let (desired, target, tags) = e.service_state("web").await;
    assert_eq!(desired, 0);
    assert_eq!(
        target,
        Some(Target {
            min: 0,
            max: 10,
            suspended: Suspended::ALL
        })
    );
    assert!(tags.contains(&RECORD_TAG.to_string()) && tags.contains(&PAUSED_AT_TAG.to_string()));
    assert_eq!(e.service_state("cron").await.0, 0);
    // Untagged and protected: untouched.
    assert_eq!(
        e.service_state("admin").await,
        (
            2,
            Some(Target {
                min: 1,
                max: 4,
                suspended: Suspended::default()
            }),
            vec!["groundcrew:environment".to_string()]
        )
    );
    let (d, t, _) = e.service_state("api").await;
    assert_eq!(
        (d, t.map(|t| (t.min, t.max, t.suspended))),
        (4, Some((4, 8, Suspended::default())))
    );
    assert!(reason(&report, "api").contains("protected"));
    assert!(item(&report, "admin").is_none());

    // Pausing again does not overwrite the record with the zeros.
    let again = e
        .invoke(json!({"action": "pause", "environment": e.env}))
        .await
        .expect("pause again");
    assert_eq!(again.summary.paused, 0);
    assert!(reason(&again, "web").contains("already scaled to zero"));

    let woke = e
        .invoke(json!({"action": "wake", "environment": e.env}))
        .await
        .expect("wake");
    assert_eq!(woke.summary.woken, 2);
    let (desired, target, tags) = e.service_state("web").await;
    assert_eq!(desired, 3);
    assert_eq!(
        target,
        Some(Target {
            min: 2,
            max: 10,
            suspended: Suspended::default()
        })
    );
    assert!(!tags.contains(&RECORD_TAG.to_string()) && !tags.contains(&PAUSED_AT_TAG.to_string()));
    assert_eq!(e.service_state("cron").await.0, 1);
}

#[tokio::test]
async fn concurrent_pauses_and_wakes_never_lose_the_recorded_counts() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "race").await;
    let names: Vec<String> = (0..4).map(|i| format!("svc{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        let i = i as i32;
        e.service(n, 2 + i, &e.tags(true, &[]), Some((1 + i, 6 + i)))
            .await;
    }
    let pause = json!({"action": "pause", "environment": e.env});
    let wake = json!({"action": "wake", "environment": e.env});
    for round in 0..3 {
        let (a, b) = tokio::join!(e.invoke(pause.clone()), e.invoke(pause.clone()));
        a.expect("pause a");
        b.expect("pause b");
        for n in &names {
            assert_eq!(e.service_state(n).await.0, 0, "round {round}: {n} paused");
        }
        let (a, b) = tokio::join!(e.invoke(wake.clone()), e.invoke(pause.clone()));
        a.expect("wake");
        b.expect("pause c");
        let (a, b) = tokio::join!(e.invoke(wake.clone()), e.invoke(wake.clone()));
        a.expect("wake a");
        b.expect("wake b");
        for (i, n) in names.iter().enumerate() {
            let i = i as i32;
            let (desired, target, tags) = e.service_state(n).await;
            assert_eq!(desired, 2 + i, "round {round}: {n} desired");
            assert_eq!(
                target,
                Some(Target {
                    min: 1 + i,
                    max: 6 + i,
                    suspended: Suspended::default()
                }),
                "round {round}: {n}"
            );
            assert!(
                !tags.contains(&RECORD_TAG.to_string()),
                "round {round}: {n}"
            );
        }
    }
}

#[tokio::test]
async fn rds_event_0153_restops_a_cluster_we_paused() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "restop").await;
    // Stopped by groundcrew a week ago, started by AWS now: available with our record.
    let ours = e
        .cluster(
            "ours",
            &e.tags(
                true,
                &[
                    (RECORD_TAG, "mode=stop"),
                    (PAUSED_AT_TAG, "2026-11-14T20:00:00Z"),
                ],
            ),
            None,
        )
        .await;
    let theirs = e.cluster("theirs", &e.tags(true, &[]), None).await;
    let untagged = e
        .cluster(
            "untagged",
            &e.tags(false, &[(RECORD_TAG, "mode=stop")]),
            None,
        )
        .await;
    let event = |id: &str| {
        json!({"version": "0", "id": "1", "detail-type": "RDS DB Cluster Event", "source": "aws.rds",
               "account": "123456789012", "time": "2026-11-21T22:10:00Z", "region": "us-east-1",
               "resources": [format!("arn:aws:rds:us-east-1:123456789012:cluster:{id}")],
               "detail": {"EventCategories": ["notification"], "SourceType": "CLUSTER", "SourceIdentifier": id,
                          "Message": "DB cluster is being started due to it exceeding the maximum allowed time being stopped.",
                          "EventID": "RDS-EVENT-0153"}})
    };
    let report = e.invoke(event(&ours)).await.expect("restop");
    assert_eq!(
        (report.resources[0].action, report.resources[0].outcome),
        ("stop", Outcome::Done)
    );
    assert_eq!(e.status(&ours).await, "stopped");
    // The same event again (a retry) is a no-op, not an error.
    let again = e.invoke(event(&ours)).await.expect("restop again");
    assert_eq!(again.resources[0].outcome, Outcome::Skipped);
    assert_eq!(e.status(&ours).await, "stopped");
    for id in [&theirs, &untagged] {
        let r = e.invoke(event(id)).await.expect("not ours");
        assert_eq!(r.resources[0].outcome, Outcome::Skipped);
        assert_eq!(e.status(id).await, "available");
    }
}

#[tokio::test]
async fn malformed_events_get_a_clear_error_and_no_action() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "bad").await;
    let idle = e.cluster("idle", &e.tags(true, &[]), None).await;
    e.connections(&idle, 0.0).await;
    e.aws.reset_calls();
    for (event, want) in [
        (json!({"action": "hibernate"}), "unknown action"),
        (json!({"action": "pause"}), "needs `environment`"),
        (json!({"action": "sweep", "dry_run": "no"}), "dry_run"),
        (json!("sweep"), "JSON object"),
        (
            json!({"detail-type": "RDS DB Cluster Event", "source": "aws.rds", "detail": {"EventID": "RDS-EVENT-0153"}}),
            "SourceIdentifier",
        ),
    ] {
        let err = e.invoke(event).await.expect_err("bad event");
        assert!(err.to_string().contains(want), "{err}");
        assert!(matches!(err, aurora_autopause::Error::BadEvent(_)));
    }
    assert_eq!(e.aws.calls(), 0, "no AWS call for a bad event");
    assert_eq!(e.status(&idle).await, "available");
}

#[tokio::test]
async fn sweep_stops_only_idle_opted_in_rds_instances_and_wake_starts_them() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "inst").await;
    let idle = e
        .instance("idle", &e.tags(true, &[]), "db.r6g.large", true)
        .await;
    let busy = e
        .instance("busy", &e.tags(true, &[]), "db.t3.small", false)
        .await;
    let prod = e
        .instance(
            "prod",
            &e.tags(true, &[("Environment", "Production")]),
            "db.t3.small",
            false,
        )
        .await;
    for id in [&idle, &prod] {
        e.instance_connections(id, 0.0).await;
    }
    e.instance_connections(&busy, 3.0).await;

    let report = e.invoke(json!({"action": "sweep"})).await.expect("sweep");

    assert_eq!(e.instance_status(&idle).await, "stopped");
    assert_eq!(e.instance_status(&busy).await, "available");
    assert_eq!(e.instance_status(&prod).await, "available");
    let stopped = item(&report, &idle).unwrap();
    assert_eq!(
        (stopped.kind, stopped.action, stopped.outcome),
        (
            aurora_autopause::report::Kind::RdsInstance,
            "stop",
            Outcome::Done
        )
    );
    // db.r6g.large, Multi-AZ: the standby counts too.
    assert_eq!(stopped.hourly_saving_usd, Some(0.45));
    assert!(
        tag_keys(e.describe_instance(&idle).await.tag_list()).contains(&PAUSED_AT_TAG.to_string())
    );
    assert!(reason(&report, &busy).contains("busy"));
    assert!(reason(&report, &prod).contains("protected"));
    assert!(
        !tag_keys(e.describe_instance(&prod).await.tag_list()).contains(&RECORD_TAG.to_string())
    );

    // A wake starts it again and clears its record.
    let woke = e
        .invoke(json!({"action": "wake", "environment": e.env}))
        .await
        .expect("wake");
    assert_eq!(item(&woke, &idle).unwrap().action, "start");
    assert_eq!(e.instance_status(&idle).await, "available");
    let keys = tag_keys(e.describe_instance(&idle).await.tag_list());
    assert!(!keys.contains(&RECORD_TAG.to_string()), "{keys:?}");
    assert_eq!(e.instance_status(&prod).await, "available");
}

#[tokio::test]
async fn a_database_rds_started_within_the_window_is_not_idle_whatever_its_metrics() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "fresh").await;
    let fresh = e
        .instance("fresh", &e.tags(true, &[]), "db.t3.small", false)
        .await;
    // Quiet minutes over the whole window, but RDS recorded the instance's creation
    // ("DB instance created") a moment ago: inside the window.
    e.instance_connections(&fresh, 0.0).await;

    let now = e
        .invoke_after(json!({"action": "sweep"}), Duration::ZERO)
        .await
        .expect("sweep");
    assert_eq!(e.instance_status(&fresh).await, "available");
    let why = reason(&now, &fresh);
    assert!(
        why.contains("RDS recorded") && why.contains("DB instance created"),
        "{why}"
    );
    assert!(
        why.contains("ASSUMPTION: quiet minutes may be published right through a restart"),
        "{why}"
    );

    // A whole window after it, the same quiet minutes make it idle.
    e.invoke(json!({"action": "sweep"})).await.expect("sweep");
    assert_eq!(e.instance_status(&fresh).await, "stopped");
}

#[tokio::test]
async fn rds_event_0154_restops_an_instance_we_paused() {
    let sdk = groundcrew::require_local_aws!();
    let e = Estate::new(&sdk, "restop-db").await;
    // Stopped by groundcrew a week ago, started by AWS now: available with our record.
    let ours = e
        .instance(
            "ours",
            &e.tags(
                true,
                &[
                    (RECORD_TAG, "mode=stop"),
                    (PAUSED_AT_TAG, "2026-11-14T20:00:00Z"),
                ],
            ),
            "db.t3.small",
            false,
        )
        .await;
    let theirs = e
        .instance("theirs", &e.tags(true, &[]), "db.t3.small", false)
        .await;
    let event = |id: &str| {
        json!({"version": "0", "id": "1", "detail-type": "RDS DB Instance Event", "source": "aws.rds",
               "account": "123456789012", "time": "2026-11-21T22:10:00Z", "region": "us-east-1",
               "resources": [format!("arn:aws:rds:us-east-1:123456789012:db:{id}")],
               "detail": {"EventCategories": ["notification"], "SourceType": "DB_INSTANCE", "SourceIdentifier": id,
                          "Message": "DB instance is being started due to it exceeding the maximum allowed time being stopped.",
                          "EventID": "RDS-EVENT-0154"}})
    };
    let report = e.invoke(event(&ours)).await.expect("restop");
    assert_eq!(
        (report.resources[0].action, report.resources[0].outcome),
        ("stop", Outcome::Done)
    );
    assert_eq!(e.instance_status(&ours).await, "stopped");
    // The same event again (a retry): the instance is stopped already; nothing changes.
    let again = e.invoke(event(&ours)).await.expect("restop again");
    assert_eq!(again.resources[0].outcome, Outcome::Skipped);
    assert_eq!(e.instance_status(&ours).await, "stopped");
    // Not paused by groundcrew: left running.
    let r = e.invoke(event(&theirs)).await.expect("not ours");
    assert_eq!(r.resources[0].outcome, Outcome::Skipped);
    assert_eq!(e.instance_status(&theirs).await, "available");
}
