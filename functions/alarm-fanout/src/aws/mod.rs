//! Adapters from the crate's traits to the AWS SDK; every SDK call of the crate is in
//! this folder. DynamoDB: delivery records ([`crate::store::Store`], [`dynamo`]) and paced
//! receivers' budgets and digests ([`crate::pace::PaceStore`], [`pace`]); CloudWatch (alarm
//! tags, [`crate::severity::TagLookup`]); SSM (the routing document); SNS
//! ([`crate::receivers::Publisher`]); SQS (the dead-letter queue,
//! [`crate::redrive::DeadLetters`]). HTTP over reqwest is in [`crate::transport`].

mod cloudwatch;
mod dynamo;
mod held;
mod inhibition;
mod pace;
mod reminders;
mod silences;
mod sns;
mod sqs;
mod ssm;
mod threads;
mod widget;

pub use cloudwatch::CloudWatchTags;
pub use dynamo::DynamoStore;
pub use sqs::SqsDeadLetters;
pub use ssm::routing_parameter;
pub use threads::DynamoThreads;
pub use widget::CloudWatchPictures;
