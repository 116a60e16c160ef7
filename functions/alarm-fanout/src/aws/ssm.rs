//! The routing document's SSM parameter ([`crate::routing_cache`]).

use groundcrew::aws::describe_sdk_error;

use super::Shared;
use crate::error::Error;
use crate::routing_cache::{Parameter, Read};

/// Reads the parameter `name` (decrypted: it may be a SecureString) with its version; the
/// client is built at the first read.
pub fn routing_parameter(client: Shared<aws_sdk_ssm::Client>, name: &str) -> Read {
    let name = name.to_string();
    Box::new(move || {
        let client = client.clone();
        let name = name.clone();
        Box::pin(async move {
            let out = client
                .get_parameter()
                .name(&name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| {
                    Error::Routing(format!("SSM parameter {name}: {}", describe_sdk_error(&e)))
                })?;
            let parameter = out
                .parameter()
                .ok_or_else(|| Error::Routing(format!("SSM parameter {name} has no value")))?;
            Ok(Parameter {
                value: parameter
                    .value()
                    .ok_or_else(|| Error::Routing(format!("SSM parameter {name} has no value")))?
                    .to_string(),
                version: parameter.version(),
            })
        })
    })
}
