//! JSON logs, one object a line, carrying the Lambda request id.
//!
//! `lambda_runtime` wraps each invocation in a span named "Lambda runtime invoke" with a
//! `requestId` field; the span list printed with every event carries it into each line.
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging
//! controls) or `RUST_LOG`, and defaults to `info`.
//!
//! The filter is tracing-subscriber's `Targets` (`info`, `alarm_fanout=debug,info`, …):
//! levels per target, without `EnvFilter`'s span and field directives, whose regular
//! expressions every binary carried (issue 17; BENCHMARKS.md, levers).

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// Installs the global subscriber; call once in `main`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string())
        .to_ascii_lowercase();
    // A second init (tests, or a library that already installed one) is not an error.
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, &level));
}

/// The target that logs raw invocation events (lambda_runtime 1.x, at trace).
const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

/// The JSON subscriber writing to `writer`, filtered by `directives` (`info`, `debug`, …).
pub fn subscriber<W>(writer: W, directives: &str) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let asked = directives
        .parse::<Targets>()
        .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    // At trace level lambda_runtime logs every raw event, and events can carry credentials
    // (a CodePipeline job's artifactCredentials): never below debug, even when the
    // directives name that target themselves (a later directive for a target replaces an
    // earlier one). Added only when needed, so that at `info` the filter's level hint stays
    // `info` and debug call sites are skipped outright.
    let filter = if asked.would_enable(RAW_EVENT_TARGET, &tracing::Level::TRACE) {
        asked.with_target(RAW_EVENT_TARGET, LevelFilter::DEBUG)
    } else {
        asked
    };
    // The filter as the registry's first layer, so its level hint is the subscriber's
    // (the fmt builder's own filter would make it trace).
    let lines = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(writer)
        .with_ansi(false)
        .with_target(true)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true);
    tracing_subscriber::registry().with(filter).with(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::LogCapture;

    /// What lambda_runtime logs for every event at trace: the raw body, here with a canary.
    fn log_a_raw_event_at_trace() {
        tracing::trace!(
            target: "lambda_runtime::layers::api_response",
            body = "{\"secretAccessKey\":\"canary-key\"}",
            "raw JSON event received from Lambda"
        );
    }

    #[test]
    fn raw_events_are_never_logged_even_at_trace() {
        let capture = LogCapture::default();
        tracing::subscriber::with_default(subscriber(capture.clone(), "trace"), || {
            log_a_raw_event_at_trace();
            tracing::trace!("kept at trace");
        });
        let text = capture.text();
        assert!(text.contains("kept at trace"), "{text}");
        assert!(!text.contains("canary-key"), "{text}");
    }

    #[test]
    fn raw_events_stay_capped_when_the_directives_ask_for_their_target_at_trace() {
        let capture = LogCapture::default();
        let directives = "lambda_runtime::layers::api_response=trace,lambda_runtime=trace,info";
        tracing::subscriber::with_default(subscriber(capture.clone(), directives), || {
            log_a_raw_event_at_trace();
            tracing::debug!(target: "lambda_runtime::layers::api_response", "kept at debug");
        });
        let text = capture.text();
        assert!(text.contains("kept at debug"), "{text}");
        assert!(!text.contains("canary-key"), "{text}");
    }

    #[test]
    fn directives_set_levels_per_target_and_bad_ones_fall_back_to_info() {
        let capture = LogCapture::default();
        tracing::subscriber::with_default(subscriber(capture.clone(), "noisy=warn,debug"), || {
            tracing::info!(target: "noisy", "quietened");
            tracing::debug!(target: "groundcrew", "kept at debug");
        });
        let text = capture.text();
        assert!(
            text.contains("kept at debug") && !text.contains("quietened"),
            "{text}"
        );

        let capture = LogCapture::default();
        tracing::subscriber::with_default(subscriber(capture.clone(), "[span{x=1}]=??"), || {
            tracing::info!("kept at info");
            tracing::debug!("not at debug");
        });
        let text = capture.text();
        assert!(
            text.contains("kept at info") && !text.contains("not at debug"),
            "{text}"
        );
    }

    #[test]
    fn the_level_hint_follows_the_directives_so_skipped_levels_cost_nothing() {
        use tracing::Subscriber;
        let hint =
            |directives: &str| subscriber(LogCapture::default(), directives).max_level_hint();
        assert_eq!(hint("info"), Some(LevelFilter::INFO));
        assert_eq!(hint("noisy=warn,info"), Some(LevelFilter::INFO));
        // At trace the cap is in, and the hint is trace for everything else.
        assert_eq!(hint("trace"), Some(LevelFilter::TRACE));
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
