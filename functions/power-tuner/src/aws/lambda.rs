//! The Lambda API through the AWS SDK: [`LambdaApi`] for real.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    ApplicationLogLevel, Architecture as SdkArch, Environment, InvocationType, LastUpdateStatus,
    LogFormat, LogType, LoggingConfig, SystemLogLevel,
};
use groundcrew::aws_error::AwsError;
use groundcrew::lazy_client::LazyClient;

use crate::architecture::Architecture;
use crate::lambda::{
    CodeSource, FunctionState, Invocation, LambdaApi, LambdaError, LogSettings, OriginalCode,
    VersionInfo,
};
use crate::regions::Regional;

mod code;

type Res<T> = Result<T, LambdaError>;

/// An SDK error, classified by `groundcrew::aws_error`.
fn failed<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> LambdaError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    AwsError::from_sdk(operation, err).into()
}

/// The AWS SDK implementation. The SDK client is built on its first call and the HTTP
/// client for code downloads on the first download (issue 17: a cold start pays only for
/// what its invocation uses; most runs never download a package).
#[derive(Clone)]
pub struct SdkLambda {
    client: LazyClient<aws_sdk_lambda::Client>,
    http: OnceLock<reqwest::Client>,
}

/// The Lambda client: attempts may last as long as a Lambda invocation can (15 min), since
/// `Invoke` waits for the tuned function.
fn lambda_client(sdk: &aws_config::SdkConfig) -> aws_sdk_lambda::Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(905))
        .build();
    let conf = aws_sdk_lambda::config::Builder::from(sdk)
        .timeout_config(timeouts)
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

impl SdkLambda {
    /// A client for the SDK configuration's Region, built when first used.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self {
            client: LazyClient::new(sdk, lambda_client),
            http: OnceLock::new(),
        }
    }

    /// The tuner's Lambda client for its own Region, and one for each other Region a
    /// function is named in, built when first needed (`crate::regions`).
    pub fn regional(sdk: &aws_config::SdkConfig) -> Regional<Self> {
        let home = sdk.region().map(|r| r.to_string());
        let shared = sdk.clone();
        Regional::new(home, Self::new(sdk), move |region| {
            Self::with_region(&shared, Some(region))
        })
    }

    /// A client for `region` (the SDK configuration's own when `None`): the same
    /// credentials, timeouts and endpoint settings.
    pub fn with_region(sdk: &aws_config::SdkConfig, region: Option<&str>) -> Self {
        match region {
            Some(region) => Self::new(
                &sdk.to_builder()
                    .region(aws_config::Region::new(region.to_string()))
                    .build(),
            ),
            None => Self::new(sdk),
        }
    }

    /// Whether the SDK client has been built (it is not before the first call).
    pub fn is_built(&self) -> bool {
        self.client.is_built()
    }
}

impl LambdaApi for SdkLambda {
    async fn get_configuration(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Res<FunctionState> {
        let out = self
            .client
            .get_function_configuration()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(|e| failed("GetFunctionConfiguration", &e))?;
        let architecture = match out.architectures().first() {
            Some(SdkArch::Arm64) => Architecture::Arm64,
            _ => Architecture::X86_64,
        };
        Ok(FunctionState {
            memory_mb: out.memory_size().unwrap_or(128).max(0) as u32,
            architecture,
            last_update_status: out
                .last_update_status()
                .map(|s: &LastUpdateStatus| s.as_str().to_string()),
            environment: out.environment().and_then(|e| e.variables()).cloned(),
            state: out.state().map(|s| s.as_str().to_string()),
            reason: out
                .state_reason()
                .or(out.last_update_status_reason())
                .map(str::to_string),
            runtime: out.runtime().map(|r| r.as_str().to_string()),
            package_type: out.package_type().map(|p| p.as_str().to_string()),
            code_sha256: out.code_sha256().map(str::to_string),
            logging: out.logging_config().map(|l| LogSettings {
                format: l
                    .log_format()
                    .map(|f| f.as_str().to_string())
                    .unwrap_or_default(),
                application_level: l.application_log_level().map(|a| a.as_str().to_string()),
                system_level: l.system_log_level().map(|a| a.as_str().to_string()),
                log_group: l.log_group().map(str::to_string),
            }),
        })
    }

    async fn update_memory(&self, function: &str, memory_mb: u32) -> Res<()> {
        self.client
            .update_function_configuration()
            .function_name(function)
            .memory_size(memory_mb as i32)
            .send()
            .await
            .map_err(|e| failed("UpdateFunctionConfiguration", &e))?;
        Ok(())
    }

    async fn update_environment(&self, function: &str, vars: HashMap<String, String>) -> Res<()> {
        self.client
            .update_function_configuration()
            .function_name(function)
            .environment(Environment::builder().set_variables(Some(vars)).build())
            .send()
            .await
            .map_err(|e| failed("UpdateFunctionConfiguration", &e))?;
        Ok(())
    }

    async fn update_logging(&self, function: &str, logging: &LogSettings) -> Res<()> {
        let mut config =
            LoggingConfig::builder().log_format(LogFormat::from(logging.format.as_str()));
        // The levels may be set only with the JSON format.
        if logging.format.eq_ignore_ascii_case("json") {
            config = config
                .set_application_log_level(
                    logging
                        .application_level
                        .as_deref()
                        .map(ApplicationLogLevel::from),
                )
                .set_system_log_level(logging.system_level.as_deref().map(SystemLogLevel::from));
        }
        config = config.set_log_group(logging.log_group.clone());
        self.client
            .update_function_configuration()
            .function_name(function)
            .logging_config(config.build())
            .send()
            .await
            .map_err(|e| failed("UpdateFunctionConfiguration", &e))?;
        Ok(())
    }

    async fn update_architecture(
        &self,
        function: &str,
        arch: Architecture,
        code: &CodeSource,
    ) -> Res<()> {
        self.update_code(function, arch, code).await
    }

    async fn original_code(&self, function: &str) -> Res<OriginalCode> {
        self.deployed_code(function).await
    }

    async fn list_versions(&self, function: &str) -> Res<Vec<VersionInfo>> {
        let mut versions = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_versions_by_function()
                .function_name(function)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| failed("ListVersionsByFunction", &e))?;
            versions.extend(out.versions().iter().filter_map(|v| {
                v.version().map(|version| VersionInfo {
                    version: version.to_string(),
                    description: v.description().unwrap_or_default().to_string(),
                })
            }));
            match out.next_marker() {
                Some(m) if !m.is_empty() && marker.as_deref() != Some(m) => {
                    marker = Some(m.to_string())
                }
                _ => break,
            }
        }
        Ok(versions)
    }

    async fn publish_version(&self, function: &str, description: &str) -> Res<String> {
        let out = self
            .client
            .publish_version()
            .function_name(function)
            .description(description)
            .send()
            .await
            .map_err(|e| failed("PublishVersion", &e))?;
        out.version()
            .map(str::to_string)
            .ok_or_else(|| LambdaError::other("PublishVersion returned no version"))
    }

    async fn put_alias(&self, function: &str, alias: &str, version: &str) -> Res<()> {
        let updated = self
            .client
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(version)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e) if failed("UpdateAlias", &e).is_not_found() => {
                self.client
                    .create_alias()
                    .function_name(function)
                    .name(alias)
                    .function_version(version)
                    .send()
                    .await
                    .map_err(|e| failed("CreateAlias", &e))?;
                Ok(())
            }
            Err(e) => Err(failed("UpdateAlias", &e)),
        }
    }

    async fn delete_alias(&self, function: &str, alias: &str) -> Res<()> {
        match self
            .client
            .delete_alias()
            .function_name(function)
            .name(alias)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match failed("DeleteAlias", &e) {
                gone if gone.is_not_found() => Ok(()),
                e => Err(e),
            },
        }
    }

    async fn delete_version(&self, function: &str, version: &str) -> Res<()> {
        match self
            .client
            .delete_function()
            .function_name(function)
            .qualifier(version)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match failed("DeleteFunction", &e) {
                gone if gone.is_not_found() => Ok(()),
                e => Err(e),
            },
        }
    }

    async fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: Vec<u8>,
    ) -> Res<Invocation> {
        let mut call = self
            .client
            .invoke()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .log_type(LogType::Tail);
        if !payload.is_empty() {
            call = call.payload(Blob::new(payload));
        }
        let out = call.send().await.map_err(|e| failed("Invoke", &e))?;
        Ok(Invocation {
            function_error: out.function_error().map(str::to_string),
            log_result: out.log_result().map(str::to_string),
            payload: out
                .payload()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
        })
    }

    async fn invoke_async(&self, function: &str, payload: Vec<u8>) -> Res<()> {
        self.client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| failed("Invoke", &e))?;
        Ok(())
    }
}
