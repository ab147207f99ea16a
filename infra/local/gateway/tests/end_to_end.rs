//! The gateway in process, on 127.0.0.1:0, in front of a fake Lambda Invoke API (also on 127.0.0.1:0).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use local_gateway::invoke::LambdaInvoker;
use local_gateway::server::{serve, Gateway};
use local_gateway::template;

const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        Authorizers:
          TokenAuth:
            FunctionArn: !GetAtt AuthFunction.Arn
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
            Identity:
              Headers: [Authorization]
  AuthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: !Sub "s3://${Bucket}/auth.zip"
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          TABLE: !Ref Table
      Events:
        GetPerformance:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /performances/{performanceId}
            Method: GET
        Me:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /me
            Method: GET
            Auth:
              Authorizer: TokenAuth
  Raw:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        List:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /performances
            Method: GET
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Post:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /reservations
            Method: POST
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /slow
            Method: GET
  Missing:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /missing
            Method: GET
"#;

#[derive(Default)]
struct Seen {
    /// (function name, authorization header, invocation type)
    calls: Vec<(String, String, String)>,
}

/// A fake Lambda Invoke API answering per function name.
async fn fake_lambda(seen: Arc<Mutex<Seen>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let seen = seen.clone();
                    async move { Ok::<_, Infallible>(fake_invoke(req, seen).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

async fn fake_invoke(req: Request<Incoming>, seen: Arc<Mutex<Seen>>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (auth, inv_type) = (header("authorization"), header("x-amz-invocation-type"));
    let name = path
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|p| p.strip_suffix("/invocations"))
        .unwrap_or("")
        .to_string();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock()
        .unwrap()
        .calls
        .push((name.clone(), auth, inv_type));

    let ok = |v: Value| Response::new(Full::new(Bytes::from(v.to_string())));
    match name.as_str() {
        // Structured response echoing the event it got.
        "fn-echo" => ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json", "x-fn": "echo"},
            "cookies": ["sid=1; Path=/"],
            "body": event.to_string(),
            "isBase64Encoded": false
        })),
        // Output without statusCode.
        "fn-raw" => ok(json!({"items": [1, 2, 3]})),
        // A function error, as the Invoke API reports it.
        "fn-broken" => {
            let mut r = ok(json!({"errorType": "Boom", "errorMessage": "it broke"}));
            r.headers_mut()
                .insert("x-amz-function-error", "Unhandled".parse().unwrap());
            r
        }
        "fn-slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            ok(json!({"statusCode": 200}))
        }
        "fn-auth" => {
            let token = event["headers"]["authorization"].as_str().unwrap_or("");
            ok(json!({
                "isAuthorized": token == "Bearer good",
                "context": {"sub": "member-1", "role": "USER"}
            }))
        }
        _ => {
            let mut r = ok(json!({"Type": "User", "message": "Function not found"}));
            *r.status_mut() = StatusCode::NOT_FOUND;
            r
        }
    }
}

struct Running {
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    seen: Arc<Mutex<Seen>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start() -> Running {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let lambda = fake_lambda(seen.clone()).await;
        let tpl = template::parse(TEMPLATE).unwrap();
        let outputs: BTreeMap<String, String> = [
            ("Echo", "fn-echo"),
            ("Raw", "fn-raw"),
            ("Broken", "fn-broken"),
            ("Slow", "fn-slow"),
            ("AuthFunction", "fn-auth"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let invoker = LambdaInvoker::new(
            &format!("http://{lambda}"),
            "us-east-1",
            Duration::from_millis(500),
        )
        .unwrap();
        let (gateway, warnings) = Gateway::new(&tpl, &outputs, invoker, "us-east-1");
        assert_eq!(warnings.len(), 1, "{warnings:?}"); // Missing has no physical name
        let table = gateway.routes_table();
        assert!(
            table.contains("GET /performances/{performanceId}"),
            "{table}"
        );
        assert!(table.contains("[auth: TokenAuth]"), "{table}");

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, Arc::new(gateway), async move {
            let _ = rx.await;
        }));
        let client = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        Running {
            addr,
            client,
            seen,
            stop: Some(tx),
            server,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(Bytes::from(body.to_string()))).unwrap();
        let resp = self.client.request(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        drop(self.client);
        tokio::time::timeout(Duration::from_secs(10), self.server)
            .await
            .expect("gateway did not shut down")
            .unwrap()
            .unwrap();
    }
}

fn json_body(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_routes_through_the_invoke_api() {
    let gw = Running::start().await;

    // 200: the function gets a payload 2.0 event; its structured response is mapped.
    let (status, headers, body) = gw
        .call(
            Method::GET,
            "/performances/p%201?x=1&x=2",
            &[("cookie", "a=1; b=2"), ("x-trace", "t")],
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["x-fn"], "echo");
    assert_eq!(headers["set-cookie"], "sid=1; Path=/");
    assert!(headers.contains_key("apigw-requestid"));
    let ev = json_body(&body);
    assert_eq!(ev["version"], "2.0");
    assert_eq!(ev["routeKey"], "GET /performances/{performanceId}");
    assert_eq!(ev["rawPath"], "/performances/p%201");
    assert_eq!(ev["rawQueryString"], "x=1&x=2");
    assert_eq!(ev["queryStringParameters"]["x"], "1,2");
    assert_eq!(ev["pathParameters"]["performanceId"], "p 1");
    assert_eq!(ev["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(ev["headers"]["x-trace"], "t");
    assert_eq!(ev["requestContext"]["http"]["method"], "GET");
    assert_eq!(ev["requestContext"]["http"]["sourceIp"], "127.0.0.1");
    assert_eq!(ev["requestContext"]["stage"], "$default");
    assert_eq!(
        ev["requestContext"]["requestId"].as_str(),
        headers["apigw-requestid"].to_str().ok()
    );
    // And lambda_http parses it as an HTTP API request.
    let req = lambda_http::request::from_str(&ev.to_string()).unwrap();
    assert_eq!(req.uri().path(), "/performances/p%201");

    // 200 from an output without statusCode.
    let (status, headers, body) = gw.call(Method::GET, "/performances", &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(json_body(&body), json!({"items": [1, 2, 3]}));

    // 404: no route, and a known path under another method.
    for (m, p) in [
        (Method::GET, "/nope"),
        (Method::DELETE, "/performances/p1"),
        (Method::GET, "/performances/p1/extra"),
    ] {
        let (status, _, body) = gw.call(m, p, &[], "").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
        assert_eq!(json_body(&body), json!({"message": "Not Found"}));
    }

    // 500: function error, and a function the Invoke API does not know.
    for p in ["/reservations", "/missing"] {
        let m = if p == "/reservations" {
            Method::POST
        } else {
            Method::GET
        };
        let (status, _, body) = gw.call(m, p, &[], r#"{"seats":["A-1"]}"#).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{p}");
        assert_eq!(
            json_body(&body),
            json!({"message": "Internal Server Error"})
        );
    }

    // 503: the function takes longer than the integration timeout.
    let (status, _, body) = gw.call(Method::GET, "/slow", &[], "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_body(&body), json!({"message": "Service Unavailable"}));

    // Lambda authorizer: 401 without the identity source, 403 when denied, context passed on when allowed.
    let (status, _, body) = gw.call(Method::GET, "/me", &[], "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json_body(&body), json!({"message": "Unauthorized"}));
    let (status, _, body) = gw
        .call(Method::GET, "/me", &[("authorization", "Bearer bad")], "")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json_body(&body), json!({"message": "Forbidden"}));
    let (status, _, body) = gw
        .call(Method::GET, "/me", &[("authorization", "Bearer good")], "")
        .await;
    assert_eq!(status, StatusCode::OK);
    let ev = json_body(&body);
    assert_eq!(
        ev["requestContext"]["authorizer"]["lambda"],
        json!({"sub": "member-1", "role": "USER"})
    );

    // The Invoke API calls looked like SDK calls.
    {
        let seen = gw.seen.lock().unwrap();
        assert!(!seen.calls.is_empty());
        for (name, auth, inv) in &seen.calls {
            assert!(
                auth.starts_with("AWS4-HMAC-SHA256 Credential=test/")
                    && auth.contains("/us-east-1/lambda/aws4_request"),
                "{name}: {auth}"
            );
            assert_eq!(inv, "RequestResponse");
        }
        assert!(!seen
            .calls
            .iter()
            .any(|c| c.0 == "fn-auth" && c.1.is_empty()));
    }

    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handles_concurrency_and_large_bodies() {
    let gw = Running::start().await;

    // Hundreds of concurrent requests.
    let gw = Arc::new(gw);
    let mut tasks = Vec::new();
    for i in 0..300 {
        let gw = gw.clone();
        tasks.push(tokio::spawn(async move {
            let (status, _, body) = gw
                .call(Method::GET, &format!("/performances/p{i}"), &[], "")
                .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(
                json_body(&body)["pathParameters"]["performanceId"],
                format!("p{i}")
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    // Over 10 MB: 413 (declared length, checked before reading the body).
    let mut s = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(
        b"POST /reservations HTTP/1.1\r\nhost: localhost\r\ncontent-length: 10485761\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");

    // Over 10 MB without a declared length (chunked): 413 as well.
    let big = "x".repeat(10 * 1024 * 1024 + 1);
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/reservations", gw.addr))
        .header("transfer-encoding", "chunked")
        .body(Full::new(Bytes::from(big)))
        .unwrap();
    if let Ok(resp) = gw.client.request(req).await {
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    let gw = Arc::try_unwrap(gw).ok().expect("all clones dropped");
    gw.stop().await;
}
