//! The original code package, kept before the first architecture switch so that the
//! restore puts back exactly the code that was deployed: a .zip package is copied into
//! the report bucket (`tuner-state/code/<run>.zip`), an image is kept by digest. The
//! restore checks the function's `CodeSha256` against the one recorded before the run.
//!
//! Lambda deploys a package from S3 only from a bucket in the function's own Region (the
//! `UpdateFunctionCode` API reference: "An Amazon S3 bucket in the same Amazon Web
//! Services Region as your function"), so the .zip package of a function in another
//! Region cannot be kept where Lambda could restore it from: such a switch is refused.

use groundcrew::Deadline;

use crate::input::S3Location;
use crate::lambda::{CodeSource, LambdaApi, OriginalCode};
use crate::regions::region_of;
use crate::store::{Condition, ObjectStore};
use crate::wait::call;
use crate::Error;

/// Where a run keeps the original .zip package.
pub fn location(bucket: &str, run_id: &str) -> S3Location {
    S3Location {
        bucket: bucket.to_string(),
        key: format!("tuner-state/code/{run_id}.zip"),
    }
}

/// What a run needs to keep the original package.
pub struct Keep<'a> {
    pub function: &'a str,
    pub run_id: &'a str,
    /// The report bucket, in the tuner's Region.
    pub bucket: &'a str,
    /// The tuner's Region.
    pub home: Option<&'a str>,
    pub deadline: Deadline,
}

impl Keep<'_> {
    /// Keeps the deployed package and says where it is, or refuses the switch with the
    /// reason when it could not be put back.
    pub async fn keep<L: LambdaApi, S: ObjectStore>(
        &self,
        lambda: &L,
        store: &S,
    ) -> Result<CodeSource, Error> {
        let original = call(self.deadline, "GetFunction", || {
            lambda.original_code(self.function)
        })
        .await?;
        let zip = match original {
            OriginalCode::Image(uri) => return Ok(CodeSource::Image(uri)),
            OriginalCode::Zip(zip) => zip,
        };
        if let (Some(region), Some(home)) = (region_of(self.function), self.home) {
            if region != home {
                return Err(Error::Input(format!(
                    "architectures: the function is in {region} and its .zip package could be kept only in the report bucket, in {home}, from where Lambda cannot deploy it back (a package must come from a bucket in the function's Region); tune its architectures with a tuner deployed in {region}, or measure memory only"
                )));
            }
        }
        let at = location(self.bucket, self.run_id);
        store
            .put(&at, zip, "application/zip", Condition::Always)
            .await
            .map_err(|e| Error::State(format!("keeping the original code package: {e}")))?;
        Ok(CodeSource::S3 {
            bucket: at.bucket,
            key: at.key,
            object_version: None,
        })
    }
}
