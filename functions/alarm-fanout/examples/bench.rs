//! alarm-fanout benchmark (a report, never a test). Run:
//! `cargo run -p alarm-fanout --example bench --profile measure`
//!
//! Prints one JSON line per figure:
//! - the wall time to deliver one alarm to five receivers that each answer after a fixed
//!   delay, as a ratio to that delay (1.0 = fully concurrent; goal at most 1.2);
//! - alarms per second through parse, route and format (all six formats) alone;
//! - the arm64 bootstrap's size and its peak memory while handling a batch, when
//!   `target/lambda/alarm-fanout/bootstrap` exists (cargo lambda build --release --arm64),
//!   measured by scripts/harness.py under qemu against the local AWS.

use std::time::{Duration, Instant};

use alarm_fanout::format;
use alarm_fanout::handler::{App, Policy};
use alarm_fanout::notice::parse_event;
use alarm_fanout::receivers::{Endpoints, Publisher, Receivers, SendError};
use alarm_fanout::redrive::{DeadLetter, DeadLetters};
use alarm_fanout::routing::{Facts, Routing};
use alarm_fanout::severity::{Severity, SeverityResolver, TagLookup};
use alarm_fanout::store::MemoryStore;
use groundcrew::http::HttpSettings;
use groundcrew::retry::RetryPolicy;
use groundcrew::secrets::{CachedSecrets, InMemorySecretStore};
use groundcrew::Invocation;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

struct NoTags;
impl TagLookup for NoTags {
    async fn tag(&self, _arn: &str, _key: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

struct NoQueue;
impl DeadLetters for NoQueue {
    async fn receive(
        &self,
        _max: u32,
        _v: Duration,
    ) -> Result<Vec<DeadLetter>, alarm_fanout::Error> {
        Ok(vec![])
    }
    async fn delete(&self, _r: &str) -> Result<(), alarm_fanout::Error> {
        Ok(())
    }
}

struct NoSns;
impl Publisher for NoSns {
    async fn publish(&self, _topic: &str, _subject: &str, _message: &str) -> Result<(), SendError> {
        Ok(())
    }
}

fn figure(name: &str, value: f64, unit: &str, how: &str) {
    println!(
        "{}",
        json!({"figure": name, "value": (value * 1000.0).round() / 1000.0, "unit": unit, "how": how})
    );
}

fn event(id: &str, name: &str) -> Value {
    let message = json!({
        "AlarmName": name, "AlarmDescription": null, "AWSAccountId": "123456789012", "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 3 out of the last 3 datapoints [93.4, 91.2, 88.7] were greater than the threshold (80.0).",
        "StateChangeTime": "2026-11-21T21:30:42.236+0000", "Region": "US East (N. Virginia)",
        "AlarmArn": format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"), "OldStateValue": "OK",
        "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/RDS", "Statistic": "AVERAGE", "Unit": null,
            "Dimensions": [{"name": "DBClusterIdentifier", "value": "orders"}], "Period": 300, "EvaluationPeriods": 3,
            "ComparisonOperator": "GreaterThanThreshold", "Threshold": 80.0, "TreatMissingData": "missing"}
    });
    json!({"Records": [{"EventSource": "aws:sns", "Sns": {"MessageId": id, "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms", "Message": message.to_string()}}]})
}

const DOC: &str = r#"
receivers:
  tg: {type: telegram, chat_id: -100, bot_token_secret: t}
  slack: {type: slack, webhook_url_secret: s}
  chat: {type: google_chat, webhook_url_secret: c}
  pd: {type: pagerduty, routing_key_secret: p}
  hook: {type: webhook, url_secret: w}
routes:
  - match: {severity: critical}
    receivers: [pd]
    continue: true
  - match: {alarm_name: "prod-*"}
    receivers: [tg, slack, chat, hook]
default: [tg, slack, chat, pd, hook]
"#;

async fn concurrency_ratio(delay: Duration, runs: usize) -> f64 {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true}))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    let uri = server.uri();
    let secrets = InMemorySecretStore::default()
        .with("t", "123:TOKEN")
        .with("s", &format!("{uri}/slack/x"))
        .with("c", &format!("{uri}/chat/x?key=k"))
        .with("p", "routing-key")
        .with("w", &format!("{uri}/hook/x"));
    let deliver = Receivers::new(
        CachedSecrets::new(secrets, Duration::from_secs(300)),
        NoSns,
        Endpoints {
            telegram_api: uri.clone(),
            pagerduty_events: uri.clone(),
            ..Endpoints::default()
        },
        HttpSettings::default(),
        RetryPolicy::default(),
    )
    .expect("client");
    let app = App {
        routing: Routing::parse(DOC).expect("document").into(),
        store: MemoryStore::default(),
        deliver,
        severity: SeverityResolver::new(
            NoTags,
            "severity",
            Severity::Warning,
            Duration::from_secs(600),
        ),
        dead_letters: NoQueue,
        policy: Policy::default(),
        holders: Default::default(),
    };
    // Warm up connections and secrets once.
    app.handle(
        &event("warm", "dev-warm"),
        Invocation::with_budget("warm", Duration::from_secs(30)),
    )
    .await
    .expect("warm-up");
    let mut ratios = Vec::new();
    for i in 0..runs {
        let e = event(&format!("run-{i}"), &format!("dev-db-{i}"));
        // Each run starts with full message budgets (runs come faster than Telegram's and
        // Slack's one a second; pacing is not what this measures).
        app.store.pace.records.lock().expect("budgets").clear();
        let started = Instant::now();
        let report = app
            .handle(
                &e,
                Invocation::with_budget("bench", Duration::from_secs(30)),
            )
            .await
            .expect("delivered");
        assert_eq!(report.notices[0].sent.len(), 5);
        ratios.push(started.elapsed().as_secs_f64() / delay.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

fn pipeline_rate(n: usize) -> f64 {
    let routing = Routing::parse(DOC).expect("document");
    let events: Vec<Value> = (0..64)
        .map(|i| event(&format!("m{i}"), &format!("prod-api-{i}-critical")))
        .collect();
    let started = Instant::now();
    let mut bytes = 0usize;
    for i in 0..n {
        let notices = parse_event(&events[i % events.len()]).expect("parse");
        for notice in &notices {
            let severity = alarm_fanout::severity::from_name(
                &notice.alarm().map(|a| a.name.clone()).unwrap_or_default(),
            )
            .unwrap_or(Severity::Warning);
            let receivers = routing.route(&Facts::of(notice, Some(severity)));
            bytes += receivers.len();
            bytes +=
                alarm_fanout::html::split(&format::telegram_html(notice, severity), 4096).len();
            bytes += format::slack(notice, severity).to_string().len();
            bytes += format::google_chat(notice, severity).to_string().len();
            bytes += format::pagerduty(notice, severity, "key").to_string().len();
            bytes += format::webhook(notice, severity).to_string().len();
            bytes += format::plain_text(notice, severity).len();
        }
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    rate
}

fn bootstrap_figures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bootstrap = root.join("target/lambda/alarm-fanout/bootstrap");
    let Ok(meta) = std::fs::metadata(&bootstrap) else {
        eprintln!("no {} (cargo lambda build --release --arm64 -p alarm-fanout): size and memory not measured", bootstrap.display());
        return;
    };
    figure(
        "arm64 bootstrap size",
        meta.len() as f64 / 1_048_576.0,
        "MiB",
        "target/lambda/alarm-fanout/bootstrap from cargo lambda build --release --arm64",
    );
    // The sample batch with fresh message ids, so that it is delivered, not deduplicated.
    let batch = std::env::temp_dir().join("alarm-fanout-bench-batch.json");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut sample: Value =
        std::fs::read_to_string(root.join("events/alarm-fanout/sns-batch.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
    if let Some(records) = sample.get_mut("Records").and_then(Value::as_array_mut) {
        for (i, r) in records.iter_mut().enumerate() {
            r["Sns"]["MessageId"] = Value::String(format!("bench-{nanos}-{i}"));
        }
    }
    if std::fs::write(&batch, sample.to_string()).is_err() {
        eprintln!("could not write {}", batch.display());
        return;
    }
    let report = std::env::temp_dir().join("alarm-fanout-bench-boot.json");
    let status = std::process::Command::new("python3")
        .current_dir(&root)
        .args([
            "scripts/harness.py",
            "--function",
            "alarm-fanout",
            "--qemu",
            "--quiet",
            "--timeout",
            "120",
        ])
        .arg("--bootstrap")
        .arg(&bootstrap)
        .args(["--env-file", "functions/alarm-fanout/local.env", "--events"])
        .arg(&batch)
        .arg("--report")
        .arg(&report)
        .status();
    let parsed = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    match (status, parsed) {
        (Ok(s), Some(v)) if s.success() => {
            let peak = ["peak_rss_kb", "peak_rss_kib", "peak_memory_kb"].iter().find_map(|k| v.get(*k).and_then(Value::as_f64));
            match peak {
                Some(kb) => figure("arm64 peak memory handling a batch", kb / 1024.0, "MiB", "peak RSS of the bootstrap under qemu-aarch64-static (scripts/harness.py) handling events/alarm-fanout/sns-batch.json (2 records with fresh message ids, so really delivered: 5 sends) against the local AWS and stand-in"),
                None => eprintln!("harness report has no peak memory field: {v}"),
            }
        }
        _ => eprintln!("the harness run failed (is the local AWS running and seeded? scripts/local-aws.sh start && scripts/seed.sh alarm-fanout)"),
    }
}

#[tokio::main]
async fn main() {
    let delay = Duration::from_millis(300);
    let ratio = concurrency_ratio(delay, 7).await;
    figure("delivery to 5 receivers / one receiver's delay", ratio, "ratio", "median of 7 alarms, each to telegram, slack, google_chat, pagerduty and webhook stand-ins (wiremock) that answer after 300 ms; in-memory store; goal <= 1.2");
    let n = 20_000;
    let rate = pipeline_rate(n);
    figure("parse-route-format throughput", rate, "alarms/s", "20,000 SNS CloudWatch alarm events parsed, routed and formatted for all six receiver types, one thread, measure profile");
    bootstrap_figures();
}
