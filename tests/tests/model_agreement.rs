//! The models against the local AWS (moto): the same request sequence through
//! aurora-autopause's own SDK adapter and through the model's, comparing what both have:
//! error codes and end states. moto acts at once and has no event history, so the model
//! is advanced past its transitions before states are compared.

use std::sync::Arc;

use aurora_autopause::aws::Aws;
use aurora_autopause::cloud::Rds;
use aurora_autopause::model::Cluster;
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

async fn moto_sequence(aws: &Aws, id: &str) -> (Vec<String>, String) {
    let mut outcomes = Vec::new();
    for step in SEQUENCE {
        let r = match step {
            Step::Stop => aws.stop(id).await,
            Step::Start => aws.start(id).await,
        };
        outcomes.push(outcome(r));
    }
    let end = aws
        .cluster(id)
        .await
        .ok()
        .flatten()
        .map(|c| c.status)
        .unwrap_or_default();
    (outcomes, end)
}

/// The model, with the time between steps long enough for each transition to finish
/// (moto finishes them at once): the comparison is of outcomes, not of timing.
fn model_sequence(sim: &Sim) -> (Vec<String>, String) {
    let mut m = RdsModel::default();
    let mut now = sim.start();
    m.add(
        Cluster {
            id: "c".into(),
            arn: "arn:aws:rds:us-east-1:123456789012:cluster:c".into(),
            status: "available".into(),
            ..Default::default()
        },
        now,
    );
    let mut outcomes = Vec::new();
    let mut rng = sim.rng();
    for step in SEQUENCE {
        let r = match step {
            Step::Stop => m.stop("c", now, &mut rng),
            Step::Start => m.start("c", now, Starter::Groundcrew, &mut rng),
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
        m.describe("c").map(|c| c.status).unwrap_or_default(),
    )
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
    let (moto_outcomes, moto_end) = moto_sequence(&aws, &id).await;
    let (model_outcomes, model_end) = tokio::task::spawn_blocking(|| {
        let mut result = None;
        let _ = run_seed(
            "model-agreement",
            1,
            sim::scenarios::aurora::start(),
            FaultRates::NONE,
            |sim: Arc<Sim>| {
                result = Some(model_sequence(&sim));
                async {}
            },
        );
        result.unwrap_or_default()
    })
    .await
    .expect("model run");
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
        .cluster("no-such-cluster-agree")
        .await
        .expect("describe")
        .is_none());
}
