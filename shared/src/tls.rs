//! TLS for every outbound HTTPS connection: the AWS SDK's and reqwest's (issue 17).
//!
//! Both trust the Mozilla root certificates compiled into the binary
//! (`webpki-root-certs`), not the system's certificate directory, which took about 150
//! file opens at each cold start for the same public roots. Both use rustls with one
//! crypto provider, `ring` ([`crypto_provider`]): `aws-lc-rs`, the SDK's default, made each
//! bootstrap about a megabyte larger and its C build the longest of the arm64 build.
//! The SDK builds its connector, and so its TLS configuration, on its first request;
//! reqwest's is built with the client ([`crate::http::client`]).

use std::sync::{Arc, Once, OnceLock};

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use base64::Engine;

/// The crypto provider of every TLS connection (rustls' with `ring`): the process's
/// default once [`install_default_provider`] ran.
pub fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    install_default_provider();
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// Makes `ring` the process's default crypto provider (once; later calls do nothing).
/// reqwest is built without a provider of its own: a client built with
/// `reqwest::Client::builder()` rather than [`crate::http::client`] takes this default,
/// and panics without one. [`crate::runtime::run`], the SDK configuration loaders and
/// [`crate::http::client`] call this first, so code that runs after any of them can build
/// reqwest clients as usual.
pub fn install_default_provider() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // Err: another provider was installed first; that one is then the default.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn crypto_mode() -> CryptoMode {
    CryptoMode::Ring
}

/// The compiled-in root certificates as a rustls root store.
pub fn root_store() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    roots
}

/// reqwest's TLS configuration: the compiled-in roots, HTTP/2 or HTTP/1.1 by ALPN (what
/// reqwest offers by itself with its `http2` feature). Built once per process: parsing the
/// roots is about half a million instructions, and alarm-fanout builds a client per
/// receiver setting at start-up (issue 17); later clients share the first one's roots.
pub fn reqwest_tls() -> rustls::ClientConfig {
    static CONFIG: OnceLock<rustls::ClientConfig> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut config = rustls::ClientConfig::builder_with_provider(crypto_provider())
                .with_safe_default_protocol_versions()
                .expect("the crypto provider supports TLS 1.2 and 1.3")
                .with_root_certificates(root_store())
                .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            config
        })
        .clone()
}

/// The AWS SDK's HTTPS client: the SDK's own (hyper and rustls, the same pool and
/// timeouts as its default client) with the compiled-in roots instead of the system's,
/// building its TLS configuration when a first request needs a connection.
pub fn sdk_http_client() -> SharedHttpClient {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(roots_pem());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a trust store without extra server names is valid");
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(crypto_mode()))
        .tls_context(context)
        .build_https();
    SharedHttpClient::new(ConnectOnFirstUse(client))
}

/// The SDK's client without its check at client construction. That check builds a
/// throwaway connector, and with it a whole TLS configuration (every root certificate
/// parsed), for each SDK client, so that a system certificate store is read at start-up
/// rather than on the first request: with roots compiled in there is nothing to read, and
/// a function with four clients parsed the roots four times before its first event.
/// Connectors are built, and cached per timeout settings, on the first request as before.
#[derive(Debug)]
struct ConnectOnFirstUse(SharedHttpClient);

impl HttpClient for ConnectOnFirstUse {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The compiled-in roots in PEM, the form the SDK's trust store takes.
fn roots_pem() -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pem = Vec::with_capacity(260 * 1024);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        for line in b64.encode(cert.as_ref()).as_bytes().chunks(64) {
            pem.extend_from_slice(line);
            pem.push(b'\n');
        }
        pem.extend_from_slice(b"-----END CERTIFICATE-----\n");
    }
    pem
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    #[test]
    fn every_compiled_in_root_is_a_trust_anchor() {
        let store = root_store();
        assert_eq!(
            store.len(),
            webpki_root_certs::TLS_SERVER_ROOT_CERTS.len(),
            "a compiled-in root did not parse"
        );
        assert!(store.len() > 100, "{} roots", store.len());
    }

    #[test]
    fn the_pem_bundle_holds_every_root_unchanged() {
        let pem = roots_pem();
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(certs, webpki_root_certs::TLS_SERVER_ROOT_CERTS);
    }

    #[test]
    fn a_plain_reqwest_client_builds_once_the_default_is_installed() {
        install_default_provider();
        install_default_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        reqwest::Client::builder()
            .build()
            .expect("builds with the default provider");
    }

    use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorFuture};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// An inner client that counts what the SDK asks of it.
    #[derive(Debug, Clone, Default)]
    struct Counting {
        validations: Arc<AtomicUsize>,
        connectors: Arc<AtomicUsize>,
    }

    #[derive(Debug)]
    struct NoConnector;

    impl HttpConnector for NoConnector {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            unreachable!("no request is sent")
        }
    }

    impl HttpClient for Counting {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.connectors.fetch_add(1, Ordering::SeqCst);
            SharedHttpConnector::new(NoConnector)
        }

        fn validate_base_client_config(
            &self,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder,
            _: &aws_smithy_types::config_bag::ConfigBag,
        ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
            self.validations.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn building_sdk_clients_builds_no_connector() {
        let counting = Counting::default();
        let sdk = aws_types::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("eu-west-1"))
            .http_client(SharedHttpClient::new(ConnectOnFirstUse(
                SharedHttpClient::new(counting.clone()),
            )))
            .build();
        let _ssm = aws_sdk_ssm::Client::new(&sdk);
        let _secrets = aws_sdk_secretsmanager::Client::new(&sdk);
        assert_eq!(
            counting.validations.load(Ordering::SeqCst),
            0,
            "the wrapped check ran"
        );
        assert_eq!(
            counting.connectors.load(Ordering::SeqCst),
            0,
            "a connector was built"
        );
    }

    #[test]
    fn reqwest_offers_http2_and_http1() {
        assert_eq!(
            reqwest_tls().alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
