//! Retries with jittered exponential backoff (the `backon` crate) that honour a server's
//! `retry_after` and never sleep past the invocation deadline.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::Deadline;

/// What an error says about trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAdvice {
    /// Transient: try again after the backoff delay.
    Retry,
    /// The server named a delay (`retry_after`, `Retry-After`).
    RetryAfter(Duration),
    /// Permanent: trying again cannot help.
    Stop,
}

/// Errors that know whether they are worth retrying.
pub trait Transient {
    fn retry_advice(&self) -> RetryAdvice;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// A server asking for longer than this is taken at this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt, or `None` to give up: out of attempts, told to
    /// stop, or the wait would end past the deadline.
    fn next_delay(
        &self,
        advice: RetryAdvice,
        backoff: Option<Duration>,
        deadline: &Deadline,
    ) -> Option<Duration> {
        let delay = match advice {
            RetryAdvice::Stop => return None,
            RetryAdvice::Retry => backoff?,
            // A server's delay replaces the backoff's, but still uses up an attempt.
            RetryAdvice::RetryAfter(wanted) => backoff.map(|_| wanted.min(self.max_retry_after))?,
        };
        deadline.allows(delay).then_some(delay)
    }
}

/// The policy's exponential backoff with jitter. Its generator forks from `fastrand`'s
/// thread-local one (backon's `std` feature): random per process and thread in
/// production, so concurrent invocations retrying the same failure spread out instead of
/// retrying in step; reproducible where that generator is seeded (the simulation seeds it
/// per run).
fn backoff(policy: &RetryPolicy) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.max_attempts.saturating_sub(1))
        .with_jitter()
}

/// Runs `operation` until it succeeds, returns a permanent error, runs out of attempts,
/// or the next wait would pass `deadline`; the last error is returned.
pub async fn retry<T, E, F, Fut>(
    policy: &RetryPolicy,
    deadline: Deadline,
    what: &str,
    operation: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Transient + std::fmt::Display,
{
    operation
        .retry(backoff(policy))
        .sleep(tokio::time::sleep)
        .when(|e: &E| e.retry_advice() != RetryAdvice::Stop)
        .adjust(|e: &E, backoff| policy.next_delay(e.retry_advice(), backoff, &deadline))
        .notify(|e: &E, delay| {
            tracing::warn!(operation = what, error = %e, delay_ms = delay.as_millis() as u64, "retrying");
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::time::Instant;

    #[derive(Debug)]
    struct Fail(RetryAdvice);
    impl std::fmt::Display for Fail {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "fail {:?}", self.0)
        }
    }
    impl Transient for Fail {
        fn retry_advice(&self) -> RetryAdvice {
            self.0
        }
    }

    async fn failing_then_ok(
        fails: usize,
        advice: RetryAdvice,
        deadline: Deadline,
    ) -> (Result<u32, Fail>, usize) {
        let calls = AtomicUsize::new(0);
        let result = retry(&RetryPolicy::default(), deadline, "test", || async {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            if n < fails {
                Err(Fail(advice))
            } else {
                Ok(7)
            }
        })
        .await;
        (result, calls.load(Ordering::SeqCst))
    }

    /// The delays a fresh thread's first backoff draws (each thread's generator starts as
    /// a process's first one does).
    fn first_delays_on_a_fresh_thread() -> Vec<Duration> {
        std::thread::spawn(|| {
            let policy = RetryPolicy {
                max_attempts: 9,
                ..RetryPolicy::default()
            };
            backon::BackoffBuilder::build(backoff(&policy)).collect()
        })
        .join()
        .unwrap()
    }

    #[test]
    fn two_fresh_processes_draw_different_jitter() {
        // Without backon's `std` feature both would draw backon's one fixed sequence.
        let a = first_delays_on_a_fresh_thread();
        let b = first_delays_on_a_fresh_thread();
        assert_eq!(a.len(), 8);
        assert_ne!(a, b, "two fresh generators drew the same jitter");
    }

    #[test]
    fn jitter_replays_where_the_generator_is_seeded() {
        let seeded = || {
            std::thread::spawn(|| {
                fastrand::seed(7);
                backon::BackoffBuilder::build(backoff(&RetryPolicy::default())).collect::<Vec<_>>()
            })
            .join()
            .unwrap()
        };
        assert_eq!(seeded(), seeded());
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_retried_until_success() {
        let (result, calls) = failing_then_ok(
            2,
            RetryAdvice::Retry,
            Deadline::after(Duration::from_secs(60)),
        )
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_errors_are_not_retried() {
        let (result, calls) = failing_then_ok(
            5,
            RetryAdvice::Stop,
            Deadline::after(Duration::from_secs(60)),
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts() {
        let (result, calls) = failing_then_ok(
            99,
            RetryAdvice::Retry,
            Deadline::after(Duration::from_secs(600)),
        )
        .await;
        assert!(result.is_err());
        assert_eq!(calls, RetryPolicy::default().max_attempts);
    }

    #[tokio::test(start_paused = true)]
    async fn honours_the_servers_retry_after() {
        let start = Instant::now();
        let (result, calls) = failing_then_ok(
            1,
            RetryAdvice::RetryAfter(Duration::from_secs(5)),
            Deadline::after(Duration::from_secs(60)),
        )
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(calls, 2);
        assert_eq!(start.elapsed().as_secs(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn never_sleeps_past_the_deadline() {
        let start = Instant::now();
        let deadline = Deadline::after(Duration::from_secs(3));
        let (result, calls) =
            failing_then_ok(1, RetryAdvice::RetryAfter(Duration::from_secs(5)), deadline).await;
        assert!(result.is_err(), "a 5 s wait does not fit in 3 s");
        assert_eq!(calls, 1);
        assert!(start.elapsed() < Duration::from_secs(3));
    }
}
