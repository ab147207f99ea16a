//! Turning a function's output into the HTTP response, as API Gateway does for payload format 2.0.
//!
//! - A JSON object with `statusCode`: status, `headers`, `multiValueHeaders`, `cookies` (→ `Set-Cookie`),
//!   `body` (base64-decoded when `isBase64Encoded`).
//! - Any other valid JSON: 200, `content-type: application/json`, the output itself as the body.
//! - Anything else (not JSON, bad status, bad base64, bad header): an error, which the gateway answers with 500.

use base64::Engine as _;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, SET_COOKIE};
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::Value;

pub type HttpResponse = Response<Full<Bytes>>;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MappingError {
    #[error("function output is not JSON: {0}")]
    NotJson(String),
    #[error("invalid statusCode {0}")]
    Status(String),
    #[error("invalid header {0:?}")]
    Header(String),
    #[error("body is not valid base64")]
    Base64,
    #[error("body must be a string")]
    Body,
}

/// A gateway-generated JSON error, `{"message": "..."}`, as API Gateway sends them.
pub fn gateway_error(status: StatusCode, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "message": message }).to_string();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// A gateway-generated `application/problem+json` document (RFC 9457), shaped like the API's own problems:
/// `type` is `/problems/<slug>`.
pub fn problem(status: StatusCode, slug: &str, title: &str, detail: &str) -> HttpResponse {
    let body = serde_json::json!({
        "type": format!("/problems/{slug}"),
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    })
    .to_string();
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

pub fn not_found() -> HttpResponse {
    gateway_error(StatusCode::NOT_FOUND, "Not Found")
}

pub fn internal_error() -> HttpResponse {
    gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

pub fn service_unavailable() -> HttpResponse {
    gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
}

pub fn payload_too_large() -> HttpResponse {
    gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
}

fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), MappingError> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| MappingError::Header(name.to_string()))?;
    let v = HeaderValue::from_str(value).map_err(|_| MappingError::Header(name.to_string()))?;
    Ok((n, v))
}

/// Map a function's response payload to the HTTP response.
pub fn map_function_output(payload: &[u8]) -> Result<HttpResponse, MappingError> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| MappingError::NotJson(e.to_string()))?;
    let obj = match &value {
        Value::Object(obj) if obj.contains_key("statusCode") => obj,
        _ => {
            // Output without statusCode: API Gateway assumes 200 and application/json, body as returned.
            let mut resp = Response::new(Full::new(Bytes::copy_from_slice(trim_ascii(payload))));
            resp.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            return Ok(resp);
        }
    };

    let status = match &obj["statusCode"] {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .and_then(|n| u16::try_from(n).ok())
    .and_then(|n| StatusCode::from_u16(n).ok())
    .ok_or_else(|| MappingError::Status(obj["statusCode"].to_string()))?;

    let is_base64 = match obj.get("isBase64Encoded") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    let body = match obj.get("body") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) if is_base64 => Bytes::from(
            base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .map_err(|_| MappingError::Base64)?,
        ),
        Some(Value::String(s)) => Bytes::from(s.clone()),
        Some(_) => return Err(MappingError::Body),
    };

    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    if let Some(Value::Object(h)) = obj.get("headers") {
        for (name, v) in h {
            if let Some(v) = scalar_to_string(v) {
                let (n, v) = header(name, &v)?;
                headers.append(n, v);
            }
        }
    }
    if let Some(Value::Object(h)) = obj.get("multiValueHeaders") {
        for (name, vs) in h {
            let values: Vec<String> = match vs {
                Value::Array(items) => items.iter().filter_map(scalar_to_string).collect(),
                other => scalar_to_string(other).into_iter().collect(),
            };
            for v in values {
                let (n, v) = header(name, &v)?;
                headers.append(n, v);
            }
        }
    }
    if let Some(Value::Array(cookies)) = obj.get("cookies") {
        for c in cookies.iter().filter_map(Value::as_str) {
            let v =
                HeaderValue::from_str(c).map_err(|_| MappingError::Header("set-cookie".into()))?;
            headers.append(SET_COOKIE, v);
        }
    }
    Ok(resp)
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(resp: HttpResponse) -> Vec<u8> {
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn structured_response() {
        let payload = br#"{
            "statusCode": 201,
            "headers": {"content-type": "application/problem+json", "x-n": 5},
            "multiValueHeaders": {"x-multi": ["a", "b"]},
            "cookies": ["s=1; Path=/", "t=2"],
            "body": "{\"ok\":true}",
            "isBase64Encoded": false
        }"#;
        let resp = map_function_output(payload).unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert_eq!(resp.headers()["content-type"], "application/problem+json");
        assert_eq!(resp.headers()["x-n"], "5");
        let multi: Vec<_> = resp.headers().get_all("x-multi").iter().collect();
        assert_eq!(multi, vec!["a", "b"]);
        let cookies: Vec<_> = resp.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, vec!["s=1; Path=/", "t=2"]);
        assert_eq!(block(body_of(resp)), br#"{"ok":true}"#);
    }

    #[test]
    fn lambda_http_shaped_response() {
        // What lambda_http 1.3 serializes for an HTTP API response.
        let payload = br#"{"statusCode":204,"headers":{},"multiValueHeaders":{},"isBase64Encoded":false,"cookies":[]}"#;
        let resp = map_function_output(payload).unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert!(block(body_of(resp)).is_empty());
    }

    #[test]
    fn base64_body() {
        let payload = br#"{"statusCode":"200","body":"3q2+7w==","isBase64Encoded":true}"#;
        let resp = map_function_output(payload).unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(block(body_of(resp)), vec![0xde, 0xad, 0xbe, 0xef]);
        let bad = br#"{"statusCode":200,"body":"***","isBase64Encoded":true}"#;
        assert_eq!(map_function_output(bad).unwrap_err(), MappingError::Base64);
    }

    #[test]
    fn output_without_status_code() {
        let resp = map_function_output(br#" {"id": "p1", "seats": [1, 2]} "#).unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "application/json");
        assert_eq!(block(body_of(resp)), br#"{"id": "p1", "seats": [1, 2]}"#);
        let resp = map_function_output(br#""hello""#).unwrap();
        assert_eq!(block(body_of(resp)), br#""hello""#);
        let resp = map_function_output(b"null").unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }

    #[test]
    fn malformed_outputs_are_errors() {
        assert!(matches!(
            map_function_output(b"not json"),
            Err(MappingError::NotJson(_))
        ));
        assert!(matches!(
            map_function_output(br#"{"statusCode": 99}"#),
            Err(MappingError::Status(_))
        ));
        assert!(matches!(
            map_function_output(br#"{"statusCode": "abc"}"#),
            Err(MappingError::Status(_))
        ));
        assert!(matches!(
            map_function_output(br#"{"statusCode": 200, "headers": {"bad name": "x"}}"#),
            Err(MappingError::Header(_))
        ));
        assert_eq!(
            map_function_output(br#"{"statusCode": 200, "body": {"a": 1}}"#).unwrap_err(),
            MappingError::Body
        );
    }

    #[test]
    fn gateway_errors() {
        let r = not_found();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(block(body_of(r)), br#"{"message":"Not Found"}"#);
        assert_eq!(internal_error().status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            service_unavailable().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(payload_too_large().status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn problems() {
        let r = problem(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "route /x not found",
        );
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let v: Value = serde_json::from_slice(&block(body_of(r))).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "/problems/not-found", "title": "Not found", "status": 404,
                "detail": "route /x not found"})
        );
    }
}
