//! Functions in other Regions. A Lambda client talks to one Region, so a function named by
//! an ARN of another Region (of the tuner's partition) is reached through a client built
//! for that Region when it is first needed and kept for the rest of the invocation's
//! life (the execution environment's, in fact). Which Regions are allowed is a setting
//! (`GC_TUNING_REGIONS`, from the template's `PowerTunerTuningRegions`, which scopes the IAM policy
//! to the same list): a function elsewhere is refused before anything is read or changed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::architecture::Architecture;
use crate::lambda::{CodeSource, FunctionState, Invocation, LambdaApi, LambdaError, LogSettings};
use crate::lambda::{OriginalCode, VersionInfo};

/// The Region of a function ARN (`arn:<partition>:lambda:<region>:...`); `None` for a
/// plain name.
pub fn region_of(function: &str) -> Option<&str> {
    let mut parts = function.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.nth(2))
        .flatten()
        .filter(|r| !r.is_empty())
}

/// The partition of an ARN.
pub fn partition_of(function: &str) -> Option<&str> {
    function
        .strip_prefix("arn:")
        .and_then(|rest| rest.split(':').next())
}

/// The partition a Region belongs to, from its name (AWS's partitions: `aws-cn` for
/// `cn-*`, `aws-us-gov` for `us-gov-*`, `aws-iso` for `us-iso-*`, `aws-iso-b` for
/// `us-isob-*`, `aws` otherwise).
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// Where the tuner may reach functions: its own Region and the listed others.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reach<'a> {
    /// The tuner's Region (`AWS_REGION`); `None` off Lambda, where nothing is checked.
    pub home: Option<&'a str>,
    /// Other Regions allowed (`GC_TUNING_REGIONS`).
    pub others: &'a [String],
}

impl Reach<'_> {
    /// `Err(reason)` when `arn` names a function the tuner may not reach; the reason
    /// names `field`, the function's Region and what would allow it.
    pub fn check(&self, field: &str, arn: &str) -> Result<(), String> {
        let (Some(home), Some(region)) = (self.home, region_of(arn)) else {
            return Ok(());
        };
        let mine = partition_of_region(home);
        if let Some(p) = partition_of(arn).filter(|p| *p != mine) {
            return Err(format!(
                "{field}: the function is in the {p} partition; this tuner works in {mine} (a partition has its own accounts and credentials: deploy a tuner there)"
            ));
        }
        if region == home || self.others.iter().any(|r| r == region) {
            return Ok(());
        }
        let allowed = std::iter::once(home)
            .chain(self.others.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(", ");
        Err(format!(
            "{field}: the function is in {region}; this tuner may reach {allowed} (add {region} to the stack's PowerTunerTuningRegions parameter, which sets GC_TUNING_REGIONS and the IAM policy's Regions)"
        ))
    }
}

type Make<L> = Box<dyn Fn(&str) -> L + Send + Sync>;

/// A [`LambdaApi`] that sends each call to the client of the function's Region: the home
/// client for a plain name or an ARN of the home Region, else one built by `make` on
/// first use and cached.
pub struct Regional<L> {
    home_region: Option<String>,
    home: Arc<L>,
    make: Make<L>,
    others: Mutex<HashMap<String, Arc<L>>>,
}

impl<L> Regional<L> {
    pub fn new(
        home_region: Option<String>,
        home: L,
        make: impl Fn(&str) -> L + Send + Sync + 'static,
    ) -> Self {
        Self {
            home_region,
            home: Arc::new(home),
            make: Box::new(make),
            others: Mutex::new(HashMap::new()),
        }
    }

    /// The client for `function`'s Region.
    pub fn client(&self, function: &str) -> Arc<L> {
        let region = match (region_of(function), self.home_region.as_deref()) {
            (Some(r), Some(home)) if r != home => r,
            _ => return self.home.clone(),
        };
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        others
            .entry(region.to_string())
            .or_insert_with(|| {
                tracing::info!(region, "a Lambda client for another Region");
                Arc::new((self.make)(region))
            })
            .clone()
    }

    /// The Regions other than home that have a client so far.
    pub fn built(&self) -> Vec<String> {
        let others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        let mut regions: Vec<String> = others.keys().cloned().collect();
        regions.sort();
        regions
    }
}

type Res<T> = Result<T, LambdaError>;

impl<L: LambdaApi + 'static> LambdaApi for Regional<L> {
    async fn get_configuration(&self, f: &str, qualifier: Option<&str>) -> Res<FunctionState> {
        self.client(f).get_configuration(f, qualifier).await
    }
    async fn update_memory(&self, f: &str, memory_mb: u32) -> Res<()> {
        self.client(f).update_memory(f, memory_mb).await
    }
    async fn update_environment(&self, f: &str, vars: HashMap<String, String>) -> Res<()> {
        self.client(f).update_environment(f, vars).await
    }
    async fn update_logging(&self, f: &str, logging: &LogSettings) -> Res<()> {
        self.client(f).update_logging(f, logging).await
    }
    async fn update_architecture(&self, f: &str, a: Architecture, code: &CodeSource) -> Res<()> {
        self.client(f).update_architecture(f, a, code).await
    }
    async fn original_code(&self, f: &str) -> Res<OriginalCode> {
        self.client(f).original_code(f).await
    }
    async fn list_versions(&self, f: &str) -> Res<Vec<VersionInfo>> {
        self.client(f).list_versions(f).await
    }
    async fn publish_version(&self, f: &str, description: &str) -> Res<String> {
        self.client(f).publish_version(f, description).await
    }
    async fn put_alias(&self, f: &str, alias: &str, version: &str) -> Res<()> {
        self.client(f).put_alias(f, alias, version).await
    }
    async fn delete_alias(&self, f: &str, alias: &str) -> Res<()> {
        self.client(f).delete_alias(f, alias).await
    }
    async fn delete_version(&self, f: &str, version: &str) -> Res<()> {
        self.client(f).delete_version(f, version).await
    }
    async fn invoke(&self, f: &str, qualifier: Option<&str>, payload: Vec<u8>) -> Res<Invocation> {
        self.client(f).invoke(f, qualifier, payload).await
    }
    async fn invoke_async(&self, f: &str, payload: Vec<u8>) -> Res<()> {
        self.client(f).invoke_async(f, payload).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EU: &str = "arn:aws:lambda:eu-west-1:123456789012:function:groundcrew-dev-x";
    const US: &str = "arn:aws:lambda:us-east-1:123456789012:function:groundcrew-dev-x";

    #[test]
    fn regions_and_partitions_of_arns() {
        assert_eq!(region_of(EU), Some("eu-west-1"));
        assert_eq!(region_of("groundcrew-dev-x"), None);
        assert_eq!(
            partition_of("arn:aws-cn:lambda:cn-north-1:1:function:f"),
            Some("aws-cn")
        );
        assert_eq!(partition_of_region("cn-northwest-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition_of_region("us-iso-east-1"), "aws-iso");
        assert_eq!(partition_of_region("eu-central-2"), "aws");
    }

    #[test]
    fn only_the_home_region_and_the_listed_ones_are_reached() {
        let others = vec!["eu-west-1".to_string()];
        let reach = Reach {
            home: Some("us-east-1"),
            others: &others,
        };
        assert_eq!(reach.check("lambdaARN", US), Ok(()));
        assert_eq!(reach.check("lambdaARN", EU), Ok(()));
        assert_eq!(reach.check("lambdaARN", "a-plain-name"), Ok(()));
        let err = reach
            .check("preProcessorARN", &EU.replace("eu-west-1", "ap-south-1"))
            .unwrap_err();
        assert!(
            err.starts_with("preProcessorARN: the function is in ap-south-1"),
            "{err}"
        );
        assert!(
            err.contains("us-east-1, eu-west-1") && err.contains("TuningRegions"),
            "{err}"
        );
        let err = reach
            .check(
                "lambdaARN",
                "arn:aws-cn:lambda:cn-north-1:123456789012:function:f",
            )
            .unwrap_err();
        assert!(
            err.contains("aws-cn partition") && err.contains("works in aws"),
            "{err}"
        );
        // Off Lambda (no AWS_REGION) nothing is checked.
        assert_eq!(Reach::default().check("lambdaARN", EU), Ok(()));
    }

    #[test]
    fn a_client_per_region_built_once() {
        let made = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = made.clone();
        let regional = Regional::new(Some("us-east-1".into()), "home".to_string(), move |r| {
            log.lock().unwrap().push(r.to_string());
            format!("client {r}")
        });
        assert_eq!(*regional.client(US), "home");
        assert_eq!(*regional.client("groundcrew-dev-x"), "home");
        assert_eq!(*regional.client(EU), "client eu-west-1");
        assert_eq!(*regional.client(EU), "client eu-west-1");
        assert_eq!(*made.lock().unwrap(), vec!["eu-west-1".to_string()]);
        assert_eq!(regional.built(), vec!["eu-west-1".to_string()]);
    }
}
