//! The adapters: the crate's traits ([`crate::lambda::LambdaApi`],
//! [`crate::store::ObjectStore`]) over the AWS SDK. Every SDK call of the crate is here.

pub mod lambda;
pub mod s3;
