//! The DynamoDB seam at the SDK's own level: an `aws_sdk_dynamodb::Client` whose HTTP
//! client answers from a [`DynamoModel`] on the virtual clock, so a function's own adapter
//! (its expressions, its handling of `ConditionalCheckFailedException`) and the SDK's
//! retries run inside the simulation, with faults from the seed's plan keyed by (table,
//! operation, nth call).
//!
//! Faults as the SDK meets them: a throttle is a 400 `ThrottlingException`, a server
//! error a 500 `InternalServerError` (both retried by the SDK's standard mode, with jitter
//! from the seeded generator); a timeout is a connector timeout after
//! [`ATTEMPT_TIMEOUT`], before or after the model applied the request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::{RetryPartition, TokenBucket};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use serde_json::{json, Value as Json};

use super::{wire, DynamoModel};
use crate::kernel::{lock, Fault, Sim};

/// How long a timed-out attempt waits before the SDK gives up on it (ASSUMPTION: an
/// attempt timeout of a few seconds, as the functions' SDK configurations set).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// The SDK keeps a retry partition's token bucket process-wide: each client gets a
/// partition of its own with its own bucket, so one run's retries cannot drain another's
/// (two runs of one seed in one process would differ).
static PARTITIONS: AtomicU64 = AtomicU64::new(0);

#[derive(Clone)]
struct ModelConnector {
    model: Arc<Mutex<DynamoModel>>,
    sim: Arc<Sim>,
}

impl std::fmt::Debug for ModelConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelConnector")
    }
}

impl HttpConnector for ModelConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        HttpConnectorFuture::new(async move { this.answer(request).await })
    }
}

fn response(status: u16, body: &Json) -> Result<HttpResponse, ConnectorError> {
    let status =
        StatusCode::try_from(status).map_err(|e| ConnectorError::other(Box::new(e), None))?;
    let mut r = HttpResponse::new(status, SdkBody::from(body.to_string()));
    r.headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    Ok(r)
}

fn timeout(what: &str) -> ConnectorError {
    ConnectorError::timeout(format!("simulated timeout of {what}").into())
}

impl ModelConnector {
    async fn answer(&self, request: HttpRequest) -> Result<HttpResponse, ConnectorError> {
        let operation = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.split('.').nth(1))
            .unwrap_or_default()
            .to_string();
        let body: Json = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Json::Null);
        let table = resource(&body);
        let fault = self.sim.fault(&table, &operation);
        match fault {
            Fault::Throttle => {
                return response(
                    400,
                    &json!({"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate of requests exceeds the allowed throughput."}),
                )
            }
            Fault::ServerError => {
                return response(
                    500,
                    &json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Internal server error"}),
                )
            }
            Fault::TimeoutBeforeAction => {
                tokio::time::sleep(ATTEMPT_TIMEOUT).await;
                return Err(timeout(&operation));
            }
            Fault::None | Fault::TimeoutAfterAction => {}
        }
        let result = {
            let mut model = lock(&self.model);
            let result = wire::dispatch(&mut model, &operation, &body, self.sim.now());
            if let Err(e) = &result {
                *model.errors.entry(e.code).or_insert(0) += 1;
            }
            result
        };
        self.sim.trace(format!(
            "dynamodb {operation} {table}: {}",
            match &result {
                Ok(_) => "ok".to_string(),
                Err(e) if e.code == "ValidationException" => e.to_string(),
                Err(e) => e.code.to_string(),
            }
        ));
        if fault == Fault::TimeoutAfterAction {
            tokio::time::sleep(ATTEMPT_TIMEOUT).await;
            return Err(timeout(&operation));
        }
        match result {
            Ok(answer) => response(200, &answer),
            Err(e) => response(400, &wire::error_json(&e)),
        }
    }
}

/// The table a request is about (a transaction's first), for keying its fault.
fn resource(body: &Json) -> String {
    let first_of = |field: &str| {
        body.get(field).and_then(|v| match v {
            Json::Array(a) => a
                .first()
                .and_then(|w| w.as_object())
                .and_then(|o| o.values().next())
                .and_then(|b| b.get("TableName"))
                .and_then(Json::as_str)
                .map(str::to_string),
            Json::Object(o) => o.keys().next().cloned(),
            _ => None,
        })
    };
    body.get("TableName")
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| first_of("TransactItems"))
        .or_else(|| first_of("RequestItems"))
        .unwrap_or_default()
}

/// A DynamoDB client over `model`: hand it to a function's adapter
/// (`alarm_fanout::aws::DynamoStore::new(client, table)`).
pub fn client(model: Arc<Mutex<DynamoModel>>, sim: Arc<Sim>) -> aws_sdk_dynamodb::Client {
    let connector = ModelConnector { model, sim };
    let http = http_client_fn(move |_, _| SharedHttpConnector::new(connector.clone()));
    let partition = PARTITIONS.fetch_add(1, Ordering::SeqCst);
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("sim", "sim", None, None, "simulation"))
        .endpoint_url("http://dynamodb.simulated")
        .retry_config(RetryConfig::standard())
        .retry_partition(
            RetryPartition::custom(format!("sim-dynamodb-{partition}"))
                .token_bucket(TokenBucket::default())
                .build(),
        )
        .http_client(http)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
