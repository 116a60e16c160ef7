//! Secrets: the bot token (read only) and the webhook's secret token (read, or created
//! and stored when absent), and the SSM record of what was registered. The SDK adapter is
//! `aws::AwsVault`; `MemoryVault` serves the tests.

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::sync::{Arc, Mutex};

use groundcrew::secrets::{reveal, SecretError, SecretRef, SecretStore};
use secrecy::SecretString;

use crate::error::Error;
use crate::validate::valid_secret_token;

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
