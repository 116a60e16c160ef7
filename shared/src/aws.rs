//! AWS SDK configuration shared by every function.
//!
//! `aws-config` already honours `AWS_ENDPOINT_URL` and the per-service
//! `AWS_ENDPOINT_URL_<SERVICE>` variables, so the same binary runs against the local AWS
//! (moto) and real AWS. On top of the defaults we set the retry and timeout policy: the
//! SDK's standard mode retries throttling and transient errors with jittered exponential
//! backoff; the invocation deadline is enforced by callers through [`crate::Deadline`].
//!
//! Lambda gives every function its region and its role's credentials in environment
//! variables. When they are there, the loader takes them directly ([`from_environment`]):
//! left to itself it would build its default credential chain (an STS client, which
//! parses the SDK's whole partition table, an IMDS client, a web-identity provider) and
//! its region chain (another IMDS client) at every cold start, about 1.2 million
//! instructions, only to read the same variables first. Without them (a developer's
//! profile, SSO) the default chains run as before.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;

/// Attempts per AWS call, the first included.
pub const MAX_ATTEMPTS: u32 = 5;

/// Loads the SDK configuration from the process environment (run once, in `main`).
pub async fn load_sdk_config() -> SdkConfig {
    let var = |name: &str| std::env::var(name).ok();
    from_environment(base_loader(), &var).load().await
}

/// The region and static credentials the environment holds, set on the loader so that
/// its default chains are not built (see the module's comment). The same variables, in
/// the same order, as the chains' own first links: `AWS_REGION`, then
/// `AWS_DEFAULT_REGION`; `AWS_ACCESS_KEY_ID` with `AWS_SECRET_ACCESS_KEY`, and
/// `AWS_SESSION_TOKEN` and `AWS_ACCOUNT_ID` when set. Read once: a process's environment
/// does not change, and the SDK's own environment provider, the chain's first link, never
/// refreshes these values either.
fn from_environment(
    mut loader: ConfigLoader,
    var: &dyn Fn(&str) -> Option<String>,
) -> ConfigLoader {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if let Some(region) = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) {
        loader = loader.region(Region::new(region));
    }
    if let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let mut credentials = Credentials::builder()
            .access_key_id(key)
            .secret_access_key(secret)
            .provider_name("EnvironmentVariable");
        credentials.set_session_token(var("AWS_SESSION_TOKEN"));
        credentials.set_account_id(var("AWS_ACCOUNT_ID").map(Into::into));
        loader = loader.credentials_provider(credentials.build());
    }
    loader
}

/// Loads the SDK configuration for an explicit endpoint, region and static credentials:
/// the local AWS in tests, without touching the process environment.
pub async fn load_sdk_config_for_endpoint(endpoint: &str, region: &str) -> SdkConfig {
    base_loader()
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
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
    let var = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    from_environment(base_loader().env(env), &var).load().await
}

fn base_loader() -> ConfigLoader {
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

    async fn credentials_of(config: &SdkConfig) -> aws_credential_types::provider::Result {
        use aws_credential_types::provider::ProvideCredentials;
        config
            .credentials_provider()
            .expect("a credentials provider")
            .provide_credentials()
            .await
    }

    #[tokio::test]
    async fn takes_the_region_and_credentials_lambda_sets_in_the_environment() {
        let config = load_sdk_config_from_vars(&[
            ("AWS_DEFAULT_REGION", "us-west-2"),
            ("AWS_REGION", "eu-central-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ])
        .await;
        // AWS_REGION wins over AWS_DEFAULT_REGION, as in the SDK's own region chain.
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-central-1"));
        let credentials = credentials_of(&config).await.expect("credentials");
        assert_eq!(credentials.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_access_key(), "secret");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[tokio::test]
    async fn without_them_the_default_chains_still_decide() {
        // No region variable and a blank key: both default chains run, find nothing (no
        // profile files, IMDS disabled) and say so instead of inventing a value.
        let config = load_sdk_config_from_vars(&[
            ("AWS_ACCESS_KEY_ID", " "),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/nonexistent/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ])
        .await;
        assert_eq!(config.region(), None);
        let found = credentials_of(&config).await;
        assert!(found.is_err(), "no credentials anywhere, got {found:?}");
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
