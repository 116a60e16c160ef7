//! Secrets read through the real SDK clients from the local AWS.

use groundcrew::require_local_aws;
use groundcrew::secrets::{reveal, AwsSecretStore, CachedSecrets, SecretError, DEFAULT_TTL};
use groundcrew::testing::unique_name;

#[tokio::test]
async fn reads_secrets_manager_and_ssm_secure_strings() {
    let config = require_local_aws!();
    let sm = aws_sdk_secretsmanager::Client::new(&config);
    let ssm = aws_sdk_ssm::Client::new(&config);

    let plain = unique_name("gc-plain");
    sm.create_secret()
        .name(&plain)
        .secret_string("123456:TOKEN")
        .send()
        .await
        .unwrap();
    let json = unique_name("gc-json");
    sm.create_secret()
        .name(&json)
        .secret_string(r#"{"webhook_url":"https://hooks.example/T1/B2/XYZ"}"#)
        .send()
        .await
        .unwrap();
    let param = format!("/{}", unique_name("gc-param"));
    ssm.put_parameter()
        .name(&param)
        .value("pd-routing-key")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();

    let secrets = CachedSecrets::new(AwsSecretStore::new(&config), DEFAULT_TTL);
    assert_eq!(
        reveal(&secrets.get_str(&plain).await.unwrap()),
        "123456:TOKEN"
    );
    assert_eq!(
        reveal(
            &secrets
                .get_str(&format!("{json}#webhook_url"))
                .await
                .unwrap()
        ),
        "https://hooks.example/T1/B2/XYZ"
    );
    assert_eq!(
        reveal(&secrets.get_str(&param).await.unwrap()),
        "pd-routing-key"
    );
    assert_eq!(
        reveal(&secrets.get_str(&format!("ssm:{param}")).await.unwrap()),
        "pd-routing-key"
    );

    let missing = secrets.get_str("gc-does-not-exist").await.unwrap_err();
    assert!(matches!(missing, SecretError::NotFound { .. }), "{missing}");
    let missing = secrets.get_str("/gc/does-not-exist").await.unwrap_err();
    assert!(matches!(missing, SecretError::NotFound { .. }), "{missing}");
}
