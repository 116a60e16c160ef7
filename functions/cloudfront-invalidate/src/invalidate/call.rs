//! One AWS call with retries, never past the invocation's deadline.

use std::future::Future;

use groundcrew::retry::{retry, RetryPolicy};
use groundcrew::Deadline;

use crate::error::{AwsError, Error};

/// Runs one AWS call with retries, never past the deadline.
pub(crate) async fn call<T, F, Fut>(
    policy: &RetryPolicy,
    deadline: Deadline,
    what: &'static str,
    op: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    // When the deadline cuts an attempt short, the error still says what the service
    // last answered (for example TooManyInvalidationsInProgress), not only "deadline".
    let last_error: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let mut op = op;
    let attempt = || {
        // Boxed: SDK futures are large, and nested in the handler's they would fill the
        // stack of a thread (debug builds especially).
        let pending = Box::pin(op());
        let last_error = &last_error;
        async move {
            let result = pending.await;
            if let (Err(e), Ok(mut slot)) = (&result, last_error.lock()) {
                *slot = Some(e.to_string());
            }
            result
        }
    };
    match Box::pin(deadline.run(retry(policy, deadline, what, attempt))).await {
        Ok(result) => result.map_err(Error::from),
        Err(_) => {
            let last = last_error.lock().ok().and_then(|slot| slot.clone());
            Err(Error::Deadline(match last {
                Some(e) => format!("calling {what} (last error: {e})"),
                None => format!("calling {what}"),
            }))
        }
    }
}
