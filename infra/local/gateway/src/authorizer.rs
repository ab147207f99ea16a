//! Lambda authorizers (payload format 2.0), as API Gateway HTTP API runs them before a protected route.
//!
//! - Every identity source (`Identity.Headers`, `Identity.QueryStrings`) must be present and non-empty, else 401
//!   `{"message":"Unauthorized"}` without calling the authorizer.
//! - The authorizer gets the request event without body, plus `type: REQUEST`, `routeArn` and `identitySource`.
//! - Simple responses: `{"isAuthorized": bool, "context": {..}}`; otherwise an IAM policy response
//!   (`policyDocument` with an `Allow` statement and no `Deny`, plus `context`).
//! - Denied → 403 `{"message":"Forbidden"}`; the authorizer failing → 500.
//! - Allowed → the route's event gets `requestContext.authorizer = {"lambda": <context>}`.
//!
//! Results are not cached (API Gateway's TTL cache is an optimisation; no caching is the strictest behaviour).

use serde_json::{json, Map, Value};

use crate::event::{HttpApiEvent, ACCOUNT_ID, API_ID, STAGE};
use crate::template::AuthorizerSpec;

/// What an authorizer decided.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Allowed; the authorizer's context (an object, `{}` if none).
    Allow(Value),
    /// Denied (403).
    Deny,
}

/// The identity source values, or `None` when one is missing (→ 401).
pub fn identity_source(spec: &AuthorizerSpec, event: &HttpApiEvent) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for h in &spec.identity_headers {
        let v = event.headers.get(h).filter(|v| !v.is_empty())?;
        out.push(v.clone());
    }
    for q in &spec.identity_query_strings {
        let v = event
            .query_string_parameters
            .as_ref()
            .and_then(|qs| qs.get(q))
            .filter(|v| !v.is_empty())?;
        out.push(v.clone());
    }
    Some(out)
}

/// The authorizer's payload 2.0 request event.
pub fn request_event(event: &HttpApiEvent, identity: Vec<String>, region: &str) -> Value {
    let mut v = serde_json::to_value(event).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut v {
        map.remove("body");
        map.remove("isBase64Encoded");
        map.insert("type".into(), json!("REQUEST"));
        map.insert(
            "routeArn".into(),
            json!(format!(
                "arn:aws:execute-api:{region}:{ACCOUNT_ID}:{API_ID}/{STAGE}/{}{}",
                event.request_context.http.method, event.raw_path
            )),
        );
        map.insert("identitySource".into(), json!(identity));
    }
    v
}

/// Interpret the authorizer's output; `Err` when it is malformed (→ 500).
pub fn decide(spec: &AuthorizerSpec, output: &[u8]) -> Result<Decision, String> {
    let v: Value = serde_json::from_slice(output)
        .map_err(|e| format!("authorizer output is not JSON: {e}"))?;
    let context = match v.get("context") {
        Some(Value::Object(c)) => Value::Object(c.clone()),
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(other) => return Err(format!("authorizer context must be an object, got {other}")),
    };
    if spec.simple_responses {
        return match v.get("isAuthorized") {
            Some(Value::Bool(true)) => Ok(Decision::Allow(context)),
            Some(Value::Bool(false)) => Ok(Decision::Deny),
            _ => Err("simple response without boolean isAuthorized".into()),
        };
    }
    let statements = match v.get("policyDocument").and_then(|p| p.get("Statement")) {
        Some(Value::Array(s)) => s.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return Err("IAM policy response without policyDocument.Statement".into()),
    };
    let effect = |s: &Value| {
        s.get("Effect")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    let denied = statements
        .iter()
        .any(|s| effect(s).as_deref() == Some("deny"));
    let allowed = statements
        .iter()
        .any(|s| effect(s).as_deref() == Some("allow"));
    if allowed && !denied {
        Ok(Decision::Allow(context))
    } else {
        Ok(Decision::Deny)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn spec(simple: bool) -> AuthorizerSpec {
        AuthorizerSpec {
            name: "A".into(),
            function: Some("AuthFn".into()),
            identity_headers: vec!["authorization".into()],
            identity_query_strings: vec![],
            simple_responses: simple,
            payload_format_version: "2.0".into(),
            is_lambda: true,
        }
    }

    #[test]
    fn simple_responses() {
        let s = spec(true);
        assert_eq!(
            decide(
                &s,
                br#"{"isAuthorized":true,"context":{"sub":"m1","role":"USER"}}"#
            )
            .unwrap(),
            Decision::Allow(json!({"sub":"m1","role":"USER"}))
        );
        assert_eq!(
            decide(&s, br#"{"isAuthorized":true}"#).unwrap(),
            Decision::Allow(json!({}))
        );
        assert_eq!(
            decide(&s, br#"{"isAuthorized":false}"#).unwrap(),
            Decision::Deny
        );
        assert!(decide(&s, br#"{"nope":1}"#).is_err());
        assert!(decide(&s, b"garbage").is_err());
    }

    #[test]
    fn policy_responses() {
        let s = spec(false);
        let allow = br#"{"principalId":"m1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"sub":"m1"}}"#;
        assert_eq!(
            decide(&s, allow).unwrap(),
            Decision::Allow(json!({"sub":"m1"}))
        );
        let deny = br#"{"policyDocument":{"Statement":[{"Effect":"Deny","Resource":"*"}]}}"#;
        assert_eq!(decide(&s, deny).unwrap(), Decision::Deny);
    }

    #[test]
    fn identity_and_event() {
        let info = crate::event::RequestInfo {
            method: "GET".into(),
            raw_path: "/me".into(),
            raw_query: String::new(),
            headers: {
                let mut h = http::HeaderMap::new();
                h.insert("authorization", http::HeaderValue::from_static("Bearer t"));
                h
            },
            source_ip: "127.0.0.1".parse().unwrap(),
            local_port: 3000,
            protocol: "HTTP/1.1".into(),
            request_id: "r".into(),
            time: time::OffsetDateTime::UNIX_EPOCH,
        };
        let ev = crate::event::build(&info, "GET /me", &BTreeMap::new(), b"secret");
        let id = identity_source(&spec(true), &ev).unwrap();
        assert_eq!(id, vec!["Bearer t".to_string()]);
        let v = request_event(&ev, id, "us-east-1");
        assert_eq!(v["type"], "REQUEST");
        assert_eq!(v["identitySource"], json!(["Bearer t"]));
        assert_eq!(
            v["routeArn"],
            "arn:aws:execute-api:us-east-1:000000000000:local/$default/GET/me"
        );
        assert!(v.get("body").is_none());

        let mut other = spec(true);
        other.identity_headers = vec!["x-api-key".into()];
        assert!(identity_source(&other, &ev).is_none());
    }
}
