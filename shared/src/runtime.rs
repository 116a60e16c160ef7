//! One start-up and runtime loop for every function, so that each `main.rs` is the same
//! few lines:
//!
//! ```no_run
//! # async fn build() -> Result<String, groundcrew::config::ConfigError> { Ok(String::new()) }
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     groundcrew::runtime::run(
//!         build(), // config + clients + app, as one future
//!         |app, event: serde_json::Value, invocation| async move {
//!             Ok::<_, lambda_runtime::Diagnostic>(format!("{app} {}", invocation.request_id))
//!         },
//!     )
//!     .await
//! }
//! ```
//!
//! [`run`] installs the JSON logs, then awaits the build. A build that fails is a start-up
//! error: Lambda would otherwise see only the process exit (`Runtime.ExitError`) and the
//! console, the logs and the `Errors` alarm would not name the cause. So the error's type
//! and message are POSTed to the Runtime API's init error endpoint
//! (`/2018-06-01/runtime/init/error`, address from `AWS_LAMBDA_RUNTIME_API`) and logged,
//! and `run` returns the error, which exits the process non-zero.
//!
//! Messages are meant to hold no value (configuration errors name the variable, never
//! echo it); as a second line of defence, the values of credential-like environment
//! variables are redacted from the message before it leaves ([`redact_environment`]).
//!
//! The handler gets the app as `&'static`: the app is built once and lives as long as the
//! process (Lambda never tears it down before the process ends), so it is leaked rather
//! than reference-counted, and handlers are plain closures without lifetimes to spell.
//! It returns `Result<impl Serialize, impl Into<Diagnostic>>`; an error is logged with its
//! type before it goes back to Lambda as the invocation error.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::ConfigError;
use crate::Invocation;

/// The Runtime API path that fails the init phase.
pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";
/// The header naming the error's type.
pub const ERROR_TYPE_HEADER: &str = "Lambda-Runtime-Function-Error-Type";
/// How long the init error report may take; the process exits either way.
const REPORT_TIMEOUT: Duration = Duration::from_secs(2);

/// A start-up that failed: what was reported to Lambda (and whether the report got there).
#[derive(Debug, thiserror::Error)]
#[error("start-up failed ({error_type}): {message}")]
pub struct InitFailed {
    pub error_type: String,
    pub message: String,
    /// The Runtime API acknowledged the report.
    pub reported: bool,
}

/// Configuration errors name the variable and never its value: safe to report as they are.
impl From<ConfigError> for Diagnostic {
    fn from(err: ConfigError) -> Self {
        Diagnostic {
            error_type: "ConfigError".into(),
            error_message: err.to_string(),
        }
    }
}

/// Logging, the build, then the runtime loop; a failed build is reported as an init error
/// and returned (a non-zero exit). See the module documentation.
pub async fn run<App, BuildError, Event, Handler, Fut, Response, HandlerError>(
    build: impl Future<Output = Result<App, BuildError>>,
    handler: Handler,
) -> Result<(), lambda_runtime::Error>
where
    App: Sync + 'static,
    BuildError: Into<Diagnostic>,
    Event: DeserializeOwned,
    Handler: Fn(&'static App, Event, Invocation) -> Fut,
    Fut: Future<Output = Result<Response, HandlerError>>,
    Response: Serialize,
    HandlerError: Into<Diagnostic>,
{
    crate::logging::init();
    crate::tls::install_default_provider();
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").ok();
    let app: &'static App = Box::leak(Box::new(start(build, api.as_deref()).await?));
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| {
        let invocation = Invocation::from_context(&event.context);
        let answer = handler(app, event.payload, invocation);
        async move {
            answer.await.map_err(|err| {
                let diagnostic: Diagnostic = err.into();
                tracing::error!(
                    error_type = %diagnostic.error_type,
                    error = %diagnostic.error_message,
                    "invocation failed"
                );
                diagnostic
            })
        }
    }))
    .await
}

/// Awaits the build; on failure reports it to the Runtime API at `api` (when there is one)
/// and logs it.
pub async fn start<App, BuildError>(
    build: impl Future<Output = Result<App, BuildError>>,
    api: Option<&str>,
) -> Result<App, InitFailed>
where
    BuildError: Into<Diagnostic>,
{
    let err = match build.await {
        Ok(app) => return Ok(app),
        Err(err) => err,
    };
    let diagnostic = redacted(err.into(), &std::env::vars().collect::<Vec<_>>());
    // Logged first: once the Runtime API has the report, Lambda may end the process.
    tracing::error!(
        error_type = %diagnostic.error_type,
        error = %diagnostic.error_message,
        "start-up failed"
    );
    let reported = match api {
        Some(api) => match report_init_error(api, &diagnostic).await {
            Ok(()) => true,
            Err(why) => {
                tracing::error!(error = %why, "could not report the start-up error to the Runtime API");
                false
            }
        },
        None => false,
    };
    Err(InitFailed {
        error_type: diagnostic.error_type,
        message: diagnostic.error_message,
        reported,
    })
}

/// Why the init error could not be reported.
#[derive(Debug)]
pub struct ReportError(String);

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReportError {}

/// POSTs `{"errorMessage", "errorType"}` to the init error endpoint of the Runtime API at
/// `api` (`host:port`, as in `AWS_LAMBDA_RUNTIME_API`).
pub async fn report_init_error(api: &str, diagnostic: &Diagnostic) -> Result<(), ReportError> {
    crate::tls::install_default_provider();
    let client = reqwest::Client::builder()
        .timeout(REPORT_TIMEOUT)
        .build()
        .map_err(|e| ReportError(e.without_url().to_string()))?;
    let response = client
        .post(format!("http://{api}{INIT_ERROR_PATH}"))
        .header(ERROR_TYPE_HEADER, header_type(&diagnostic.error_type))
        .json(diagnostic)
        .send()
        .await
        .map_err(|e| ReportError(e.without_url().to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(ReportError(format!(
            "the Runtime API answered {}",
            response.status()
        )))
    }
}

/// Lambda recommends `Category.Reason` for the header (`Runtime.ConfigError`).
fn header_type(error_type: &str) -> String {
    let clean: String = error_type
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
        .collect();
    match clean.as_str() {
        "" => "Runtime.Unknown".to_string(),
        t if t.contains('.') => t.to_string(),
        t => format!("Runtime.{t}"),
    }
}

/// Names of variables whose values are credentials or secrets.
/// (`BOT_TOKEN_SECRET` and the like name a secret, they do not hold one: kept, so that a
/// message can say which secret could not be read.)
fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|marker| name.contains(marker))
        || ["_TOKEN", "_KEY", "_KEY_ID"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
}

/// `message` with the value of every credential-like variable in `vars` replaced.
pub fn redact_environment(message: &str, vars: &[(String, String)]) -> String {
    let values: Vec<&str> = vars
        .iter()
        .filter(|(name, value)| looks_secret(name) && value.len() >= 4)
        .map(|(_, value)| value.as_str())
        .collect();
    crate::http::redact(message, &values)
}

fn redacted(diagnostic: Diagnostic, vars: &[(String, String)]) -> Diagnostic {
    Diagnostic {
        error_message: redact_environment(&diagnostic.error_message, vars),
        error_type: diagnostic.error_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn runtime_api() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(INIT_ERROR_PATH))
            .respond_with(ResponseTemplate::new(202).set_body_string("{}"))
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn a_failed_build_reaches_the_init_error_endpoint() {
        let server = runtime_api().await;
        let api = server.address().to_string();
        let build = async {
            Err::<(), _>(ConfigError::Missing {
                name: "GC_TABLE".into(),
            })
        };
        let err = start(build, Some(&api)).await.unwrap_err();
        assert!(err.reported);
        assert_eq!(err.error_type, "ConfigError");

        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.url.path(), INIT_ERROR_PATH);
        assert_eq!(
            request.headers.get(ERROR_TYPE_HEADER).unwrap(),
            "Runtime.ConfigError"
        );
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["errorType"], "ConfigError");
        assert_eq!(
            body["errorMessage"],
            "environment variable GC_TABLE is required but not set"
        );
    }

    #[tokio::test]
    async fn a_successful_build_reports_nothing() {
        let server = runtime_api().await;
        let api = server.address().to_string();
        let app = start(async { Ok::<_, ConfigError>(7) }, Some(&api))
            .await
            .unwrap();
        assert_eq!(app, 7);
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unreachable_runtime_api_still_fails_the_start_up() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header(ERROR_TYPE_HEADER, "Runtime.Custom"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let api = server.address().to_string();
        let build = async {
            Err::<(), _>(Diagnostic {
                error_type: "Runtime.Custom".into(),
                error_message: "no".into(),
            })
        };
        let err = start(build, Some(&api)).await.unwrap_err();
        assert!(!err.reported);
        assert_eq!(err.error_type, "Runtime.Custom");
        let err = start(
            async {
                Err::<(), _>(Diagnostic {
                    error_type: "X".into(),
                    error_message: "no".into(),
                })
            },
            None,
        )
        .await
        .unwrap_err();
        assert!(!err.reported);
    }

    #[test]
    fn credential_values_are_redacted_from_messages() {
        let vars = vec![
            (
                "AWS_SECRET_ACCESS_KEY".to_string(),
                "canary-secret".to_string(),
            ),
            (
                "AWS_SESSION_TOKEN".to_string(),
                "canary-session".to_string(),
            ),
            ("GC_TABLE".to_string(), "deliveries".to_string()),
            ("BOT_TOKEN_SECRET".to_string(), "groundcrew/bot".to_string()),
        ];
        let text = redact_environment(
            "signing with canary-secret and canary-session failed for deliveries, groundcrew/bot",
            &vars,
        );
        assert_eq!(
            text,
            "signing with [REDACTED] and [REDACTED] failed for deliveries, groundcrew/bot"
        );
    }

    #[test]
    fn header_types_follow_category_dot_reason() {
        assert_eq!(header_type("ConfigError"), "Runtime.ConfigError");
        assert_eq!(header_type("Runtime.Custom"), "Runtime.Custom");
        assert_eq!(header_type("bad\r\nheader"), "Runtime.badheader");
        assert_eq!(header_type(""), "Runtime.Unknown");
    }
}
