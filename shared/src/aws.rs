//! AWS SDK configuration shared by every function.
//!
//! `aws-config` already honours `AWS_ENDPOINT_URL` and the per-service
//! `AWS_ENDPOINT_URL_<SERVICE>` variables, so the same binary runs against the local AWS
//! (moto) and real AWS. On top of the defaults we set the retry and timeout policy: the
//! SDK's standard mode retries throttling and transient errors with jittered exponential
//! backoff; the invocation deadline is enforced by callers through [`crate::Deadline`].

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Attempts per AWS call, the first included.
pub const MAX_ATTEMPTS: u32 = 5;

/// Loads the SDK configuration from the process environment (run once, in `main`).
pub async fn load_sdk_config() -> SdkConfig {
    base_loader().load().await
}

/// Loads the SDK configuration for an explicit endpoint, region and static credentials:
/// the local AWS in tests, without touching the process environment.
pub async fn load_sdk_config_for_endpoint(endpoint: &str, region: &str) -> SdkConfig {
    base_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "groundcrew-local",
        ))
        .load()
        .await
}

/// Loads the SDK configuration from the given variables only, as if they were the
/// process environment (aws-config's `env` override needs its `test-util` feature,
/// which only this crate's tests turn on).
#[cfg(test)]
async fn load_sdk_config_from_vars(vars: &[(&str, &str)]) -> SdkConfig {
    let env = aws_types::os_shim_internal::Env::from_slice(vars);
    base_loader().env(env).load().await
}

fn base_loader() -> aws_config::ConfigLoader {
    crate::tls::install_default_provider();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(crate::tls::sdk_http_client())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(5)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(20))
                .build(),
        )
}

/// The SDK error with its whole chain of causes, for messages and logs.
/// SDK errors name the operation and the service's code and message, never credentials.
pub fn describe_sdk_error<E: std::error::Error>(err: &E) -> String {
    aws_smithy_types::error::display::DisplayErrorContext(err).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn honours_the_global_endpoint_override() {
        let config = load_sdk_config_from_vars(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_REGION", "eu-west-1"),
        ])
        .await;
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        let retry = config.retry_config().expect("retry config set");
        assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
    }

    #[tokio::test]
    async fn honours_a_per_service_endpoint_override() {
        // An SSM call must reach the SSM-specific endpoint, not the global one.
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::header(
            "x-amz-target",
            "AmazonSSM.GetParameter",
        ))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
            r#"{"Parameter":{"Name":"/p","Type":"String","Value":"v","Version":1}}"#,
            "application/x-amz-json-1.1",
        ))
        .expect(1)
        .mount(&server)
        .await;
        let uri = server.uri();
        let config = load_sdk_config_from_vars(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
            ("AWS_ENDPOINT_URL_SSM", uri.as_str()),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ])
        .await;
        let ssm = aws_sdk_ssm::Client::new(&config);
        let out = ssm
            .get_parameter()
            .name("/p")
            .send()
            .await
            .expect("reached SSM override");
        assert_eq!(out.parameter().and_then(|p| p.value()), Some("v"));
    }
}
