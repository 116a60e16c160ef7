//! CodePipeline manifests: the build writes the paths it changed into a file of its output
//! artifact, and the invoke action's `UserParameters` ask for it with `"manifest"`.
//!
//! `UserParameters` `{"distribution": "app.example.com", "manifest": "invalidate.json"}`
//! (`"manifest": true` names the default `invalidate.json`). The file holds either a JSON
//! list of paths (added to any `paths` of the parameters) or the object a direct invoke
//! takes (its fields over those of the parameters). It is read from the job's first input
//! artifact, a zip in CodePipeline's artifact bucket, with the job's own temporary
//! artifact credentials (so the function's role needs no access to that bucket).
//!
//! Nothing here does I/O: [`pipeline_request`] reads the job, [`read_manifest`] the zip.

use std::fmt;
use std::io::{Cursor, Read};

use aws_lambda_events::event::codepipeline_job::{
    CodePipelineActionConfiguration, CodePipelineArtifactCredentials, CodePipelineInputArtifact,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::event::{read, request_from_value, Request};

/// The manifest's name when `"manifest": true`.
pub const DEFAULT_MANIFEST: &str = "invalidate.json";
/// Largest artifact read (it is held in memory to be unzipped).
pub const MAX_ARTIFACT_BYTES: u64 = 64 * 1024 * 1024;
/// Largest manifest read out of it (a list of 100,000 paths is about 5 MB).
pub const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// What a CodePipeline job asks for: paths in its parameters, or a manifest to read first.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineRequest {
    Ready(Request),
    Manifest(ManifestJob),
}

/// A job whose paths are in a file of its input artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestJob {
    /// The `UserParameters` without `manifest`.
    pub params: Map<String, Value>,
    /// The file's name inside the artifact.
    pub file: String,
    pub artifact: ArtifactLocation,
    pub credentials: ArtifactCredentials,
}

/// Where CodePipeline keeps the input artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactLocation {
    pub bucket: String,
    pub key: String,
}

/// The job's temporary credentials for its artifacts. Never printed: `Debug` hides them.
#[derive(Clone, PartialEq, Eq)]
pub struct ArtifactCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl fmt::Debug for ArtifactCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ArtifactCredentials(<redacted>)")
    }
}

/// A CodePipeline job event as far as the function reads it. No `Debug`: it holds the
/// job's artifact credentials.
#[derive(Deserialize)]
pub(crate) struct JobEvent {
    #[serde(rename = "CodePipeline.job")]
    pub job: Job,
}

#[derive(Deserialize)]
pub(crate) struct Job {
    #[serde(default)]
    pub data: JobData,
}

/// The parts of a job's `data` the function reads, in `aws_lambda_events`' types. Its
/// `CodePipelineData` requires every part; a job without artifacts (its paths in
/// `UserParameters`) is still a job whose parameters are read and whose result is reported.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobData {
    #[serde(default)]
    pub action_configuration: Option<CodePipelineActionConfiguration>,
    #[serde(default)]
    pub input_artifacts: Vec<CodePipelineInputArtifact>,
    #[serde(default)]
    pub artifact_credentials: Option<CodePipelineArtifactCredentials>,
}

/// The request of a job from its `UserParameters` (text) and, when they ask for a
/// manifest, the job's input artifact and credentials. Errors are reported to the job.
pub(crate) fn pipeline_request(
    user_parameters: &str,
    data: &JobData,
    job_id: &str,
    config: &Config,
) -> Result<PipelineRequest, String> {
    let invalid = |e: String| format!("the CodePipeline UserParameters are not valid: {e}");
    let mut params: Map<String, Value> = serde_json::from_str(user_parameters)
        .map_err(|e| invalid(format!("{e} (expected a JSON object)")))?;
    let file = match params.remove("manifest") {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(DEFAULT_MANIFEST.to_string()),
        Some(Value::String(name)) if !name.trim().is_empty() => Some(name.trim().to_string()),
        Some(other) => {
            return Err(invalid(format!(
                "`manifest` must be a file name or true, not {other}"
            )))
        }
    };
    let Some(file) = file else {
        return request_from_value(Value::Object(params), job_id, config)
            .map(PipelineRequest::Ready)
            .map_err(|e| match e {
                crate::Error::BadEvent(m) => invalid(m),
                other => other.to_string(),
            });
    };
    let artifact = data.input_artifacts.first().ok_or_else(|| {
        format!(
            "UserParameters ask for the manifest {file:?}, but the action has no input artifact"
        )
    })?;
    let s3 = &artifact.location.s3_location;
    let field = |v: &Option<String>, name: &str| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("the input artifact has no location.s3Location.{name}"))
    };
    let location = ArtifactLocation {
        bucket: field(&s3.bucket_name, "bucketName")?,
        key: field(&s3.object_key, "objectKey")?,
    };
    let creds = data
        .artifact_credentials
        .as_ref()
        .ok_or_else(|| "the job has no artifactCredentials".to_string())?;
    let secret = |v: &Option<String>, name: &str| {
        v.as_deref()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("the job has no artifactCredentials.{name}"))
    };
    let credentials = ArtifactCredentials {
        access_key_id: secret(&creds.access_key_id, "accessKeyId")?,
        secret_access_key: secret(&creds.secret_access_key, "secretAccessKey")?,
        session_token: secret(&creds.session_token, "sessionToken")?,
    };
    Ok(PipelineRequest::Manifest(ManifestJob {
        params,
        file,
        artifact: location,
        credentials,
    }))
}

/// The manifest file out of the artifact's zip, as JSON.
pub fn read_manifest(zip_bytes: &[u8], file: &str) -> Result<Value, String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes))
        .map_err(|e| format!("the input artifact is not a zip file: {e}"))?;
    let mut entry = archive.by_name(file).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => {
            format!("the input artifact has no file {file:?} (the manifest UserParameters name)")
        }
        other => format!("the manifest {file:?} cannot be read from the artifact: {other}"),
    })?;
    if entry.size() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "the manifest {file:?} is {} bytes, more than the {MAX_MANIFEST_BYTES} read",
            entry.size()
        ));
    }
    let mut text = String::new();
    // The header's size is the zip's word; the read is capped whatever it says.
    (&mut entry)
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("the manifest {file:?} cannot be read: {e}"))?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!(
            "the manifest {file:?} is more than {MAX_MANIFEST_BYTES} bytes"
        ));
    }
    serde_json::from_str(&text).map_err(|e| format!("the manifest {file:?} is not JSON: {e}"))
}

/// The job's request: the manifest (a list of paths, or a direct invoke's object) over
/// the parameters.
pub fn request_from_manifest(
    job: &ManifestJob,
    manifest: Value,
    job_id: &str,
    config: &Config,
) -> Result<Request, String> {
    let invalid = |e: String| format!("the manifest {:?} is not valid: {e}", job.file);
    let mut params = job.params.clone();
    match manifest {
        Value::Array(list) => {
            // Read alone first, so that an item at fault is named by its place in the file,
            // not in the list it is added to.
            let list: Vec<String> = read(Value::Array(list)).map_err(invalid)?;
            let list = list.into_iter().map(Value::String);
            let mut paths = match params.remove("paths") {
                Some(Value::Array(given)) => given,
                _ => Vec::new(),
            };
            paths.extend(list);
            params.insert("paths".into(), Value::Array(paths));
        }
        Value::Object(fields) => params.extend(fields),
        _ => {
            return Err(format!(
                "the manifest {:?} must hold a list of paths or an object like a direct invoke",
                job.file
            ))
        }
    }
    request_from_value(Value::Object(params), job_id, config).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut out);
            for (name, body) in files {
                w.start_file(
                    *name,
                    zip::write::SimpleFileOptions::default()
                        .compression_method(zip::CompressionMethod::Deflated),
                )
                .unwrap();
                w.write_all(body.as_bytes()).unwrap();
            }
            w.finish().unwrap();
        }
        out.into_inner()
    }

    fn job_event(params: &str) -> Value {
        serde_json::json!({"CodePipeline.job": {"id": "j1", "accountId": "123456789012", "data": {
            "actionConfiguration": {"configuration": {"FunctionName": "f", "UserParameters": params}},
            "inputArtifacts": [{"name": "Build", "revision": null, "location": {"type": "S3",
                "s3Location": {"bucketName": "artifacts", "objectKey": "web/Build/abc"}}}],
            "outputArtifacts": [],
            "artifactCredentials": {"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s3cr3t-value", "sessionToken": "t0ken-value"},
            "continuationToken": null}}})
    }

    fn data(event: &Value) -> JobData {
        serde_json::from_value::<JobEvent>(event.clone())
            .unwrap()
            .job
            .data
    }

    fn manifest_job(params: &str) -> ManifestJob {
        match pipeline_request(params, &data(&job_event(params)), "j1", &Config::default()).unwrap()
        {
            PipelineRequest::Manifest(job) => job,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_list_manifest_adds_paths_and_the_credentials_never_print() {
        let job = manifest_job(r#"{"distribution":"app.example.com","manifest":true}"#);
        assert_eq!(job.file, "invalidate.json");
        assert_eq!(job.artifact.key, "web/Build/abc");
        let shown = format!("{job:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0ken"),
            "{shown}"
        );
        let zip = zip_of(&[
            ("index.html", "<html>"),
            ("invalidate.json", r#"["/index.html", "/blog/a.html"]"#),
        ]);
        let manifest = read_manifest(&zip, &job.file).unwrap();
        let request = request_from_manifest(&job, manifest, "j1", &Config::default()).unwrap();
        let paths: Vec<&str> = request.paths.iter().map(|p| p.text.as_str()).collect();
        // `/index.html` also invalidates its directory `/`.
        assert_eq!(paths, ["/", "/index.html", "/blog/a.html"]);
        assert_eq!(request.deployment_id, "j1");
    }

    #[test]
    fn an_object_manifest_overrides_the_parameters() {
        let job = manifest_job(r#"{"distribution":"old.example.com","manifest":"out/inv.json"}"#);
        let zip = zip_of(&[(
            "out/inv.json",
            r#"{"distribution":"app.example.com","paths":["/a.html"],"deployment_id":"build-42"}"#,
        )]);
        let request = request_from_manifest(
            &job,
            read_manifest(&zip, "out/inv.json").unwrap(),
            "j1",
            &Config::default(),
        )
        .unwrap();
        assert_eq!(request.distribution, "app.example.com");
        assert_eq!(request.deployment_id, "build-42");
    }

    #[test]
    fn bad_manifests_and_parameters_are_named() {
        let zip = zip_of(&[("invalidate.json", r#"{"paths": 3}"#)]);
        let job = manifest_job(r#"{"distribution":"app.example.com","manifest":true}"#);
        let err = read_manifest(&zip, "missing.json").unwrap_err();
        assert!(err.contains("no file \"missing.json\""), "{err}");
        let err = read_manifest(b"not a zip", "invalidate.json").unwrap_err();
        assert!(err.contains("not a zip file"), "{err}");
        let err = request_from_manifest(
            &job,
            read_manifest(&zip, "invalidate.json").unwrap(),
            "j1",
            &Config::default(),
        )
        .unwrap_err();
        assert!(
            err.contains("manifest \"invalidate.json\" is not valid: bad event: paths: invalid type: integer `3`, expected a sequence"),
            "{err}"
        );
        let params = r#"{"distribution":"a","manifest":5}"#;
        let err = pipeline_request(params, &data(&job_event(params)), "j1", &Config::default())
            .unwrap_err();
        assert!(
            err.contains("`manifest` must be a file name or true"),
            "{err}"
        );
        let params = r#"{"distribution":"a","manifest":true}"#;
        let mut event = job_event(params);
        event["CodePipeline.job"]["data"]["inputArtifacts"] = serde_json::json!([]);
        let err = pipeline_request(params, &data(&event), "j1", &Config::default()).unwrap_err();
        assert!(err.contains("no input artifact"), "{err}");
        let mut event = job_event(params);
        event["CodePipeline.job"]["data"]["artifactCredentials"] = Value::Null;
        let err = pipeline_request(params, &data(&event), "j1", &Config::default()).unwrap_err();
        assert!(err.contains("no artifactCredentials"), "{err}");
    }

    #[test]
    fn a_type_error_in_a_manifest_or_the_parameters_names_the_field() {
        // A list: the item is named by its place in the file, whatever the parameters held.
        let job =
            manifest_job(r#"{"distribution":"a.example.com","paths":["/x"],"manifest":true}"#);
        let err = request_from_manifest(
            &job,
            serde_json::json!(["/a", "/b", 3]),
            "j1",
            &Config::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "the manifest \"invalidate.json\" is not valid: [2]: invalid type: integer `3`, expected a string"
        );
        // An object: the field, and the item within it.
        let err = request_from_manifest(
            &job,
            serde_json::json!({"paths": ["/a", {"p": 1}]}),
            "j1",
            &Config::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "the manifest \"invalidate.json\" is not valid: bad event: paths[1]: invalid type: map, expected a string"
        );
        let params = r#"{"distribution":"a.example.com","paths":["/a"],"wait":"yes"}"#;
        let err = pipeline_request(params, &data(&job_event(params)), "j1", &Config::default())
            .unwrap_err();
        assert_eq!(
            err,
            "the CodePipeline UserParameters are not valid: wait: invalid type: string \"yes\", expected a boolean"
        );
    }
}
