//! AWS SDK configuration, built once per process.
//!
//! Every client shares one HTTP client: hyper 1 + rustls with the `ring` provider (no C build, no second
//! legacy TLS stack). Endpoints follow the SDK's own rules, so `AWS_ENDPOINT_URL` points everything at
//! LocalStack locally.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};

/// Loads region, credentials and endpoint from the environment. Does no network I/O: credentials are
/// resolved lazily on the first call.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// The HTTP client every SDK client of ours uses (the SDKs' default one is compiled out).
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
