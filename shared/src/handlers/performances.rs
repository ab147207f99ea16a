//! The performance catalog and its review.
//!
//! | route | who |
//! |---|---|
//! | `GET /performances`, `GET /performances/{performanceId}` | anyone; approved performances only |
//! | `POST /performances` | ORGANIZER or ADMIN; the new performance waits for approval |
//! | `PUT /performances/{performanceId}` | its organizer, or an ADMIN |
//! | `GET /organizer/performances` | ORGANIZER or ADMIN: their own, any status |
//! | `GET /admin/performances?status=` | ADMIN: the review queue (default PENDING_APPROVAL) |
//! | `POST /admin/performances/{performanceId}/approve` and `/reject` | ADMIN |

use super::{performance_id, visible_performance};
use crate::app::performances::{change_performance, load_for_change, PUBLISHERS};
use crate::auth::caller;
use crate::domain::member::Role;
use crate::domain::performance::{
    rejection_reason, Category, Performance, PerformanceInput, PerformanceStatus, RejectRequest,
    Review,
};
use crate::error::AppError;
use crate::http::{
    cursor_param, if_match_version, into_response, json_response, limit_param, parse_json,
    query_param, with_etag,
};
use crate::runtime::AppState;
use crate::store::performances::Listing;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use time::OffsetDateTime;

pub const PAGE_DEFAULT: u32 = 20;
fn performance_response(status: StatusCode, p: &Performance) -> Response<Body> {
    with_etag(json_response(status, p), p.version)
}

/// `POST /performances`
pub async fn create(state: AppState, req: Request) -> Response<Body> {
    into_response(create_inner(&state, &req).await)
}

async fn create_inner(state: &AppState, req: &Request) -> Result<Response<Body>, AppError> {
    let caller = caller(req)?;
    caller.require(&PUBLISHERS)?;
    let idempotent_id = super::idempotent_id(req, &caller, "performance")?;
    let input: PerformanceInput = parse_json(req)?;
    let created = crate::app::performances::create(state, &caller, idempotent_id, input).await?;
    let mut response = performance_response(StatusCode::CREATED, &created);
    if let Ok(location) = HeaderValue::from_str(&format!("/performances/{}", created.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /performances/{performanceId}`: public, so only approved performances exist here.
pub async fn get(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let id = performance_id(&req)?;
            let p = visible_performance(&state, &req, &id).await?;
            Ok(performance_response(StatusCode::OK, &p))
        }
        .await,
    )
}

/// `PUT /performances/{performanceId}`: replaces the details; a rejected performance is resubmitted.
pub async fn update(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let id = performance_id(&req)?;
            let input: PerformanceInput = parse_json(&req)?;
            let details = input.validate().map_err(AppError::Validation)?;
            let expected = if_match_version(&req)?;
            let p = change_performance(&state, (&id, expected), &caller, |p| {
                p.revise(details.clone(), OffsetDateTime::now_utc());
                Ok(())
            })
            .await?;
            tracing::info!(performance_id = %id, version = p.version, status = p.status.as_str(), "performance updated");
            Ok(performance_response(StatusCode::OK, &p))
        }
        .await,
    )
}

/// `GET /performances?category=&limit=&cursor=`: the public catalog.
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
            list_page(&state, &req, Listing::Catalog(category)).await
        }
        .await,
    )
}

async fn list_page(
    state: &AppState,
    req: &Request,
    listing: Listing<'_>,
) -> Result<Response<Body>, AppError> {
    let limit = limit_param(req, PAGE_DEFAULT)?;
    let cursor = cursor_param(req)?;
    let page = state
        .store
        .list_performances(listing, limit, cursor.as_deref())
        .await?;
    Ok(json_response(StatusCode::OK, &page))
}

/// `GET /organizer/performances`: the caller's own performances in every status, newest last.
pub async fn list_mine(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            list_page(&state, &req, Listing::Organizer(&caller.member_id)).await
        }
        .await,
    )
}

/// `GET /admin/performances?status=`: every performance in a status; the review queue by default.
pub async fn admin_list(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            caller(&req)?.require(&[Role::Admin])?;
            let status = match query_param(&req, "status") {
                None => PerformanceStatus::PendingApproval,
                Some(raw) => PerformanceStatus::parse(&raw).ok_or_else(|| {
                    let allowed: Vec<_> =
                        PerformanceStatus::ALL.iter().map(|s| s.as_str()).collect();
                    AppError::invalid("status", format!("must be one of {}", allowed.join(", ")))
                })?,
            };
            list_page(&state, &req, Listing::Status(status)).await
        }
        .await,
    )
}

/// `POST /admin/performances/{performanceId}/approve`
pub async fn approve(state: AppState, req: Request) -> Response<Body> {
    into_response(review(&state, &req, |_| Ok(Review::Approve)).await)
}

/// `POST /admin/performances/{performanceId}/reject` with `{"reason": "..."}`
pub async fn reject(state: AppState, req: Request) -> Response<Body> {
    into_response(
        review(&state, &req, |req| {
            let body: RejectRequest = parse_json(req)?;
            let reason =
                rejection_reason(&body.reason).map_err(|e| AppError::Validation(vec![e]))?;
            Ok(Review::Reject { reason })
        })
        .await,
    )
}

async fn review(
    state: &AppState,
    req: &Request,
    decision: impl Fn(&Request) -> Result<Review, AppError>,
) -> Result<Response<Body>, AppError> {
    let caller = caller(req)?;
    caller.require(&[Role::Admin])?;
    let decision = decision(req)?;
    let target = (performance_id(req)?, if_match_version(req)?);
    let p = change_performance(state, (&target.0, target.1), &caller, |p| {
        p.review(
            decision.clone(),
            &caller.member_id,
            OffsetDateTime::now_utc(),
        )
        .map_err(|e| AppError::Conflict(e.to_string()))
    })
    .await?;
    tracing::info!(performance_id = %p.id, status = p.status.as_str(), admin_id = %caller.member_id, "performance reviewed");
    Ok(performance_response(StatusCode::OK, &p))
}

/// `POST /performances/{performanceId}/cancel` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelPerformanceRequest {
    /// Told to every buyer.
    #[schema(schema_with = crate::domain::rules::reason_schema)]
    pub reason: String,
}

/// What cancelling a performance started: one sweep per showtime.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceCancellation {
    pub performance_id: String,
    pub showtimes: Vec<crate::store::cancellations::CancellationProgress>,
}

/// `POST /performances/{performanceId}/cancel`: cancels every showtime of the performance (each as
/// `POST .../showtimes/{showtimeId}/cancel` does); 202 with each one's progress.
pub async fn cancel(routes: crate::runtime::CancelRouteState, req: Request) -> Response<Body> {
    into_response(
        async {
            let state = &routes.app;
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let performance = load_for_change(state, &performance_id(&req)?, &caller).await?;
            let body: CancelPerformanceRequest = parse_json(&req)?;
            let reason = crate::domain::rules::REASON
                .check("reason", &body.reason)
                .map_err(|e| AppError::Validation(vec![e]))?;
            let progress =
                crate::app::performances::cancel(&routes, &caller, &performance, &reason).await?;
            Ok(json_response(
                StatusCode::ACCEPTED,
                &PerformanceCancellation {
                    performance_id: performance.id,
                    showtimes: progress,
                },
            ))
        }
        .await,
    )
}
