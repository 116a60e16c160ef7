//! The models against the local AWS (moto): the same request sequence through
//! aurora-autopause's own SDK adapter and through the model's, comparing what both have:
//! error codes and end states. moto acts at once and has no event history, so the model
//! is advanced past its transitions before states are compared.

use std::sync::Arc;

use aurora_autopause::aws::Aws;
use aurora_autopause::cloud::Rds;
use aurora_autopause::model::{Cluster, DbKind};
use aws_sdk_rds as rds;
use sim::kernel::{run_seed, FaultRates, Sim};
use sim::models::rds::{RdsModel, Starter};

/// The steps of one sequence, applied to a cluster that starts `available`.
#[derive(Debug, Clone, Copy)]
enum Step {
    Stop,
    Start,
}

const SEQUENCE: [Step; 5] = [Step::Stop, Step::Stop, Step::Start, Step::Start, Step::Stop];

fn outcome(r: Result<(), aurora_autopause::Error>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => e.code().unwrap_or("no code").to_string(),
    }
}

async fn moto_sequence(aws: &Aws, kind: DbKind, id: &str) -> (Vec<String>, String) {
    let mut outcomes = Vec::new();
    for step in SEQUENCE {
        let r = match step {
            Step::Stop => aws.stop(kind, id).await,
            Step::Start => aws.start(kind, id).await,
        };
        outcomes.push(outcome(r));
    }
    let end = aws
        .describe(kind, id)
        .await
        .ok()
        .flatten()
        .map(|c| c.status)
        .unwrap_or_default();
    (outcomes, end)
}

/// The model, with the time between steps long enough for each transition to finish
/// (moto finishes them at once): the comparison is of outcomes, not of timing.
fn model_sequence(sim: &Sim, kind: DbKind) -> (Vec<String>, String) {
    let mut m = RdsModel::default();
    let mut now = sim.start();
    m.add(
        Cluster {
            kind,
            id: "c".into(),
            arn: "arn:aws:rds:us-east-1:123456789012:cluster:c".into(),
            status: "available".into(),
            engine: "postgres".into(),
            instance_classes: vec!["db.t3.small".into()],
            ..Default::default()
        },
        now,
    );
    let mut outcomes = Vec::new();
    let mut rng = sim.rng();
    for step in SEQUENCE {
        let r = match step {
            Step::Stop => m.stop_kind(kind, "c", now, &mut rng),
            Step::Start => m.start_kind(kind, "c", now, Starter::Groundcrew, &mut rng),
        };
        outcomes.push(match r {
            Ok(()) => "ok".into(),
            Err(e) => e.code.to_string(),
        });
        now += chrono::Duration::minutes(30);
        m.advance(now, &mut rng);
    }
    (
        outcomes,
        m.describe_kind(kind, "c")
            .map(|c| c.status)
            .unwrap_or_default(),
    )
}

/// The model's answers to [`SEQUENCE`] on a database of `kind`.
async fn model_run(kind: DbKind) -> (Vec<String>, String) {
    tokio::task::spawn_blocking(move || {
        let mut result = None;
        let _ = run_seed(
            "model-agreement",
            1,
            sim::scenarios::aurora::start(),
            FaultRates::NONE,
            |sim: Arc<Sim>| {
                result = Some(model_sequence(&sim, kind));
                async {}
            },
        );
        result.unwrap_or_default()
    })
    .await
    .expect("model run")
}

#[tokio::test]
async fn rds_stop_and_start_agree_with_moto() {
    let Some(sdk) = groundcrew::testing::local_aws().await else {
        return;
    };
    let aws = Aws::new(&sdk, None);
    let id = groundcrew::testing::unique_name("agree").to_lowercase();
    aws.rds
        .create_db_cluster()
        .db_cluster_identifier(&id)
        .engine("aurora-postgresql")
        .engine_version("16.4")
        .master_username("app")
        .master_user_password("not-a-secret-1")
        .tags(
            rds::types::Tag::builder()
                .key("purpose")
                .value("model-agreement")
                .build(),
        )
        .send()
        .await
        .expect("create DB cluster");
    let (moto_outcomes, moto_end) = moto_sequence(&aws, DbKind::Cluster, &id).await;
    let (model_outcomes, model_end) = model_run(DbKind::Cluster).await;
    // Both refuse a stop of a stopped cluster and a start of a running one with
    // InvalidDBClusterStateFault, and end in the same state.
    assert_eq!(
        moto_outcomes, model_outcomes,
        "moto and the model answer the same sequence alike"
    );
    assert_eq!(moto_end, model_end);
    // A cluster that does not exist: DBClusterNotFoundFault in both (the adapter reads it
    // as "none").
    assert!(aws
        .describe(DbKind::Cluster, "no-such-cluster-agree")
        .await
        .expect("describe")
        .is_none());
}

#[tokio::test]
async fn rds_instance_stop_and_start_agree_with_moto() {
    let Some(sdk) = groundcrew::testing::local_aws().await else {
        return;
    };
    let aws = Aws::new(&sdk, None);
    let id = groundcrew::testing::unique_name("agree-db").to_lowercase();
    aws.rds
        .create_db_instance()
        .db_instance_identifier(&id)
        .engine("postgres")
        .db_instance_class("db.t3.small")
        .allocated_storage(20)
        .master_username("app")
        .master_user_password("not-a-secret-1")
        .send()
        .await
        .expect("create DB instance");
    let (moto_outcomes, moto_end) = moto_sequence(&aws, DbKind::Instance, &id).await;
    let (model_outcomes, model_end) = model_run(DbKind::Instance).await;
    // A stop of a stopped instance and a start of a running one: InvalidDBInstanceState in
    // both; the same end state.
    assert_eq!(
        moto_outcomes,
        vec![
            "ok",
            "InvalidDBInstanceState",
            "ok",
            "InvalidDBInstanceState",
            "ok"
        ],
        "moto's answers"
    );
    assert_eq!(
        moto_outcomes, model_outcomes,
        "moto and the model answer the same instance sequence alike"
    );
    assert_eq!(moto_end, model_end);
    // An instance that does not exist: "none" through the adapter, not found in the model.
    assert!(aws
        .describe(DbKind::Instance, "no-such-instance-agree")
        .await
        .expect("describe")
        .is_none());
}
