//! groundcrew's simulation tier: each function's real logic against models of the AWS
//! services it talks to, on a virtual clock, over simulated days and weeks, with faults
//! drawn from a seed and invariants checked after every step. A failure prints its seed;
//! `scripts/sim.sh --scenario NAME --seed S` replays that run exactly.
//!
//! - [`kernel`]: the virtual clock, the seeded random source, the fault plan, the timeline
//!   of scheduled happenings, the trace and the runner.
//! - [`models`]: one small state machine per AWS service, implementing the function
//!   crates' own traits (their seams), with durations and limits from AWS's documentation.
//! - [`scenarios`]: the estates and weeks each function is run through, and their invariants.

pub mod kernel;
pub mod models;
pub mod scenarios;

pub use kernel::{run, Fault, FaultRates, Sim, Summary};
