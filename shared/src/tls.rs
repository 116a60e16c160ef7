//! TLS for every outbound HTTPS connection: the AWS SDK's and reqwest's (issue 17).
//!
//! Both trust the Mozilla root certificates compiled into the binary
//! (`webpki-root-certs`), not the system's certificate directory, which took about 150
//! file opens at each cold start for the same public roots. Both use rustls with one
//! crypto provider, `ring` ([`crypto_provider`]): `aws-lc-rs`, the SDK's default, made each
//! bootstrap about a megabyte larger and its C build the longest of the arm64 build.
//! The SDK builds its connector, and so its TLS configuration, on its first request;
//! reqwest's is built with the client ([`crate::http::client`]).

use std::sync::{Arc, Once};

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
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
/// reqwest offers by itself with its `http2` feature).
pub fn reqwest_tls() -> rustls::ClientConfig {
    let mut config = rustls::ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("the crypto provider supports TLS 1.2 and 1.3")
        .with_root_certificates(root_store())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// The AWS SDK's HTTPS client: the SDK's own (hyper and rustls, the same pool and
/// timeouts as its default client) with the compiled-in roots instead of the system's.
pub fn sdk_http_client() -> SharedHttpClient {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(roots_pem());
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a trust store without extra server names is valid");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(crypto_mode()))
        .tls_context(context)
        .build_https()
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
        reqwest::Client::builder().build().expect("builds with the default provider");
    }

    #[test]
    fn reqwest_offers_http2_and_http1() {
        assert_eq!(
            reqwest_tls().alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
