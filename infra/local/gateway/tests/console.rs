//! The console under `/console/`: the gateway in process on 127.0.0.1:0 with `--console-dir` pointing at a
//! temporary built console, in front of a fake Lambda Invoke API (also on 127.0.0.1:0).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use local_gateway::invoke::LambdaInvoker;
use local_gateway::server::{serve, Gateway};
use local_gateway::template;

/// An API route under `/console`, another elsewhere, and a `$default` catch-all (as the real template has).
const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Owned:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /console/api-owned
            Method: GET
        Health:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /health
            Method: GET
  Fallback:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Api:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
"#;

const INDEX: &str = "<!doctype html><title>console</title><div id=app></div>";
const APP_JS: &str = "console.log('app')";

/// A fake Lambda Invoke API: `fn-owned` answers 200 "owned", `fn-fallback` 404 "fallback".
async fn fake_lambda() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let svc = service_fn(|req: Request<Incoming>| async move {
                    let (status, body) = if req.uri().path().contains("/fn-owned/") {
                        (200, "owned")
                    } else {
                        (404, "fallback")
                    };
                    let out = serde_json::json!({
                        "statusCode": status,
                        "headers": {"content-type": "text/plain"},
                        "body": body,
                    });
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(out.to_string()))))
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// A unique directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "local-gateway-console-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, rel: &str, content: &[u8]) {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A built console: `dist/` inside a temp dir, with a secret file beside `dist/` that must never be served.
fn built_console() -> (TempDir, PathBuf) {
    let tmp = TempDir::new("built");
    tmp.write("secret.txt", b"outside the console");
    tmp.write("dist/index.html", INDEX.as_bytes());
    tmp.write("dist/assets/index-3f9a1c.js", APP_JS.as_bytes());
    tmp.write("dist/assets/index-3f9a1c.css", b"body{margin:0}");
    tmp.write("dist/assets/logo.svg", b"<svg/>");
    tmp.write("dist/assets/app.js.gz", b"\x1f\x8bprecompressed");
    tmp.write("dist/assets/app.js", b"uncompressed");
    tmp.write("dist/favicon.ico", b"\0\0\x01\0");
    tmp.write("dist/data.bin", b"\x00\x01");
    std::fs::create_dir_all(tmp.0.join("dist/organizer")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(tmp.0.join("secret.txt"), tmp.0.join("dist/link.txt")).unwrap();
    let dist = tmp.0.join("dist");
    (tmp, dist)
}

struct Running {
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(console_dir: Option<&Path>) -> Running {
        let lambda = fake_lambda().await;
        let tpl = template::parse(TEMPLATE).unwrap();
        let outputs: BTreeMap<String, String> =
            [("Owned", "fn-owned"), ("Fallback", "fn-fallback")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        let invoker = LambdaInvoker::new(
            &format!("http://{lambda}"),
            "us-east-1",
            Duration::from_secs(5),
        )
        .unwrap();
        let (gateway, warnings) = Gateway::new(&tpl, &outputs, invoker, "us-east-1");
        assert!(warnings.is_empty(), "{warnings:?}");
        let gateway = gateway.with_console(console_dir.map(Path::to_path_buf));

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
            stop: Some(tx),
            server,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = self
            .client
            .request(b.body(Full::new(Bytes::new())).unwrap())
            .await
            .unwrap();
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

    async fn get(&self, path: &str) -> (StatusCode, http::HeaderMap, Vec<u8>) {
        self.call(Method::GET, path, &[]).await
    }

    /// The request line exactly as written (no client normalizes it); returns the raw response.
    async fn raw_get(&self, target: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        s.write_all(
            format!("GET {target} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
            .await
            .expect("no response")
            .unwrap();
        String::from_utf8_lossy(&buf).into_owned()
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

fn problem(status: StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Value {
    assert_eq!(
        headers["content-type"],
        "application/problem+json",
        "{status}: {}",
        String::from_utf8_lossy(body)
    );
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["status"], status.as_u16());
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_files_with_their_content_type_and_cache_policy() {
    let (_tmp, dist) = built_console();
    let gw = Running::start(Some(&dist)).await;

    let (status, headers, body) = gw.get("/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(body, INDEX.as_bytes());

    let (status, headers, body) = gw.get("/console/index.html").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(body, INDEX.as_bytes());

    let (status, headers, body) = gw.get("/console/assets/index-3f9a1c.js").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["content-length"], APP_JS.len().to_string().as_str());
    assert_eq!(body, APP_JS.as_bytes());

    for (path, ct) in [
        (
            "/console/assets/index-3f9a1c.css",
            "text/css; charset=utf-8",
        ),
        ("/console/assets/logo.svg", "image/svg+xml"),
        ("/console/favicon.ico", "image/x-icon"),
        ("/console/data.bin", "application/octet-stream"),
    ] {
        let (status, headers, _) = gw.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers["content-type"], ct, "{path}");
    }
    // Outside assets/ and not index.html: no cache policy of its own.
    let (_, headers, _) = gw.get("/console/favicon.ico").await;
    assert!(!headers.contains_key("cache-control"));

    // HEAD: the headers of GET, no body.
    let (status, headers, body) = gw
        .call(Method::HEAD, "/console/assets/index-3f9a1c.js", &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["content-length"], APP_JS.len().to_string().as_str());
    assert!(body.is_empty());

    // A precompressed sibling goes to a client that takes gzip, and only to it.
    let (status, headers, body) = gw
        .call(
            Method::GET,
            "/console/assets/app.js",
            &[("accept-encoding", "br, gzip")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(body, b"\x1f\x8bprecompressed");
    let (_, headers, body) = gw.get("/console/assets/app.js").await;
    assert!(!headers.contains_key("content-encoding"));
    assert_eq!(body, b"uncompressed");
    // Without a sibling: the plain file even when gzip is accepted.
    let (_, headers, body) = gw
        .call(
            Method::GET,
            "/console/assets/index-3f9a1c.js",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert!(!headers.contains_key("content-encoding"));
    assert_eq!(body, APP_JS.as_bytes());

    // The file is read per request: a rebuild shows without a restart.
    std::fs::write(dist.join("index.html"), "rebuilt").unwrap();
    let (_, _, body) = gw.get("/console/").await;
    assert_eq!(body, b"rebuilt");

    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_routes_get_the_app_and_missing_assets_a_404() {
    let (_tmp, dist) = built_console();
    let gw = Running::start(Some(&dist)).await;

    for path in [
        "/console/organizer/performances/123",
        "/console/organizer/performances/123/",
        "/console/organizer",
        "/console/assets",
        "/console/login?next=%2Fconsole%2Fadmin",
    ] {
        let (status, headers, body) = gw.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            headers["content-type"], "text/html; charset=utf-8",
            "{path}"
        );
        assert_eq!(headers["cache-control"], "no-cache", "{path}");
        assert_eq!(body, INDEX.as_bytes(), "{path}");
    }

    for path in [
        "/console/assets/missing-abc123.js",
        "/console/missing.css",
        "/console/organizer/logo.png",
    ] {
        let (status, headers, body) = gw.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let p = problem(status, &headers, &body);
        assert_eq!(p["type"], "/problems/not-found", "{path}");
    }

    // /console redirects to /console/, keeping the query.
    let (status, headers, body) = gw.get("/console").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers["location"], "/console/");
    assert!(body.is_empty());
    let (status, headers, _) = gw.call(Method::HEAD, "/console?x=1", &[]).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers["location"], "/console/?x=1");

    // Other methods: 405 with Allow.
    for (m, path) in [
        (Method::POST, "/console/"),
        (Method::DELETE, "/console/assets/index-3f9a1c.js"),
        (Method::PUT, "/console"),
    ] {
        let (status, headers, body) = gw.call(m, path, &[]).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(headers["allow"], "GET, HEAD");
        problem(status, &headers, &body);
    }

    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_directory_is_served() {
    let (_tmp, dist) = built_console();
    let gw = Running::start(Some(&dist)).await;

    for target in [
        "/console/../secret.txt",
        "/console/../Cargo.toml",
        "/console/%2e%2e/secret.txt",
        "/console/%2E%2E/x",
        "/console/%2e%2e/x",
        "/console/assets/..%2f..%2fsecret.txt",
        "/console/..%5csecret.txt",
        "/console//etc/passwd",
        "/console/%2Fetc%2Fpasswd",
        "/console/./index.html",
    ] {
        let resp = gw.raw_get(target).await;
        assert!(resp.starts_with("HTTP/1.1 400 "), "{target}: {resp}");
        assert!(resp.contains("/problems/invalid-path"), "{target}: {resp}");
        assert!(!resp.contains("outside the console"), "{target}: {resp}");
        assert!(!resp.contains("[package]"), "{target}: {resp}");
    }

    // A symlink out of the directory is not followed out of it.
    #[cfg(unix)]
    {
        let (status, _, body) = gw.get("/console/link.txt").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!String::from_utf8_lossy(&body).contains("outside the console"));
    }

    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_built_console_is_a_404_problem() {
    // Without --console-dir.
    let gw = Running::start(None).await;
    for path in ["/console/", "/console", "/console/organizer/x"] {
        let (status, headers, body) = gw.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let p = problem(status, &headers, &body);
        assert_eq!(p["type"], "/problems/console-not-built");
        assert!(
            p["detail"].as_str().unwrap().contains("npm run build"),
            "{p}"
        );
    }
    gw.stop().await;

    // With a directory that does not exist yet, then one without index.html, then built: read per request.
    let tmp = TempDir::new("unbuilt");
    let dist = tmp.0.join("dist");
    let gw = Running::start(Some(&dist)).await;
    let (status, headers, body) = gw.get("/console/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        problem(status, &headers, &body)["type"],
        "/problems/console-not-built"
    );
    tmp.write("dist/assets/x.js", b"x");
    let (status, headers, body) = gw.get("/console/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let p = problem(status, &headers, &body);
    assert_eq!(p["type"], "/problems/console-not-built");
    assert!(p["detail"].as_str().unwrap().contains("npm run build"));
    tmp.write("dist/index.html", INDEX.as_bytes());
    let (status, _, body) = gw.get("/console/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, INDEX.as_bytes());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_routes_keep_precedence() {
    let (_tmp, dist) = built_console();
    let gw = Running::start(Some(&dist)).await;

    // An API route under /console is the API's, under its method and any other (the API answers those).
    let (status, _, body) = gw.get("/console/api-owned").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"owned");
    let (status, _, body) = gw.call(Method::POST, "/console/api-owned", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, b"fallback");

    // Other API routes and the $default catch-all are untouched.
    let (status, _, body) = gw.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, b"owned");
    for path in ["/nope", "/consoles", "/console.js"] {
        let (status, _, body) = gw.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, b"fallback", "{path}");
    }

    // But $default does not swallow the console.
    let (status, _, body) = gw.get("/console/organizer").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, INDEX.as_bytes());

    gw.stop().await;
}
