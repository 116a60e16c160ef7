//! The Lambda control and data plane the tuner needs, behind a small trait (the SDK
//! implementation is `aws::lambda`).

use std::collections::HashMap;
use std::future::Future;

use groundcrew::aws_error::AwsError;
use groundcrew::retry::{RetryAdvice, Transient};

use crate::architecture::Architecture;

/// A failed Lambda call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LambdaError {
    /// The API refused or failed: `groundcrew::aws_error` says whether trying again can
    /// help (throttling, `ResourceConflictException` while an update is in progress, 5xx
    /// answers and timeouts can; a refusal cannot).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The invocation's deadline came first (ours, not Lambda's): the work is handed on.
    #[error("{0}")]
    Deadline(String),
    /// Anything else (an answer without what the tuner needs, a failed download): permanent.
    #[error("{0}")]
    Other(String),
}

impl LambdaError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(message.into())
    }

    pub fn deadline(message: impl Into<String>) -> Self {
        Self::Deadline(message.into())
    }

    pub fn is_deadline(&self) -> bool {
        matches!(self, Self::Deadline(_))
    }

    /// `ResourceNotFoundException`: no such function, version or alias.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Aws(e) if e.is("ResourceNotFoundException"))
    }
}

impl Transient for LambdaError {
    fn retry_advice(&self) -> RetryAdvice {
        match self {
            Self::Aws(e) => e.retry_advice(),
            Self::Deadline(_) | Self::Other(_) => RetryAdvice::Stop,
        }
    }
}

/// The parts of a function's configuration the tuner reads and restores.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionState {
    pub memory_mb: u32,
    pub architecture: Architecture,
    /// `Successful`, `InProgress`, `Failed`; `None` right after creation.
    pub last_update_status: Option<String>,
    pub environment: Option<HashMap<String, String>>,
    /// `Pending`, `Active`, `Inactive`, `Failed` (a new version with SnapStart stays
    /// `Pending` while its snapshot is made).
    #[serde(default)]
    pub state: Option<String>,
    /// Why the state or the last update is what it is (`StateReason`,
    /// `LastUpdateStatusReason`).
    #[serde(default)]
    pub reason: Option<String>,
    /// `provided.al2023`, `nodejs20.x`, ...; `None` for an image.
    #[serde(default)]
    pub runtime: Option<String>,
    /// `Zip` or `Image`.
    #[serde(default)]
    pub package_type: Option<String>,
    #[serde(default)]
    pub code_sha256: Option<String>,
    /// `LoggingConfig`; `None` when Lambda reports none.
    #[serde(default)]
    pub logging: Option<LogSettings>,
}

/// A function's `LoggingConfig`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogSettings {
    /// `Text` or `JSON`.
    pub format: String,
    pub application_level: Option<String>,
    /// `DEBUG`, `INFO` or `WARN` (JSON format only).
    pub system_level: Option<String>,
    pub log_group: Option<String>,
}

impl LogSettings {
    /// Whether Lambda writes the `platform.report` record (the REPORT line) at all.
    ///
    /// Lambda's log-level filtering (AWS Lambda Developer Guide, "Log-level filtering",
    /// docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html; and
    /// the API's `LoggingConfig.SystemLogLevel`: "Lambda only sends system logs at the
    /// selected level of detail and lower, where DEBUG is the highest level and WARN is the
    /// lowest") applies to the JSON format only, and `platform.report` is a system log
    /// event at INFO. So with JSON logs at `SystemLogLevel` WARN no REPORT record is
    /// written. AWS does not say whether the `LogType=Tail` tail is filtered the same way;
    /// we assume it is (it is the same log stream), and raise the level to INFO for the
    /// run either way. Reading the record from the log group (`FilterLogEvents`) would not
    /// help: the same page says the filtering decides what is sent to CloudWatch Logs, so
    /// at WARN the log group never gets it either.
    pub fn hides_reports(&self) -> bool {
        self.format.eq_ignore_ascii_case("json")
            && self
                .system_level
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case("warn"))
    }

    /// The same settings with system logs at INFO, so that reports are written.
    pub fn with_reports(&self) -> Self {
        Self {
            system_level: Some("INFO".into()),
            ..self.clone()
        }
    }
}

impl FunctionState {
    pub fn update_in_progress(&self) -> bool {
        self.last_update_status.as_deref() == Some("InProgress")
    }
}

/// A published version as `ListVersionsByFunction` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    pub version: String,
    pub description: String,
}

/// Where the code for an architecture switch comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CodeSource {
    /// Re-deploy the function's current package (only right for code that runs on both
    /// architectures: interpreted runtimes).
    Current,
    /// A package built for the architecture.
    S3 {
        bucket: String,
        key: String,
        object_version: Option<String>,
    },
    /// An image built for the architecture.
    Image(String),
}

/// A function's package as deployed, kept before an architecture switch so that the
/// restore puts back exactly this code (its `CodeSha256` is checked after the restore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginalCode {
    /// A .zip package's bytes (from `GetFunction`'s `Code.Location`).
    Zip(Vec<u8>),
    /// An image by digest (`GetFunction`'s `Code.ResolvedImageUri`).
    Image(String),
}

/// What an invocation returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Invocation {
    /// `Unhandled` / `Handled` when the function failed.
    pub function_error: Option<String>,
    /// base64 log tail.
    pub log_result: Option<String>,
    pub payload: Vec<u8>,
}

impl Invocation {
    /// The error type of a failed invocation (`errorType` in the payload, else the
    /// `FunctionError` header).
    pub fn error_type(&self) -> Option<String> {
        let header = self.function_error.as_ref()?;
        /// The runtimes' error payload; only its type is read.
        #[derive(serde::Deserialize)]
        struct Failure {
            #[serde(rename = "errorType")]
            error_type: Option<String>,
        }
        let from_payload = serde_json::from_slice::<Failure>(&self.payload)
            .ok()
            .and_then(|f| f.error_type);
        Some(from_payload.unwrap_or_else(|| header.clone()))
    }
}

type Res<T> = Result<T, LambdaError>;

/// The Lambda operations the tuner uses. `function` is a name or an unqualified ARN.
pub trait LambdaApi: Send + Sync {
    /// `GetFunctionConfiguration`, of `$LATEST` or of a version (`qualifier`).
    fn get_configuration(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> impl Future<Output = Res<FunctionState>> + Send;
    fn update_memory(&self, function: &str, memory_mb: u32)
        -> impl Future<Output = Res<()>> + Send;
    fn update_environment(
        &self,
        function: &str,
        vars: HashMap<String, String>,
    ) -> impl Future<Output = Res<()>> + Send;
    /// `UpdateFunctionConfiguration` of `LoggingConfig`.
    fn update_logging(
        &self,
        function: &str,
        logging: &LogSettings,
    ) -> impl Future<Output = Res<()>> + Send;
    /// `UpdateFunctionCode` for another architecture, from `code`.
    fn update_architecture(
        &self,
        function: &str,
        arch: Architecture,
        code: &CodeSource,
    ) -> impl Future<Output = Res<()>> + Send;
    /// The deployed package (`GetFunction`, and the download of its `Code.Location`).
    fn original_code(&self, function: &str) -> impl Future<Output = Res<OriginalCode>> + Send;
    fn list_versions(&self, function: &str) -> impl Future<Output = Res<Vec<VersionInfo>>> + Send;
    /// `PublishVersion` with a description (which marks the version as the run's).
    fn publish_version(
        &self,
        function: &str,
        description: &str,
    ) -> impl Future<Output = Res<String>> + Send;
    /// Creates the alias, or points it at `version` when it exists.
    fn put_alias(
        &self,
        function: &str,
        alias: &str,
        version: &str,
    ) -> impl Future<Output = Res<()>> + Send;
    fn delete_alias(&self, function: &str, alias: &str) -> impl Future<Output = Res<()>> + Send;
    fn delete_version(&self, function: &str, version: &str)
        -> impl Future<Output = Res<()>> + Send;
    fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: Vec<u8>,
    ) -> impl Future<Output = Res<Invocation>> + Send;
    /// `Invoke` with `InvocationType=Event` (the run's continuation).
    fn invoke_async(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Res<()>> + Send;
}

pub use crate::aws::lambda::SdkLambda;
