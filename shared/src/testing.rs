//! Test-tier helpers shared by every crate's tests (the `test-support` feature, enabled
//! from dev-dependencies only):
//!
//! - [`env`]: an [`Env`] over literal pairs, for configuration tests;
//! - [`LogCapture`]: the JSON log lines a piece of code writes, through the production
//!   subscriber ([`crate::logging::subscriber`]);
//! - the local AWS (moto, [`local_aws`], [`require_local_aws!`](crate::require_local_aws))
//!   and the stand-ins beside it ([`standin_endpoint`], [`with_endpoint`]);
//! - a wiremock server standing in for an AWS API ([`mock_aws`]);
//! - [`unique_name`] for resources in the shared local AWS.
//!
//! Outside CI a missing local AWS skips the test with a message; with `CI=true` it fails
//! the test, so a broken set-up can never pass as green.

use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aws_config::SdkConfig;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::Env;

/// An [`Env`] reading only these pairs, as if they were the process environment; of a
/// name given twice the later value wins (defaults first, then a test's overrides).
pub fn env<'a>(pairs: &[(&'a str, &'a str)]) -> Env<HashMap<&'a str, &'a str>> {
    Env::new(pairs.iter().copied().collect())
}

/// A log writer that keeps what is written, for tests that check what reaches the logs
/// (and what never may: secrets).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// The production JSON subscriber writing here, filtered by `directives`; use with
    /// `tracing::subscriber::with_default` (or `set_default` in async tests).
    pub fn subscriber(&self, directives: &str) -> impl tracing::Subscriber + Send + Sync {
        crate::logging::subscriber(self.clone(), directives)
    }

    fn bytes(&self) -> MutexGuard<'_, Vec<u8>> {
        // A test that panicked while writing must not hide the other tests' logs.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// Each line written so far, parsed as JSON (panics on a line that is not JSON: the
    /// production subscriber writes nothing else).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"))
            })
            .collect()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Where the test script runs moto; `GROUNDCREW_LOCAL_AWS` overrides it.
pub const DEFAULT_LOCAL_AWS: &str = "http://127.0.0.1:4566";

pub fn local_aws_endpoint() -> String {
    std::env::var("GROUNDCREW_LOCAL_AWS").unwrap_or_else(|_| DEFAULT_LOCAL_AWS.to_string())
}

fn reachable(endpoint: &str) -> bool {
    let host_port = endpoint
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .trim_end_matches('/');
    host_port
        .parse::<SocketAddr>()
        .ok()
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok())
}

/// The SDK configuration for the local AWS, or `None` (after saying why) when it is not
/// running and this is not CI. Panics in CI: a missing service is a failure there.
pub async fn local_aws() -> Option<SdkConfig> {
    let endpoint = local_aws_endpoint();
    if !reachable(&endpoint) {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !in_ci,
            "the local AWS is not running at {endpoint}; CI needs it (scripts/local-aws.sh start)"
        );
        eprintln!(
            "SKIPPED: the local AWS is not running at {endpoint} (scripts/local-aws.sh start)"
        );
        return None;
    }
    Some(crate::aws::load_sdk_config_for_endpoint(&endpoint, "us-east-1").await)
}

/// Where `scripts/local-aws.sh` runs the stand-ins (`scripts/standin.py`: CloudWatch in
/// the SDK's rpc-v2-cbor protocol, which moto lacks, CodePipeline job results, the Lambda
/// API for power-tuner, the HTTP receivers); `GROUNDCREW_LOCAL_CLOUDWATCH` overrides it.
pub const DEFAULT_STANDIN: &str = "http://127.0.0.1:4580";

pub fn standin_endpoint() -> String {
    std::env::var("GROUNDCREW_LOCAL_CLOUDWATCH").unwrap_or_else(|_| DEFAULT_STANDIN.to_string())
}

/// The same configuration (region, credentials, retries) with another endpoint: a
/// service moto lacks pointed at the stand-in, or at a wiremock server.
pub fn with_endpoint(sdk: &SdkConfig, endpoint: &str) -> SdkConfig {
    sdk.to_builder().endpoint_url(endpoint).build()
}

/// A wiremock server standing in for an AWS API, and an SDK configuration (static test
/// credentials, `us-east-1`) whose clients call it. Mount the answers on the server.
pub async fn mock_aws() -> (wiremock::MockServer, SdkConfig) {
    let server = wiremock::MockServer::start().await;
    let sdk = crate::aws::load_sdk_config_for_endpoint(&server.uri(), "us-east-1").await;
    (server, sdk)
}

/// A name no other test run will use, for resources in the shared local AWS.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos:x}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Returns from the test early when there is no local AWS (outside CI).
#[macro_export]
macro_rules! require_local_aws {
    () => {
        match $crate::testing::local_aws().await {
            Some(config) => config,
            None => return,
        }
    };
}

/// A new S3 bucket on the local AWS, named from `prefix`, and a path-style client for it
/// (a local endpoint serves every bucket under one host name).
pub async fn new_bucket(sdk: &SdkConfig, prefix: &str) -> (aws_sdk_s3::Client, String) {
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    // Bucket names are lower case.
    let bucket = unique_name(prefix).to_lowercase();
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("the local AWS creates the bucket");
    (s3, bucket)
}

/// A new SNS topic that delivers to a new SQS queue on the local AWS, both named from
/// `prefix`: a test reads the queue to see what a function published. `raw`: the queue gets
/// the message itself rather than SNS's JSON envelope around it. Returns the topic's ARN
/// and the queue's URL.
pub async fn topic_into_queue(sdk: &SdkConfig, prefix: &str, raw: bool) -> (String, String) {
    use aws_sdk_sqs::types::QueueAttributeName;
    let sns = aws_sdk_sns::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let topic = sns
        .create_topic()
        .name(unique_name(prefix))
        .send()
        .await
        .expect("the local AWS creates the topic")
        .topic_arn
        .expect("a topic ARN");
    let queue = sqs
        .create_queue()
        .queue_name(unique_name(prefix))
        .send()
        .await
        .expect("the local AWS creates the queue")
        .queue_url
        .expect("a queue URL");
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("the queue's attributes")
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("the queue's ARN");
    let mut subscribe = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn);
    if raw {
        subscribe = subscribe.attributes("RawMessageDelivery", "true");
    }
    subscribe
        .send()
        .await
        .expect("the local AWS subscribes the queue");
    (topic, queue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_reads_only_the_pairs() {
        let e = env(&[("GC_A", "1"), ("GC_B", " ")]);
        assert_eq!(e.optional("GC_A").as_deref(), Some("1"));
        assert_eq!(e.optional("GC_B"), None, "blank counts as unset");
        assert_eq!(
            e.optional("PATH"),
            None,
            "the process environment is not read"
        );
    }

    #[test]
    fn log_capture_keeps_the_json_lines() {
        let capture = LogCapture::default();
        tracing::subscriber::with_default(capture.subscriber("info"), || {
            tracing::info!(alarm = "cpu-high", "delivered");
            tracing::debug!("filtered out");
        });
        let lines = capture.json_lines();
        assert_eq!(lines.len(), 1, "{}", capture.text());
        assert_eq!(lines[0]["message"], "delivered");
        assert_eq!(lines[0]["alarm"], "cpu-high");
    }

    #[tokio::test]
    async fn mock_aws_clients_reach_the_server() {
        let (server, sdk) = mock_aws().await;
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
        let out = aws_sdk_ssm::Client::new(&sdk)
            .get_parameter()
            .name("/p")
            .send()
            .await
            .expect("reached the mock");
        assert_eq!(out.parameter().and_then(|p| p.value()), Some("v"));
    }

    #[tokio::test]
    async fn with_endpoint_keeps_the_rest_of_the_configuration() {
        let (_server, sdk) = mock_aws().await;
        let moved = with_endpoint(&sdk, "http://127.0.0.1:9");
        assert_eq!(moved.endpoint_url(), Some("http://127.0.0.1:9"));
        assert_eq!(moved.region(), sdk.region());
        assert_eq!(
            moved.retry_config().map(|r| r.max_attempts()),
            Some(crate::aws::MAX_ATTEMPTS)
        );
    }
}
