//! Calls with retries inside the deadline, and the waits AWS requires between
//! configuration changes: an update must finish (`LastUpdateStatus` leaves `InProgress`)
//! before the next one, or Lambda answers `ResourceConflictException`; a new version can
//! be invoked only once its `State` is `Active` (a SnapStart version stays `Pending` for
//! minutes while its snapshot is made).

use std::future::Future;
use std::time::Duration;

use groundcrew::retry::{retry, RetryPolicy};
use groundcrew::Deadline;

use crate::lambda::{FunctionState, LambdaApi, LambdaError};

/// Throttling and `ResourceConflictException` are retried with backoff (see
/// `LambdaError`'s `Transient`), within the deadline.
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        min_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(5),
        max_retry_after: Duration::from_secs(30),
    }
}

pub async fn call<T, F, Fut>(deadline: Deadline, what: &str, op: F) -> Result<T, LambdaError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, LambdaError>>,
{
    match deadline
        .run(retry(&retry_policy(), deadline, what, op))
        .await
    {
        Ok(r) => r,
        Err(_) => Err(LambdaError::deadline(format!(
            "{what}: the deadline passed"
        ))),
    }
}

/// Polls `GetFunctionConfiguration` until `done` says the state is final, backing off
/// from 50 ms to 2 s, within the deadline.
async fn poll<L: LambdaApi>(
    lambda: &L,
    function: &str,
    qualifier: Option<&str>,
    deadline: Deadline,
    waiting_for: &str,
    done: impl Fn(&FunctionState) -> Result<bool, LambdaError>,
) -> Result<FunctionState, LambdaError> {
    let mut delay = Duration::from_millis(50);
    loop {
        let state = call(deadline, "GetFunctionConfiguration", || {
            lambda.get_configuration(function, qualifier)
        })
        .await?;
        if done(&state)? {
            return Ok(state);
        }
        if !deadline.allows(delay) {
            return Err(LambdaError::deadline(format!(
                "{waiting_for} did not happen before the deadline"
            )));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

fn reason(state: &FunctionState) -> String {
    state
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

/// Waits until `$LATEST` may be changed again: its last update finished (`Successful`,
/// or none yet) and it is not `Pending`. Fails when the update or the function failed.
pub async fn until_updated<L: LambdaApi>(
    lambda: &L,
    function: &str,
    deadline: Deadline,
) -> Result<FunctionState, LambdaError> {
    poll(
        lambda,
        function,
        None,
        deadline,
        "the function's update finishing",
        |s| match (s.last_update_status.as_deref(), s.state.as_deref()) {
            (Some("Failed"), _) => Err(LambdaError::other(format!(
                "the function's last update failed (LastUpdateStatus Failed{})",
                reason(s)
            ))),
            (_, Some("Failed")) => Err(LambdaError::other(format!(
                "the function is in state Failed{}",
                reason(s)
            ))),
            (Some("InProgress"), _) | (_, Some("Pending")) => Ok(false),
            _ => Ok(true),
        },
    )
    .await
}

/// Waits until a published version is `Active` (invocable).
pub async fn until_version_active<L: LambdaApi>(
    lambda: &L,
    function: &str,
    version: &str,
    deadline: Deadline,
) -> Result<FunctionState, LambdaError> {
    poll(
        lambda,
        function,
        Some(version),
        deadline,
        "the new version becoming Active",
        |s| match s.state.as_deref() {
            Some("Failed") => Err(LambdaError::other(format!(
                "version {version} is in state Failed{}",
                reason(s)
            ))),
            Some("Pending") => Ok(false),
            _ => Ok(true),
        },
    )
    .await
}
