//! Secrets from Secrets Manager or SSM SecureString, referenced by name or ARN and cached
//! for the life of the execution environment (the `moka` crate, with a time to live so a
//! rotated secret is picked up).
//!
//! References:
//! - `arn:aws:secretsmanager:…`, `secretsmanager:NAME`, or a bare `NAME`: Secrets Manager;
//! - `arn:aws:ssm:…:parameter/NAME`, `ssm:NAME`, or a name starting with `/`: SSM, decrypted;
//! - a `#field` suffix picks one field of a JSON secret (`ops/slack#webhook_url`).
//!
//! Values are [`SecretString`]s: their `Debug` prints nothing, and no error carries one.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::aws::describe_sdk_error;
use crate::lazy_client::LazyClient;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SecretRef {
    SecretsManager { id: String, field: Option<String> },
    Ssm { name: String },
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("secret reference {reference:?} is invalid: {reason}")]
    BadReference { reference: String, reason: String },
    #[error("secret {reference} was not found")]
    NotFound { reference: String },
    #[error("secret {reference} could not be read: {reason}")]
    Unreadable { reference: String, reason: String },
    #[error("secret {reference} is empty or not text")]
    Empty { reference: String },
    #[error("secret {reference} has no text field {field:?}")]
    MissingField { reference: String, field: String },
}

impl SecretRef {
    pub fn parse(reference: &str) -> Result<Self, SecretError> {
        let reference = reference.trim();
        let bad = |reason: &str| SecretError::BadReference {
            reference: reference.to_string(),
            reason: reason.to_string(),
        };
        if reference.is_empty() {
            return Err(bad("empty"));
        }
        if let Some(name) = reference.strip_prefix("ssm:") {
            return if name.is_empty() {
                Err(bad("no parameter name after ssm:"))
            } else {
                Ok(Self::Ssm {
                    name: name.to_string(),
                })
            };
        }
        if reference.starts_with("arn:aws:ssm:") || reference.starts_with('/') {
            return Ok(Self::Ssm {
                name: reference.to_string(),
            });
        }
        if reference.starts_with("arn:") && !reference.contains(":secretsmanager:") {
            return Err(bad(
                "only Secrets Manager and SSM parameter ARNs are supported",
            ));
        }
        let rest = reference
            .strip_prefix("secretsmanager:")
            .unwrap_or(reference);
        let (id, field) = match rest.split_once('#') {
            Some((id, field)) if !field.is_empty() => (id, Some(field.to_string())),
            Some(_) => return Err(bad("empty field name after #")),
            None => (rest, None),
        };
        if id.is_empty() {
            return Err(bad("no secret name"));
        }
        Ok(Self::SecretsManager {
            id: id.to_string(),
            field,
        })
    }

    /// The reference as users wrote it, for messages (never the value).
    pub fn display(&self) -> String {
        match self {
            Self::SecretsManager { id, field: Some(f) } => format!("{id}#{f}"),
            Self::SecretsManager { id, field: None } => id.clone(),
            Self::Ssm { name } => format!("ssm:{name}"),
        }
    }
}

/// Somewhere secrets can be read from.
pub trait SecretStore: Send + Sync {
    fn fetch(
        &self,
        reference: &SecretRef,
    ) -> impl Future<Output = Result<SecretString, SecretError>> + Send;
}

/// Secrets Manager and SSM through the SDK. Each client is built on its first use, so a
/// cold start that reads no secret (or only SSM parameters) does not pay for both.
#[derive(Debug, Clone)]
pub struct AwsSecretStore {
    secrets_manager: LazyClient<aws_sdk_secretsmanager::Client>,
    ssm: LazyClient<aws_sdk_ssm::Client>,
}

impl AwsSecretStore {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            secrets_manager: LazyClient::new(config, aws_sdk_secretsmanager::Client::new),
            ssm: LazyClient::new(config, aws_sdk_ssm::Client::new),
        }
    }

    /// Whether each client (Secrets Manager, SSM) has been built yet.
    pub fn built(&self) -> (bool, bool) {
        (self.secrets_manager.is_built(), self.ssm.is_built())
    }
}

impl SecretStore for AwsSecretStore {
    async fn fetch(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        let shown = reference.display();
        match reference {
            SecretRef::SecretsManager { id, field } => {
                let out = self
                    .secrets_manager
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| {
                        let not_found = e
                            .as_service_error()
                            .is_some_and(|s| s.is_resource_not_found_exception());
                        if not_found {
                            SecretError::NotFound {
                                reference: shown.clone(),
                            }
                        } else {
                            SecretError::Unreadable {
                                reference: shown.clone(),
                                reason: describe_sdk_error(&e),
                            }
                        }
                    })?;
                let text = out.secret_string().ok_or_else(|| SecretError::Empty {
                    reference: shown.clone(),
                })?;
                select_field(text, field.as_deref(), &shown)
            }
            SecretRef::Ssm { name } => {
                let out = self
                    .ssm
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| {
                        let not_found = e
                            .as_service_error()
                            .is_some_and(|s| s.is_parameter_not_found());
                        if not_found {
                            SecretError::NotFound {
                                reference: shown.clone(),
                            }
                        } else {
                            SecretError::Unreadable {
                                reference: shown.clone(),
                                reason: describe_sdk_error(&e),
                            }
                        }
                    })?;
                let text =
                    out.parameter()
                        .and_then(|p| p.value())
                        .ok_or_else(|| SecretError::Empty {
                            reference: shown.clone(),
                        })?;
                non_empty(text, &shown)
            }
        }
    }
}

fn non_empty(text: &str, shown: &str) -> Result<SecretString, SecretError> {
    let text = text.trim();
    if text.is_empty() {
        Err(SecretError::Empty {
            reference: shown.to_string(),
        })
    } else {
        Ok(SecretString::from(text.to_string()))
    }
}

fn select_field(text: &str, field: Option<&str>, shown: &str) -> Result<SecretString, SecretError> {
    let Some(field) = field else {
        return non_empty(text, shown);
    };
    let missing = || SecretError::MissingField {
        reference: shown.to_string(),
        field: field.to_string(),
    };
    // The parse error is dropped on purpose: serde_json quotes the input it choked on.
    let json: serde_json::Value = serde_json::from_str(text).map_err(|_| missing())?;
    let value = json
        .get(field)
        .and_then(|v| v.as_str())
        .ok_or_else(missing)?;
    non_empty(value, shown)
}

/// A cache in front of any store: one read per secret per time to live, and concurrent
/// first reads of the same secret share one call.
#[derive(Clone)]
pub struct CachedSecrets<S> {
    store: Arc<S>,
    cache: moka::future::Cache<SecretRef, SecretString>,
}

/// How long a secret is trusted before it is read again (rotation).
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

impl<S: SecretStore> CachedSecrets<S> {
    pub fn new(store: S, ttl: Duration) -> Self {
        Self {
            store: Arc::new(store),
            cache: moka::future::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(256)
                .build(),
        }
    }

    pub async fn get(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        let store = Arc::clone(&self.store);
        let key = reference.clone();
        self.cache
            .try_get_with(key.clone(), async move { store.fetch(&key).await })
            .await
            .map_err(|e| (*e).clone())
    }

    /// Parses `reference` and reads it.
    pub async fn get_str(&self, reference: &str) -> Result<SecretString, SecretError> {
        self.get(&SecretRef::parse(reference)?).await
    }
}

impl<S: SecretStore> SecretStore for CachedSecrets<S> {
    async fn fetch(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        self.get(reference).await
    }
}

/// The production secret source.
pub type Secrets = CachedSecrets<AwsSecretStore>;

/// Secrets held in memory: a fake for unit tests, keyed by the reference as written.
#[derive(Debug, Default, Clone)]
pub struct InMemorySecretStore {
    values: HashMap<SecretRef, String>,
    reads: Arc<std::sync::atomic::AtomicUsize>,
}

impl InMemorySecretStore {
    pub fn with(mut self, reference: &str, value: &str) -> Self {
        if let Ok(parsed) = SecretRef::parse(reference) {
            self.values.insert(parsed, value.to_string());
        }
        self
    }

    pub fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl SecretStore for InMemorySecretStore {
    async fn fetch(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.values
            .get(reference)
            .map(|v| SecretString::from(v.clone()))
            .ok_or_else(|| SecretError::NotFound {
                reference: reference.display(),
            })
    }
}

/// The secret's text; named so that every exposure is easy to find.
pub fn reveal(secret: &SecretString) -> &str {
    secret.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_reference_form() {
        assert_eq!(
            SecretRef::parse("ops/telegram").unwrap(),
            SecretRef::SecretsManager {
                id: "ops/telegram".into(),
                field: None
            }
        );
        assert_eq!(
            SecretRef::parse("secretsmanager:ops/slack#webhook_url").unwrap(),
            SecretRef::SecretsManager {
                id: "ops/slack".into(),
                field: Some("webhook_url".into())
            }
        );
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ops-AbCdEf";
        assert_eq!(
            SecretRef::parse(arn).unwrap(),
            SecretRef::SecretsManager {
                id: arn.into(),
                field: None
            }
        );
        assert_eq!(
            SecretRef::parse("/groundcrew/pd").unwrap(),
            SecretRef::Ssm {
                name: "/groundcrew/pd".into()
            }
        );
        assert_eq!(
            SecretRef::parse("ssm:pd-key").unwrap(),
            SecretRef::Ssm {
                name: "pd-key".into()
            }
        );
        let ssm_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/pd";
        assert_eq!(
            SecretRef::parse(ssm_arn).unwrap(),
            SecretRef::Ssm {
                name: ssm_arn.into()
            }
        );
    }

    #[test]
    fn rejects_bad_references_by_name() {
        for bad in ["", "ssm:", "ops#", "arn:aws:s3:::bucket", "#field"] {
            let err = SecretRef::parse(bad).unwrap_err();
            assert!(
                matches!(err, SecretError::BadReference { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn selects_json_fields_without_leaking_values() {
        let text = r#"{"webhook_url":"https://hooks.example/T1/SECRET","other":1}"#;
        let got = select_field(text, Some("webhook_url"), "ops/slack#webhook_url").unwrap();
        assert_eq!(reveal(&got), "https://hooks.example/T1/SECRET");
        let err = select_field(text, Some("missing"), "ops/slack#missing").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
        let err = select_field("not json SECRET", Some("f"), "x#f").unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
        assert!(matches!(
            select_field("  ", None, "x"),
            Err(SecretError::Empty { .. })
        ));
    }

    #[tokio::test]
    async fn cache_reads_each_secret_once() {
        let store = InMemorySecretStore::default().with("ops/telegram", "123:ABC");
        let cached = CachedSecrets::new(store.clone(), DEFAULT_TTL);
        for _ in 0..3 {
            assert_eq!(
                reveal(&cached.get_str("ops/telegram").await.unwrap()),
                "123:ABC"
            );
        }
        assert_eq!(store.reads(), 1);
        let missing = cached.get_str("ops/none").await.unwrap_err();
        assert_eq!(
            missing,
            SecretError::NotFound {
                reference: "ops/none".into()
            }
        );
    }

    #[test]
    fn secret_debug_prints_no_value() {
        let s = SecretString::from("hunter2".to_string());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn the_store_builds_no_client_before_its_first_read() {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let store = AwsSecretStore::new(&sdk);
        assert_eq!(store.built(), (false, false));
        let _ = store.ssm.get_parameter();
        assert_eq!(
            store.built(),
            (false, true),
            "only the client used is built"
        );
    }
}
