//! Payments, as admins see them.
//!
//! | route | who |
//! |---|---|
//! | `GET /admin/payments?status=&memberId=&performanceId=&from=&to=&limit=&cursor=` | ADMIN |
//! | `GET /admin/payment-provider` | ADMIN |

use super::instant_param;
use crate::auth::caller;
use crate::domain::ids::parse_id;
use crate::domain::member::Role;
use crate::domain::payment::PaymentStatus;
use crate::domain::performance::format_instant;
use crate::error::AppError;
use crate::http::{
    cursor_param, enum_param, into_response, json_response, limit_param, query_param,
};
use crate::runtime::AppState;
use crate::store::payments::PaymentListing;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use time::OffsetDateTime;

/// The longest period one listing covers.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// `GET /admin/payments`: by member, performance or status (the first one given picks the index; a status
/// with a member or performance filters the page), within `from`..`to` (default: the last 30 days), newest
/// first.
pub async fn admin_list(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            caller(&req)?.require(&[Role::Admin])?;
            let id = |name: &str| -> Result<Option<String>, AppError> {
                query_param(&req, name)
                    .map(|raw| {
                        parse_id(&raw).ok_or_else(|| AppError::invalid(name, "must be an id"))
                    })
                    .transpose()
            };
            let member = id("memberId")?;
            let performance = id("performanceId")?;
            let allowed: Vec<&str> = PaymentStatus::ALL.iter().map(|s| s.as_str()).collect();
            let status = enum_param(&req, "status", PaymentStatus::parse, &allowed)?;
            let now = OffsetDateTime::now_utc();
            let to = instant_param(&req, "to")?.unwrap_or(now);
            let from = instant_param(&req, "from")?.unwrap_or(to - time::Duration::days(30));
            if from > to {
                return Err(AppError::unprocessable("from", "must not be after `to`"));
            }
            if to - from > time::Duration::days(MAX_PERIOD_DAYS) {
                return Err(AppError::unprocessable(
                    "from",
                    format!("a period is at most {MAX_PERIOD_DAYS} days"),
                ));
            }
            let listing = match (&member, &performance, status) {
                (Some(m), _, _) => PaymentListing::Member(m),
                (None, Some(p), _) => PaymentListing::Performance(p),
                (None, None, Some(s)) => PaymentListing::Status(s),
                (None, None, None) => {
                    return Err(AppError::unprocessable(
                        "status",
                        "name a status, memberId or performanceId to list payments by",
                    ))
                }
            };
            let limit = limit_param(&req, 20)?;
            let cursor = cursor_param(&req)?;
            let mut page = state
                .store
                .list_payments(
                    listing,
                    status,
                    (&format_instant(from), &format_instant(to)),
                    limit,
                    cursor.as_deref(),
                )
                .await?;
            page.items.retain(|p| {
                performance
                    .as_ref()
                    .is_none_or(|id| &p.performance_id == id)
            });
            Ok(json_response(StatusCode::OK, &page))
        }
        .await,
    )
}

/// `GET /admin/payment-provider`: the card provider's circuit breaker and its window of recent calls.
pub async fn provider(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            caller(&req)?.require(&[Role::Admin])?;
            let status = crate::app::payment_provider::status(&state).await?;
            Ok(json_response(StatusCode::OK, &status))
        }
        .await,
    )
}
