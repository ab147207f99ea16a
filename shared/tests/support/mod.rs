//! Shared by the in-process handler tests: requests built exactly as the Lambda runtime builds them from an
//! API Gateway HTTP API (payload 2.0) event, a store that points at a closed port (so a handler that reached
//! DynamoDB would answer 500 and fail the test), and problem-document assertions.
#![allow(dead_code)]

use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use ticketing::store::Store;

pub fn store() -> Store {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .http_client(ticketing::aws::http_client())
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .endpoint_url("http://127.0.0.1:9")
        .build();
    Store::new(aws_sdk_dynamodb::Client::from_conf(config), "unused")
}

/// One API Gateway v2 event. `caller` is the authorizer's context (`requestContext.authorizer.lambda`),
/// absent on public routes.
pub struct Event<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub route: &'a str,
    pub params: Value,
    pub query: &'a str,
    pub headers: Value,
    pub caller: Option<Value>,
    pub body: Option<&'a str>,
}

impl<'a> Event<'a> {
    pub fn new(method: &'a str, path: &'a str, route: &'a str) -> Self {
        Event {
            method,
            path,
            route,
            params: Value::Null,
            query: "",
            headers: json!({}),
            caller: None,
            body: None,
        }
    }

    pub fn request(self) -> Request {
        let query: serde_json::Map<String, Value> = self
            .query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        let mut context = json!({
            "accountId": "000000000000", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "local",
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "test-request", "routeKey": format!("{} {}", self.method, self.route), "stage": "$default",
            "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_000_000_000u64
        });
        if let Some(lambda) = self.caller {
            context["authorizer"] = json!({ "lambda": lambda });
        }
        let event = json!({
            "version": "2.0",
            "routeKey": format!("{} {}", self.method, self.route),
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": self.headers,
            "queryStringParameters": query,
            "pathParameters": self.params,
            "requestContext": context,
            "body": self.body,
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
    }
}

pub fn json_of(response: &Response<Body>) -> Value {
    match response.body() {
        Body::Text(text) => serde_json::from_str(text).expect("JSON body"),
        other => panic!("expected a text body, got {other:?}"),
    }
}

/// Asserts an `application/problem+json` answer with this status and `type`, and returns it.
pub fn assert_problem(response: &Response<Body>, status: u16, kind: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "body: {:?}",
        response.body()
    );
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let problem = json_of(response);
    assert_eq!(problem["type"], kind);
    assert_eq!(problem["status"], status);
    problem
}
