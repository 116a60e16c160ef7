//! The CloudFormation custom-resource request and response (the `aws_lambda_events`
//! types), the fields every request carries, and what serde's parse error says of one.

pub use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceRequest as Request,
    CloudFormationCustomResourceResponse as Response,
    CloudFormationCustomResourceResponseStatus as Status, CreateRequest, DeleteRequest,
    UpdateRequest,
};
use serde_json::Value;

use crate::http::excerpt;

pub fn request_type(request: &Request) -> &'static str {
    match request {
        Request::Create(_) => "Create",
        Request::Update(_) => "Update",
        Request::Delete(_) => "Delete",
        #[allow(unreachable_patterns)]
        _ => "Unknown",
    }
}

/// The fields every request carries.
pub(super) struct Common<'a> {
    pub(super) response_url: &'a str,
    pub(super) stack_id: &'a str,
    pub(super) request_id: &'a str,
    pub(super) logical_resource_id: &'a str,
    pub(super) physical_resource_id: Option<&'a str>,
}

pub(super) fn common(request: &Request) -> Common<'_> {
    match request {
        Request::Create(r) => Common {
            response_url: &r.response_url,
            stack_id: &r.stack_id,
            request_id: &r.request_id,
            logical_resource_id: &r.logical_resource_id,
            physical_resource_id: None,
        },
        Request::Update(r) => Common {
            response_url: &r.response_url,
            stack_id: &r.stack_id,
            request_id: &r.request_id,
            logical_resource_id: &r.logical_resource_id,
            physical_resource_id: Some(&r.physical_resource_id),
        },
        Request::Delete(r) => Common {
            response_url: &r.response_url,
            stack_id: &r.stack_id,
            request_id: &r.request_id,
            logical_resource_id: &r.logical_resource_id,
            physical_resource_id: Some(&r.physical_resource_id),
        },
        #[allow(unreachable_patterns)]
        _ => Common {
            response_url: "",
            stack_id: "",
            request_id: "",
            logical_resource_id: "",
            physical_resource_id: None,
        },
    }
}

/// Whether an event looks like a custom-resource request (for functions with several
/// triggers): it has a `RequestType` or a `ResponseURL`.
pub fn looks_like_custom_resource(event: &Value) -> bool {
    event.get("RequestType").is_some() || event.get("ResponseURL").is_some()
}

/// serde's message without the input it choked on (events can hold anything).
pub(super) fn describe_parse_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    // "missing field `X`", "unknown variant `Foo`, expected one of ...", "invalid type: ..."
    excerpt(text.split(" at line ").next().unwrap_or(&text), 300)
}
