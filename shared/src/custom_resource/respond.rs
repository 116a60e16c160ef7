//! The responder: parses the event, runs the handler within its deadline (a panic caught),
//! and answers CloudFormation on every path, a malformed event included.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use serde_json::Value;

use super::event::{common, describe_parse_error, request_type, Request, Response, Status};
use super::ids::{
    check_physical_id, check_response_url, common_fallback_id, failed_create_id,
    is_failed_create_id, Claim,
};
use super::outcome::{Answered, CustomResourceError, Failure, Outcome, ResponderSettings};
use super::response::{fit_body, put_response};
use crate::http::excerpt;
use crate::Deadline;

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
