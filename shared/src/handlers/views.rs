//! The routes of the event consumers' data: notifications, my page and the audit log. Each reads one
//! consumer's own items (no join at read time).
//!
//! | route | who |
//! |---|---|
//! | `GET /notifications?limit=&cursor=` | member (their own) |
//! | `POST /notifications/{notificationId}/read` | member (their own) |
//! | `GET /me/reservations?limit=&cursor=` | member |
//! | `GET /me/reservations/{reservationId}` | member |
//! | `GET /admin/audit?reservationId=&memberId=&from=&to=&limit=&cursor=` | ADMIN |

use super::instant_param;
use crate::auth::caller;
use crate::domain::ids::parse_id;
use crate::domain::member::Role;
use crate::domain::performance::format_instant;
use crate::error::AppError;
use crate::http::{
    cursor_param, into_response, json_response, limit_param, path_param, query_param,
};
use crate::runtime::AppState;
use crate::store::views::{AuditListing, Notification};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use time::OffsetDateTime;

/// `GET /notifications`: a page, newest first, and how many are unread.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub unread: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /notifications`.
pub async fn list_notifications(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let limit = limit_param(&req, 20)?;
            let cursor = cursor_param(&req)?;
            let (page, unread) = state
                .store
                .list_notifications(&caller.member_id, limit, cursor.as_deref())
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &NotificationPage {
                    items: page.items,
                    unread,
                    next_cursor: page.next_cursor,
                },
            ))
        }
        .await,
    )
}

/// A notification id: an event id (`<id>:<Type>[:<key>]`) or a UUID.
fn notification_id_param(req: &Request) -> Result<String, AppError> {
    let raw = path_param(req, "notificationId")?;
    let ok = !raw.is_empty()
        && raw.len() <= 200
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '_'));
    if ok {
        Ok(raw)
    } else {
        Err(AppError::invalid(
            "notificationId",
            "must be a notification id (letters, digits, '-', ':', '_'; at most 200)",
        ))
    }
}

/// `POST /notifications/{notificationId}/read`: marks it read (again: no change).
pub async fn read_notification(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let id = notification_id_param(&req)?;
            let now = format_instant(OffsetDateTime::now_utc());
            let n = state
                .store
                .read_notification(&caller.member_id, &id, &now)
                .await?
                .ok_or_else(|| AppError::NotFound {
                    entity: "notification",
                    id: id.clone(),
                })?;
            Ok(json_response(StatusCode::OK, &n))
        }
        .await,
    )
}

/// `GET /me/reservations`: the caller's reservations, newest first, with their progress.
pub async fn my_reservations(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let limit = limit_param(&req, 20)?;
            let cursor = cursor_param(&req)?;
            let page = state
                .store
                .list_views(&caller.member_id, limit, cursor.as_deref())
                .await?;
            Ok(json_response(StatusCode::OK, &page))
        }
        .await,
    )
}

/// `GET /me/reservations/{reservationId}`.
pub async fn my_reservation(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let raw = path_param(&req, "reservationId")?;
            let id = parse_id(&raw)
                .ok_or_else(|| AppError::invalid("reservationId", "must be an id"))?;
            let view = state
                .store
                .get_view(&caller.member_id, &id)
                .await?
                .ok_or_else(|| AppError::NotFound {
                    entity: "reservation",
                    id: id.clone(),
                })?;
            Ok(json_response(StatusCode::OK, &view))
        }
        .await,
    )
}

/// `GET /admin/audit`: one reservation's or one member's events within `from`..`to` (default: all time up
/// to now), oldest first.
pub async fn admin_audit(state: AppState, req: Request) -> Response<Body> {
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
            let reservation = id("reservationId")?;
            let member = id("memberId")?;
            let to = instant_param(&req, "to")?.unwrap_or_else(OffsetDateTime::now_utc);
            let from = instant_param(&req, "from")?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
            if from > to {
                return Err(AppError::unprocessable("from", "must not be after `to`"));
            }
            let by = match (&reservation, &member) {
                (Some(r), _) => AuditListing::Reservation(r),
                (None, Some(m)) => AuditListing::Member(m),
                (None, None) => {
                    return Err(AppError::unprocessable(
                        "reservationId",
                        "name a reservationId or a memberId to read the audit log of",
                    ))
                }
            };
            let limit = limit_param(&req, 50)?;
            let cursor = cursor_param(&req)?;
            let mut page = state
                .store
                .list_audit(
                    by,
                    (&format_instant(from), &format_instant(to)),
                    limit,
                    cursor.as_deref(),
                )
                .await?;
            if let (Some(_), Some(m)) = (&reservation, &member) {
                page.items.retain(|e| &e.member_id == m);
            }
            Ok(json_response(StatusCode::OK, &page))
        }
        .await,
    )
}
