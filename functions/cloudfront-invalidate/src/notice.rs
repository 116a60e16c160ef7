//! The body of one message on the deploy queue: an S3 notification (sent by S3, wrapped
//! by SNS, or forwarded by EventBridge), S3's test event, or our own flush trigger.
//! Nothing here does I/O; a body we cannot read is an error naming what was wrong.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::s3_records::{S3Entity, S3Notification};

/// What one message asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Objects created or removed: (bucket, key as S3 notifications encode it).
    Objects(Vec<(String, String)>),
    /// Nothing to do (S3's test event), with the reason for the log.
    Nothing(&'static str),
    /// Flush a pending deploy.
    Flush(FlushTarget),
}

/// A flush: of one distribution (id or alias) or, without one, of every pending deploy;
/// a trigger names the generation it was sent for. Direct invokes use the same shape
/// (`{"action": "flush"}`), so unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlushTarget {
    pub action: FlushAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlushAction {
    Flush,
}

/// The fields that tell the kinds of body apart, read before the body is parsed as one.
#[derive(Deserialize)]
struct Kind {
    #[serde(rename = "Records")]
    records: Option<IgnoredAny>,
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Type")]
    sns_type: Option<String>,
    source: Option<String>,
    action: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Deserialize)]
struct EventBridgeS3 {
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: S3Entity,
}

/// Reads one message body.
pub fn parse_body(body: &str) -> Result<Notice, String> {
    parse_level(body, true)
}

fn parse_level(body: &str, allow_sns: bool) -> Result<Notice, String> {
    let kind: Kind = serde_json::from_str(body)
        .map_err(|e| format!("the message body is not a JSON object: {e}"))?;
    if kind.action.is_some() {
        let target: FlushTarget = serde_json::from_str(body)
            .map_err(|e| format!("the flush message is not valid: {e}"))?;
        return Ok(Notice::Flush(target));
    }
    if kind.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Notice::Nothing("S3's test event"));
    }
    if kind.records.is_some() {
        let n: S3Notification = serde_json::from_str(body)
            .map_err(|e| format!("the S3 notification is not valid: {e}"))?;
        let mut objects = Vec::with_capacity(n.records.len());
        for (i, r) in n.records.into_iter().enumerate() {
            let change = r.change(i)?;
            objects.push((change.bucket, change.key));
        }
        if objects.is_empty() {
            return Err("the S3 notification has no records".to_string());
        }
        return Ok(Notice::Objects(objects));
    }
    if allow_sns && kind.sns_type.as_deref() == Some("Notification") {
        let envelope: SnsEnvelope = serde_json::from_str(body)
            .map_err(|e| format!("the SNS notification is not valid: {e}"))?;
        return parse_level(&envelope.message, false)
            .map_err(|e| format!("in the SNS notification's Message: {e}"));
    }
    if kind.source.as_deref() == Some("aws.s3") {
        let event: EventBridgeS3 = serde_json::from_str(body)
            .map_err(|e| format!("the EventBridge S3 event is not valid: {e}"))?;
        if !matches!(
            event.detail_type.as_str(),
            "Object Created" | "Object Deleted"
        ) {
            return Err(format!(
                "EventBridge S3 event {:?} is not Object Created or Object Deleted",
                event.detail_type
            ));
        }
        let (bucket, key, _) = event
            .detail
            .object("detail")
            .map_err(|field| format!("the EventBridge S3 event has no {field}"))?;
        return Ok(Notice::Objects(vec![(bucket, key)]));
    }
    Err(
        "unrecognised message: expected an S3 notification (direct, through SNS or EventBridge) \
         or a flush message"
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3(key: &str) -> serde_json::Value {
        json!({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "site", "arn": "arn:aws:s3:::site"}, "object": {"key": key, "size": 3}}}]})
    }

    #[test]
    fn s3_direct_through_sns_and_through_eventbridge() {
        let direct = s3("www/a+b.html").to_string();
        let expected = Notice::Objects(vec![("site".into(), "www/a+b.html".into())]);
        assert_eq!(parse_body(&direct).unwrap(), expected);
        let sns = json!({"Type": "Notification", "MessageId": "m", "Message": direct}).to_string();
        assert_eq!(parse_body(&sns).unwrap(), expected);
        let eb = json!({"version": "0", "id": "e", "source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": "site"}, "object": {"key": "www/a+b.html", "etag": "x"}}});
        assert_eq!(parse_body(&eb.to_string()).unwrap(), expected);
        let test = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "site"});
        assert!(matches!(
            parse_body(&test.to_string()).unwrap(),
            Notice::Nothing(_)
        ));
    }

    #[test]
    fn flush_messages_and_direct_invokes() {
        let body = json!({"action": "flush", "distribution": "E1", "flush_id": "f-1"}).to_string();
        let Notice::Flush(t) = parse_body(&body).unwrap() else {
            panic!()
        };
        assert_eq!(t.distribution.as_deref(), Some("E1"));
        assert_eq!(serde_json::to_string(&t).unwrap(), body);
        let err = parse_body(&json!({"action": "flsh"}).to_string()).unwrap_err();
        assert!(err.contains("flsh") && err.contains("flush"), "{err}");
        let err = parse_body(&json!({"action": "flush", "distrib": "x"}).to_string()).unwrap_err();
        assert!(err.contains("distrib"), "{err}");
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let cases = [
            ("not json".to_string(), "not a JSON object"),
            (json!({"hello": 1}).to_string(), "unrecognised message"),
            (json!({"Records": []}).to_string(), "no records"),
            (
                json!({"Records": [{"eventSource": "aws:sqs", "eventName": "x", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}).to_string(),
                "eventSource",
            ),
            (
                json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}}}]}).to_string(),
                "object",
            ),
            (
                json!({"Records": [{"eventSource": "aws:s3", "eventName": "s3:ReducedRedundancyLostObject", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}).to_string(),
                "not ObjectCreated",
            ),
            (
                json!({"Type": "Notification", "Message": "{}"}).to_string(),
                "SNS notification's Message",
            ),
            (
                json!({"source": "aws.s3", "detail-type": "Object Restore Completed", "detail": {"bucket": {"name": "b"}, "object": {"key": "k"}}}).to_string(),
                "Object Restore Completed",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_body(&body).unwrap_err();
            assert!(err.contains(expected), "{body}: {err}");
        }
    }
}
