//! The seam under calls that a plain JSON POST cannot make: Slack's Web API (a bot token in
//! the `Authorization` header), uploads (multipart forms, raw bytes). [`ReqwestApi`] sends
//! them over the shared reqwest client; [`NoApi`] refuses them (receivers built without
//! it, such as the simulation's, keep to webhooks).

use std::future::Future;
use std::pin::Pin;

use groundcrew::http::{HttpError, HttpSettings};
use serde_json::Value;

use crate::transport::{HttpAnswer, TransportError};

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json(Value),
    /// `multipart/form-data`: text fields and files.
    Form(Vec<Field>),
    /// `application/x-www-form-urlencoded` pairs.
    UrlEncoded(Vec<(String, String)>),
    /// Raw bytes with their content type.
    Bytes {
        content_type: String,
        data: Vec<u8>,
    },
}

/// One field of a multipart form.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Text {
        name: String,
        value: String,
    },
    File {
        name: String,
        file_name: String,
        content_type: String,
        data: Vec<u8>,
    },
}

/// One POST: where, with which bearer token (never logged), what.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub bearer: Option<String>,
    pub body: Body,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Api: Send + Sync {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<HttpAnswer, TransportError>>;
}

/// No Web API calls: every one is refused (a clear error naming why).
pub struct NoApi;

impl Api for NoApi {
    fn send<'a>(&'a self, _: &'a Request) -> BoxFuture<'a, Result<HttpAnswer, TransportError>> {
        Box::pin(async {
            Err(TransportError {
                reason: "this build has no client for Web API calls".into(),
                timed_out: false,
            })
        })
    }
}

/// [`Api`] over reqwest (rustls, timeouts), built once per cold start.
#[derive(Debug, Clone)]
pub struct ReqwestApi(reqwest::Client);

impl ReqwestApi {
    pub fn new(settings: HttpSettings) -> Result<Self, HttpError> {
        groundcrew::http::client(settings).map(Self)
    }
}

impl Api for ReqwestApi {
    fn send<'a>(
        &'a self,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<HttpAnswer, TransportError>> {
        Box::pin(async move {
            let mut builder = self.0.post(&request.url);
            if let Some(token) = &request.bearer {
                builder = builder.bearer_auth(token);
            }
            builder = match &request.body {
                Body::Json(v) => builder.json(v),
                Body::Bytes { content_type, data } => builder
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(data.clone()),
                Body::UrlEncoded(pairs) => builder
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(
                        url::form_urlencoded::Serializer::new(String::new())
                            .extend_pairs(pairs)
                            .finish(),
                    ),
                Body::Form(fields) => {
                    let (content_type, data) = multipart(fields);
                    builder
                        .header(reqwest::header::CONTENT_TYPE, content_type)
                        .body(data)
                }
            };
            let response = builder.send().await.map_err(TransportError::from_reqwest)?;
            let status = response.status().as_u16();
            let retry_after = groundcrew::http::retry_after(response.headers());
            let body = response
                .text()
                .await
                .map_err(TransportError::from_reqwest)?;
            Ok(HttpAnswer {
                status,
                retry_after,
                body,
            })
        })
    }
}

/// A `multipart/form-data` body (RFC 7578) and its content type. The boundary is a
/// digest of the fields, so it cannot occur in them by chance.
pub fn multipart(fields: &[Field]) -> (String, Vec<u8>) {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for f in fields {
        match f {
            Field::Text { name, value } => {
                hash.update(name.as_bytes());
                hash.update(value.as_bytes());
            }
            Field::File { name, data, .. } => {
                hash.update(name.as_bytes());
                hash.update(data);
            }
        }
    }
    let boundary = format!("groundcrew-{}", hex::encode(&hash.finalize()[..16]));
    let quoted = |s: &str| s.replace(['"', '\r', '\n'], "_");
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match f {
            Field::Text { name, value } => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"\r\n\r\n",
                        quoted(name)
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(value.as_bytes());
            }
            Field::File {
                name,
                file_name,
                content_type,
                data,
            } => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {content_type}\r\n\r\n",
                        quoted(name),
                        quoted(file_name)
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(data);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}
