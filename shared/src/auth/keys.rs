//! The token signing key, from AWS Secrets Manager.
//!
//! The secret (ARN in `SIGNING_KEY_SECRET_ARN`) holds a random string of at least 32 characters; its UTF-8
//! bytes are the HS256 key. It is fetched on first use and kept for the life of the process: building
//! [`SigningKeys`] does no network I/O, and a failed fetch is retried on the next request.
//! Rotating the secret takes effect as functions start fresh (new execution environments); tokens signed
//! with the old key stop verifying then.

use super::jwt::TokenKey;
use crate::error::AppError;
use std::sync::Arc;
use tokio::sync::OnceCell;

pub const SECRET_ARN_ENV: &str = "SIGNING_KEY_SECRET_ARN";

/// The signing key, fetched lazily and cached. Cheap to clone (clones share the cache).
#[derive(Clone, Debug)]
pub struct SigningKeys {
    source: Option<Source>,
    key: Arc<OnceCell<TokenKey>>,
}

#[derive(Clone, Debug)]
struct Source {
    client: crate::aws::Lazy<aws_sdk_secretsmanager::Client>,
    secret_id: String,
}

impl SigningKeys {
    /// Keys read from Secrets Manager secret `secret_id` (ARN or name) on first use.
    pub fn from_secrets_manager(
        client: impl Into<crate::aws::Lazy<aws_sdk_secretsmanager::Client>>,
        secret_id: impl Into<String>,
    ) -> Self {
        SigningKeys {
            source: Some(Source {
                client: client.into(),
                secret_id: secret_id.into(),
            }),
            key: Arc::new(OnceCell::new()),
        }
    }

    /// Reads `SIGNING_KEY_SECRET_ARN` and builds the Secrets Manager client. No network I/O.
    pub async fn from_env() -> Result<Self, String> {
        let arn =
            std::env::var(SECRET_ARN_ENV).map_err(|_| format!("{SECRET_ARN_ENV} is not set"))?;
        let config = crate::aws::sdk_config().await;
        Ok(Self::from_secrets_manager(
            crate::aws::Lazy::new(&config, aws_sdk_secretsmanager::Client::new),
            arn,
        ))
    }

    /// A fixed key (tests, tools). Fails when the secret is too short.
    pub fn fixed(secret: &[u8]) -> Result<Self, AppError> {
        Ok(SigningKeys {
            source: None,
            key: Arc::new(OnceCell::new_with(Some(TokenKey::from_secret(secret)?))),
        })
    }

    /// The key, fetching it on the first call.
    pub async fn get(&self) -> Result<&TokenKey, AppError> {
        self.key
            .get_or_try_init(|| async {
                let Some(source) = &self.source else {
                    return Err(AppError::Dependency("no signing key configured".into()));
                };
                let out = source
                    .client
                    .get_secret_value()
                    .secret_id(&source.secret_id)
                    .send()
                    .await
                    .map_err(|e| {
                        AppError::Dependency(format!(
                            "reading the signing key secret failed: {:?}",
                            e.into_service_error()
                        ))
                    })?;
                let secret = out.secret_string().ok_or_else(|| {
                    AppError::Dependency("the signing key secret has no string value".into())
                })?;
                let key = TokenKey::from_secret(secret.as_bytes())?;
                tracing::info!("token signing key loaded");
                Ok(key)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fixed_keys_need_no_network() {
        let keys = SigningKeys::fixed(&[1u8; 32]).expect("key");
        assert!(keys.get().await.is_ok());
        assert!(SigningKeys::fixed(b"short").is_err());
    }

    #[tokio::test]
    async fn unreachable_secrets_manager_is_a_dependency_error_and_retried() {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
            .build();
        let keys = SigningKeys::from_secrets_manager(
            aws_sdk_secretsmanager::Client::from_conf(config),
            "arn:aws:secretsmanager:us-east-1:000000000000:secret:x",
        );
        assert!(matches!(keys.get().await, Err(AppError::Dependency(_))));
        // Not cached: the next call tries again.
        assert!(!keys.key.initialized());
    }
}
