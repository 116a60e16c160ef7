//! The Lambda control plane against the local AWS (moto): configuration updates, versions,
//! aliases, cleanup and restore with the real SDK client. moto cannot invoke functions
//! without Docker, so measurement is covered by tests/standin.rs.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture as SdkArch, Environment, FunctionCode, Runtime};
use groundcrew::testing::{local_aws_endpoint, new_bucket, unique_name};
use groundcrew::Deadline;
use power_tuner::architecture::Architecture;
use power_tuner::lambda::{CodeSource, LambdaApi, SdkLambda};
use power_tuner::run::{self, Target};
use serde_json::json;

/// An empty zip archive: enough for moto to accept a function.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// moto checks that the execution role exists; there is no IAM SDK in the workspace, so
/// the role is created with IAM's query API.
async fn create_role(name: &str) -> String {
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={name}&AssumeRolePolicyDocument=%7B%7D"
    );
    let resp = reqwest::Client::new()
        .post(local_aws_endpoint())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body)
        .send()
        .await
        .expect("IAM CreateRole reached moto");
    assert!(
        resp.status().is_success(),
        "CreateRole: {}",
        resp.text().await.unwrap_or_default()
    );
    format!("arn:aws:iam::123456789012:role/{name}")
}

async fn create_function(client: &aws_sdk_lambda::Client, name: &str, role: &str) -> String {
    let out = client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .memory_size(1024)
        .architectures(SdkArch::Arm64)
        .environment(Environment::builder().variables("MODE", "demo").build())
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(EMPTY_ZIP.to_vec()))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
    out.function_arn().expect("an ARN").to_string()
}

#[tokio::test]
async fn control_plane_update_publish_alias_cleanup_and_restore() {
    let sdk = groundcrew::require_local_aws!();
    let client = aws_sdk_lambda::Client::new(&sdk);
    let name = unique_name("pt-moto");
    let role = create_role(&unique_name("pt-role")).await;
    let arn = create_function(&client, &name, &role).await;
    let lambda = SdkLambda::new(&sdk);
    assert!(!lambda.is_built(), "the SDK client is built on first use");
    let deadline = Deadline::after(Duration::from_secs(60));

    let original = power_tuner::wait::until_updated(&lambda, &arn, deadline)
        .await
        .expect("configuration");
    assert!(lambda.is_built());
    assert_eq!(original.memory_mb, 1024);
    assert_eq!(original.architecture, Architecture::Arm64);
    assert_eq!(
        original.environment,
        Some(HashMap::from([("MODE".to_string(), "demo".to_string())]))
    );

    // the Publisher's steps for one power value
    lambda
        .update_memory(&arn, 256)
        .await
        .expect("update memory");
    let state = power_tuner::wait::until_updated(&lambda, &arn, deadline)
        .await
        .expect("updated");
    assert_eq!(state.memory_mb, 256);
    let v1 = lambda
        .publish_version(&arn, "power-tuner test")
        .await
        .expect("publish");
    lambda
        .put_alias(&arn, "RAM256", &v1)
        .await
        .expect("create alias");
    lambda
        .update_memory(&arn, 512)
        .await
        .expect("update memory");
    let v2 = lambda
        .publish_version(&arn, "power-tuner test")
        .await
        .expect("publish");
    assert_ne!(v1, v2, "a changed configuration is a new version");
    // put_alias updates an existing alias
    lambda
        .put_alias(&arn, "RAM256", &v2)
        .await
        .expect("update alias");
    let alias = client
        .get_alias()
        .function_name(&arn)
        .name("RAM256")
        .send()
        .await
        .expect("alias exists");
    assert_eq!(alias.function_version(), Some(v2.as_str()));

    let versions: Vec<String> = lambda
        .list_versions(&name)
        .await
        .expect("list versions")
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert!(
        versions.contains(&v1) && versions.contains(&v2),
        "{versions:?}"
    );

    // cleanup: alias, then versions; deleting what is already gone is not an error
    lambda
        .delete_alias(&arn, "RAM256")
        .await
        .expect("delete alias");
    lambda
        .delete_alias(&arn, "RAM256")
        .await
        .expect("deleting a missing alias is fine");
    lambda
        .delete_version(&arn, &v2)
        .await
        .expect("delete version");
    lambda
        .delete_version(&arn, &v1)
        .await
        .expect("delete version");
    lambda
        .delete_version(&arn, &v1)
        .await
        .expect("deleting a missing version is fine");
    // moto looks list calls up by the raw path segment: use the name there
    let aliases = client
        .list_aliases()
        .function_name(&name)
        .send()
        .await
        .expect("list aliases");
    assert!(aliases.aliases().is_empty());
    let left: Vec<String> = lambda
        .list_versions(&name)
        .await
        .expect("list versions")
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(left, vec!["$LATEST".to_string()]);

    // restore: memory and environment back as they were
    let mut vars = HashMap::from([("MODE".to_string(), "demo".to_string())]);
    vars.insert(run::COLD_START_VAR.to_string(), "256-arm64-0".to_string());
    lambda
        .update_environment(&arn, vars)
        .await
        .expect("environment");
    power_tuner::cleanup::restore(&lambda, &arn, &original, &CodeSource::Current, deadline)
        .await
        .expect("restore");
    let restored = lambda
        .get_configuration(&arn, None)
        .await
        .expect("configuration");
    assert_eq!(restored.memory_mb, 1024);
    assert_eq!(restored.environment, original.environment);

    // autoOptimize with an alias: $LATEST at the winner, the alias on a new version
    let target = Target {
        architecture: Architecture::Arm64,
        memory_mb: 512,
    };
    let version = power_tuner::apply::apply(
        &lambda,
        &arn,
        target,
        &CodeSource::Current,
        Some("live"),
        deadline,
    )
    .await
    .expect("apply")
    .expect("a version");
    let live = client
        .get_alias()
        .function_name(&arn)
        .name("live")
        .send()
        .await
        .expect("live alias");
    assert_eq!(live.function_version(), Some(version.as_str()));
    assert_eq!(
        lambda
            .get_configuration(&arn, None)
            .await
            .unwrap()
            .memory_mb,
        512
    );

    client
        .delete_function()
        .function_name(&arn)
        .send()
        .await
        .expect("delete function");
}

#[tokio::test]
async fn missing_function_is_a_clear_not_found() {
    let sdk = groundcrew::require_local_aws!();
    let lambda = SdkLambda::new(&sdk);
    let arn = format!(
        "arn:aws:lambda:us-east-1:123456789012:function:{}",
        unique_name("pt-missing")
    );
    let err = lambda.get_configuration(&arn, None).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string()
            .starts_with("GetFunctionConfiguration failed: ResourceNotFoundException"),
        "{err}"
    );
}

async fn bucket(sdk: &aws_config::SdkConfig) -> String {
    new_bucket(sdk, "pt-state").await.1
}

fn at(min: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::minutes(min)
}

/// The lock's conditional writes against S3 itself (moto implements `If-None-Match: *`
/// and `If-Match`).
#[tokio::test]
async fn the_lock_holds_with_real_conditional_writes() {
    use power_tuner::lock::{self, Acquired, LockError};
    let sdk = groundcrew::require_local_aws!();
    let store = power_tuner::store::S3Store::new(&sdk);
    assert!(!store.is_built(), "the SDK client is built on first use");
    let b = bucket(&sdk).await;
    let loc = lock::location(
        &b,
        "arn:aws:lambda:us-east-1:123456789012:function:groundcrew-dev-x",
    );
    assert_eq!(
        lock::acquire(&store, &loc, "run-a", "req-1", at(0), at(20)).await,
        Ok(Acquired::Fresh)
    );
    assert!(matches!(
        lock::acquire(&store, &loc, "run-b", "req-2", at(1), at(21)).await,
        Err(LockError::Held { run_id, .. }) if run_id == "run-a"
    ));
    assert_eq!(
        lock::acquire(&store, &loc, "run-b", "req-2", at(30), at(50)).await,
        Ok(Acquired::TookOver {
            dead_run: "run-a".into()
        })
    );
    lock::release(&store, &loc, "run-b", at(31)).await.unwrap();
    assert_eq!(
        lock::acquire(&store, &loc, "run-c", "req-3", at(32), at(52)).await,
        Ok(Acquired::AfterRelease)
    );
    // a write conditioned on a stale ETag is refused by S3
    use power_tuner::store::{Condition, ObjectStore, StoreError};
    assert_eq!(
        store
            .put(
                &loc,
                b"{}".to_vec(),
                "application/json",
                Condition::IfMatch("\"stale\"".into())
            )
            .await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store
            .put(
                &loc,
                b"{}".to_vec(),
                "application/json",
                Condition::IfAbsent
            )
            .await,
        Err(StoreError::Conflict)
    );
}

/// A run killed mid-value left a changed memory size, an alias it had recorded and a
/// version it had not: the `cleanup` action finds all three from the state in S3.
#[tokio::test]
async fn cleanup_after_a_kill_from_the_state_in_s3() {
    use power_tuner::lambda::FunctionState;
    use power_tuner::state::{self, Ledger, Phase, RunState};
    let sdk = groundcrew::require_local_aws!();
    let client = aws_sdk_lambda::Client::new(&sdk);
    let name = unique_name("groundcrew-dev-killed");
    let role = create_role(&unique_name("pt-role")).await;
    let arn = create_function(&client, &name, &role).await;
    let lambda = SdkLambda::new(&sdk);
    let b = bucket(&sdk).await;
    let deadline = Deadline::after(Duration::from_secs(60));
    let original: FunctionState = power_tuner::wait::until_updated(&lambda, &arn, deadline)
        .await
        .unwrap();
    let existing: Vec<String> = lambda
        .list_versions(&arn)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect();
    let marker = "power-tuner run killed-1";
    // moto lists versions only by name (an ARN lists none), so the run names the
    // function by name here; AWS takes either.
    let st = RunState {
        run_id: "killed-1".into(),
        function: name.clone(),
        request: serde_json::from_value(json!({"lambdaARN": arn, "num": 5})).unwrap(),
        phase: Phase::Measuring,
        started_at: at(0),
        updated_at: at(0),
        original: original.clone(),
        original_code: None,
        existing_versions: existing,
        marker: marker.into(),
        ledger: Ledger {
            aliases: vec!["RAM256".into()],
            versions: vec![],
        },
        plan: vec![Target {
            architecture: Architecture::Arm64,
            memory_mb: 256,
        }],
        values: vec![],
        estimate: None,
        tuner_invocations: 0,
        invocations: 0,
        tuner_seconds: 0.0,
        warnings: vec![],
        failure: None,
        result: None,
    };
    let store = power_tuner::store::S3Store::new(&sdk);
    state::save(&store, &b, &st).await.unwrap();
    // what the run did before it was killed
    lambda.update_memory(&arn, 256).await.unwrap();
    power_tuner::wait::until_updated(&lambda, &arn, deadline)
        .await
        .unwrap();
    let v = lambda.publish_version(&arn, marker).await.unwrap();
    lambda.put_alias(&arn, "RAM256", &v).await.unwrap();
    // its lock, expired long ago
    power_tuner::lock::acquire(
        &store,
        &power_tuner::lock::location(&b, &name),
        "killed-1",
        "req-killed",
        at(0),
        at(15),
    )
    .await
    .unwrap();

    let tuner = power_tuner::handler::Tuner {
        lambda: SdkLambda::new(&sdk),
        store: power_tuner::store::S3Store::new(&sdk),
        config: power_tuner::Config {
            default_report_s3: Some(format!("s3://{b}/reports")),
            ..power_tuner::Config::default()
        },
    };
    let out = tuner
        .handle(
            &json!({"action": "cleanup", "runId": "killed-1"}),
            &groundcrew::Invocation::with_budget("ops", Duration::from_secs(60)),
        )
        .await
        .expect("cleanup");
    let out = serde_json::to_value(out).unwrap();
    assert_eq!(out["cleanup"]["complete"], json!(true), "{out:#}");
    assert_eq!(out["cleanup"]["aliasesDeleted"], json!(1));
    assert_eq!(
        out["cleanup"]["versionsDeleted"],
        json!(1),
        "found by its marker"
    );
    let now = lambda.get_configuration(&arn, None).await.unwrap();
    assert_eq!(now.memory_mb, 1024);
    let left: Vec<String> = lambda
        .list_versions(&name)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(left, vec!["$LATEST".to_string()]);
    let st = state::load(&store, &b, "killed-1").await.unwrap().unwrap();
    assert_eq!(st.phase, Phase::Failed);
    assert!(st.ledger.is_empty());
    client
        .delete_function()
        .function_name(&arn)
        .send()
        .await
        .expect("delete function");
}
