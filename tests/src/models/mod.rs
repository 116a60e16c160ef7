//! Models of the AWS services the functions talk to. Each is a small state machine driven
//! by the simulation's virtual clock; each cites where its durations and limits come from
//! and labels as an assumption what AWS's documentation does not state.

pub mod alarm_receivers;
pub mod cloudfront;
pub mod cloudwatch;
pub mod dead_letters;
pub mod dynamodb;
pub mod ecs;
pub mod lambda_control;
pub mod rds;
pub mod sqs;
pub mod telegram;
