//! The API Gateway HTTP API payload format 2.0 event, built the way API Gateway builds it.
//!
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html>

use std::collections::BTreeMap;
use std::net::IpAddr;

use base64::Engine as _;
use http::HeaderMap;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::routes::percent_decode;

pub const ACCOUNT_ID: &str = "000000000000";
pub const API_ID: &str = "local";
pub const STAGE: &str = "$default";

/// What the gateway knows about an incoming request.
#[derive(Clone, Debug)]
pub struct RequestInfo {
    pub method: String,
    /// Path as sent, still percent-encoded.
    pub raw_path: String,
    /// Query string as sent, without `?` (empty if none).
    pub raw_query: String,
    pub headers: HeaderMap,
    pub source_ip: IpAddr,
    /// Port the gateway listens on (for `x-forwarded-port`).
    pub local_port: u16,
    /// `HTTP/1.1`.
    pub protocol: String,
    pub request_id: String,
    pub time: OffsetDateTime,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpApiEvent {
    pub version: &'static str,
    pub route_key: String,
    pub raw_path: String,
    pub raw_query_string: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookies: Option<Vec<String>>,
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string_parameters: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_parameters: Option<BTreeMap<String, String>>,
    pub request_context: RequestContext,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub is_base64_encoded: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestContext {
    pub account_id: &'static str,
    pub api_id: &'static str,
    /// `{"lambda": <authorizer context>}` once a Lambda authorizer allowed the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<Value>,
    pub domain_name: String,
    pub domain_prefix: String,
    pub http: HttpContext,
    pub request_id: String,
    pub route_key: String,
    pub stage: &'static str,
    pub time: String,
    pub time_epoch: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpContext {
    pub method: String,
    pub path: String,
    pub protocol: String,
    pub source_ip: String,
    pub user_agent: String,
}

/// Event headers: lower-case names, repeated headers joined with `,`, `cookie` moved to `cookies`, and the
/// `x-forwarded-*` headers API Gateway adds.
fn event_headers(info: &RequestInfo) -> (BTreeMap<String, String>, Vec<String>) {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies = Vec::new();
    for name in info.headers.keys() {
        let values: Vec<String> = info
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if name == http::header::COOKIE {
            for v in &values {
                cookies.extend(
                    v.split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_string),
                );
            }
            continue;
        }
        headers.insert(name.as_str().to_string(), values.join(","));
    }
    let ip = info.source_ip.to_string();
    let xff = match headers.get("x-forwarded-for") {
        Some(prev) if !prev.is_empty() => format!("{prev}, {ip}"),
        _ => ip,
    };
    headers.insert("x-forwarded-for".into(), xff);
    headers.insert("x-forwarded-port".into(), info.local_port.to_string());
    headers.insert("x-forwarded-proto".into(), "http".into());
    (headers, cookies)
}

/// `queryStringParameters`: decoded, repeated keys joined with `,`; `None` when there is no query.
pub fn query_parameters(raw_query: &str) -> Option<BTreeMap<String, String>> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for part in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let (k, v) = (percent_decode(k), percent_decode(v));
        out.entry(k)
            .and_modify(|prev| {
                prev.push(',');
                prev.push_str(&v);
            })
            .or_insert(v);
    }
    (!out.is_empty()).then_some(out)
}

/// `12/Mar/2020:19:03:58 +0000`, as in `requestContext.time`.
pub fn clf_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let fmt = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    t.format(&fmt).unwrap_or_default()
}

fn domain(info: &RequestInfo) -> (String, String) {
    let host = info
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost")
        .to_string();
    let bare = host
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host.as_str(), |(h, _)| h);
    let prefix = if bare.parse::<IpAddr>().is_ok() || bare.starts_with('[') {
        bare.to_string()
    } else {
        bare.split('.').next().unwrap_or(bare).to_string()
    };
    (host, prefix)
}

/// Build the payload 2.0 event for a matched route.
pub fn build(
    info: &RequestInfo,
    route_key: &str,
    path_params: &BTreeMap<String, String>,
    body: &[u8],
) -> HttpApiEvent {
    let (headers, cookies) = event_headers(info);
    let (domain_name, domain_prefix) = domain(info);
    let user_agent = info
        .headers
        .get(http::header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let (body, is_base64_encoded) = if body.is_empty() {
        (None, false)
    } else {
        match std::str::from_utf8(body) {
            Ok(text) => (Some(text.to_string()), false),
            Err(_) => (
                Some(base64::engine::general_purpose::STANDARD.encode(body)),
                true,
            ),
        }
    };
    HttpApiEvent {
        version: "2.0",
        route_key: route_key.to_string(),
        raw_path: info.raw_path.clone(),
        raw_query_string: info.raw_query.clone(),
        cookies: (!cookies.is_empty()).then_some(cookies),
        headers,
        query_string_parameters: query_parameters(&info.raw_query),
        path_parameters: (!path_params.is_empty()).then(|| path_params.clone()),
        request_context: RequestContext {
            account_id: ACCOUNT_ID,
            api_id: API_ID,
            authorizer: None,
            domain_name,
            domain_prefix,
            http: HttpContext {
                method: info.method.clone(),
                path: info.raw_path.clone(),
                protocol: info.protocol.clone(),
                source_ip: info.source_ip.to_string(),
                user_agent,
            },
            request_id: info.request_id.clone(),
            route_key: route_key.to_string(),
            stage: STAGE,
            time: clf_time(info.time),
            time_epoch: (info.time.unix_timestamp_nanos() / 1_000_000) as i64,
        },
        body,
        is_base64_encoded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn info(method: &str, path: &str, query: &str) -> RequestInfo {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        headers.insert("user-agent", HeaderValue::from_static("curl/8"));
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("cookie", HeaderValue::from_static("s=1; t=2"));
        headers.append("cookie", HeaderValue::from_static("u=3"));
        headers.insert("idempotency-key", HeaderValue::from_static("k-1"));
        RequestInfo {
            method: method.into(),
            raw_path: path.into(),
            raw_query: query.into(),
            headers,
            source_ip: "127.0.0.1".parse().unwrap(),
            local_port: 3000,
            protocol: "HTTP/1.1".into(),
            request_id: "req-1".into(),
            time: OffsetDateTime::from_unix_timestamp(1_583_348_638).unwrap(),
        }
    }

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn builds_payload_2_0() {
        let i = info("GET", "/performances/p%201", "a=1&a=2&b=x%20y&c");
        let ev = build(
            &i,
            "GET /performances/{performanceId}",
            &params(&[("performanceId", "p 1")]),
            b"",
        );
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["version"], "2.0");
        assert_eq!(v["routeKey"], "GET /performances/{performanceId}");
        assert_eq!(v["rawPath"], "/performances/p%201");
        assert_eq!(v["rawQueryString"], "a=1&a=2&b=x%20y&c");
        assert_eq!(v["cookies"], serde_json::json!(["s=1", "t=2", "u=3"]));
        assert_eq!(v["headers"]["x-multi"], "a,b");
        assert!(v["headers"].get("cookie").is_none());
        assert_eq!(v["headers"]["x-forwarded-for"], "127.0.0.1");
        assert_eq!(v["queryStringParameters"]["a"], "1,2");
        assert_eq!(v["queryStringParameters"]["b"], "x y");
        assert_eq!(v["queryStringParameters"]["c"], "");
        assert_eq!(v["pathParameters"]["performanceId"], "p 1");
        let rc = &v["requestContext"];
        assert_eq!(rc["accountId"], "000000000000");
        assert_eq!(rc["stage"], "$default");
        assert_eq!(rc["routeKey"], "GET /performances/{performanceId}");
        assert_eq!(rc["http"]["method"], "GET");
        assert_eq!(rc["http"]["path"], "/performances/p%201");
        assert_eq!(rc["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(rc["http"]["userAgent"], "curl/8");
        assert_eq!(rc["time"], "04/Mar/2020:19:03:58 +0000");
        assert_eq!(rc["timeEpoch"], 1_583_348_638_000_i64);
        assert_eq!(rc["domainName"], "127.0.0.1:3000");
        assert!(rc.get("authorizer").is_none());
        assert!(v.get("body").is_none());
        assert!(v.get("stageVariables").is_none());
        assert_eq!(v["isBase64Encoded"], false);
    }

    #[test]
    fn binary_body_is_base64() {
        let i = info("POST", "/upload", "");
        let ev = build(&i, "POST /upload", &BTreeMap::new(), &[0xff, 0x00, 0x10]);
        assert!(ev.is_base64_encoded);
        assert_eq!(ev.body.as_deref(), Some("/wAQ"));
        assert!(ev.query_string_parameters.is_none());
        assert!(ev.path_parameters.is_none());
    }

    #[test]
    fn round_trips_through_lambda_http() {
        use lambda_http::RequestExt;
        let i = info("POST", "/performances/p%201/holds", "limit=10&tag=a&tag=b");
        let body = br#"{"seats":["A-1"]}"#;
        let ev = build(
            &i,
            "POST /performances/{performanceId}/holds",
            &params(&[("performanceId", "p 1")]),
            body,
        );
        let json = serde_json::to_string(&ev).unwrap();

        // The aws_lambda_events type the runtime deserializes into.
        let typed: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
            serde_json::from_str(&json).unwrap();
        assert_eq!(typed.request_context.http.method, http::Method::POST);
        assert_eq!(
            typed.route_key.as_deref(),
            Some("POST /performances/{performanceId}/holds")
        );

        let req = lambda_http::request::from_str(&json).unwrap();
        assert_eq!(req.method(), http::Method::POST);
        assert_eq!(req.uri().path(), "/performances/p%201/holds");
        assert_eq!(req.uri().query(), Some("limit=10&tag=a&tag=b"));
        assert_eq!(req.uri().host(), Some("127.0.0.1"));
        assert_eq!(req.path_parameters().first("performanceId"), Some("p 1"));
        assert_eq!(
            req.query_string_parameters().all("tag"),
            Some(vec!["a", "b"])
        );
        assert_eq!(req.headers()["idempotency-key"], "k-1");
        assert_eq!(req.headers()["cookie"], "s=1; t=2; u=3");
        assert_eq!(req.headers()["x-multi"], "a,b");
        match req.body() {
            lambda_http::Body::Text(t) => assert_eq!(t.as_bytes(), body),
            other => panic!("unexpected body {other:?}"),
        }
        match req.request_context() {
            lambda_http::request::RequestContext::ApiGatewayV2(ctx) => {
                assert_eq!(ctx.request_id.as_deref(), Some("req-1"));
                assert_eq!(ctx.stage.as_deref(), Some("$default"));
            }
            #[allow(unreachable_patterns)]
            _ => panic!("not an HTTP API v2 request"),
        }
    }

    #[test]
    fn binary_round_trip() {
        let i = info("PUT", "/blob", "");
        let ev = build(&i, "PUT /blob", &BTreeMap::new(), &[0xde, 0xad, 0xbe, 0xef]);
        let req = lambda_http::request::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        match req.body() {
            lambda_http::Body::Binary(b) => assert_eq!(b.as_slice(), &[0xde, 0xad, 0xbe, 0xef]),
            other => panic!("unexpected body {other:?}"),
        }
    }
}
