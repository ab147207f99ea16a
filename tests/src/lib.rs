//! Harness for the integration tests. They run against the local stack that `infra/local/test.sh` starts:
//! LocalStack with our functions as real `bootstrap` processes, the stack deployed from `infra/template.yaml`,
//! and the local gateway serving the template's routes. The script passes where everything is through
//! `TICKETING_API_URL` and `TICKETING_OUTPUTS` (the deploy's outputs.json). Tests isolate their data with
//! unique ids, so they run in parallel and against a stack other runs have used.

use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
pub struct Outputs {
    pub endpoint: String,
    #[serde(default)]
    pub functions: HashMap<String, String>,
    #[serde(default)]
    pub resources: HashMap<String, String>,
    #[serde(default)]
    pub outputs: HashMap<String, String>,
}

pub struct Stack {
    pub api: String,
    pub outputs: Outputs,
    pub http: reqwest::Client,
}

fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the integration tests through infra/local/test.sh, which starts the local stack")
    })
}

/// The stack under test, read once per test binary.
pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let path = required_env("TICKETING_OUTPUTS");
        let raw =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let outputs: Outputs =
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("bad {path}: {e}"));
        Stack {
            api: required_env("TICKETING_API_URL")
                .trim_end_matches('/')
                .to_string(),
            outputs,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap_or_else(|e| panic!("http client: {e}")),
        }
    })
}

impl Stack {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    pub fn table_name(&self) -> String {
        self.outputs
            .outputs
            .get("TableName")
            .or_else(|| self.outputs.resources.get("Table"))
            .cloned()
            .unwrap_or_else(|| panic!("the deploy outputs name no table: {:?}", self.outputs))
    }

    /// A DynamoDB client for the local stack (region, credentials and endpoint from the environment).
    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .endpoint_url(&self.outputs.endpoint)
            .http_client(ticketing::aws::http_client())
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "test", "test", None, None, "static",
            ))
            .build();
        aws_sdk_dynamodb::Client::from_conf(config)
    }
}

/// A response read in full: status, headers, and the body as JSON (`Value::Null` when empty or not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an `application/problem+json` answer with this status and `type`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, kind: &str) -> &Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "body: {}",
            self.text
        );
        assert_eq!(self.json["type"], kind, "body: {}", self.text);
        &self.json
    }
}

/// Sends a request with an optional JSON body and extra headers.
pub async fn call(
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let stack = stack();
    let mut request = stack.http.request(method, stack.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request to {path} failed: {e}"));
    Reply::read(response).await
}

pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
