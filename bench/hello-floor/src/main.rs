//! The floor: a hello-world `lambda_runtime` function, built with the same release
//! profile as the groundcrew functions, whose cold start and memory the benchmarks
//! compare each function with.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<Value>| async {
        Ok::<Value, Error>(json!({ "hello": "world" }))
    }))
    .await
}
