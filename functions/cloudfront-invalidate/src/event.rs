//! Incoming events, turned into invalidation requests. Nothing here does I/O; a bad event
//! is an error naming what was wrong, before anything is acted on.
//!
//! The fields that tell the inputs apart are read first ([`Kind`]); the event is then
//! parsed as that input's serde type, so an error is about that input, not "did not match
//! any variant". [`spec`] checks the object people write, [`s3`] maps S3 objects to the
//! paths of their distributions.

mod s3;
mod spec;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::manifest::{pipeline_request, JobEvent, PipelineRequest};
use crate::notice::FlushTarget;
use crate::paths::NormPath;
use crate::s3_records::{S3Entity, S3Notification};

pub use s3::s3_requests;
pub(crate) use spec::{read, request_from_value};
use spec::{request_from, Spec};

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

/// The fields that tell the inputs apart, read before the event is parsed as one. Checked
/// in this order: a CodePipeline job, S3's test event, a flush, records (SQS or S3), an
/// EventBridge event, a direct invoke.
#[derive(Deserialize)]
struct Kind {
    #[serde(rename = "CodePipeline.job")]
    pipeline_job: Option<IgnoredAny>,
    #[serde(rename = "Event")]
    s3_test: Option<IgnoredAny>,
    action: Option<IgnoredAny>,
    #[serde(rename = "Records")]
    records: Option<IgnoredAny>,
    source: Option<IgnoredAny>,
    #[serde(rename = "detail-type")]
    detail_type: Option<IgnoredAny>,
    distribution: Option<IgnoredAny>,
}

/// S3's test event (`{"Event": "s3:TestEvent", ...}`), sent when notifications are set up.
#[derive(Deserialize)]
struct S3TestEvent {
    #[serde(rename = "Event")]
    event: String,
}

/// The first field of every record, to tell an SQS batch from S3 records.
#[derive(Deserialize)]
struct RecordSources {
    #[serde(rename = "Records")]
    records: Vec<RecordSource>,
}

#[derive(Deserialize)]
struct RecordSource {
    #[serde(rename = "eventSource", default)]
    event_source: Option<String>,
}

/// An EventBridge event's routing fields.
#[derive(Deserialize)]
struct Envelope {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
}

/// A CodePipeline job's id, read alone: a job whose other fields are bad still gets its
/// result reported.
#[derive(Deserialize)]
struct JobHead {
    #[serde(rename = "CodePipeline.job")]
    job: JobId,
}

#[derive(Deserialize)]
struct JobId {
    #[serde(default)]
    id: Option<String>,
}

pub fn parse(event: &Value, request_id: &str, config: &Config) -> Result<Parsed, Error> {
    let bad = |m: String| Error::BadEvent(m);
    if !event.is_object() {
        return Err(bad("the event is not a JSON object".to_string()));
    }
    let kind = Kind::deserialize(event).map_err(|e| bad(format!("the event is not valid: {e}")))?;
    if kind.pipeline_job.is_some() {
        return pipeline_job(event, config);
    }
    if kind.s3_test.is_some()
        && S3TestEvent::deserialize(event).is_ok_and(|t| t.event == "s3:TestEvent")
    {
        return Ok(Parsed::S3(Vec::new()));
    }
    if kind.action.is_some() {
        let target: FlushTarget =
            read(event).map_err(|e| bad(format!("the direct invoke is not valid: {e}")))?;
        return Ok(Parsed::Flush(target));
    }
    if kind.records.is_some() {
        let sources = RecordSources::deserialize(event)
            .map_err(|e| bad(format!("`Records` is not a list of records: {e}")))?;
        let first = sources
            .records
            .first()
            .and_then(|r| r.event_source.as_deref());
        if first == Some("aws:sqs") {
            let sqs = SqsEvent::deserialize(event)
                .map_err(|e| bad(format!("the SQS event is not valid: {e}")))?;
            return Ok(Parsed::Sqs(sqs));
        }
        let records = S3Notification::deserialize(event)
            .map_err(|e| bad(format!("the S3 notification is not valid: {e}")))?;
        return s3::s3_records(records, config).map(Parsed::S3);
    }
    if kind.source.is_some() && kind.detail_type.is_some() {
        return eventbridge(event, request_id, config);
    }
    if kind.distribution.is_some() {
        let spec: Spec =
            read(event).map_err(|e| bad(format!("the direct invoke is not valid: {e}")))?;
        return request_from(spec, request_id, config).map(Parsed::Single);
    }
    Err(bad(
        "unrecognised event: expected a direct invoke naming `distribution`, an EventBridge deploy or \
         S3 event, a CodePipeline job, or S3 notification Records"
            .to_string(),
    ))
}

/// An S3 object event or our deploy event, told apart by `source` and `detail-type`.
fn eventbridge(event: &Value, request_id: &str, config: &Config) -> Result<Parsed, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let envelope = Envelope::deserialize(event)
        .map_err(|e| bad(format!("the EventBridge event is not valid: {e}")))?;
    let (source, detail_type) = (envelope.source.as_str(), envelope.detail_type.as_str());
    if source == "aws.s3" && matches!(detail_type, "Object Created" | "Object Deleted") {
        let e = EventBridgeEvent::<S3Entity>::deserialize(event)
            .map_err(|e| bad(format!("the EventBridge S3 event is not valid: {e}")))?;
        let event_id = e.id.unwrap_or_else(|| request_id.to_string());
        let (bucket, key, _) = e
            .detail
            .object("detail")
            .map_err(|field| bad(format!("S3 event has no {field}")))?;
        return s3_requests(
            &[(bucket.as_str(), key.as_str())],
            &format!("s3-{event_id}"),
            config,
        )
        .map(Parsed::S3);
    }
    if source == config.deploy_source && detail_type == config.deploy_detail_type {
        let e: EventBridgeEvent<Spec> =
            read(event).map_err(|e| bad(format!("the deploy event's detail is not valid: {e}")))?;
        let event_id = e.id.unwrap_or_else(|| request_id.to_string());
        return request_from(e.detail, &event_id, config).map(Parsed::Single);
    }
    Err(bad(format!(
        "EventBridge event with source {source:?} and detail-type {detail_type:?} is not handled \
         (expected {:?}/{:?}, or aws.s3 Object Created/Object Deleted)",
        config.deploy_source, config.deploy_detail_type
    )))
}

/// A CodePipeline job: its id first (or the event is refused), then the rest, whose
/// errors go to the job's result.
fn pipeline_job(event: &Value, config: &Config) -> Result<Parsed, Error> {
    let bad = |m: String| Error::BadEvent(m);
    let head = JobHead::deserialize(event)
        .map_err(|e| bad(format!("the CodePipeline job is not valid: {e}")))?;
    let job_id = head
        .job
        .id
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| bad("CodePipeline job has no `id`".to_string()))?;
    let request = JobEvent::deserialize(event)
        .map_err(|e| format!("the CodePipeline job is not valid: {e}"))
        .and_then(|job| {
            let data = job.job.data;
            let params = data
                .action_configuration
                .as_ref()
                .and_then(|a| a.configuration.user_parameters.clone());
            match params {
                None => Err("the CodePipeline action has no UserParameters (a JSON object naming `distribution` and `paths`)".to_string()),
                Some(text) => pipeline_request(&text, &data, &job_id, config),
            }
        });
    Ok(Parsed::CodePipeline { job_id, request })
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
        // A job whose data cannot be read keeps its id, so the failure is reported to it.
        let unreadable =
            json!({"CodePipeline.job": {"id": "job-3", "data": {"inputArtifacts": 5}}});
        let Parsed::CodePipeline { job_id, request } = parse(&unreadable, "r", &config()).unwrap()
        else {
            panic!()
        };
        assert_eq!(job_id, "job-3");
        let err = request.unwrap_err();
        assert!(
            err.contains("inputArtifacts") || err.contains("invalid type"),
            "{err}"
        );
    }

    #[test]
    fn aws_events_may_carry_fields_we_do_not_read() {
        // EventBridge's envelope and S3's records gain fields; only our own objects refuse
        // unknown ones.
        let r = single(json!({
            "version": "0", "id": "ev-2", "source": "groundcrew.deploy", "detail-type": "Deploy Completed",
            "account": "123456789012", "time": "2026-12-01T10:00:00Z", "region": "eu-west-1",
            "resources": [], "replay-name": "r",
            "detail": {"distribution": "E1ABCDEFGHIJK", "paths": ["/x"]}
        }));
        assert_eq!(r.deployment_id, "ev-2");
        let event = json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-west-1",
            "eventTime": "2026-12-01T10:00:00.000Z", "eventName": "ObjectCreated:Put", "userIdentity": {"principalId": "A"},
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "site", "arn": "arn:aws:s3:::site"},
                "object": {"key": "www/a.html", "size": 3, "eTag": "e", "sequencer": "01"}}}]});
        let Parsed::S3(reqs) = parse(&event, "r", &config()).unwrap() else {
            panic!()
        };
        assert_eq!(reqs[0].paths[0].text, "/a.html");
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
            (
                json!({"CodePipeline.job": "job-1"}),
                "CodePipeline job is not valid",
            ),
            (json!({"Records": "x"}), "`Records` is not a list"),
            (json!({"Records": []}), "`Records` is empty"),
            (
                json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "site"}}}]}),
                "record 0 has no s3.object.key",
            ),
            (
                json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRestore:Completed", "s3": {"bucket": {"name": "site"}, "object": {"key": "a"}}}]}),
                "not ObjectCreated or ObjectRemoved",
            ),
            (
                json!({"source": 5, "detail-type": "Deploy Completed"}),
                "the EventBridge event is not valid",
            ),
            (
                json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {"bucket": {"name": "site"}}}),
                "S3 event has no detail.object.key",
            ),
            (
                json!({"source": "aws.s3", "detail-type": "Object Deleted", "detail": {"object": {"key": "a"}}}),
                "S3 event has no detail.bucket.name",
            ),
            (
                json!({"source": "groundcrew.deploy", "detail-type": "Deploy Completed",
                    "detail": {"distribution": "d", "paths": ["/a"], "pathz": []}}),
                "pathz",
            ),
            (
                json!({"source": "groundcrew.deploy", "detail-type": "Deploy Completed"}),
                "missing field `detail`",
            ),
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

    #[test]
    fn a_type_error_names_the_field_and_the_item() {
        let cases = [
            (
                json!({"distribution": "d", "paths": ["/a", "/b", 3]}),
                "bad event: the direct invoke is not valid: paths[2]: invalid type: integer `3`, expected a string",
            ),
            (
                json!({"distribution": "d", "paths": ["/a"], "max_share": "all"}),
                "bad event: the direct invoke is not valid: max_share: invalid type: string \"all\", expected f64",
            ),
            (
                json!({"source": "groundcrew.deploy", "detail-type": "Deploy Completed",
                    "detail": {"distribution": "d", "tags": [true]}}),
                "bad event: the deploy event's detail is not valid: detail.tags[0]: invalid type: boolean `true`, expected a string",
            ),
            (
                json!({"action": "flush", "distribution": 7}),
                "bad event: the direct invoke is not valid: distribution: invalid type: integer `7`, expected a string",
            ),
        ];
        for (event, expected) in cases {
            let err = parse(&event, "r", &config()).unwrap_err().to_string();
            assert_eq!(err, expected, "{event}");
        }
    }
}
