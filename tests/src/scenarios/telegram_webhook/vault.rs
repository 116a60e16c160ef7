//! Secrets Manager and SSM as the function sees them in the simulation.

use std::sync::{Arc, Mutex};

use groundcrew::secrets::{SecretError, SecretRef};
use secrecy::SecretString;
use telegram_webhook::vault::{MemoryVault, Stored, Vault};
use telegram_webhook::Error;

use super::{Window, BOT_SECRET, TOKEN};
use crate::kernel::{lock, Sim};

/// Secrets Manager and SSM for the function: the bot token, the webhook's secret token and
/// the registration record, with faults drawn per call (the SDK's standard retry mode makes
/// up to 3 attempts, so a call fails only when 3 draws in a row do) and outage windows in
/// which every read is refused.
#[derive(Clone)]
pub struct SimVault {
    sim: Arc<Sim>,
    pub(super) inner: MemoryVault,
    pub(super) down: Arc<Mutex<Vec<Window>>>,
    /// Calls that failed, for the invariants (reset per check).
    pub(super) failed: Arc<Mutex<u64>>,
}

impl SimVault {
    pub(super) fn new(sim: Arc<Sim>) -> Self {
        Self {
            sim,
            inner: MemoryVault::default().with(BOT_SECRET, TOKEN),
            down: Arc::default(),
            failed: Arc::default(),
        }
    }

    pub(super) fn is_down(&self) -> bool {
        let now = self.sim.now();
        lock(&self.down).iter().any(|(a, b)| *a <= now && now < *b)
    }

    /// One SDK call with its retries: `Err(reason)` when every attempt failed.
    fn call(&self, resource: &str, operation: &str) -> Result<(), String> {
        if self.is_down() {
            *lock(&self.failed) += 1;
            return Err("AccessDeniedException: not authorized (outage window)".into());
        }
        for _ in 0..3 {
            if !self.sim.fault(resource, operation).is_fault() {
                return Ok(());
            }
        }
        *lock(&self.failed) += 1;
        Err(format!(
            "{operation} failed 3 times (throttling, 5xx or timeouts)"
        ))
    }
}

impl Vault for SimVault {
    async fn read(&self, reference: &SecretRef) -> Result<SecretString, SecretError> {
        self.call(&reference.display(), "GetSecretValue")
            .map_err(|reason| SecretError::Unreadable {
                reference: reference.display(),
                reason,
            })?;
        self.inner.read(reference).await
    }

    async fn create(&self, reference: &SecretRef, value: &SecretString) -> Result<Stored, Error> {
        self.call(&reference.display(), "CreateSecret")
            .map_err(|reason| Error::SecretCreate {
                reference: reference.display(),
                reason,
            })?;
        self.inner.create(reference, value).await
    }

    async fn load_record(&self, name: &str) -> Result<Option<String>, Error> {
        self.call(name, "GetParameter")
            .map_err(|r| Error::Registry(format!("could not read {name}: {r}")))?;
        self.inner.load_record(name).await
    }

    async fn store_record(&self, name: &str, value: &str) -> Result<(), Error> {
        self.call(name, "PutParameter")
            .map_err(|r| Error::Registry(format!("could not store {name}: {r}")))?;
        self.inner.store_record(name, value).await
    }

    async fn delete_record(&self, name: &str) -> Result<(), Error> {
        self.call(name, "DeleteParameter")
            .map_err(|r| Error::Registry(format!("could not delete {name}: {r}")))?;
        self.inner.delete_record(name).await
    }
}
