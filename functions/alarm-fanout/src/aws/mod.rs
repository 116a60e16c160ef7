//! Adapters from the crate's traits to the AWS SDK; every SDK call of the crate is in
//! this folder. DynamoDB: delivery records ([`crate::store::Store`], [`dynamo`]) and paced
//! receivers' budgets and digests ([`crate::pace::PaceStore`], [`pace`]); CloudWatch (alarm
//! tags, [`crate::severity::TagLookup`]); SSM (the routing document); SNS
//! ([`crate::receivers::Publisher`]); SQS (the dead-letter queue,
//! [`crate::redrive::DeadLetters`]). HTTP over reqwest is in [`crate::transport`].
//!
//! [`Clients`] holds one client per service, each built on its first use (issue #17): a
//! notice to Telegram needs DynamoDB and perhaps CloudWatch, never SQS or SNS, and a
//! start-up that built all five would pay for them on every cold start.

mod cloudwatch;
mod dynamo;
mod held;
mod index;
mod inhibition;
mod pace;
mod reminders;
mod silences;
mod sns;
mod sqs;
mod ssm;
mod threads;
mod widget;

use std::sync::Arc;

use aws_config::SdkConfig;
use groundcrew::lazy_client::LazyClient;

pub use cloudwatch::CloudWatchTags;
pub use dynamo::DynamoStore;
pub use sns::SnsPublisher;
pub use sqs::SqsDeadLetters;
pub use ssm::routing_parameter;
pub use threads::DynamoThreads;
pub use widget::CloudWatchPictures;

/// A client built on first use, shared by the adapters of one service, so that the store
/// and the threads (DynamoDB), or the tags and the pictures (CloudWatch), build one
/// client between them, and a clone made before first use does not build its own.
pub type Shared<C> = Arc<LazyClient<C>>;

/// A client built already (tests that point a client at a local endpoint).
pub(crate) fn ready<C>(client: C, build: fn(&SdkConfig) -> C) -> Shared<C> {
    // The configuration is never read: the client is in the cell already.
    Arc::new(LazyClient::built(
        &SdkConfig::builder().build(),
        build,
        client,
    ))
}

/// The crate's SDK clients, none built yet.
#[derive(Clone, Debug)]
pub struct Clients {
    pub dynamodb: Shared<aws_sdk_dynamodb::Client>,
    pub cloudwatch: Shared<aws_sdk_cloudwatch::Client>,
    pub sns: Shared<aws_sdk_sns::Client>,
    pub sqs: Shared<aws_sdk_sqs::Client>,
    pub ssm: Shared<aws_sdk_ssm::Client>,
}

impl Clients {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            dynamodb: Arc::new(LazyClient::new(sdk, aws_sdk_dynamodb::Client::new)),
            cloudwatch: Arc::new(LazyClient::new(sdk, aws_sdk_cloudwatch::Client::new)),
            sns: Arc::new(LazyClient::new(sdk, aws_sdk_sns::Client::new)),
            sqs: Arc::new(LazyClient::new(sdk, aws_sdk_sqs::Client::new)),
            ssm: Arc::new(LazyClient::new(sdk, aws_sdk_ssm::Client::new)),
        }
    }

    /// Which clients have been built, in the order DynamoDB, CloudWatch, SNS, SQS, SSM.
    pub fn built(&self) -> [bool; 5] {
        [
            self.dynamodb.is_built(),
            self.cloudwatch.is_built(),
            self.sns.is_built(),
            self.sqs.is_built(),
            self.ssm.is_built(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk() -> SdkConfig {
        SdkConfig::builder()
            .region(aws_config::Region::new("eu-west-1"))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    #[test]
    fn each_client_is_built_on_its_first_use_only_and_shared() {
        let clients = Clients::new(&sdk());
        let store = DynamoStore::shared(clients.dynamodb.clone(), "t");
        let threads = DynamoThreads::shared(clients.dynamodb.clone(), "t");
        let _tags = CloudWatchTags::shared(clients.cloudwatch.clone());
        let _publisher = SnsPublisher::shared(clients.sns.clone());
        assert_eq!(clients.built(), [false; 5], "built before use");
        let _request = store.client.get_item();
        assert_eq!(clients.built(), [true, false, false, false, false]);
        assert!(
            Arc::ptr_eq(&store.client, &threads.client),
            "the store and the threads share one DynamoDB client"
        );
    }
}
