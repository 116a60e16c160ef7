//! Secrets: the bot token (read only) and the webhook's secret token (read, or created
//! and stored when absent). Reads go through the shared cache.

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::sync::{Arc, Mutex};

use groundcrew::aws::describe_sdk_error;
use groundcrew::secrets::{
    reveal, CachedSecrets, SecretError, SecretRef, SecretStore, DEFAULT_TTL,
};
use secrecy::SecretString;

use crate::error::Error;
use crate::settings::valid_secret_token;

/// Whether a create stored the value or found the secret already there (a race).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Created,
    AlreadyExists,
}

pub trait Vault: Send + Sync {
    fn read(
        &self,
        reference: &SecretRef,
    ) -> impl Future<Output = Result<SecretString, SecretError>> + Send;
    /// Stores `value` under `reference` only if nothing is stored there yet.
    fn create(
        &self,
        reference: &SecretRef,
        value: &SecretString,
    ) -> impl Future<Output = Result<Stored, Error>> + Send;
    /// The record (JSON) stored under the SSM parameter `name`, if there is one.
    fn load_record(&self, name: &str)
        -> impl Future<Output = Result<Option<String>, Error>> + Send;
    /// Stores (or replaces) the record under `name`.
    fn store_record(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Removes the record under `name`; an absent one is not an error.
    fn delete_record(&self, name: &str) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Secrets Manager and SSM through the SDK, reads cached.
#[derive(Clone)]
pub struct AwsVault {
    cache: CachedSecrets<groundcrew::secrets::AwsSecretStore>,
    secrets_manager: aws_sdk_secretsmanager::Client,
    ssm: aws_sdk_ssm::Client,
}

impl AwsVault {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            cache: CachedSecrets::new(
                groundcrew::secrets::AwsSecretStore::new(config),
                DEFAULT_TTL,
            ),
            secrets_manager: aws_sdk_secretsmanager::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
        }
    }
}

impl Vault for AwsVault {
    async fn read(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        self.cache.get(reference).await
    }

    async fn create(&self, reference: &SecretRef, value: &SecretString) -> Result<Stored, Error> {
        let shown = reference.display();
        let fail = |reason: String| Error::SecretCreate {
            reference: shown.clone(),
            reason,
        };
        match reference {
            SecretRef::SecretsManager { id, field } => {
                if id.starts_with("arn:") {
                    return Err(fail(
                        "a secret given by ARN must exist; give a name to have it created".into(),
                    ));
                }
                let text = match field {
                    Some(f) => serde_json::json!({ f: reveal(value) }).to_string(),
                    None => reveal(value).to_string(),
                };
                let out = self
                    .secrets_manager
                    .create_secret()
                    .name(id)
                    .description(
                        "Telegram webhook secret token (created by groundcrew telegram-webhook)",
                    )
                    .secret_string(text)
                    .send()
                    .await;
                match out {
                    Ok(_) => Ok(Stored::Created),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_exists_exception()) =>
                    {
                        Ok(Stored::AlreadyExists)
                    }
                    Err(e) => Err(fail(describe_sdk_error(&e))),
                }
            }
            SecretRef::Ssm { name } => {
                if name.starts_with("arn:") {
                    return Err(fail(
                        "a parameter given by ARN must exist; give a name to have it created"
                            .into(),
                    ));
                }
                let out = self
                    .ssm
                    .put_parameter()
                    .name(name)
                    .description(
                        "Telegram webhook secret token (created by groundcrew telegram-webhook)",
                    )
                    .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                    .value(reveal(value))
                    .overwrite(false)
                    .send()
                    .await;
                match out {
                    Ok(_) => Ok(Stored::Created),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_parameter_already_exists()) =>
                    {
                        Ok(Stored::AlreadyExists)
                    }
                    Err(e) => Err(fail(describe_sdk_error(&e))),
                }
            }
        }
    }

    async fn load_record(&self, name: &str) -> Result<Option<String>, Error> {
        match self.ssm.get_parameter().name(name).send().await {
            Ok(out) => Ok(out.parameter.and_then(|p| p.value)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::Registry(format!(
                "could not read {name}: {}",
                describe_sdk_error(&e)
            ))),
        }
    }

    async fn store_record(&self, name: &str, value: &str) -> Result<(), Error> {
        self.ssm
            .put_parameter()
            .name(name)
            .description("What the telegram-webhook custom resource registered (groundcrew)")
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .value(value)
            .overwrite(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                Error::Registry(format!(
                    "could not store {name}: {}",
                    describe_sdk_error(&e)
                ))
            })
    }

    async fn delete_record(&self, name: &str) -> Result<(), Error> {
        match self.ssm.delete_parameter().name(name).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::Registry(format!(
                "could not delete {name}: {}",
                describe_sdk_error(&e)
            ))),
        }
    }
}

/// An in-memory vault for unit tests.
#[derive(Clone, Default)]
pub struct MemoryVault {
    values: Arc<Mutex<HashMap<SecretRef, String>>>,
    records: Arc<Mutex<HashMap<String, String>>>,
}

impl MemoryVault {
    pub fn with(self, reference: &str, value: &str) -> Self {
        if let (Ok(r), Ok(mut map)) = (SecretRef::parse(reference), self.values.lock()) {
            map.insert(r, value.to_string());
        }
        self
    }

    /// The record stored under `name` (tests).
    pub fn record(&self, name: &str) -> Option<String> {
        self.records.lock().ok()?.get(name).cloned()
    }

    pub fn get(&self, reference: &str) -> Option<String> {
        let r = SecretRef::parse(reference).ok()?;
        self.values.lock().ok()?.get(&r).cloned()
    }
}

impl Vault for MemoryVault {
    async fn read(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        let store = groundcrew::secrets::InMemorySecretStore::default();
        let value = self
            .values
            .lock()
            .ok()
            .and_then(|m| m.get(reference).cloned());
        match value {
            Some(v) => Ok(SecretString::from(v)),
            None => store.fetch(reference).await,
        }
    }

    async fn create(&self, reference: &SecretRef, value: &SecretString) -> Result<Stored, Error> {
        let mut map = self.values.lock().map_err(|_| Error::SecretCreate {
            reference: reference.display(),
            reason: "poisoned".into(),
        })?;
        if map.contains_key(reference) {
            return Ok(Stored::AlreadyExists);
        }
        map.insert(reference.clone(), reveal(value).to_string());
        Ok(Stored::Created)
    }

    async fn load_record(&self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.records.lock().ok().and_then(|m| m.get(name).cloned()))
    }

    async fn store_record(&self, name: &str, value: &str) -> Result<(), Error> {
        if let Ok(mut m) = self.records.lock() {
            m.insert(name.to_string(), value.to_string());
        }
        Ok(())
    }

    async fn delete_record(&self, name: &str) -> Result<(), Error> {
        if let Ok(mut m) = self.records.lock() {
            m.remove(name);
        }
        Ok(())
    }
}

/// 64 characters of `A-Z a-z 0-9 _ -` (384 bits) from the kernel's random source.
pub fn generate_secret_token() -> Result<SecretString, Error> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    let mut bytes = [0u8; 64];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Error::SecretCreate {
            reference: "(new secret token)".into(),
            reason: format!("no random source: {e}"),
        })?;
    let token: String = bytes
        .iter()
        .map(|b| ALPHABET[(b & 63) as usize] as char)
        .collect();
    Ok(SecretString::from(token))
}

/// The webhook's secret token: read it, or create, store and return a new one. Returns
/// whether it was created.
pub async fn secret_token<V: Vault>(
    vault: &V,
    reference: &str,
) -> Result<(SecretString, bool), Error> {
    let parsed = SecretRef::parse(reference)?;
    let check = |value: SecretString| {
        if valid_secret_token(reveal(&value)) {
            Ok(value)
        } else {
            Err(Error::BadSecretToken {
                reference: parsed.display(),
            })
        }
    };
    match vault.read(&parsed).await {
        Ok(value) => return Ok((check(value)?, false)),
        Err(SecretError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let fresh = generate_secret_token()?;
    match vault.create(&parsed, &fresh).await? {
        Stored::Created => {
            tracing::info!(secret = %parsed.display(), "created and stored a new webhook secret token");
            Ok((fresh, true))
        }
        // Another invocation stored one first: use that one.
        Stored::AlreadyExists => Ok((check(vault.read(&parsed).await?)?, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_valid_and_differ() {
        let a = generate_secret_token().unwrap();
        let b = generate_secret_token().unwrap();
        assert!(valid_secret_token(reveal(&a)));
        assert_eq!(reveal(&a).len(), 64);
        assert_ne!(reveal(&a), reveal(&b));
    }

    #[tokio::test]
    async fn creates_once_then_reads() {
        let vault = MemoryVault::default();
        let (first, created) = secret_token(&vault, "tg/secret").await.unwrap();
        assert!(created);
        let (second, created) = secret_token(&vault, "tg/secret").await.unwrap();
        assert!(!created);
        assert_eq!(reveal(&first), reveal(&second));
    }

    #[tokio::test]
    async fn a_stored_value_with_bad_characters_is_refused_without_echoing_it() {
        let vault = MemoryVault::default().with("tg/secret", "not valid!!");
        let err = secret_token(&vault, "tg/secret")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tg/secret") && !err.contains("not valid"),
            "{err}"
        );
    }
}
