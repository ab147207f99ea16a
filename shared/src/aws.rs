//! AWS SDK configuration, built once per process.
//!
//! Every client shares one HTTP client: hyper 1 + rustls with the `ring` provider (no C build, no second
//! legacy TLS stack). Endpoints follow the SDK's own rules, so `AWS_ENDPOINT_URL` points everything at
//! LocalStack locally.
//!
//! The client trusts the Amazon Trust Services roots only (`shared/certs/amazon-trust-services.pem`): every
//! AWS endpoint the functions call chains to one of them, and parsing five roots instead of the platform's
//! whole store (about 150 on Lambda's image, 300 files here) is most of what an SDK client cost at cold start.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
use std::sync::{Arc, OnceLock};
use tokio::sync::OnceCell;

/// The Amazon Trust Services root CAs (Amazon Root CA 1 to 4, Starfield Services Root CA G2), PEM.
pub const AMAZON_TRUST_SERVICES_PEM: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();

/// Loads region, credentials and endpoint from the environment, once per process (every client of a
/// function shares it). Does no network I/O: credentials are resolved lazily on the first call.
///
/// Where the environment holds the region and the credentials (Lambda sets `AWS_REGION` and the role's
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`), they are taken from it directly: the
/// default chains would pick the same values first, but building them (profile, web identity with its STS
/// client, ECS, IMDS) was a tenth of a function's cold start. Elsewhere (an operator's shell) the default
/// chains apply.
pub async fn sdk_config() -> SdkConfig {
    CONFIG
        .get_or_init(|| async {
            let mut loader =
                aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
            if let Ok(region) = std::env::var("AWS_REGION") {
                if !region.is_empty() {
                    loader = loader.region(aws_config::Region::new(region));
                }
            }
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
                loader = loader.credentials_provider(
                    aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
                );
            }
            loader.load().await
        })
        .await
        .clone()
}

/// The HTTP client every SDK client of ours uses (the SDKs' default one is compiled out).
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context())
        .build_https()
}

/// An SDK client built on its first use, then shared by every request of the container. Building one
/// (its endpoint rules, partitions and regexes, the HTTPS connector) is most of what is left of a cold start
/// once the configuration is loaded; a request that never calls that service (a refused one, or a route that
/// needs only some of a function's clients) never pays for it. Dereferences to the client.
pub struct Lazy<C>(Arc<Source<C>>);

enum Source<C> {
    Ready(C),
    OnFirstUse {
        client: OnceLock<C>,
        config: Box<SdkConfig>,
        make: fn(&SdkConfig) -> C,
    },
}

impl<C> Lazy<C> {
    /// `make` (a client's `new`) runs on the first use.
    pub fn new(config: &SdkConfig, make: fn(&SdkConfig) -> C) -> Self {
        Lazy(Arc::new(Source::OnFirstUse {
            client: OnceLock::new(),
            config: Box::new(config.clone()),
            make,
        }))
    }
}

impl<C> From<C> for Lazy<C> {
    /// A client built already (tests, tools).
    fn from(client: C) -> Self {
        Lazy(Arc::new(Source::Ready(client)))
    }
}

impl<C> Clone for Lazy<C> {
    fn clone(&self) -> Self {
        Lazy(self.0.clone())
    }
}

impl<C> std::ops::Deref for Lazy<C> {
    type Target = C;
    fn deref(&self) -> &C {
        match &*self.0 {
            Source::Ready(client) => client,
            Source::OnFirstUse {
                client,
                config,
                make,
            } => client.get_or_init(|| make(config)),
        }
    }
}

impl<C> std::fmt::Debug for Lazy<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = match &*self.0 {
            Source::Ready(_) => true,
            Source::OnFirstUse { client, .. } => client.get().is_some(),
        };
        f.debug_struct("Lazy").field("built", &built).finish()
    }
}

fn tls_context() -> TlsContext {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_TRUST_SERVICES_PEM);
    // `build` cannot fail for a trust store and no extra server names; the default context is the fallback.
    TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lazy_client_is_built_once_on_first_use_and_shared_by_clones() {
        static BUILT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        fn make(_: &SdkConfig) -> String {
            BUILT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            "client".to_string()
        }
        let lazy = Lazy::new(&SdkConfig::builder().build(), make);
        let copy = lazy.clone();
        assert_eq!(BUILT.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(format!("{lazy:?}"), "Lazy { built: false }");
        assert_eq!(lazy.len(), 6);
        assert_eq!(copy.as_str(), "client");
        assert_eq!(BUILT.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(format!("{copy:?}"), "Lazy { built: true }");
        assert_eq!(Lazy::from("ready".to_string()).as_str(), "ready");
    }
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    /// The SDK parses the PEM when it builds its first connection and panics on a bad one: check the
    /// bundle parses the same way, into the five roots.
    #[test]
    fn the_trust_bundle_parses_into_the_five_amazon_roots() {
        let certs = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_PEM)
            .collect::<Result<Vec<_>, _>>()
            .expect("valid PEM");
        assert_eq!(certs.len(), 5);
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs {
            roots.add(cert).expect("a usable trust anchor");
        }
        assert_eq!(roots.len(), 5);
    }
}
