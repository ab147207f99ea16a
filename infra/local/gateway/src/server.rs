//! The HTTP server: match the route, build the event, run the route's authorizer if it has one, invoke the
//! function, map its output. Paths under `/console` that no API route (other than `$default`) takes are
//! answered by the [`Console`] instead.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{HeaderValue, CONTENT_LENGTH};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Bytes};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::{debug, error, info, warn};

use crate::authorizer::{self, Decision};
use crate::console::{self, Console};
use crate::event::{self, RequestInfo};
use crate::invoke::{InvokeError, LambdaInvoker};
use crate::response::{self, HttpResponse};
use crate::routes::{Match, RouteTable};
use crate::template::{AuthorizerSpec, RouteAuth, Template};

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Reads the deploy script's outputs file: `{"functions": {"<LogicalId>": "<physical name>"}, ...}`.
pub fn load_outputs(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read outputs {}: {e}", path.display()))?;
    parse_outputs(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse_outputs(text: &str) -> Result<BTreeMap<String, String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("outputs are not JSON: {e}"))?;
    let Some(functions) = v.get("functions").and_then(|f| f.as_object()) else {
        return Err("outputs have no \"functions\" object".into());
    };
    Ok(functions
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect())
}

pub struct Gateway {
    routes: RouteTable,
    /// Logical id → physical function name.
    functions: BTreeMap<String, String>,
    authorizers: BTreeMap<String, AuthorizerSpec>,
    invoker: LambdaInvoker,
    region: String,
    console: Console,
}

impl Gateway {
    /// Build the gateway; also returns warnings for the startup log.
    ///
    /// Function names: the outputs file, else the template's literal `FunctionName`, else the logical id.
    pub fn new(
        template: &Template,
        outputs: &BTreeMap<String, String>,
        invoker: LambdaInvoker,
        region: &str,
    ) -> (Gateway, Vec<String>) {
        let (routes, mut warnings) = RouteTable::new(&template.routes);
        warnings.extend(template.warnings.iter().cloned());

        let mut needed: Vec<&str> = routes
            .routes()
            .iter()
            .map(|r| r.function.as_str())
            .collect();
        for r in routes.routes() {
            if let RouteAuth::Authorizer(name) = &r.auth {
                match template.authorizers.get(name) {
                    None => warnings.push(format!(
                        "route {} uses authorizer {name}, which the template does not define (requests will get 500)",
                        r.key
                    )),
                    Some(a) if !a.is_lambda || a.function.is_none() => warnings.push(format!(
                        "route {} uses authorizer {name}, which is not a Lambda authorizer with a known function (requests will get 500)",
                        r.key
                    )),
                    Some(a) => needed.extend(a.function.as_deref()),
                }
            }
        }
        needed.sort_unstable();
        needed.dedup();

        let mut functions = BTreeMap::new();
        for id in needed {
            let name = if let Some(n) = outputs.get(id) {
                n.clone()
            } else if let Some(n) = template.function_names.get(id) {
                n.clone()
            } else {
                if !outputs.is_empty() {
                    warnings.push(format!(
                        "no physical name for {id} in the outputs file; invoking it as {id:?}"
                    ));
                }
                id.to_string()
            };
            functions.insert(id.to_string(), name);
        }
        (
            Gateway {
                routes,
                functions,
                authorizers: template.authorizers.clone(),
                invoker,
                region: region.to_string(),
                console: Console::default(),
            },
            warnings,
        )
    }

    /// Serve the built console from `dir` under `/console/` (`None`: console paths say it is not built).
    pub fn with_console(mut self, dir: Option<PathBuf>) -> Gateway {
        self.console = Console::new(dir);
        self
    }

    pub fn console(&self) -> &Console {
        &self.console
    }

    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    fn function_name<'a>(&'a self, logical_id: &'a str) -> &'a str {
        self.functions
            .get(logical_id)
            .map_or(logical_id, String::as_str)
    }

    /// The routes table printed at startup.
    pub fn routes_table(&self) -> String {
        let mut rows: Vec<(String, String, String)> = self
            .routes
            .routes()
            .iter()
            .map(|r| {
                let auth = match &r.auth {
                    RouteAuth::None => String::new(),
                    RouteAuth::Authorizer(a) => format!("  [auth: {a}]"),
                };
                (
                    r.key.clone(),
                    format!("{} ({})", r.function, self.function_name(&r.function)),
                    auth,
                )
            })
            .collect();
        if rows.is_empty() {
            rows.push((
                "(no HttpApi routes in the template)".into(),
                String::new(),
                String::new(),
            ));
        }
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (key, func, auth) in rows {
            out.push_str(&format!("  {key:<width$}  -> {func}{auth}\n"));
        }
        out
    }

    /// Serve one request. Never fails: every problem becomes an API Gateway style error response.
    pub async fn handle<B>(
        &self,
        req: Request<B>,
        remote: SocketAddr,
        local_port: u16,
    ) -> HttpResponse
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let start = Instant::now();
        let request_id = uuid::Uuid::new_v4().to_string();
        let method = req.method().as_str().to_string();
        let path = req.uri().path().to_string();

        let mut resp = self.dispatch(req, remote, local_port, &request_id).await;

        if let Ok(v) = HeaderValue::from_str(&request_id) {
            resp.headers_mut().insert("apigw-requestid", v);
        }
        info!(
            "{method} {path} {} {}ms {request_id}",
            resp.status().as_u16(),
            start.elapsed().as_millis()
        );
        resp
    }

    async fn dispatch<B>(
        &self,
        req: Request<B>,
        remote: SocketAddr,
        local_port: u16,
        request_id: &str,
    ) -> HttpResponse
    where
        B: Body<Data = Bytes>,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let declared_len = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared_len.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return response::payload_too_large();
        }

        let method = req.method().as_str().to_string();
        let raw_path = req.uri().path().to_string();
        let found = self.routes.find(&method, &raw_path);
        // The console yields to every API route; only the `$default` catch-all does not keep it out.
        if console::is_console_path(&raw_path)
            && found.as_ref().is_none_or(|m| m.route.segments.is_none())
            && !self.routes.has_path(&raw_path)
        {
            return self
                .console
                .serve(req.method(), &raw_path, req.uri().query(), req.headers())
                .await;
        }
        let Some(Match { route, path_params }) = found else {
            return response::not_found();
        };

        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    return response::payload_too_large();
                }
                debug!("reading request body failed: {e}");
                return response::gateway_error(StatusCode::BAD_REQUEST, "Bad Request");
            }
        };

        let info = RequestInfo {
            method,
            raw_path,
            raw_query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts.headers,
            source_ip: remote.ip(),
            local_port,
            protocol: format!("{:?}", parts.version),
            request_id: request_id.to_string(),
            time: time::OffsetDateTime::now_utc(),
        };
        let mut ev = event::build(&info, &route.key, &path_params, &body);

        // Authorizer seam: a protected route first asks its authorizer, whose context goes into the event.
        if let RouteAuth::Authorizer(name) = &route.auth {
            match self.authorize(name, &ev).await {
                Ok(context) => {
                    ev.request_context.authorizer = Some(serde_json::json!({ "lambda": context }))
                }
                Err(resp) => return resp,
            }
        }

        let payload = match serde_json::to_vec(&ev) {
            Ok(p) => p,
            Err(e) => {
                error!("cannot serialize event: {e}");
                return response::internal_error();
            }
        };
        let function = self.function_name(&route.function);
        match self.invoker.invoke(function, payload).await {
            Ok(output) => match response::map_function_output(&output) {
                Ok(resp) => resp,
                Err(e) => {
                    error!(
                        "{} ({function}) returned a malformed response: {e}; output: {}",
                        route.function,
                        truncate(&String::from_utf8_lossy(&output), 2000)
                    );
                    response::internal_error()
                }
            },
            Err(e) => self.invoke_failed(&route.function, function, e),
        }
    }

    fn invoke_failed(&self, logical_id: &str, function: &str, e: InvokeError) -> HttpResponse {
        match e {
            InvokeError::Timeout(d) => {
                error!("{logical_id} ({function}) timed out after {d:?}");
                response::service_unavailable()
            }
            other => {
                error!(
                    "{logical_id} ({function}) failed: {}",
                    truncate(&other.to_string(), 4000)
                );
                response::internal_error()
            }
        }
    }

    /// Run the named Lambda authorizer; `Ok(context)` when allowed, else the response to send.
    async fn authorize(
        &self,
        name: &str,
        ev: &event::HttpApiEvent,
    ) -> Result<serde_json::Value, HttpResponse> {
        let Some(spec) = self.authorizers.get(name) else {
            error!("authorizer {name} is not defined in the template");
            return Err(response::internal_error());
        };
        let Some(fn_id) = spec.function.as_deref().filter(|_| spec.is_lambda) else {
            error!("authorizer {name} is not a Lambda authorizer; not supported locally");
            return Err(response::internal_error());
        };
        let Some(identity) = authorizer::identity_source(spec, ev) else {
            return Err(response::gateway_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
            ));
        };
        let payload = authorizer::request_event(ev, identity, &self.region);
        let payload = serde_json::to_vec(&payload).unwrap_or_default();
        let function = self.function_name(fn_id);
        let output = match self.invoker.invoke(function, payload).await {
            Ok(o) => o,
            Err(e) => return Err(self.invoke_failed(fn_id, function, e)),
        };
        match authorizer::decide(spec, &output) {
            Ok(Decision::Allow(context)) => Ok(context),
            Ok(Decision::Deny) => Err(response::gateway_error(StatusCode::FORBIDDEN, "Forbidden")),
            Err(e) => {
                error!("authorizer {name} ({function}): {e}");
                Err(response::internal_error())
            }
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Accept connections until `shutdown` resolves, then let in-flight requests finish (up to the invoke timeout
/// plus a margin) and return.
pub async fn serve<F>(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()>,
{
    let local_port = listener.local_addr()?.port();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // E.g. too many open files: back off instead of spinning.
                        warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let gw = gateway.clone();
                let svc = service_fn(move |req| {
                    let gw = gw.clone();
                    async move { Ok::<_, Infallible>(gw.handle(req, remote, local_port).await) }
                });
                let conn = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        debug!("connection from {remote}: {e}");
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    info!("shutting down; waiting for in-flight requests");
    let grace = gateway.invoker.timeout() + Duration::from_secs(5);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(grace) => warn!("in-flight requests still running after {grace:?}; exiting"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_file() {
        let o = parse_outputs(
            r#"{"functions":{"GetPerformance":"stack-GetPerformance-AB"},"table":"t"}"#,
        )
        .unwrap();
        assert_eq!(o["GetPerformance"], "stack-GetPerformance-AB");
        assert!(parse_outputs(r#"{"nope":1}"#).is_err());
        assert!(parse_outputs("{").is_err());
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("h\u{e9}llo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
