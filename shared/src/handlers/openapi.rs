//! `GET /openapi.json`: the API's OpenAPI 3.1 document.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};

pub async fn get(_req: Request) -> Response<Body> {
    let mut response = Response::new(Body::Text(crate::openapi::document().to_string()));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
