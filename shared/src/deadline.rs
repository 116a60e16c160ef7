//! The invocation deadline, as an instant every wait and retry can be checked against.

use std::future::Future;
use std::sync::Once;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Time kept back from Lambda's deadline so that a function can still answer (report a
/// failure, respond to CloudFormation) after its last wait gives up.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(1500);

/// A deadline below this many milliseconds (September 2001) cannot be a time since the epoch.
/// Local emulators send the function's timeout instead (`cargo lambda watch` sends
/// `Lambda-Runtime-Deadline-Ms: 600000`); read as a date, every deadline would have passed.
pub const EPOCH_MILLIS_FLOOR: u64 = 1_000_000_000_000;

/// The relative reading is logged once per process, not on every invocation.
static RELATIVE_DEADLINE_LOGGED: Once = Once::new();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the invocation deadline passed before the work finished")]
pub struct DeadlineExceeded;

impl Deadline {
    pub fn after(duration: Duration) -> Self {
        Self {
            at: Instant::now() + duration,
        }
    }

    /// From Lambda's deadline (milliseconds since the epoch), less `margin`. A value below
    /// [`EPOCH_MILLIS_FLOOR`] is read as milliseconds from now (a local emulator's timeout).
    pub fn from_epoch_millis(deadline_ms: u64, margin: Duration) -> Self {
        let left = if deadline_ms < EPOCH_MILLIS_FLOOR {
            RELATIVE_DEADLINE_LOGGED.call_once(|| {
                tracing::warn!(
                    deadline_ms,
                    "the runtime's deadline is not milliseconds since the epoch (a local emulator \
                     such as cargo lambda watch?); reading it as milliseconds from now"
                );
            });
            Duration::from_millis(deadline_ms)
        } else {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            Duration::from_millis(deadline_ms.saturating_sub(now_ms))
        };
        Self::after(left.saturating_sub(margin))
    }

    /// From the invocation context, keeping [`DEFAULT_MARGIN`] in reserve.
    pub fn from_context(context: &lambda_runtime::Context) -> Self {
        Self::from_epoch_millis(context.deadline, DEFAULT_MARGIN)
    }

    pub fn instant(&self) -> Instant {
        self.at
    }

    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn is_past(&self) -> bool {
        self.remaining().is_zero()
    }

    /// Whether `duration` still fits before the deadline.
    pub fn allows(&self, duration: Duration) -> bool {
        self.remaining() > duration
    }

    /// An earlier deadline, `reserve` before this one.
    pub fn less(&self, reserve: Duration) -> Self {
        Self {
            at: self.at.checked_sub(reserve).unwrap_or_else(Instant::now),
        }
    }

    /// The earlier of this deadline and `budget` from now: a bound for one piece of work
    /// that must also end with the invocation.
    pub fn within(&self, budget: Duration) -> Self {
        let other = Self::after(budget);
        if other.at < self.at {
            other
        } else {
            *self
        }
    }

    /// Runs `work`, abandoning it when the deadline passes.
    pub async fn run<F: Future>(&self, work: F) -> Result<F::Output, DeadlineExceeded> {
        tokio::time::timeout_at(self.at, work)
            .await
            .map_err(|_| DeadlineExceeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn run_abandons_work_at_the_deadline() {
        let deadline = Deadline::after(Duration::from_secs(2));
        let slow = deadline
            .run(tokio::time::sleep(Duration::from_secs(3)))
            .await;
        assert_eq!(slow, Err(DeadlineExceeded));
        assert!(deadline.is_past());
    }

    #[tokio::test(start_paused = true)]
    async fn within_takes_the_earlier_of_the_two() {
        let deadline = Deadline::after(Duration::from_secs(60));
        assert_eq!(
            deadline.within(Duration::from_secs(10)).remaining(),
            Duration::from_secs(10)
        );
        assert_eq!(deadline.within(Duration::from_secs(600)), deadline);
    }

    #[tokio::test(start_paused = true)]
    async fn epoch_deadline_keeps_the_margin() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let deadline = Deadline::from_epoch_millis(now_ms + 10_000, Duration::from_secs(2));
        let left = deadline.remaining();
        assert!(
            left <= Duration::from_secs(8) && left > Duration::from_secs(7),
            "{left:?}"
        );
        assert!(deadline.allows(Duration::from_secs(7)));
        assert!(!deadline.allows(Duration::from_secs(9)));
        // A deadline already gone is past, not a panic.
        assert!(Deadline::from_epoch_millis(now_ms - 5_000, Duration::ZERO).is_past());
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_below_the_epoch_floor_counts_from_now() {
        // What `cargo lambda watch` sends: the timeout, not a time since the epoch.
        let deadline = Deadline::from_epoch_millis(600_000, Duration::from_secs(2));
        assert!(!deadline.is_past());
        assert_eq!(deadline.remaining(), Duration::from_secs(598));
        // Read the same way every time (the warning is logged only once).
        let again = Deadline::from_epoch_millis(600_000, Duration::from_secs(2));
        assert_eq!(again.remaining(), Duration::from_secs(598));
        // Just above the floor it is a date, long gone.
        assert!(Deadline::from_epoch_millis(EPOCH_MILLIS_FLOOR, Duration::ZERO).is_past());
    }
}
