//! Incoming events, turned into invalidation requests. Nothing here does I/O; a bad event
//! is an error naming what was wrong, before anything is acted on.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use aws_lambda_events::event::sqs::SqsEvent;

use crate::config::Config;
use crate::error::Error;
use crate::manifest::{pipeline_request, PipelineRequest};
use crate::notice::FlushTarget;
use crate::paths::{
    cache_tag_item, index_directory, normalize, normalize_prefix, Encoding, NormPath,
};

/// What to invalidate, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The distribution as given: id, alias (CNAME) or `tag:Key=Value`.
    pub distribution: String,
    pub paths: Vec<NormPath>,
    pub tags: Vec<String>,
    pub deployment_id: String,
    pub wait: bool,
    /// Every path the site serves, when the event says.
    pub site_paths: Option<Vec<String>>,
    /// A flush's id: the `CallerReference` of its first batch (`<id>-2`, ... for more).
    /// `None`: references are derived from the deployment id and the batch's paths.
    pub caller_reference: Option<String>,
    pub overrides: Overrides,
}

/// Per-deploy settings a direct invoke or deploy event may give.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Overrides {
    /// Dollars per unchanged object a wildcard evicts (`EVICTION_WEIGHT`).
    pub eviction_weight: Option<f64>,
    /// Share of the unchanged site all wildcards together may evict (`MAX_SHARE`).
    pub max_share: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A direct invoke or an EventBridge deploy event.
    Single(Request),
    /// S3 notifications: one request per distribution (none for S3's test event).
    S3(Vec<Request>),
    /// A batch from the deploy queue (S3 notifications and flush triggers).
    Sqs(SqsEvent),
    /// A direct `{"action": "flush"}`.
    Flush(FlushTarget),
    /// A CodePipeline job: the job id is known, the parameters may still be bad (which is
    /// reported to CodePipeline).
    CodePipeline {
        job_id: String,
        request: Result<PipelineRequest, String>,
    },
}

/// The fields of a direct invoke, of our deploy event's `detail` and of a CodePipeline
/// action's `UserParameters`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    distribution: String,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    deployment_id: Option<String>,
    #[serde(default)]
    wait: Option<bool>,
    #[serde(default)]
    site_paths: Option<Vec<String>>,
    #[serde(default)]
    eviction_weight: Option<f64>,
    #[serde(default)]
    max_share: Option<f64>,
}

pub fn parse(event: &Value, request_id: &str, config: &Config) -> Result<Parsed, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let Some(obj) = event.as_object() else {
        return Err(bad("the event is not a JSON object".to_string()));
    };
    if let Some(job) = obj.get("CodePipeline.job") {
        let job_id = job
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad("CodePipeline job has no `id`".to_string()))?;
        let params = job
            .pointer("/data/actionConfiguration/configuration/UserParameters")
            .and_then(Value::as_str);
        let request = match params {
            None => Err("the CodePipeline action has no UserParameters (a JSON object naming `distribution` and `paths`)".to_string()),
            Some(text) => pipeline_request(text, event, job_id, config),
        };
        return Ok(Parsed::CodePipeline {
            job_id: job_id.to_string(),
            request,
        });
    }
    if obj.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Parsed::S3(Vec::new()));
    }
    if obj.contains_key("action") {
        let target: FlushTarget = serde_json::from_value(event.clone())
            .map_err(|e| bad(format!("the direct invoke is not valid: {e}")))?;
        return Ok(Parsed::Flush(target));
    }
    if let Some(records) = obj.get("Records") {
        let first_source = records
            .get(0)
            .and_then(|r| r.get("eventSource"))
            .and_then(Value::as_str);
        if first_source == Some("aws:sqs") {
            let sqs: SqsEvent = serde_json::from_value(event.clone())
                .map_err(|e| bad(format!("the SQS event is not valid: {e}")))?;
            return Ok(Parsed::Sqs(sqs));
        }
        return s3_records(records, config).map(Parsed::S3);
    }
    if let (Some(source), Some(detail_type)) = (obj.get("source"), obj.get("detail-type")) {
        let source = source.as_str().unwrap_or_default();
        let detail_type = detail_type.as_str().unwrap_or_default();
        let event_id = obj.get("id").and_then(Value::as_str).unwrap_or(request_id);
        let detail = obj.get("detail").cloned().unwrap_or(Value::Null);
        if source == "aws.s3" && matches!(detail_type, "Object Created" | "Object Deleted") {
            let bucket = str_at(&detail, "/bucket/name")
                .ok_or_else(|| bad("S3 event has no detail.bucket.name".into()))?;
            let key = str_at(&detail, "/object/key")
                .ok_or_else(|| bad("S3 event has no detail.object.key".into()))?;
            return s3_requests(&[(bucket, key)], &format!("s3-{event_id}"), config)
                .map(Parsed::S3);
        }
        if source == config.deploy_source && detail_type == config.deploy_detail_type {
            let spec: Spec = serde_json::from_value(detail)
                .map_err(|e| bad(format!("the deploy event's detail is not valid: {e}")))?;
            return request_from(spec, event_id, config).map(Parsed::Single);
        }
        return Err(bad(format!(
            "EventBridge event with source {source:?} and detail-type {detail_type:?} is not handled \
             (expected {:?}/{:?}, or aws.s3 Object Created/Object Deleted)",
            config.deploy_source, config.deploy_detail_type
        )));
    }
    if obj.contains_key("distribution") {
        let spec: Spec = serde_json::from_value(event.clone())
            .map_err(|e| bad(format!("the direct invoke is not valid: {e}")))?;
        return request_from(spec, request_id, config).map(Parsed::Single);
    }
    Err(bad(
        "unrecognised event: expected a direct invoke naming `distribution`, an EventBridge deploy or \
         S3 event, a CodePipeline job, or S3 notification Records"
            .to_string(),
    ))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A direct invoke's object (CodePipeline's `UserParameters`, a manifest) as a request.
pub(crate) fn request_from_value(
    value: Value,
    default_deployment: &str,
    config: &Config,
) -> Result<Request, Error> {
    let spec: Spec = serde_json::from_value(value).map_err(|e| Error::BadEvent(e.to_string()))?;
    request_from(spec, default_deployment, config)
}

fn request_from(spec: Spec, default_deployment: &str, config: &Config) -> Result<Request, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let distribution = spec.distribution.trim().to_string();
    if distribution.is_empty() {
        return Err(bad("`distribution` is empty".into()));
    }
    if spec.paths.is_empty() && spec.tags.is_empty() {
        return Err(bad(
            "the event names no `paths` and no `tags` to invalidate".into(),
        ));
    }
    if let Some(w) = spec.eviction_weight {
        if !(w.is_finite() && w >= 0.0) {
            return Err(bad(
                "`eviction_weight` must be a number of dollars, 0 or more".into(),
            ));
        }
    }
    if let Some(m) = spec.max_share {
        if !(0.0..=1.0).contains(&m) {
            return Err(bad("`max_share` must be a fraction from 0 to 1".into()));
        }
    }
    let overrides = Overrides {
        eviction_weight: spec.eviction_weight,
        max_share: spec.max_share,
    };
    let deployment_id = match spec.deployment_id {
        Some(d) if d.trim().is_empty() => return Err(bad("`deployment_id` is empty".into())),
        Some(d) if d.len() > 256 => {
            return Err(bad("`deployment_id` is longer than 256 characters".into()))
        }
        Some(d) => d.trim().to_string(),
        None => default_deployment.to_string(),
    };
    let mut paths = Vec::with_capacity(spec.paths.len());
    for raw in &spec.paths {
        let p = normalize(raw, Encoding::Url).map_err(bad)?;
        push_with_index(&mut paths, p, config);
    }
    let tags = spec
        .tags
        .iter()
        .map(|t| cache_tag_item(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let site_paths = match spec.site_paths {
        None => None,
        Some(list) => {
            let mut out = Vec::with_capacity(list.len());
            for raw in &list {
                let p =
                    normalize(raw, Encoding::Url).map_err(|e| bad(format!("site_paths: {e}")))?;
                if p.wildcard {
                    return Err(bad(
                        "site_paths lists files; it cannot hold wildcards".into()
                    ));
                }
                if let Some(dir) = index_directory(&p, &config.index_document) {
                    out.push(dir.text);
                }
                out.push(p.text);
            }
            Some(out)
        }
    };
    Ok(Request {
        distribution,
        paths,
        tags,
        deployment_id,
        wait: spec.wait.unwrap_or(config.wait_default),
        site_paths,
        caller_reference: None,
        overrides,
    })
}

fn push_with_index(paths: &mut Vec<NormPath>, p: NormPath, config: &Config) {
    if let Some(dir) = index_directory(&p, &config.index_document) {
        paths.push(dir);
    }
    paths.push(p);
}

fn s3_records(records: &Value, config: &Config) -> Result<Vec<Request>, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let list = records
        .as_array()
        .ok_or_else(|| bad("`Records` is not a list".into()))?;
    if list.is_empty() {
        return Err(bad("`Records` is empty".into()));
    }
    let mut objects = Vec::with_capacity(list.len());
    let mut identity = Sha256::new();
    for (i, r) in list.iter().enumerate() {
        if r.get("eventSource").and_then(Value::as_str) != Some("aws:s3") {
            return Err(bad(format!(
                "record {i} is not an S3 notification (eventSource is not aws:s3)"
            )));
        }
        let name = r
            .get("eventName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !(name.starts_with("ObjectCreated:") || name.starts_with("ObjectRemoved:")) {
            return Err(bad(format!(
                "record {i} is {name:?}, not ObjectCreated or ObjectRemoved"
            )));
        }
        let bucket = str_at(r, "/s3/bucket/name")
            .ok_or_else(|| bad(format!("record {i} has no s3.bucket.name")))?;
        let key = str_at(r, "/s3/object/key")
            .ok_or_else(|| bad(format!("record {i} has no s3.object.key")))?;
        let sequencer = str_at(r, "/s3/object/sequencer").unwrap_or_default();
        identity.update(format!("{bucket}\n{key}\n{sequencer}\n{name}\n"));
        objects.push((bucket, key));
    }
    let deployment = format!("s3-{}", &hex::encode(identity.finalize())[..32]);
    s3_requests(&objects, &deployment, config)
}

/// Maps S3 objects to paths of the distributions serving their buckets.
pub fn s3_requests(
    objects: &[(&str, &str)],
    deployment: &str,
    config: &Config,
) -> Result<Vec<Request>, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let mut by_distribution: BTreeMap<String, Vec<NormPath>> = BTreeMap::new();
    for (bucket, key) in objects {
        let site = config.bucket(bucket).ok_or_else(|| {
            bad(format!(
                "bucket {bucket:?} is not mapped to a distribution in SITE_BUCKETS"
            ))
        })?;
        let path = normalize(key, Encoding::S3Event).map_err(bad)?;
        let prefix = if site.prefix.is_empty() {
            "/".to_string()
        } else {
            normalize_prefix(&format!("{}/", site.prefix)).map_err(bad)?
        };
        // Objects outside the origin path are not part of the site.
        let Some(rest) = path.text.strip_prefix(&prefix) else {
            continue;
        };
        let site_path = NormPath {
            text: format!("/{rest}"),
            wildcard: false,
        };
        let entry = by_distribution
            .entry(site.distribution.clone())
            .or_default();
        push_with_index(entry, site_path, config);
    }
    Ok(by_distribution
        .into_iter()
        .map(|(distribution, paths)| Request {
            distribution,
            paths,
            tags: Vec::new(),
            deployment_id: deployment.to_string(),
            wait: false,
            site_paths: None,
            caller_reference: None,
            overrides: Overrides::default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Config {
        Config {
            site_buckets: vec![crate::config::SiteBucket {
                bucket: "site".into(),
                prefix: "www".into(),
                distribution: "app.example.com".into(),
            }],
            ..Config::default()
        }
    }

    fn single(event: Value) -> Request {
        match parse(&event, "req-1", &config()).unwrap() {
            Parsed::Single(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn direct_invoke_with_defaults() {
        let r = single(
            json!({"distribution": "app.example.com", "paths": ["blog/index.html", "/a b.html"]}),
        );
        assert_eq!(r.deployment_id, "req-1");
        assert!(!r.wait);
        let texts: Vec<&str> = r.paths.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, vec!["/blog/", "/blog/index.html", "/a%20b.html"]);
    }

    #[test]
    fn deploy_event_uses_its_id() {
        let r = single(json!({
            "id": "ev-1", "source": "groundcrew.deploy", "detail-type": "Deploy Completed",
            "detail": {"distribution": "E1ABCDEFGHIJK", "paths": ["/x"], "tags": ["home"], "wait": true}
        }));
        assert_eq!(r.deployment_id, "ev-1");
        assert!(r.wait);
        assert_eq!(r.tags, vec!["#home"]);
    }

    #[test]
    fn s3_notifications_map_keys_to_paths() {
        let event = json!({"Records": [
            {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "site"}, "object": {"key": "www/docs/my+page.html", "sequencer": "01"}}},
            {"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "site"}, "object": {"key": "www/index.html", "sequencer": "02"}}},
            {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "site"}, "object": {"key": "logs/x", "sequencer": "03"}}}
        ]});
        let Parsed::S3(reqs) = parse(&event, "r", &config()).unwrap() else {
            panic!()
        };
        assert_eq!(reqs.len(), 1);
        assert_eq!(reqs[0].distribution, "app.example.com");
        let texts: Vec<&str> = reqs[0].paths.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, vec!["/docs/my%20page.html", "/", "/index.html"]);
        // The same records give the same deployment id (a retry is recognised).
        let Parsed::S3(again) = parse(&event, "other", &config()).unwrap() else {
            panic!()
        };
        assert_eq!(again[0].deployment_id, reqs[0].deployment_id);
    }

    #[test]
    fn s3_via_eventbridge() {
        let event = json!({"id": "e9", "source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "site"}, "object": {"key": "www/a.html"}}});
        let Parsed::S3(reqs) = parse(&event, "r", &config()).unwrap() else {
            panic!()
        };
        assert_eq!(reqs[0].paths[0].text, "/a.html");
        assert_eq!(reqs[0].deployment_id, "s3-e9");
    }

    #[test]
    fn codepipeline_jobs_keep_the_job_id_even_with_bad_parameters() {
        let good = json!({"CodePipeline.job": {"id": "job-1", "data": {"actionConfiguration": {"configuration": {
            "FunctionName": "f", "UserParameters": "{\"distribution\":\"app.example.com\",\"paths\":[\"/index.html\"]}"}}}}});
        let Parsed::CodePipeline { job_id, request } = parse(&good, "r", &config()).unwrap() else {
            panic!()
        };
        assert_eq!(job_id, "job-1");
        let Ok(crate::manifest::PipelineRequest::Ready(request)) = request else {
            panic!("{request:?}")
        };
        assert_eq!(request.deployment_id, "job-1");
        let bad = json!({"CodePipeline.job": {"id": "job-2", "data": {"actionConfiguration": {"configuration": {"UserParameters": "not json"}}}}});
        let Parsed::CodePipeline { request, .. } = parse(&bad, "r", &config()).unwrap() else {
            panic!()
        };
        assert!(request.unwrap_err().contains("UserParameters"));
    }

    #[test]
    fn bad_events_say_what_is_wrong() {
        let cases = [
            (json!([1]), "not a JSON object"),
            (json!({"hello": 1}), "unrecognised event"),
            (json!({"distribution": "d"}), "no `paths`"),
            (
                json!({"distribution": "d", "paths": ["/a"], "pathz": []}),
                "pathz",
            ),
            (json!({"distribution": "d", "paths": ["/a*b"]}), "`*`"),
            (
                json!({"distribution": " ", "paths": ["/a"]}),
                "`distribution` is empty",
            ),
            (
                json!({"source": "x", "detail-type": "y", "detail": {}}),
                "not handled",
            ),
            (
                json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "nope"}, "object": {"key": "a"}}}]}),
                "SITE_BUCKETS",
            ),
            (
                json!({"Records": [{"eventSource": "aws:sns"}]}),
                "not an S3 notification",
            ),
            (
                json!({"Records": [{"eventSource": "aws:sqs", "messageId": 7}]}),
                "SQS event is not valid",
            ),
            (json!({"action": "flush", "paths": []}), "paths"),
            (
                json!({"distribution": "d", "paths": ["/a"], "max_share": 2}),
                "`max_share`",
            ),
            (
                json!({"distribution": "d", "paths": ["/a"], "eviction_weight": -1}),
                "`eviction_weight`",
            ),
            (json!({"CodePipeline.job": {"data": {}}}), "no `id`"),
        ];
        for (event, expected) in cases {
            let err = parse(&event, "r", &config()).unwrap_err().to_string();
            assert!(err.contains(expected), "{event}: {err}");
        }
        assert_eq!(
            parse(&json!({"Event": "s3:TestEvent"}), "r", &config()).unwrap(),
            Parsed::S3(vec![])
        );
    }
}
