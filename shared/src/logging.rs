//! JSON logs, one object a line, carrying the Lambda request id.
//!
//! `lambda_runtime` wraps each invocation in a span named "Lambda runtime invoke" with a
//! `requestId` field; the span list printed with every event carries it into each line.
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging
//! controls) or `RUST_LOG`, and defaults to `info`.

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; call once in `main`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string())
        .to_ascii_lowercase();
    // A second init (tests, or a library that already installed one) is not an error.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, &level));
}

/// Caps the target that logs raw invocation events (lambda_runtime 1.x, at trace).
const RAW_EVENT_CAP: &str = "lambda_runtime::layers::api_response=debug";

/// The JSON subscriber writing to `writer`, filtered by `directives` (`info`, `debug`, …).
pub fn subscriber<W>(writer: W, directives: &str) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    // At trace level lambda_runtime logs every raw event, and events can carry credentials
    // (a CodePipeline job's artifactCredentials): never below debug. (Static and valid; a
    // test holds it to that.)
    if let Ok(cap) = RAW_EVENT_CAP.parse() {
        filter = filter.add_directive(cap);
    }
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(true)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::LogCapture;

    #[test]
    fn raw_events_are_never_logged_even_at_trace() {
        let capture = LogCapture::default();
        tracing::subscriber::with_default(subscriber(capture.clone(), "trace"), || {
            tracing::trace!(
                target: "lambda_runtime::layers::api_response",
                body = "{\"secretAccessKey\":\"canary-key\"}",
                "raw JSON event received from Lambda"
            );
            tracing::trace!("kept at trace");
        });
        let text = capture.text();
        assert!(text.contains("kept at trace"), "{text}");
        assert!(!text.contains("canary-key"), "{text}");
    }

    #[test]
    fn lines_are_json_with_the_request_id() {
        let capture = LogCapture::default();
        let subscriber = subscriber(capture.clone(), "info");
        tracing::subscriber::with_default(subscriber, || {
            // The span lambda_runtime opens around every invocation.
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-42");
            let _entered = span.enter();
            tracing::info!(alarm = "cpu-high", "delivered");
            tracing::debug!("filtered out");
        });
        let text = capture.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(line["message"], "delivered");
        assert_eq!(line["alarm"], "cpu-high");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["spans"][0]["requestId"], "req-42");
    }
}
