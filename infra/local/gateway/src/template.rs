//! Reading the SAM template: every `AWS::Serverless::Function`'s `HttpApi` events become routes, and the
//! HTTP APIs' Lambda authorizers are collected for the routes that use them.
//!
//! CloudFormation short tags (`!Ref`, `!GetAtt`, `!Sub`, ...) parse as `serde_norway::Value::Tagged`; only the few
//! places that must name another resource (an authorizer's `FunctionArn`, an event's `ApiId`) look inside them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

/// Which authorizer protects a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteAuth {
    /// No authorizer (also SAM's `Authorizer: NONE`).
    None,
    /// The named authorizer of the route's HTTP API (`Auth.Authorizers.<name>`).
    Authorizer(String),
}

/// One `HttpApi` event of a function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// Logical id of the function that serves the route.
    pub function: String,
    /// Name of the event under `Events`.
    pub event: String,
    /// Upper-case method, or `ANY`. `None` together with `path: None` is the `$default` route.
    pub method: Option<String>,
    pub path: Option<String>,
    pub auth: RouteAuth,
}

/// A Lambda authorizer declared on an HTTP API (`Auth.Authorizers.<name>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizerSpec {
    pub name: String,
    /// Logical id of the authorizer function, when `FunctionArn` names one (`!GetAtt Fn.Arn`, `!Sub ${Fn.Arn}`).
    pub function: Option<String>,
    /// `Identity.Headers` (lower-case); SAM's default for a Lambda authorizer is `Authorization`.
    pub identity_headers: Vec<String>,
    /// `Identity.QueryStrings`.
    pub identity_query_strings: Vec<String>,
    /// `EnableSimpleResponses` (payload 2.0 `{"isAuthorized": .., "context": ..}`); otherwise an IAM policy.
    pub simple_responses: bool,
    /// `AuthorizerPayloadFormatVersion` (only "2.0" is served).
    pub payload_format_version: String,
    /// A JWT (or other non-Lambda) authorizer: not served locally.
    pub is_lambda: bool,
}

/// What the gateway needs from the template.
#[derive(Clone, Debug, Default)]
pub struct Template {
    pub routes: Vec<RouteSpec>,
    pub authorizers: BTreeMap<String, AuthorizerSpec>,
    /// Function logical id → literal `FunctionName` property, where the template sets one.
    pub function_names: BTreeMap<String, String>,
    /// Events that could not be turned into routes (e.g. a `!Sub` path), for the startup log.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("template has no Resources mapping")]
    NoResources,
}

pub fn load(path: &Path) -> Result<Template, TemplateError> {
    let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text)
}

pub fn parse(text: &str) -> Result<Template, TemplateError> {
    let doc: Value = serde_norway::from_str(text)?;
    let resources = doc
        .get("Resources")
        .and_then(Value::as_mapping)
        .ok_or(TemplateError::NoResources)?;
    let globals_api = doc.get("Globals").and_then(|g| g.get("HttpApi"));

    let mut out = Template::default();

    // Authorizers: Globals.HttpApi.Auth and every AWS::Serverless::HttpApi's Auth.
    if let Some(auth) = globals_api.and_then(|g| g.get("Auth")) {
        collect_authorizers(auth, &mut out);
    }
    for (_, res) in resources {
        if res_type(res) == Some("AWS::Serverless::HttpApi") {
            if let Some(auth) = res.get("Properties").and_then(|p| p.get("Auth")) {
                collect_authorizers(auth, &mut out);
            }
        }
    }
    let global_default = globals_api
        .and_then(|g| g.get("Auth"))
        .and_then(|a| a.get("DefaultAuthorizer"))
        .and_then(Value::as_str);

    for (id, res) in resources {
        let Some(id) = id.as_str() else { continue };
        if res_type(res) != Some("AWS::Serverless::Function") {
            continue;
        }
        let props = res.get("Properties");
        if let Some(name) = props
            .and_then(|p| p.get("FunctionName"))
            .and_then(plain_str)
        {
            out.function_names.insert(id.to_string(), name.to_string());
        }
        let Some(events) = props
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_mapping)
        else {
            continue;
        };
        for (ev_name, ev) in events {
            let ev_name = ev_name.as_str().unwrap_or("?");
            if ev.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                continue;
            }
            let ep = ev.get("Properties");
            let path = ep.and_then(|p| p.get("Path"));
            let method = ep.and_then(|p| p.get("Method"));
            let (path, method) = match (path, method) {
                (None, None) => (None, None),
                (Some(p), m) => {
                    let Some(p) = plain_str(p) else {
                        out.warnings.push(format!(
                            "{id}.{ev_name}: Path is not a plain string; route skipped"
                        ));
                        continue;
                    };
                    let m = match m {
                        None => "ANY".to_string(),
                        Some(m) => match plain_str(m) {
                            Some(m) => normalize_method(m),
                            None => {
                                out.warnings.push(format!(
                                    "{id}.{ev_name}: Method is not a plain string; route skipped"
                                ));
                                continue;
                            }
                        },
                    };
                    (Some(p.to_string()), Some(m))
                }
                (None, Some(_)) => {
                    out.warnings.push(format!(
                        "{id}.{ev_name}: Method without Path; route skipped"
                    ));
                    continue;
                }
            };

            // Auth: the event's own Authorizer, else the API's DefaultAuthorizer, else the Globals' one.
            let ev_auth = ep
                .and_then(|p| p.get("Auth"))
                .and_then(|a| a.get("Authorizer"))
                .and_then(Value::as_str);
            let api_default = ep
                .and_then(|p| p.get("ApiId"))
                .and_then(ref_target)
                .and_then(|api| resources.get(api.as_str()))
                .and_then(|api| api.get("Properties"))
                .and_then(|p| p.get("Auth"))
                .and_then(|a| a.get("DefaultAuthorizer"))
                .and_then(Value::as_str);
            let auth = match ev_auth.or(api_default).or(global_default) {
                None => RouteAuth::None,
                Some(n) if n.eq_ignore_ascii_case("NONE") => RouteAuth::None,
                Some(n) => RouteAuth::Authorizer(n.to_string()),
            };

            out.routes.push(RouteSpec {
                function: id.to_string(),
                event: ev_name.to_string(),
                method,
                path,
                auth,
            });
        }
    }
    Ok(out)
}

/// A plain (untagged) string: serde_norway's `as_str` also sees through `!Sub "..."`, which is not a literal.
fn plain_str(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        _ => None,
    }
}

fn res_type(res: &Value) -> Option<&str> {
    res.get("Type").and_then(Value::as_str)
}

fn normalize_method(m: &str) -> String {
    let m = m.trim().to_ascii_uppercase();
    if m == "*" {
        "ANY".to_string()
    } else {
        m
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn collect_authorizers(auth: &Value, out: &mut Template) {
    let Some(map) = auth.get("Authorizers").and_then(Value::as_mapping) else {
        return;
    };
    for (name, def) in map {
        let Some(name) = name.as_str() else { continue };
        let function = def.get("FunctionArn").and_then(function_ref);
        let is_lambda = def.get("FunctionArn").is_some();
        let identity = def.get("Identity");
        let mut identity_headers: Vec<String> =
            string_list(identity.and_then(|i| i.get("Headers")))
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect();
        let identity_query_strings = string_list(identity.and_then(|i| i.get("QueryStrings")));
        if is_lambda && identity.is_none() {
            identity_headers.push("authorization".to_string());
        }
        let payload_format_version = match def.get("AuthorizerPayloadFormatVersion") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => {
                // `2.0` unquoted is a float in YAML.
                let s = n.to_string();
                if s == "2" {
                    "2.0".to_string()
                } else {
                    s
                }
            }
            _ => "2.0".to_string(),
        };
        let simple_responses = matches!(def.get("EnableSimpleResponses"), Some(Value::Bool(true)));
        out.authorizers.insert(
            name.to_string(),
            AuthorizerSpec {
                name: name.to_string(),
                function,
                identity_headers,
                identity_query_strings,
                simple_responses,
                payload_format_version,
                is_lambda,
            },
        );
    }
}

/// `!Ref X` / `{Ref: X}` → `X`.
fn ref_target(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.tag == "Ref" => t.value.as_str().map(str::to_string),
        Value::Mapping(m) => m.get("Ref").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// The function a `FunctionArn` points at: `!GetAtt Fn.Arn`, `!GetAtt [Fn, Arn]`, `{Fn::GetAtt: ...}`,
/// `!Sub "...${Fn.Arn}..."`, or a literal ARN / name (its last `:`-separated part).
fn function_ref(v: &Value) -> Option<String> {
    fn getatt(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => s.split('.').next().map(str::to_string),
            Value::Sequence(items) => items.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
    }
    fn sub(v: &Value) -> Option<String> {
        let s = match v {
            Value::String(s) => s.as_str(),
            Value::Sequence(items) => items.first().and_then(Value::as_str)?,
            _ => return None,
        };
        let start = s.find("${")? + 2;
        let rest = &s[start..];
        let end = rest.find('}')?;
        let inner = &rest[..end];
        inner.strip_suffix(".Arn").map(str::to_string)
    }
    match v {
        Value::Tagged(t) if t.tag == "GetAtt" => getatt(&t.value),
        Value::Tagged(t) if t.tag == "Sub" => sub(&t.value),
        Value::Mapping(m) => {
            if let Some(g) = m.get("Fn::GetAtt") {
                getatt(g)
            } else {
                m.get("Fn::Sub").and_then(sub)
            }
        }
        Value::String(s) => s.rsplit(':').next().map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Environment:
      Variables:
        TABLE: !Ref Table
        ARN: !Sub "arn:aws:${AWS::Region}"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: JwtAuth
        Authorizers:
          JwtAuth:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            AuthorizerPayloadFormatVersion: 2.0
            EnableSimpleResponses: true
            Identity:
              Headers: [Authorization]
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: !Sub "s3://${Bucket}/auth.zip"
  GetPerformance:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: get-performance
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /performances/{performanceId}
            Method: get
            Auth:
              Authorizer: NONE
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
  Reserve:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Post:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Path: /reservations
            Method: POST
        Implicit:
          Type: HttpApi
          Properties:
            Path: /implicit
            Method: ANY
        Default:
          Type: HttpApi
        Bad:
          Type: HttpApi
          Properties:
            Path: !Sub "/${Stage}/x"
            Method: GET
"#;

    #[test]
    fn parses_routes_and_tags() {
        let t = parse(TEMPLATE).unwrap();
        let keys: Vec<_> = t
            .routes
            .iter()
            .map(|r| {
                (
                    r.function.as_str(),
                    r.method.clone(),
                    r.path.clone(),
                    r.auth.clone(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                (
                    "GetPerformance",
                    Some("GET".into()),
                    Some("/performances/{performanceId}".into()),
                    RouteAuth::None
                ),
                (
                    "Reserve",
                    Some("POST".into()),
                    Some("/reservations".into()),
                    RouteAuth::Authorizer("JwtAuth".into())
                ),
                (
                    "Reserve",
                    Some("ANY".into()),
                    Some("/implicit".into()),
                    RouteAuth::None
                ),
                ("Reserve", None, None, RouteAuth::None),
            ]
        );
        assert_eq!(t.warnings.len(), 1, "{:?}", t.warnings);
        assert_eq!(
            t.function_names.get("GetPerformance").map(String::as_str),
            Some("get-performance")
        );
        let a = &t.authorizers["JwtAuth"];
        assert_eq!(a.function.as_deref(), Some("AuthorizerFunction"));
        assert_eq!(a.identity_headers, vec!["authorization".to_string()]);
        assert!(a.simple_responses);
        assert_eq!(a.payload_format_version, "2.0");
    }

    #[test]
    fn function_ref_forms() {
        let v: Value = serde_norway::from_str("!GetAtt [Fn1, Arn]").unwrap();
        assert_eq!(function_ref(&v).as_deref(), Some("Fn1"));
        let v: Value = serde_norway::from_str("{Fn::GetAtt: Fn2.Arn}").unwrap();
        assert_eq!(function_ref(&v).as_deref(), Some("Fn2"));
        let v: Value = serde_norway::from_str("!Sub 'arn:${Fn3.Arn}'").unwrap();
        assert_eq!(function_ref(&v).as_deref(), Some("Fn3"));
    }

    #[test]
    fn rejects_non_template() {
        assert!(parse("just: text").is_err());
        assert!(parse(": : :").is_err());
    }
}
