//! The Lambda control plane against the local AWS (moto): configuration updates, versions,
//! aliases, cleanup and restore with the real SDK client. moto cannot invoke functions
//! without Docker, so measurement is covered by tests/standin.rs.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture as SdkArch, Environment, FunctionCode, Runtime};
use groundcrew::testing::{local_aws_endpoint, unique_name};
use groundcrew::Deadline;
use power_tuner::architecture::Architecture;
use power_tuner::lambda::{CodeSource, LambdaApi, SdkLambda};
use power_tuner::run::{self, Target};

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
    let deadline = Deadline::after(Duration::from_secs(60));

    let original = power_tuner::wait::until_updated(&lambda, &arn, deadline)
        .await
        .expect("configuration");
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
    assert_eq!(
        err.kind,
        power_tuner::lambda::LambdaErrorKind::NotFound,
        "{err}"
    );
}
