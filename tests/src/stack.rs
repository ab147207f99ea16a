//! The stack under test (`TICKETING_API_URL`, `TICKETING_OUTPUTS`), requests to it, the operator tool, and
//! the template's routes.

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

    /// The deploy output `name` (panics naming the outputs when there is none).
    pub fn output(&self, name: &str) -> String {
        self.outputs
            .outputs
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("the deploy outputs have no {name}: {:?}", self.outputs))
    }

    /// The name of the deployed event bus.
    pub fn event_bus_name(&self) -> String {
        self.outputs
            .outputs
            .get("EventBusName")
            .cloned()
            .unwrap_or_else(|| panic!("the deploy outputs name no event bus: {:?}", self.outputs))
    }

    /// The SDK configuration of every client of the local stack: fixed region and credentials, LocalStack's
    /// endpoint, our HTTP client.
    fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.outputs.endpoint)
            .http_client(ticketing::aws::http_client())
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new("test", "test", None, None, "static"),
                ),
            )
            .build()
    }

    /// Invokes the deployed function the deploy output `output` names with `payload` (Lambda's Invoke API,
    /// synchronously); its answer.
    pub async fn invoke(&self, output: &str, payload: &Value) -> Value {
        let name = self.output(output);
        let reply = reqwest::Client::new()
            .post(format!(
                "{}/2015-03-31/functions/{name}/invocations",
                self.outputs.endpoint
            ))
            // LocalStack reads the region from the credential scope and checks no signature.
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0",
            )
            .json(payload)
            .send()
            .await
            .expect("invoke");
        let status = reply.status();
        let function_error = reply
            .headers()
            .get("x-amz-function-error")
            .map(|v| v.to_str().unwrap_or_default().to_string());
        let text = reply.text().await.unwrap_or_default();
        assert!(
            status.is_success() && function_error.is_none(),
            "{name} answered {status} {function_error:?}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// LocalStack's endpoint (for its `/_aws/...` inspection routes).
    pub fn endpoint(&self) -> &str {
        &self.outputs.endpoint
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config())
    }

    pub fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk_config())
    }

    /// A Step Functions client, and the reservation saga's ARN.
    pub fn sfn(&self) -> (aws_sdk_sfn::Client, String) {
        self.sfn_of("ReservationStateMachineArn")
    }

    /// A Step Functions client, and the ARN of the state machine the deploy output `output` names.
    pub fn sfn_of(&self, output: &str) -> (aws_sdk_sfn::Client, String) {
        let arn = self
            .outputs
            .outputs
            .get(output)
            .cloned()
            .unwrap_or_else(|| {
                panic!(
                    "the deploy outputs name no state machine: {:?}",
                    self.outputs
                )
            });
        (aws_sdk_sfn::Client::new(&self.sdk_config()), arn)
    }

    pub async fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config())
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
    // A client per call: every #[tokio::test] runs its own runtime, and a pooled connection made on one
    // runtime dies with it, so a client shared between tests fails at random on a reused connection.
    let mut request = reqwest::Client::new().request(method, stack.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("request to {path} failed: {e:?}"));
    Reply::read(response).await
}

pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Runs the operator tool `ticketing-admin` (the debug build, or `TICKETING_ADMIN_BIN`) against the local
/// stack with `args` and the extra environment `env`; its output.
pub async fn ticketing_admin(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let binary = std::env::var("TICKETING_ADMIN_BIN").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/debug/ticketing-admin"
        )
        .to_string()
    });
    tokio::process::Command::new(&binary)
        .args(args)
        .envs(env.iter().copied())
        .env("AWS_ENDPOINT_URL", &stack().outputs.endpoint)
        // Local credentials, and never the instance-metadata endpoint: everything stays on loopback.
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"))
}

/// A route of the template: method, path, and who may call it (`Metadata.Access`).
#[derive(Debug, Clone)]
pub struct Route {
    pub function: String,
    pub method: String,
    pub path: String,
    pub access: String,
}

/// Every HttpApi route in infra/template.yaml.
pub fn template_routes() -> Vec<Route> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: serde_norway::Value =
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut routes = Vec::new();
    let Some(resources) = doc.get("Resources").and_then(|r| r.as_mapping()) else {
        panic!("template has no Resources")
    };
    for (name, resource) in resources {
        if resource.get("Type").and_then(|t| t.as_str()) != Some("AWS::Serverless::Function") {
            continue;
        }
        let access = resource
            .get("Metadata")
            .and_then(|m| m.get("Access"))
            .and_then(|a| a.as_str())
            .unwrap_or("")
            .to_string();
        let events = resource
            .get("Properties")
            .and_then(|p| p.get("Events"))
            .and_then(|e| e.as_mapping());
        for event in events.into_iter().flat_map(|e| e.values()) {
            if event.get("Type").and_then(|t| t.as_str()) != Some("HttpApi") {
                continue;
            }
            let props = event.get("Properties");
            let text = |key: &str| {
                props
                    .and_then(|p| p.get(key))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            // The `$default` route (no Path, no Method) answers what no route matches; it is no route of
            // the API's own (tests/tests/openapi.rs checks its 405 and 404 answers).
            if text("Path").is_empty() {
                continue;
            }
            routes.push(Route {
                function: name.as_str().unwrap_or_default().to_string(),
                method: text("Method"),
                path: text("Path"),
                access: access.clone(),
            });
        }
    }
    routes
}
