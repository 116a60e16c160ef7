//! The SDK adapters: every AWS call of the crate is here. Secrets Manager and SSM behind
//! [`Vault`] (reads through the shared cache), SNS behind [`Alerts`]. Each client is built
//! on first use ([`LazyClient`], issue #17): a scheduled check never creates a secret and
//! rarely publishes, so most starts need neither client.

use groundcrew::aws_error::AwsError;
use groundcrew::lazy_client::LazyClient;
use groundcrew::secrets::{reveal, CachedSecrets, SecretError, SecretRef, DEFAULT_TTL};
use secrecy::SecretString;

use crate::alerts::{sns_subject, Alerts};
use crate::error::Error;
use crate::vault::{Stored, Vault};

/// Secrets Manager and SSM through the SDK, reads cached.
#[derive(Clone)]
pub struct AwsVault {
    cache: CachedSecrets<groundcrew::secrets::AwsSecretStore>,
    secrets_manager: LazyClient<aws_sdk_secretsmanager::Client>,
    ssm: LazyClient<aws_sdk_ssm::Client>,
}

impl AwsVault {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            cache: CachedSecrets::new(
                groundcrew::secrets::AwsSecretStore::new(config),
                DEFAULT_TTL,
            ),
            secrets_manager: LazyClient::new(config, aws_sdk_secretsmanager::Client::new),
            ssm: LazyClient::new(config, aws_sdk_ssm::Client::new),
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
                    Err(e) => Err(Error::SecretStore {
                        reference: shown,
                        source: AwsError::from_sdk("CreateSecret", &e),
                    }),
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
                    Err(e) => Err(Error::SecretStore {
                        reference: shown,
                        source: AwsError::from_sdk("PutParameter", &e),
                    }),
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
            Err(e) => Err(Error::RegistryCall {
                name: name.to_string(),
                source: AwsError::from_sdk("GetParameter", &e),
            }),
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
            .map_err(|e| Error::RegistryCall {
                name: name.to_string(),
                source: AwsError::from_sdk("PutParameter", &e),
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
            Err(e) => Err(Error::RegistryCall {
                name: name.to_string(),
                source: AwsError::from_sdk("DeleteParameter", &e),
            }),
        }
    }
}

#[derive(Clone)]
pub struct SnsAlerts {
    client: LazyClient<aws_sdk_sns::Client>,
    topic_arn: Option<String>,
}

impl SnsAlerts {
    pub fn new(config: &aws_config::SdkConfig, topic_arn: Option<String>) -> Self {
        Self {
            client: LazyClient::new(config, aws_sdk_sns::Client::new),
            topic_arn,
        }
    }
}

impl Alerts for SnsAlerts {
    async fn publish(&self, subject: &str, message: &str) -> Result<bool, Error> {
        let Some(topic) = &self.topic_arn else {
            tracing::warn!(
                subject,
                "no ALARM_TOPIC_ARN configured; the alert is only logged"
            );
            return Ok(false);
        };
        self.client
            .publish()
            .topic_arn(topic)
            .subject(sns_subject(subject))
            .message(message)
            .send()
            .await
            .map_err(|e| Error::Alert(AwsError::from_sdk("Publish", &e)))?;
        Ok(true)
    }
}
