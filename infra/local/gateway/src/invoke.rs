//! Calling a function through the Lambda Invoke API (LocalStack, or anything that speaks it).
//!
//! `POST {endpoint}/2015-03-31/functions/{name}/invocations`, `X-Amz-Invocation-Type: RequestResponse`.
//! The request carries an `Authorization` header shaped like SigV4 (not a real signature) so that LocalStack can
//! read the region and the (test) account from it.

use std::time::Duration;

use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use time::OffsetDateTime;

/// HTTP API's maximum integration timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("function did not answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach the Lambda endpoint: {0}")]
    Transport(String),
    #[error("Invoke API answered {status}: {body}")]
    Service { status: StatusCode, body: String },
    #[error("function error ({kind}): {payload}")]
    Function { kind: String, payload: String },
}

#[derive(Clone, Debug)]
pub struct LambdaInvoker {
    client: Client<HttpConnector, Full<Bytes>>,
    /// `http://127.0.0.1:4566`, no trailing slash.
    endpoint: String,
    region: String,
    timeout: Duration,
}

impl LambdaInvoker {
    /// `endpoint` must be a plain `http://host:port` URL.
    pub fn new(endpoint: &str, region: &str, timeout: Duration) -> Result<LambdaInvoker, String> {
        let endpoint = endpoint.trim_end_matches('/').to_string();
        let uri: http::Uri = endpoint
            .parse()
            .map_err(|e| format!("invalid Lambda endpoint {endpoint:?}: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "Lambda endpoint must be an http:// URL with a host, got {endpoint:?}"
            ));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(512)
            .build(connector);
        Ok(LambdaInvoker {
            client,
            endpoint,
            region: region.to_string(),
            timeout,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Invoke `function_name` synchronously and return its response payload.
    pub async fn invoke(
        &self,
        function_name: &str,
        payload: Vec<u8>,
    ) -> Result<Bytes, InvokeError> {
        match tokio::time::timeout(self.timeout, self.invoke_inner(function_name, payload)).await {
            Ok(r) => r,
            Err(_) => Err(InvokeError::Timeout(self.timeout)),
        }
    }

    async fn invoke_inner(
        &self,
        function_name: &str,
        payload: Vec<u8>,
    ) -> Result<Bytes, InvokeError> {
        let uri = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.endpoint,
            encode_path_segment(function_name)
        );
        let now = OffsetDateTime::now_utc();
        let (date, amz_date) = amz_dates(now);
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header("content-type", "application/json")
            .header("x-amz-invocation-type", "RequestResponse")
            .header("x-amz-date", amz_date)
            .header(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=test/{date}/{}/lambda/aws4_request, SignedHeaders=host, Signature=0",
                    self.region
                ),
            )
            .body(Full::new(Bytes::from(payload)))
            .map_err(|e| InvokeError::Transport(e.to_string()))?;

        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| InvokeError::Transport(format!("{e:?}")))?;
        let status = resp.status();
        let function_error = resp
            .headers()
            .get("x-amz-function-error")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| InvokeError::Transport(e.to_string()))?
            .to_bytes();
        if let Some(kind) = function_error {
            return Err(InvokeError::Function {
                kind,
                payload: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        if !status.is_success() {
            return Err(InvokeError::Service {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(body)
    }
}

fn amz_dates(now: OffsetDateTime) -> (String, String) {
    let d = time::macros::format_description!("[year][month][day]");
    let dt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    (
        now.format(&d).unwrap_or_default(),
        now.format(&dt).unwrap_or_default(),
    )
}

/// Function names and ARNs are `[A-Za-z0-9-_:.$]`; anything else is percent-encoded.
fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.:$~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_validation() {
        assert!(LambdaInvoker::new("http://127.0.0.1:4566/", "us-east-1", DEFAULT_TIMEOUT).is_ok());
        assert!(LambdaInvoker::new("https://x", "us-east-1", DEFAULT_TIMEOUT).is_err());
        assert!(LambdaInvoker::new("nonsense", "us-east-1", DEFAULT_TIMEOUT).is_err());
    }

    #[test]
    fn dates_and_names() {
        let t = OffsetDateTime::from_unix_timestamp(1_583_348_638).unwrap();
        assert_eq!(amz_dates(t), ("20200304".into(), "20200304T190358Z".into()));
        assert_eq!(encode_path_segment("stack-Fn-AB12"), "stack-Fn-AB12");
        assert_eq!(encode_path_segment("a b/c"), "a%20b%2Fc");
    }
}
