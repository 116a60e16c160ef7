//! Code packages: the architecture switch's `UpdateFunctionCode` and the deployed package
//! kept for the restore, downloaded from its presigned `Code.Location` with the shared HTTP
//! client (`groundcrew::http`: compiled-in roots), built on the first download.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::Architecture as SdkArch;
use groundcrew::http::HttpSettings;

use super::{failed, Res, SdkLambda};
use crate::architecture::Architecture;
use crate::lambda::{CodeSource, LambdaError, OriginalCode};

/// Connect timeout and whole-download limit of a code package download (a package is at
/// most 50 MB zipped).
const DOWNLOAD: HttpSettings = HttpSettings {
    connect_timeout: Duration::from_secs(3),
    request_timeout: Duration::from_secs(120),
};

fn sdk_arch(a: Architecture) -> SdkArch {
    match a {
        Architecture::Arm64 => SdkArch::Arm64,
        Architecture::X86_64 => SdkArch::X8664,
    }
}

/// A failed download, described without the URL (a presigned URL is a credential).
fn describe_download(e: reqwest::Error) -> String {
    let e = groundcrew::http::HttpError::transport("the code package's Code.Location", e);
    format!("downloading the code package failed: {e}")
}

impl SdkLambda {
    /// The shared HTTP client (compiled-in roots, `groundcrew::http`), built once.
    fn http(&self) -> Res<&reqwest::Client> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let client = groundcrew::http::client(DOWNLOAD)
            .map_err(|e| LambdaError::other(format!("downloading the code package failed: {e}")))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// The current package, from its presigned URL (a credential: never in an error).
    async fn download(&self, location: &str) -> Res<Vec<u8>> {
        let resp = self
            .http()?
            .get(location)
            .send()
            .await
            .map_err(|e| LambdaError::other(describe_download(e)))?;
        if !resp.status().is_success() {
            return Err(LambdaError::other(format!(
                "downloading the code package failed: HTTP {}",
                resp.status()
            )));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| LambdaError::other(describe_download(e)))?;
        Ok(bytes.to_vec())
    }

    /// `UpdateFunctionCode` for `arch`, from `code`.
    pub(super) async fn update_code(
        &self,
        function: &str,
        arch: Architecture,
        code: &CodeSource,
    ) -> Res<()> {
        let update = self
            .client
            .update_function_code()
            .function_name(function)
            .architectures(sdk_arch(arch));
        let update = match code {
            CodeSource::S3 {
                bucket,
                key,
                object_version,
            } => update
                .s3_bucket(bucket)
                .s3_key(key)
                .set_s3_object_version(object_version.clone()),
            CodeSource::Image(uri) => update.image_uri(uri),
            CodeSource::Current => {
                let got = self
                    .client
                    .get_function()
                    .function_name(function)
                    .send()
                    .await
                    .map_err(|e| failed("GetFunction", &e))?;
                let current = got
                    .code()
                    .ok_or_else(|| LambdaError::other("GetFunction returned no code location"))?;
                if let Some(image) = current.image_uri() {
                    update.image_uri(image)
                } else {
                    let location = current.location().ok_or_else(|| {
                        LambdaError::other("the code package has no download location")
                    })?;
                    update.zip_file(Blob::new(self.download(location).await?))
                }
            }
        };
        update
            .send()
            .await
            .map_err(|e| failed("UpdateFunctionCode", &e))?;
        Ok(())
    }

    /// The deployed package: an image by digest, or a .zip package's bytes.
    pub(super) async fn deployed_code(&self, function: &str) -> Res<OriginalCode> {
        let got = self
            .client
            .get_function()
            .function_name(function)
            .send()
            .await
            .map_err(|e| failed("GetFunction", &e))?;
        let code = got
            .code()
            .ok_or_else(|| LambdaError::other("GetFunction returned no code location"))?;
        if let Some(image) = code.resolved_image_uri().or(code.image_uri()) {
            return Ok(OriginalCode::Image(image.to_string()));
        }
        let location = code
            .location()
            .ok_or_else(|| LambdaError::other("the code package has no download location"))?;
        Ok(OriginalCode::Zip(self.download(location).await?))
    }
}
