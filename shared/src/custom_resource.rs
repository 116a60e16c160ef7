//! The CloudFormation custom-resource responder: a response on every path.
//!
//! CloudFormation waits (by default an hour) for a custom resource to PUT its answer to the
//! presigned `ResponseURL`. [`respond_always`] parses the event with the
//! `aws_lambda_events` request types, runs the handler under the invocation deadline (less
//! a reserve kept for the answer), catches a handler panic, and always PUTs SUCCESS or
//! FAILED (empty content type, body within [`MAX_BODY_BYTES`], `Reason` and `Data` cut to
//! fit on character boundaries).
//!
//! What Lambda is told (it retries a failed asynchronous invocation twice):
//! - the answer was delivered, whatever its status: `Ok` (a retry would act again);
//! - the event could not be parsed (nothing was acted on): FAILED is PUT when a
//!   `ResponseURL` can be read at all, then `Err` naming what was wrong (a retry only PUTs
//!   the same FAILED again);
//! - the answer could not be delivered: `Err`, so that Lambda's retry gets another chance.
//!
//! A Create that fails gets a physical id minted by [`failed_create_id`]; when
//! CloudFormation then sends the rollback Delete for it, [`respond_always`] answers
//! SUCCESS without calling the handler (there is nothing to delete). A handler that is about
//! to act claims its physical id first ([`Claim`], through [`respond_always_claiming`]): a
//! Create that then runs out of time or panics is answered FAILED with the claimed id, so
//! that the rollback Delete reaches the handler and undoes what was done.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceRequest as Request,
    CloudFormationCustomResourceResponse as Response,
    CloudFormationCustomResourceResponseStatus as Status, CreateRequest, DeleteRequest,
    UpdateRequest,
};
use futures::FutureExt;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use crate::http::{excerpt, HttpError};
use crate::retry::{retry, RetryPolicy};
use crate::Deadline;

/// CloudFormation rejects a response body larger than this.
pub const MAX_BODY_BYTES: usize = 4096;
/// CloudFormation's limit on a physical resource id.
pub const MAX_PHYSICAL_ID_BYTES: usize = 1024;
/// The prefix of ids minted for a Create that failed.
pub const FAILED_CREATE_PREFIX: &str = "create-failed-";

/// What a successful handler answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub physical_resource_id: String,
    /// `Fn::GetAtt` attributes; cut to fit the body limit if they must be.
    pub data: BTreeMap<String, String>,
    /// Mask `Data` in CloudFormation's output.
    pub no_echo: bool,
    /// Optional note for a SUCCESS (shown in the stack events).
    pub reason: Option<String>,
}

impl Outcome {
    pub fn new(physical_resource_id: impl Into<String>) -> Self {
        Self {
            physical_resource_id: physical_resource_id.into(),
            ..Self::default()
        }
    }

    pub fn with_data(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

/// What a failing handler answers: the reason (must hold no secret) and, optionally, the
/// physical id to report (by default the request's, or a minted one for a Create).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub reason: String,
    pub physical_resource_id: Option<String>,
}

impl Failure {
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            physical_resource_id: None,
        }
    }

    /// Report this physical id: for a Create that did act before failing, so that the
    /// rollback Delete undoes it.
    pub fn with_physical_id(mut self, id: impl Into<String>) -> Self {
        self.physical_resource_id = Some(id.into());
        self
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(err: E) -> Self {
        Self::new(err.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ResponderSettings {
    /// Time kept back from the deadline for delivering the answer.
    pub response_reserve: Duration,
    /// Retries of the PUT (transport errors, 5xx, 429).
    pub put_retry: RetryPolicy,
}

impl Default for ResponderSettings {
    fn default() -> Self {
        Self {
            response_reserve: Duration::from_secs(2),
            put_retry: RetryPolicy {
                max_attempts: 3,
                min_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(500),
                max_retry_after: Duration::from_secs(1),
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CustomResourceError {
    /// Not a custom-resource event with a usable `ResponseURL`: nobody could be answered.
    #[error("not a CloudFormation custom-resource event: {0}")]
    Unanswerable(String),
    /// The event was malformed; FAILED was delivered to CloudFormation.
    #[error("malformed custom-resource event (answered FAILED to CloudFormation): {0}")]
    Malformed(String),
    /// The answer could not be delivered to the `ResponseURL`.
    #[error("could not deliver the {status} answer to CloudFormation: {reason}")]
    Undelivered {
        status: &'static str,
        reason: String,
    },
}

/// What was answered, for the Lambda result and logs (no URL: it is presigned).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Answered {
    #[serde(rename = "Status")]
    pub status: &'static str,
    #[serde(rename = "Reason")]
    pub reason: String,
    #[serde(rename = "PhysicalResourceId")]
    pub physical_resource_id: String,
    #[serde(rename = "RequestType")]
    pub request_type: &'static str,
    #[serde(rename = "Data")]
    pub data: BTreeMap<String, String>,
    /// Why a Reason or Data was cut, when it was.
    #[serde(rename = "Truncated", skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// The physical id reported for a Create that failed: unique per request, recognisable.
pub fn failed_create_id(request_id: &str) -> String {
    format!("{FAILED_CREATE_PREFIX}{request_id}")
}

pub fn is_failed_create_id(id: &str) -> bool {
    id.starts_with(FAILED_CREATE_PREFIX)
}

pub fn request_type(request: &Request) -> &'static str {
    match request {
        Request::Create(_) => "Create",
        Request::Update(_) => "Update",
        Request::Delete(_) => "Delete",
        #[allow(unreachable_patterns)]
        _ => "Unknown",
    }
}

/// The fields every request carries.
struct Common<'a> {
    response_url: &'a str,
    stack_id: &'a str,
    request_id: &'a str,
    logical_resource_id: &'a str,
    physical_resource_id: Option<&'a str>,
}

fn common(request: &Request) -> Common<'_> {
    match request {
        Request::Create(r) => Common {
            response_url: &r.response_url,
            stack_id: &r.stack_id,
            request_id: &r.request_id,
            logical_resource_id: &r.logical_resource_id,
            physical_resource_id: None,
        },
        Request::Update(r) => Common {
            response_url: &r.response_url,
            stack_id: &r.stack_id,
            request_id: &r.request_id,
            logical_resource_id: &r.logical_resource_id,
            physical_resource_id: Some(&r.physical_resource_id),
        },
        Request::Delete(r) => Common {
            response_url: &r.response_url,
            stack_id: &r.stack_id,
            request_id: &r.request_id,
            logical_resource_id: &r.logical_resource_id,
            physical_resource_id: Some(&r.physical_resource_id),
        },
        #[allow(unreachable_patterns)]
        _ => Common {
            response_url: "",
            stack_id: "",
            request_id: "",
            logical_resource_id: "",
            physical_resource_id: None,
        },
    }
}

/// Whether an event looks like a custom-resource request (for functions with several
/// triggers): it has a `RequestType` or a `ResponseURL`.
pub fn looks_like_custom_resource(event: &Value) -> bool {
    event.get("RequestType").is_some() || event.get("ResponseURL").is_some()
}

/// The physical id a handler claims before it acts on a Create (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Claim(Arc<Mutex<Option<String>>>);

impl Claim {
    /// Claims `id`: from now on a FAILED answer to this Create reports it.
    pub fn set(&self, id: impl Into<String>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(id.into());
        }
    }

    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Parses `event`, runs `handler` within `deadline` less the response reserve, and PUTs
/// the answer to the `ResponseURL` on every path. `deadline` is the invocation's
/// (`Deadline::from_context`); the handler is given its own, earlier one.
pub async fn respond_always<F, Fut>(
    http: &reqwest::Client,
    event: Value,
    deadline: Deadline,
    settings: &ResponderSettings,
    handler: F,
) -> Result<Answered, CustomResourceError>
where
    F: FnOnce(Request, Deadline) -> Fut,
    Fut: Future<Output = Result<Outcome, Failure>>,
{
    respond_always_claiming(http, event, deadline, settings, |request, work, _| {
        handler(request, work)
    })
    .await
}

/// [`respond_always`] for a handler that claims its physical id before it acts on a
/// Create: a FAILED Create (timeout and panic included) then reports the claimed id.
pub async fn respond_always_claiming<F, Fut>(
    http: &reqwest::Client,
    event: Value,
    deadline: Deadline,
    settings: &ResponderSettings,
    handler: F,
) -> Result<Answered, CustomResourceError>
where
    F: FnOnce(Request, Deadline, Claim) -> Fut,
    Fut: Future<Output = Result<Outcome, Failure>>,
{
    let claim = Claim::default();
    let request: Request = match serde_json::from_value(event.clone()) {
        Ok(request) => request,
        Err(err) => {
            return answer_malformed(
                http,
                &event,
                &describe_parse_error(&err),
                deadline,
                settings,
            )
            .await
        }
    };
    let url_problem = check_response_url(common(&request).response_url);
    if let Some(problem) = url_problem {
        return Err(CustomResourceError::Unanswerable(problem));
    }
    let kind = request_type(&request);
    let c = common(&request);
    let (request_id, stack_id, logical_id, url) = (
        c.request_id.to_string(),
        c.stack_id.to_string(),
        c.logical_resource_id.to_string(),
        c.response_url.to_string(),
    );
    let request_physical_id = c.physical_resource_id.map(str::to_string);

    let result: Result<Outcome, Failure> = match &request {
        Request::Delete(r) if is_failed_create_id(&r.physical_resource_id) => {
            Ok(Outcome::new(r.physical_resource_id.clone())
                .with_reason("the Create of this resource failed; nothing to delete"))
        }
        _ => {
            let work_deadline = deadline.less(settings.response_reserve);
            let work =
                AssertUnwindSafe(handler(request, work_deadline, claim.clone())).catch_unwind();
            match work_deadline.run(work).await {
                Ok(Ok(result)) => result,
                Ok(Err(panic)) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".to_string());
                    tracing::error!(request_type = kind, panic = %excerpt(&what, 300), "custom-resource handler panicked");
                    Err(Failure::new("the handler failed unexpectedly (a bug); see the function's logs"))
                }
                Err(_) => Err(Failure::new(
                    "the function ran out of time before the work finished (its deadline was near); \
                     it may be retried by updating the stack",
                )),
            }
        }
    };

    let mut response = Response::default();
    response.stack_id = stack_id;
    response.request_id = request_id;
    response.logical_resource_id = logical_id;
    let (status, reason) = match result {
        Ok(outcome) => {
            response.status = Status::Success;
            response.physical_resource_id = outcome.physical_resource_id;
            response.no_echo = outcome.no_echo;
            response.data = outcome.data.into_iter().collect();
            (
                "SUCCESS",
                outcome.reason.unwrap_or_else(|| "OK".to_string()),
            )
        }
        Err(failure) => {
            response.status = Status::Failed;
            // A Create that claimed an id may have acted: report it so that the rollback
            // Delete undoes it.
            response.physical_resource_id = failure
                .physical_resource_id
                .or(request_physical_id)
                .or_else(|| claim.get())
                .unwrap_or_else(|| failed_create_id(&response.request_id));
            ("FAILED", failure.reason)
        }
    };
    response.reason = Some(reason);
    if let Some(problem) = check_physical_id(&response.physical_resource_id) {
        response.status = Status::Failed;
        response.reason = Some(format!(
            "the handler returned an unusable PhysicalResourceId: {problem}"
        ));
        response.physical_resource_id = common_fallback_id(&response.request_id);
        response.data.clear();
    }
    let status = if matches!(response.status, Status::Failed) {
        "FAILED"
    } else {
        status
    };
    let (body, truncated) = fit_body(&mut response);
    put_response(http, &url, body, deadline, settings)
        .await
        .map_err(|reason| CustomResourceError::Undelivered { status, reason })?;
    let answered = Answered {
        status,
        reason: response.reason.clone().unwrap_or_default(),
        physical_resource_id: response.physical_resource_id.clone(),
        request_type: kind,
        data: response.data.into_iter().collect(),
        truncated,
    };
    tracing::info!(status, request_type = kind, physical_resource_id = %answered.physical_resource_id,
        reason = %excerpt(&answered.reason, 300), "answered CloudFormation");
    Ok(answered)
}

fn common_fallback_id(request_id: &str) -> String {
    failed_create_id(request_id)
}

fn check_physical_id(id: &str) -> Option<String> {
    if id.trim().is_empty() {
        Some("it is empty".to_string())
    } else if id.len() > MAX_PHYSICAL_ID_BYTES {
        Some(format!(
            "it is {} bytes long, over {MAX_PHYSICAL_ID_BYTES}",
            id.len()
        ))
    } else {
        None
    }
}

fn check_response_url(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => None,
        Ok(_) => Some("ResponseURL is not an http(s) URL".to_string()),
        Err(e) => Some(format!("ResponseURL is not a URL ({e})")),
    }
}

/// serde's message without the input it choked on (events can hold anything).
fn describe_parse_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    // "missing field `X`", "unknown variant `Foo`, expected one of ...", "invalid type: ..."
    excerpt(text.split(" at line ").next().unwrap_or(&text), 300)
}

/// FAILED for an event that did not parse, when its `ResponseURL` (and ids) can be read.
async fn answer_malformed(
    http: &reqwest::Client,
    event: &Value,
    problem: &str,
    deadline: Deadline,
    settings: &ResponderSettings,
) -> Result<Answered, CustomResourceError> {
    let text = |key: &str| {
        event
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let Some(url) = event.get("ResponseURL").and_then(Value::as_str) else {
        return Err(CustomResourceError::Unanswerable(format!(
            "{problem}; no ResponseURL to answer"
        )));
    };
    if let Some(url_problem) = check_response_url(url) {
        return Err(CustomResourceError::Unanswerable(format!(
            "{problem}; {url_problem}"
        )));
    }
    let request_id = text("RequestId");
    let physical_id = match event.get("PhysicalResourceId").and_then(Value::as_str) {
        Some(id) if check_physical_id(id).is_none() => id.to_string(),
        _ => failed_create_id(if request_id.is_empty() {
            "unknown"
        } else {
            &request_id
        }),
    };
    let mut response = Response::default();
    response.status = Status::Failed;
    response.reason = Some(format!("malformed custom-resource request: {problem}"));
    response.physical_resource_id = physical_id;
    response.stack_id = text("StackId");
    response.request_id = request_id;
    response.logical_resource_id = text("LogicalResourceId");
    let (body, _) = fit_body(&mut response);
    put_response(http, url, body, deadline, settings)
        .await
        .map_err(|reason| CustomResourceError::Undelivered {
            status: "FAILED",
            reason,
        })?;
    tracing::warn!(
        problem,
        "answered FAILED to a malformed custom-resource request"
    );
    Err(CustomResourceError::Malformed(problem.to_string()))
}

fn body_len(response: &Response) -> usize {
    serde_json::to_vec(response)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
}

/// The longest prefix (in characters) of `text` that keeps the body within the limit when
/// set through `set`; cut text ends in "…".
fn fit_text(response: &mut Response, text: &str, set: impl Fn(&mut Response, String)) -> bool {
    set(response, text.to_string());
    if body_len(response) <= MAX_BODY_BYTES {
        return false;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let (mut lo, mut hi) = (0usize, chars.len());
    // Invariant: a prefix of `lo` characters fits (0 fits when the rest does).
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let cut = chars.get(mid).map_or(text.len(), |(i, _)| *i);
        set(response, format!("{}…", &text[..cut]));
        if body_len(response) <= MAX_BODY_BYTES {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let cut = chars.get(lo).map_or(text.len(), |(i, _)| *i);
    set(
        response,
        if lo == 0 {
            String::new()
        } else {
            format!("{}…", &text[..cut])
        },
    );
    true
}

/// Serialises `response` within [`MAX_BODY_BYTES`]: `Reason` is cut first, then the
/// longest `Data` values, then `Data` keys (last first). Returns the body and whether
/// anything was cut.
pub fn fit_body(response: &mut Response) -> (String, bool) {
    let mut truncated = false;
    if body_len(response) > MAX_BODY_BYTES {
        truncated = true;
        let reason = response.reason.clone().unwrap_or_default();
        // Keep room for a short reason while the data is cut.
        let data_first = {
            let mut probe = response.clone();
            probe.reason = Some(String::new());
            body_len(&probe) > MAX_BODY_BYTES
        };
        if data_first {
            let note = "(Data was cut to fit CloudFormation's 4,096-byte limit) ";
            response.reason = Some(excerpt(&format!("{note}{reason}"), 200));
            let mut data: BTreeMap<String, String> = response.data.drain().collect();
            // Cut the longest values, one at a time, to fit.
            loop {
                response.data = data.clone().into_iter().collect();
                if body_len(response) <= MAX_BODY_BYTES {
                    break;
                }
                let longest = data
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .max_by_key(|(_, v)| v.len())
                    .map(|(k, _)| k.clone());
                match longest {
                    Some(key) => {
                        let value = data.get(&key).cloned().unwrap_or_default();
                        let others: HashMap<String, String> = data
                            .iter()
                            .filter(|(k, _)| **k != key)
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        response.data = others;
                        let key2 = key.clone();
                        fit_text(response, &value, move |r, v| {
                            r.data.insert(key2.clone(), v);
                        });
                        let fitted = response.data.get(&key).cloned().unwrap_or_default();
                        data.insert(key, fitted);
                        if body_len(response) <= MAX_BODY_BYTES {
                            break;
                        }
                    }
                    None => {
                        // Every value is empty and still too big: drop keys, last first.
                        if data.pop_last().is_none() {
                            break;
                        }
                    }
                }
            }
        }
        let reason = response.reason.clone().unwrap_or_default();
        fit_text(response, &reason, |r, v| r.reason = Some(v));
    }
    let body = serde_json::to_string(response).unwrap_or_default();
    (body, truncated)
}

/// PUTs `body` with an empty content type, retrying transient failures within `deadline`.
async fn put_response(
    http: &reqwest::Client,
    url: &str,
    body: String,
    deadline: Deadline,
    settings: &ResponderSettings,
) -> Result<(), String> {
    let attempt = || {
        let body = body.clone();
        async move {
            let send = http.put(url).header(CONTENT_TYPE, "").body(body).send();
            let resp = match deadline.run(send).await {
                Ok(Ok(resp)) => resp,
                Ok(Err(e)) => return Err(HttpError::transport("CloudFormation ResponseURL", e)),
                Err(_) => {
                    return Err(HttpError::Transport {
                        target: "CloudFormation ResponseURL".to_string(),
                        reason: "the invocation deadline passed".to_string(),
                        timed_out: true,
                    })
                }
            };
            let status = resp.status().as_u16();
            if resp.status().is_success() {
                return Ok(());
            }
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap_or_default();
            Err(HttpError::status(
                "CloudFormation ResponseURL",
                status,
                &headers,
                &text,
                &[],
            ))
        }
    };
    retry(
        &settings.put_retry,
        deadline,
        "put custom-resource response",
        attempt,
    )
    .await
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{client, HttpSettings};
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, Request as WireRequest, ResponseTemplate};

    fn event(kind: &str, url: &str) -> Value {
        let mut e = json!({
            "RequestType": kind,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:f",
            "ResponseURL": url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid",
            "RequestId": "req-1",
            "ResourceType": "Custom::Thing",
            "LogicalResourceId": "Thing",
            "ResourceProperties": {"Name": "x"}
        });
        if kind != "Create" {
            e["PhysicalResourceId"] = json!("thing-1");
        }
        if kind == "Update" {
            e["OldResourceProperties"] = json!({"Name": "old"});
        }
        e
    }

    async fn cfn() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/cfn/r"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        server
    }

    async fn bodies(server: &MockServer) -> Vec<(Value, WireRequest)> {
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| (serde_json::from_slice(&r.body).unwrap(), r))
            .collect()
    }

    fn http() -> reqwest::Client {
        client(HttpSettings::default()).unwrap()
    }

    fn long() -> Deadline {
        Deadline::after(Duration::from_secs(30))
    }

    #[tokio::test]
    async fn success_is_put_with_an_empty_content_type() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        let answered = respond_always(
            &http(),
            event("Create", &url),
            long(),
            &Default::default(),
            |req, _| async move {
                assert_eq!(request_type(&req), "Create");
                Ok(Outcome::new("thing-1").with_data("Url", "https://x"))
            },
        )
        .await
        .unwrap();
        assert_eq!(answered.status, "SUCCESS");
        let got = bodies(&server).await;
        assert_eq!(got.len(), 1);
        let (body, req) = &got[0];
        assert_eq!(
            req.headers.get("content-type").map(|v| v.as_bytes()),
            Some(&b""[..])
        );
        assert_eq!(body["Status"], "SUCCESS");
        assert_eq!(body["PhysicalResourceId"], "thing-1");
        assert_eq!(body["RequestId"], "req-1");
        assert_eq!(body["LogicalResourceId"], "Thing");
        assert_eq!(
            body["StackId"],
            "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid"
        );
        assert_eq!(body["Data"]["Url"], "https://x");
        assert!(body["Reason"].is_string());
    }

    #[tokio::test]
    async fn handler_error_answers_failed_with_the_reason_and_the_old_physical_id() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        let answered = respond_always(
            &http(),
            event("Update", &url),
            long(),
            &Default::default(),
            |_, _| async { Err(Failure::new("WebhookUrl: port 1234 is not allowed")) },
        )
        .await
        .unwrap();
        assert_eq!(answered.status, "FAILED");
        let (body, _) = &bodies(&server).await[0];
        assert_eq!(body["Status"], "FAILED");
        assert_eq!(body["Reason"], "WebhookUrl: port 1234 is not allowed");
        assert_eq!(body["PhysicalResourceId"], "thing-1");
    }

    #[tokio::test]
    async fn failed_create_gets_a_minted_id_and_its_rollback_delete_succeeds_untouched() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        respond_always(
            &http(),
            event("Create", &url),
            long(),
            &Default::default(),
            |_, _| async { Err(Failure::new("nope")) },
        )
        .await
        .unwrap();
        let (body, _) = &bodies(&server).await[0];
        let minted = body["PhysicalResourceId"].as_str().unwrap().to_string();
        assert_eq!(minted, failed_create_id("req-1"));

        let mut delete = event("Delete", &url);
        delete["PhysicalResourceId"] = json!(minted);
        let answered = respond_always(&http(), delete, long(), &Default::default(), |_, _| async {
            panic!("the handler must not run for the rollback of a failed Create")
        })
        .await
        .unwrap();
        assert_eq!(answered.status, "SUCCESS");
    }

    #[tokio::test]
    async fn a_create_that_claimed_its_id_reports_it_after_a_timeout_or_a_panic() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        let settings = ResponderSettings {
            response_reserve: Duration::from_millis(300),
            ..Default::default()
        };
        let answered = respond_always_claiming(
            &http(),
            event("Create", &url),
            Deadline::after(Duration::from_millis(800)),
            &settings,
            |_, _, claim| async move {
                claim.set("webhook-1");
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(Outcome::new("never"))
            },
        )
        .await
        .unwrap();
        assert_eq!(answered.status, "FAILED");
        assert_eq!(answered.physical_resource_id, "webhook-1");
        assert_eq!(
            bodies(&server).await[0].0["PhysicalResourceId"],
            "webhook-1"
        );

        let answered = respond_always_claiming(
            &http(),
            event("Create", &url),
            long(),
            &Default::default(),
            |_, _, claim| async move {
                claim.set("webhook-2");
                if true {
                    panic!("after acting");
                }
                Ok(Outcome::new("x"))
            },
        )
        .await
        .unwrap();
        assert_eq!(answered.status, "FAILED");
        assert_eq!(answered.physical_resource_id, "webhook-2");

        // An Update keeps the request's id whatever was claimed.
        let mut update = event("Update", &url);
        update["PhysicalResourceId"] = json!("old-id");
        let answered = respond_always_claiming(
            &http(),
            update,
            long(),
            &Default::default(),
            |_, _, claim| async move {
                claim.set("new-id");
                Err(Failure::new("no"))
            },
        )
        .await
        .unwrap();
        assert_eq!(answered.physical_resource_id, "old-id");
    }

    #[tokio::test]
    async fn a_panicking_handler_still_answers_failed() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        let answered = respond_always(
            &http(),
            event("Delete", &url),
            long(),
            &Default::default(),
            |_, _| async {
                if true {
                    panic!("boom");
                }
                Ok(Outcome::new("x"))
            },
        )
        .await
        .unwrap();
        assert_eq!(answered.status, "FAILED");
        assert_eq!(bodies(&server).await[0].0["Status"], "FAILED");
    }

    #[tokio::test]
    async fn an_approaching_deadline_answers_failed_before_it() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        let settings = ResponderSettings {
            response_reserve: Duration::from_millis(500),
            ..Default::default()
        };
        let deadline = Deadline::after(Duration::from_millis(1200));
        let started = std::time::Instant::now();
        let answered = respond_always(
            &http(),
            event("Create", &url),
            deadline,
            &settings,
            |_, work| async move {
                assert!(work.remaining() <= Duration::from_millis(700));
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok(Outcome::new("never"))
            },
        )
        .await
        .unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(1200),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(answered.status, "FAILED");
        let (body, _) = &bodies(&server).await[0];
        assert!(
            body["Reason"].as_str().unwrap().contains("ran out of time"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_malformed_event_with_a_response_url_is_answered_failed_and_reported() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        let mut bad = event("Create", &url);
        bad["RequestType"] = json!("Replace");
        let err = respond_always(&http(), bad, long(), &Default::default(), |_, _| async {
            panic!("must not run")
        })
        .await
        .unwrap_err();
        assert!(matches!(err, CustomResourceError::Malformed(_)), "{err}");
        assert!(err.to_string().contains("Replace"), "{err}");
        let (body, _) = &bodies(&server).await[0];
        assert_eq!(body["Status"], "FAILED");
        assert_eq!(body["RequestId"], "req-1");
        assert!(
            body["Reason"].as_str().unwrap().contains("malformed"),
            "{body}"
        );

        let mut missing = event("Update", &url);
        missing.as_object_mut().unwrap().remove("StackId");
        let err = respond_always(
            &http(),
            missing,
            long(),
            &Default::default(),
            |_, _| async { Ok(Outcome::new("x")) },
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("StackId"), "{err}");
        assert_eq!(bodies(&server).await.len(), 2);
    }

    #[tokio::test]
    async fn an_event_without_a_usable_response_url_is_unanswerable() {
        for bad in [
            json!({"RequestType": "Create"}),
            json!([1, 2]),
            event("Create", "file:///etc/passwd"),
            event("Create", "not a url"),
        ] {
            let err = respond_always(
                &http(),
                bad.clone(),
                long(),
                &Default::default(),
                |_, _| async { Ok(Outcome::new("x")) },
            )
            .await
            .unwrap_err();
            assert!(
                matches!(err, CustomResourceError::Unanswerable(_)),
                "{bad}: {err}"
            );
        }
    }

    #[tokio::test]
    async fn transient_put_failures_are_retried_and_a_dead_url_is_an_error() {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let url = format!("{}/cfn/r", server.uri());
        respond_always(
            &http(),
            event("Create", &url),
            long(),
            &Default::default(),
            |_, _| async { Ok(Outcome::new("a")) },
        )
        .await
        .unwrap();
        assert_eq!(server.received_requests().await.unwrap().len(), 2);

        let forbidden = MockServer::start().await;
        Mock::given(method("PUT"))
            .respond_with(
                ResponseTemplate::new(403).set_body_string("<Error>SignatureDoesNotMatch</Error>"),
            )
            .expect(1)
            .mount(&forbidden)
            .await;
        let url = format!("{}/cfn/r?X-Amz-Signature=SECRETSIG", forbidden.uri());
        let err = respond_always(
            &http(),
            event("Create", &url),
            long(),
            &Default::default(),
            |_, _| async { Ok(Outcome::new("a")) },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, CustomResourceError::Undelivered { .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("SECRETSIG"), "{err}");
    }

    #[tokio::test]
    async fn unusable_physical_ids_become_failed() {
        let server = cfn().await;
        let url = format!("{}/cfn/r", server.uri());
        let answered = respond_always(
            &http(),
            event("Create", &url),
            long(),
            &Default::default(),
            |_, _| async { Ok(Outcome::new("")) },
        )
        .await
        .unwrap();
        assert_eq!(answered.status, "FAILED");
        assert!(answered.reason.contains("PhysicalResourceId"));
    }

    fn big_response(reason: &str, data: &[(&str, String)]) -> Response {
        let mut r = Response::default();
        r.status = Status::Failed;
        r.physical_resource_id = "p".into();
        r.stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid".into();
        r.request_id = "req".into();
        r.logical_resource_id = "L".into();
        r.reason = Some(reason.to_string());
        r.data = data
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        r
    }

    #[test]
    fn long_reasons_are_cut_on_character_boundaries_to_fit() {
        // Multi-byte characters and characters JSON escapes (quotes, control characters).
        let reason: String = "é\"\u{1}€".repeat(2000);
        let mut r = big_response(&reason, &[]);
        let (body, truncated) = fit_body(&mut r);
        assert!(truncated);
        assert!(body.len() <= MAX_BODY_BYTES, "{}", body.len());
        assert!(
            body.len() > MAX_BODY_BYTES - 16,
            "cut no more than needed: {}",
            body.len()
        );
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert!(parsed["Reason"].as_str().unwrap().ends_with('…'));
        assert_eq!(parsed["PhysicalResourceId"], "p");
    }

    #[test]
    fn oversized_data_is_cut_longest_first() {
        let data = [
            ("Small", "keep me".to_string()),
            ("Huge", "x".repeat(10_000)),
            ("Mid", "y".repeat(500)),
        ];
        let mut r = big_response("ok", &data);
        let (body, truncated) = fit_body(&mut r);
        assert!(truncated && body.len() <= MAX_BODY_BYTES, "{}", body.len());
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["Data"]["Small"], "keep me");
        assert_eq!(parsed["Data"]["Mid"].as_str().unwrap().len(), 500);
        assert!(parsed["Data"]["Huge"].as_str().unwrap().ends_with('…'));
        assert!(parsed["Reason"].as_str().unwrap().contains("cut"));

        // Too many keys to fit even empty: keys are dropped.
        let many: Vec<(String, String)> = (0..600)
            .map(|i| (format!("Key{i:04}"), String::new()))
            .collect();
        let many: Vec<(&str, String)> = many.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let mut r = big_response("ok", &many);
        let (body, _) = fit_body(&mut r);
        assert!(body.len() <= MAX_BODY_BYTES);
        assert!(serde_json::from_str::<Value>(&body).is_ok());
    }

    #[test]
    fn small_bodies_are_untouched() {
        let mut r = big_response("fine", &[("A", "b".to_string())]);
        let (body, truncated) = fit_body(&mut r);
        assert!(!truncated);
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(parsed["Reason"], "fine");
        assert_eq!(parsed["Status"], "FAILED");
    }
}
