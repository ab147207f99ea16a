//! The performance catalog: `POST /performances`, `PUT /performances/{performanceId}`,
//! `GET /performances/{performanceId}`, `GET /performances`.

use crate::domain::ids::{new_id, parse_id};
use crate::domain::performance::{format_instant, Category, Performance, PerformanceInput};
use crate::error::AppError;
use crate::http::{
    if_match_version, into_response, json_response, limit_param, parse_json, path_param,
    query_param, with_etag,
};
use crate::runtime::AppState;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use time::OffsetDateTime;

pub const PAGE_DEFAULT: u32 = 20;
pub const PAGE_MAX: u32 = 100;
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "performance",
        id: id.to_string(),
    }
}

/// The id named in the path, or 404 when it cannot be one of ours.
fn performance_id(req: &Request) -> Result<String, AppError> {
    let raw = path_param(req, "performanceId")?;
    parse_id(&raw).ok_or_else(|| not_found(&raw))
}

/// With an `Idempotency-Key`, the new performance's id is derived from the key, so a retried create finds
/// the performance its first attempt made instead of making a second one.
fn id_for_create(req: &Request) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    let namespace = uuid::Uuid::NAMESPACE_URL;
    Ok(Some(
        uuid::Uuid::new_v5(
            &namespace,
            format!("ticketing:performance:{key}").as_bytes(),
        )
        .to_string(),
    ))
}

fn performance_response(status: StatusCode, p: &Performance) -> Response<Body> {
    with_etag(json_response(status, p), p.version)
}

pub async fn create(state: AppState, req: Request) -> Response<Body> {
    into_response(create_inner(&state, &req).await)
}

async fn create_inner(state: &AppState, req: &Request) -> Result<Response<Body>, AppError> {
    let idempotent_id = id_for_create(req)?;
    let input: PerformanceInput = parse_json(req)?;
    let details = input.validate().map_err(AppError::Validation)?;
    let id = idempotent_id.clone().unwrap_or_else(new_id);
    let performance = Performance::new(id.clone(), details, OffsetDateTime::now_utc());
    let created = match state.store.create_performance(&performance).await {
        Ok(()) => performance,
        Err(AppError::Conflict(_)) if idempotent_id.is_some() => {
            // A repeat of an earlier create with the same key: replay it if it asked for the same thing.
            match state.store.get_performance(&id).await? {
                Some(existing) if existing.details == performance.details => existing,
                _ => {
                    return Err(AppError::Conflict(
                        "Idempotency-Key was already used for a different request".into(),
                    ))
                }
            }
        }
        Err(err) => return Err(err),
    };
    tracing::info!(performance_id = %created.id, "performance created");
    let mut response = performance_response(StatusCode::CREATED, &created);
    if let Ok(location) = HeaderValue::from_str(&format!("/performances/{}", created.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn get(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let id = performance_id(&req)?;
            let p = state
                .store
                .get_performance(&id)
                .await?
                .ok_or_else(|| not_found(&id))?;
            Ok(performance_response(StatusCode::OK, &p))
        }
        .await,
    )
}

pub async fn update(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let id = performance_id(&req)?;
            let expected = if_match_version(&req)?;
            let input: PerformanceInput = parse_json(&req)?;
            let details = input.validate().map_err(AppError::Validation)?;
            let now = format_instant(OffsetDateTime::now_utc());
            let p = state
                .store
                .update_performance(&id, &details, expected, &now)
                .await?;
            tracing::info!(performance_id = %p.id, version = p.version, "performance updated");
            Ok(performance_response(StatusCode::OK, &p))
        }
        .await,
    )
}

pub async fn list(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let category = match query_param(&req, "category") {
                None => None,
                Some(raw) => Some(Category::parse(&raw).ok_or_else(|| {
                    let allowed: Vec<_> = Category::ALL.iter().map(|c| c.as_str()).collect();
                    AppError::invalid("category", format!("must be one of {}", allowed.join(", ")))
                })?),
            };
            let limit = limit_param(&req, PAGE_DEFAULT, PAGE_MAX)?;
            let cursor = query_param(&req, "cursor");
            let page = state
                .store
                .list_catalog(category, limit, cursor.as_deref())
                .await?;
            Ok(json_response(StatusCode::OK, &page))
        }
        .await,
    )
}
