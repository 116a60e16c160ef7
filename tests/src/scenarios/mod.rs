//! The scenarios: an estate, a stretch of simulated time, what happens in it, and the
//! invariants checked after every step.

pub mod alarm_fanout;
pub mod alarm_fanout_week;
pub mod aurora;
pub mod aurora_cloud;
pub mod cloudfront_invalidate;
pub mod power_tuner;
pub mod telegram_webhook;
