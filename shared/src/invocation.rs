//! One invocation as a handler sees it: the request id, the deadline and the clock.
//!
//! Handlers read calendar time only through [`Invocation::now`] (never `Utc::now`), and
//! wait only through tokio's timers (which the [`Deadline`] also uses). In production the
//! clock is the system's; in the simulation tier (`tests/`) it is a [`TokioClock`] over
//! tokio's paused time, so that sleeps, timeouts, deadlines and calendar time all move
//! together on one virtual clock and a run replays exactly.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::Deadline;

/// Calendar time, injected so that a simulation can drive it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Calendar time that follows tokio's clock from a fixed starting point: with
/// `tokio::time::pause()` it advances exactly as far as the runtime's virtual time does.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    epoch: DateTime<Utc>,
    origin: Instant,
}

impl TokioClock {
    /// A clock that reads `epoch` now and moves with tokio's time from here on.
    pub fn starting_at(epoch: DateTime<Utc>) -> Self {
        Self {
            epoch,
            origin: Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().saturating_duration_since(self.origin);
        self.epoch + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
}

/// What a handler knows about the invocation it serves.
#[derive(Clone)]
pub struct Invocation {
    pub request_id: String,
    pub deadline: Deadline,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("request_id", &self.request_id)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Invocation {
    pub fn new(request_id: impl Into<String>, deadline: Deadline, clock: Arc<dyn Clock>) -> Self {
        Self {
            request_id: request_id.into(),
            deadline,
            clock,
        }
    }

    /// From Lambda's context, on the system clock, keeping the deadline's default margin.
    pub fn from_context(context: &lambda_runtime::Context) -> Self {
        Self::new(
            context.request_id.clone(),
            Deadline::from_context(context),
            Arc::new(SystemClock),
        )
    }

    /// An invocation with `budget` left, on the system clock (tests and tools).
    pub fn with_budget(request_id: impl Into<String>, budget: Duration) -> Self {
        Self::new(request_id, Deadline::after(budget), Arc::new(SystemClock))
    }

    /// Calendar time now, as this invocation's clock says.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_moves_with_virtual_time() {
        let start = DateTime::parse_from_rfc3339("2026-03-29T00:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let invocation = Invocation::new(
            "r-1",
            Deadline::after(Duration::from_secs(60)),
            Arc::new(TokioClock::starting_at(start)),
        );
        assert_eq!(invocation.now(), start);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(invocation.now(), start + chrono::Duration::hours(1));
        assert!(invocation.deadline.is_past());
    }
}
