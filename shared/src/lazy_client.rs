//! SDK clients built when first needed.
//!
//! An invocation of a function usually calls one or two of the services it knows; building
//! every client at start-up makes each cold start pay for all of them (each `Client::new`
//! assembles the service's runtime plugins, endpoint resolver and retry and identity
//! caches). A [`LazyClient`] holds the shared [`SdkConfig`] and builds its client the first
//! time it is used, once per process; it dereferences to the client, so an adapter keeps
//! calling `self.client.operation()` as before.
//!
//! ```
//! # fn sdk() -> aws_types::SdkConfig { aws_types::SdkConfig::builder().build() }
//! use groundcrew::lazy_client::LazyClient;
//!
//! struct Store {
//!     ssm: LazyClient<aws_sdk_ssm::Client>,
//! }
//! let store = Store { ssm: LazyClient::new(&sdk(), aws_sdk_ssm::Client::new) };
//! assert!(!store.ssm.is_built());
//! let _builder = store.ssm.get_parameter(); // built here, once
//! assert!(store.ssm.is_built());
//! ```

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use aws_types::SdkConfig;

/// A client of type `C`, built from the SDK configuration on first use.
pub struct LazyClient<C> {
    sdk: SdkConfig,
    build: fn(&SdkConfig) -> C,
    client: OnceLock<C>,
}

impl<C> LazyClient<C> {
    /// Keeps `sdk` (cheap: its parts are shared) to call `build` with on first use; pass
    /// the SDK's constructor, `aws_sdk_x::Client::new`, or a function that adds
    /// service-specific settings.
    pub fn new(sdk: &SdkConfig, build: fn(&SdkConfig) -> C) -> Self {
        Self {
            sdk: sdk.clone(),
            build,
            client: OnceLock::new(),
        }
    }

    /// A client built already (tests, or a client that every invocation needs).
    pub fn built(sdk: &SdkConfig, build: fn(&SdkConfig) -> C, client: C) -> Self {
        Self {
            sdk: sdk.clone(),
            build,
            client: OnceLock::from(client),
        }
    }

    /// The client, built on the first call.
    pub fn get(&self) -> &C {
        self.client.get_or_init(|| (self.build)(&self.sdk))
    }

    /// Whether the client has been built.
    pub fn is_built(&self) -> bool {
        self.client.get().is_some()
    }
}

impl<C> Deref for LazyClient<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.get()
    }
}

impl<C: Clone> Clone for LazyClient<C> {
    fn clone(&self) -> Self {
        Self {
            sdk: self.sdk.clone(),
            build: self.build,
            client: self
                .client
                .get()
                .cloned()
                .map_or_else(OnceLock::new, OnceLock::from),
        }
    }
}

impl<C> fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyClient")
            .field("client", &std::any::type_name::<C>())
            .field("built", &self.is_built())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static BUILDS: AtomicUsize = AtomicUsize::new(0);

    fn counted(sdk: &SdkConfig) -> Option<String> {
        BUILDS.fetch_add(1, Ordering::SeqCst);
        sdk.region().map(|r| r.to_string())
    }

    #[test]
    fn builds_once_on_first_use_from_the_kept_config() {
        let sdk = SdkConfig::builder()
            .region(aws_types::region::Region::new("eu-west-1"))
            .build();
        let before = BUILDS.load(Ordering::SeqCst);
        let lazy = LazyClient::new(&sdk, counted);
        assert!(!lazy.is_built());
        assert_eq!(BUILDS.load(Ordering::SeqCst), before, "built before use");
        assert_eq!(lazy.as_deref(), Some("eu-west-1"));
        assert_eq!(lazy.get().as_deref(), Some("eu-west-1"));
        assert!(lazy.is_built());
        assert_eq!(
            BUILDS.load(Ordering::SeqCst),
            before + 1,
            "built more than once"
        );
        let copy = lazy.clone();
        assert!(copy.is_built(), "a clone keeps the built client");
        assert!(format!("{lazy:?}").contains("built: true"));
    }

    #[test]
    fn a_client_built_already_is_not_built_again() {
        let sdk = SdkConfig::builder().build();
        let lazy = LazyClient::built(&sdk, |_| 1_u8, 7_u8);
        assert!(lazy.is_built());
        assert_eq!(*lazy, 7);
    }
}
