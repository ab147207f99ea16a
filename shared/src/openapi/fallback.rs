//! The `$default` route: every request no route of the API matches. API Gateway alone would answer
//! `404 {"message":"Not Found"}` to both an unknown path and a known path with a method it does not take;
//! this answers as HTTP says: 405 with `Allow` for a method the path does not take, and a 404 problem for a
//! path the API does not have. The paths and their methods come from the OpenAPI document, which a test keeps
//! equal to the template's routes.

use crate::error::AppError;
use crate::http::problem_response;
use lambda_http::http::{header, HeaderValue};
use lambda_http::{Body, Request, Response};
use std::sync::OnceLock;

/// A documented path as segments (`None` for a `{parameter}`), with its methods in upper case.
type DocumentedPath = (Vec<Option<String>>, Vec<String>);

fn routes() -> &'static [DocumentedPath] {
    static ROUTES: OnceLock<Vec<DocumentedPath>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let doc = crate::openapi::value();
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let segments = split(path)
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_string()))
                .collect();
            let methods = item
                .as_object()
                .into_iter()
                .flatten()
                .map(|(m, _)| m.to_ascii_uppercase())
                .filter(|m| {
                    ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]
                        .contains(&m.as_str())
                })
                .collect();
            out.push((segments, methods));
        }
        out
    })
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_start_matches('/').split('/')
}

/// The methods the API takes on `path`, or `None` when it has no such path.
pub fn allowed_methods(path: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = split(path).collect();
    routes()
        .iter()
        .find(|(segments, _)| {
            segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(seg, part)| match seg {
                    Some(literal) => literal == part,
                    None => !part.is_empty(),
                })
        })
        .map(|(_, methods)| methods.clone())
}

pub async fn handle(req: Request) -> Response<Body> {
    let path = req.uri().path().to_string();
    match allowed_methods(&path) {
        Some(allow) => {
            let allow = allow.join(", ");
            let mut response = problem_response(&AppError::MethodNotAllowed {
                method: req.method().to_string(),
                allow: allow.clone(),
            });
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        None => problem_response(&AppError::NotFound {
            entity: "route",
            id: path,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_list_their_methods_and_unknown_ones_none() {
        assert_eq!(
            allowed_methods("/performances/0190d5a0-0000-7000-8000-000000000001"),
            Some(vec!["GET".to_string(), "PUT".to_string()])
        );
        assert_eq!(allowed_methods("/health"), Some(vec!["GET".to_string()]));
        assert_eq!(allowed_methods("/performances/"), None);
        assert_eq!(allowed_methods("/nothing"), None);
        assert_eq!(allowed_methods("/performances/x/y/z/w"), None);
    }
}
