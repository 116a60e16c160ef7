//! Physical ids (the one minted for a failed Create, the one a handler claims, their
//! check) and the `ResponseURL`'s check.

use std::sync::{Arc, Mutex};

/// CloudFormation's limit on a physical resource id.
pub const MAX_PHYSICAL_ID_BYTES: usize = 1024;
/// The prefix of ids minted for a Create that failed.
pub const FAILED_CREATE_PREFIX: &str = "create-failed-";

/// The physical id reported for a Create that failed: unique per request, recognisable.
pub fn failed_create_id(request_id: &str) -> String {
    format!("{FAILED_CREATE_PREFIX}{request_id}")
}

pub fn is_failed_create_id(id: &str) -> bool {
    id.starts_with(FAILED_CREATE_PREFIX)
}

/// The physical id a handler claims before it acts on a Create (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Claim(Arc<Mutex<Option<String>>>);

impl Claim {
    /// Claims `id`: from now on a FAILED answer to this Create reports it.
    pub fn set(&self, id: impl Into<String>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(id.into());
        }
    }

    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

pub(super) fn common_fallback_id(request_id: &str) -> String {
    failed_create_id(request_id)
}

pub(super) fn check_physical_id(id: &str) -> Option<String> {
    if id.trim().is_empty() {
        Some("it is empty".to_string())
    } else if id.len() > MAX_PHYSICAL_ID_BYTES {
        Some(format!(
            "it is {} bytes long, over {MAX_PHYSICAL_ID_BYTES}",
            id.len()
        ))
    } else {
        None
    }
}

pub(super) fn check_response_url(url: &str) -> Option<String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => None,
        Ok(_) => Some("ResponseURL is not an http(s) URL".to_string()),
        Err(e) => Some(format!("ResponseURL is not a URL ({e})")),
    }
}
