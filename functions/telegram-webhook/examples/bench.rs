//! Benchmark: cold start to CloudFormation response for a Create, with Telegram answering
//! every call after a fixed delay; the figure is the overhead beyond those delays.
//!
//! Run: `cargo run -p telegram-webhook --example bench --profile measure` with the local
//! AWS running (scripts/local-aws.sh start).
//!
//! How (cold): this executable re-spawns itself in child mode, where it runs the function's
//! own entry point (`telegram_webhook::build_from_env` and `serve` under `groundcrew::runtime::run`, what `main.rs` runs) as Lambda would, against a Lambda Runtime API served here (wiremock). Its event is a Create whose
//! ResponseURL is a server here that notes the instant the PUT arrives. Telegram (here too)
//! answers `setWebhook` and `getWebhookInfo` each after DELAY; the bot token is in the local
//! AWS's Secrets Manager and the secret token is created there (a first Create). Overhead =
//! (PUT arrival − process spawn) − 2 × DELAY: process start, runtime init, SDK config, two
//! Secrets Manager reads and one CreateSecret against moto, HTTP and JSON work. Each run is
//! a new process. (Warm): the same Create handled in-process with in-memory secrets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use groundcrew::custom_resource::ResponderSettings;
use groundcrew::Deadline;
use serde_json::{json, Value};
use telegram_webhook::alerts::RecordedAlerts;
use telegram_webhook::telegram::Telegram;
use telegram_webhook::vault::MemoryVault;
use telegram_webhook::{App, Config};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const DELAY: Duration = Duration::from_millis(200);
const TOKEN: &str = "7000000001:AAbench-token_0123456789abcdef";
const URL: &str = "https://bot.example.com/telegram/webhook";
const RUNS: usize = 10;

#[derive(Clone, Default)]
struct Telegram2 {
    url: Arc<Mutex<String>>,
}

impl Respond for Telegram2 {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(json!({}));
        let result = if req.url.path().ends_with("/setWebhook") {
            *self.url.lock().unwrap() = body["url"].as_str().unwrap_or("").to_string();
            json!(true)
        } else {
            json!({"url": *self.url.lock().unwrap(), "pending_update_count": 0, "max_connections": 40})
        };
        ResponseTemplate::new(200)
            .set_body_json(json!({"ok": true, "result": result}))
            .set_delay(DELAY)
    }
}

#[derive(Clone, Default)]
struct Arrival(Arc<Mutex<Option<(Instant, Value)>>>);

impl Respond for Arrival {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        *self.0.lock().unwrap() = Some((Instant::now(), body));
        ResponseTemplate::new(200)
    }
}

fn event(response_url: &str, secret_token_secret: &str, bot_secret: &str) -> Value {
    json!({
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:groundcrew-dev-telegram-webhook",
        "ResponseURL": response_url,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/bench/guid",
        "RequestId": "bench-request",
        "ResourceType": "Custom::TelegramWebhook",
        "LogicalResourceId": "BotWebhook",
        "ResourceProperties": {
            "BotTokenSecret": bot_secret,
            "WebhookUrl": URL,
            "SecretTokenSecret": secret_token_secret,
            "MaxConnections": "40"
        }
    })
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn figure(name: &str, value: f64, unit: &str, how: &str) {
    println!(
        "{}",
        json!({"figure": name, "value": (value * 100.0).round() / 100.0, "unit": unit, "how": how})
    );
}

#[tokio::main]
async fn main() {
    // Child mode: this same executable is the Lambda (the function's own entry point,
    // as `main.rs` runs it, compiled in the same profile), which avoids a second build
    // with other features.
    if std::env::var_os("TELEGRAM_WEBHOOK_BENCH_CHILD").is_some() {
        groundcrew::runtime::run(telegram_webhook::build_from_env(), telegram_webhook::serve)
            .await
            .expect("lambda");
        return;
    }
    let binary = std::env::current_exe().expect("current exe");
    let profile = binary
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.file_name())
        .and_then(|s| s.to_str())
        .unwrap_or("?")
        .to_string();

    let sdk = groundcrew::testing::local_aws()
        .await
        .expect("the local AWS must be running (scripts/local-aws.sh start)");
    let sm = aws_sdk_secretsmanager::Client::new(&sdk);
    let bot_secret = groundcrew::testing::unique_name("bench/telegram-bot");
    sm.create_secret()
        .name(&bot_secret)
        .secret_string(TOKEN)
        .send()
        .await
        .expect("seed bot token");

    let mut totals = Vec::new();
    let mut overheads = Vec::new();
    let mut inits = Vec::new();
    for _ in 0..RUNS {
        let telegram = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path_regex("^/bot[^/]+/(setWebhook|getWebhookInfo)$"))
            .respond_with(Telegram2::default())
            .mount(&telegram)
            .await;
        let cfn = MockServer::start().await;
        let arrival = Arrival::default();
        Mock::given(method("PUT"))
            .respond_with(arrival.clone())
            .mount(&cfn)
            .await;

        let runtime = MockServer::start().await;
        let first_next: Arc<Mutex<Option<Instant>>> = Arc::default();
        let secret_token_secret = groundcrew::testing::unique_name("bench/telegram-secret");
        let body = event(
            &format!("{}/cfn/bench", cfn.uri()),
            &secret_token_secret,
            &bot_secret,
        );
        struct Next {
            body: Value,
            served: Arc<Mutex<bool>>,
            first: Arc<Mutex<Option<Instant>>>,
        }
        impl Respond for Next {
            fn respond(&self, _: &Request) -> ResponseTemplate {
                let mut first = self.first.lock().unwrap();
                if first.is_none() {
                    *first = Some(Instant::now());
                }
                let mut served = self.served.lock().unwrap();
                if *served {
                    // Park the runtime: the run is over.
                    return ResponseTemplate::new(200).set_delay(Duration::from_secs(120));
                }
                *served = true;
                let deadline = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64 + 60_000)
                    .unwrap_or(0);
                ResponseTemplate::new(200)
                    .set_body_json(self.body.clone())
                    .insert_header("Lambda-Runtime-Aws-Request-Id", "bench-invocation")
                    .insert_header("Lambda-Runtime-Deadline-Ms", deadline.to_string().as_str())
                    .insert_header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    )
                    .insert_header(
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-00000000-000000000000000000000000;Sampled=0",
                    )
            }
        }
        Mock::given(method("GET"))
            .and(path("/2018-06-01/runtime/invocation/next"))
            .respond_with(Next {
                body,
                served: Arc::default(),
                first: first_next.clone(),
            })
            .mount(&runtime)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(202))
            .mount(&runtime)
            .await;

        let api = runtime.uri().trim_start_matches("http://").to_string();
        let started = Instant::now();
        let mut child = std::process::Command::new(&binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api)
            .env("AWS_LAMBDA_FUNCTION_NAME", "telegram-webhook")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/telegram-webhook")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env(
                "AWS_ENDPOINT_URL",
                groundcrew::testing::local_aws_endpoint(),
            )
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("TELEGRAM_API_BASE_URL", telegram.uri())
            .env("AWS_LAMBDA_LOG_LEVEL", "warn")
            .env("TELEGRAM_WEBHOOK_BENCH_CHILD", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the binary");
        let limit = Instant::now() + Duration::from_secs(30);
        let (at, answer) = loop {
            if let Some(got) = arrival.0.lock().unwrap().clone() {
                break got;
            }
            assert!(
                Instant::now() < limit,
                "no CloudFormation response within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(answer["Status"], "SUCCESS", "{answer}");
        let total = at.duration_since(started).as_secs_f64() * 1000.0;
        totals.push(total);
        overheads.push(total - 2.0 * DELAY.as_secs_f64() * 1000.0);
        let first = *first_next.lock().unwrap();
        if let Some(first) = first {
            inits.push(first.duration_since(started).as_secs_f64() * 1000.0);
        }
    }

    // Warm, in-process: the handler alone, with in-memory secrets.
    let telegram = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(Telegram2::default())
        .mount(&telegram)
        .await;
    let cfn = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&cfn)
        .await;
    let base = telegram.uri();
    let config = Config::from_env(&groundcrew::testing::env(&[(
        "TELEGRAM_API_BASE_URL",
        base.as_str(),
    )]))
    .expect("config");
    let http = groundcrew::http::client(groundcrew::http::HttpSettings::default()).expect("client");
    let app = App {
        telegram: Telegram::new(http.clone(), &config.api_base),
        endpoint: telegram_webhook::probe::HttpEndpoint(http.clone()),
        http,
        vault: MemoryVault::default().with("bench/bot", TOKEN),
        alerts: RecordedAlerts::default(),
        responder: ResponderSettings::default(),
        config,
        config_error: None,
        metrics: telegram_webhook::health::MetricsSink::memory(),
    };
    let mut warm = Vec::new();
    for i in 0..RUNS {
        let e = event(
            &format!("{}/cfn/warm", cfn.uri()),
            &format!("bench/secret-{i}"),
            "bench/bot",
        );
        let started = Instant::now();
        let out = app
            .handle(
                e,
                groundcrew::Invocation::new(
                    "bench",
                    Deadline::after(Duration::from_secs(30)),
                    std::sync::Arc::new(groundcrew::invocation::SystemClock),
                ),
            )
            .await
            .map(|r| serde_json::to_value(r).unwrap_or_default())
            .expect("warm create");
        assert_eq!(out["Status"], "SUCCESS");
        warm.push(started.elapsed().as_secs_f64() * 1000.0 - 2.0 * DELAY.as_secs_f64() * 1000.0);
    }

    let delay_ms = DELAY.as_millis();
    let (median, min, max) = stats(overheads);
    figure(
        "create_cold_overhead_ms_median",
        median,
        "ms",
        &format!("{profile} binary spawned per run ({RUNS} runs, min {min:.1}, max {max:.1}) against a local Runtime API; process start to the CloudFormation PUT arriving, minus 2 x {delay_ms} ms Telegram delay (setWebhook, getWebhookInfo); secrets in moto (2 reads + CreateSecret)"),
    );
    let (median, _, _) = stats(totals);
    figure(
        "create_cold_total_ms_median",
        median,
        "ms",
        &format!("process start to the CloudFormation PUT, Telegram delay included ({RUNS} runs)"),
    );
    if !inits.is_empty() {
        let (median, _, _) = stats(inits);
        figure(
            "init_ms_median",
            median,
            "ms",
            "process start to the first GET /runtime/invocation/next (native x86_64, not arm64)",
        );
    }
    let (median, min, max) = stats(warm);
    figure(
        "create_warm_overhead_ms_median",
        median,
        "ms",
        &format!("in-process handler, in-memory secrets ({RUNS} runs, min {min:.2}, max {max:.2}): Create to CloudFormation PUT answered, minus 2 x {delay_ms} ms"),
    );
}
