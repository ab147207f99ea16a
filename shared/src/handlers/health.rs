//! `GET /health`: liveness of the API path (gateway → Lambda → our code). Touches no dependency.

use crate::http::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

pub async fn get(_req: Request) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "service": "ticketing-api",
            "version": env!("CARGO_PKG_VERSION"),
        }),
    )
}
