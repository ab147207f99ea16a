//! One async function per API route. Each takes the shared state and the request and always returns a
//! response: errors become problem documents in [`crate::http::into_response`], nowhere else.

pub mod authorizer;
pub mod cancellations;
pub mod health;
pub mod members;
pub mod payments;
pub mod performances;
pub mod reservations;
pub mod settlements;
pub mod showtimes;
pub mod views;
pub mod waiting_room;
pub mod wallet;

use crate::auth::Caller;
use crate::domain::ids::parse_id;
use crate::domain::member::Role;
use crate::error::AppError;
use crate::http::path_param;
use crate::runtime::AppState;
use lambda_http::http::{header, HeaderValue};
use lambda_http::{Body, Request, Response};

/// The longest `Prefer: wait=N` honoured, in seconds.
pub const PREFER_WAIT_MAX: u64 = 10;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// With an `Idempotency-Key` header, the id of the thing a create makes is derived from the caller, the kind
/// of thing and the key, so a retried create finds what its first attempt made instead of making another.
pub(crate) fn idempotent_id(
    req: &Request,
    caller: &Caller,
    kind: &str,
) -> Result<Option<String>, AppError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default();
    crate::domain::rules::IDEMPOTENCY_KEY
        .check("Idempotency-Key", key)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let name = format!("ticketing:{kind}:{}:{key}", caller.member_id);
    Ok(Some(
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string(),
    ))
}

// Edge helpers the handlers share: what a request names (path ids, the signed-in viewer of a public read,
// `Prefer`, query instants) and how an answer points at what it made. No handler imports another.

/// The id named in the path, or 404 when it cannot be one of ours.
pub(crate) fn performance_id(req: &Request) -> Result<String, AppError> {
    let raw = path_param(req, "performanceId")?;
    parse_id(&raw).ok_or_else(|| crate::app::performances::not_found(&raw))
}

/// The signed-in viewer of a public read, when the request carries a bearer token that the authorizer's rule
/// accepts; `None` for an anonymous request, a token that does not verify, or a function without the key.
/// Public routes have no authorizer, so this is the same check made here, and only when it matters.
pub(crate) async fn viewer(state: &AppState, req: &Request) -> Result<Option<Caller>, AppError> {
    let Some(keys) = &state.keys else {
        return Ok(None);
    };
    let Some(authorization) = req
        .headers()
        .get(lambda_http::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let decision =
        authorizer::decide_authorization(&state.store, keys, Some(authorization)).await?;
    Ok(match decision {
        authorizer::Decision::Allow(ctx) => Role::parse(&ctx.role).map(|role| Caller {
            member_id: ctx.member_id,
            role,
        }),
        authorizer::Decision::Deny(_) => None,
    })
}

/// The performance of the path as this request's reader may see it ([`crate::app::performances::visible_performance`]).
pub(crate) async fn visible_performance(
    state: &crate::runtime::AppState,
    req: &Request,
    id: &str,
) -> Result<crate::domain::performance::Performance, AppError> {
    crate::app::performances::visible_performance(state, id, || viewer(state, req)).await
}

/// `Prefer: wait=N` (RFC 7240), capped at [`PREFER_WAIT_MAX`]; any other preference or value is ignored, as the
/// RFC asks.
pub fn prefer_wait(req: &Request) -> Option<u64> {
    let raw = req.headers().get("prefer")?.to_str().ok()?;
    raw.split([',', ';'])
        .filter_map(|p| p.trim().strip_prefix("wait="))
        .find_map(|n| n.trim().parse::<u64>().ok())
        .map(|n| n.min(PREFER_WAIT_MAX))
}

/// `response` with `Location: /reservations/{id}` and, when the client asked to wait, `Preference-Applied`.
pub(crate) fn located(mut response: Response<Body>, id: &str, wait: Option<u64>) -> Response<Body> {
    if let Ok(location) = HeaderValue::from_str(&format!("/reservations/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if let Some(seconds) = wait {
        if let Ok(applied) = HeaderValue::from_str(&format!("wait={seconds}")) {
            response.headers_mut().insert("preference-applied", applied);
        }
    }
    response
}

/// The reservation named in the path as `caller` may act on it ([`crate::app::reservations::own_reservation`]).
pub(crate) async fn own_reservation(
    state: &AppState,
    req: &Request,
    caller: &Caller,
) -> Result<crate::domain::reservation::Reservation, AppError> {
    let raw = path_param(req, "reservationId")?;
    let id = parse_id(&raw).ok_or_else(|| AppError::NotFound {
        entity: "reservation",
        id: raw.clone(),
    })?;
    crate::app::reservations::own_reservation(state, &id, caller).await
}

/// The showtime named in the path, of performance `performance_id` ([`crate::app::showtimes::showtime_of`]).
pub(crate) async fn path_showtime(
    state: &AppState,
    req: &Request,
    performance_id: &str,
) -> Result<crate::domain::showtime::Showtime, AppError> {
    let id = path_showtime_id(req)?;
    crate::app::showtimes::showtime_of(state, performance_id, &id).await
}

/// The path's `showtimeId` (404 when it cannot be one).
pub(crate) fn path_showtime_id(req: &Request) -> Result<String, AppError> {
    let raw = path_param(req, "showtimeId")?;
    parse_id(&raw).ok_or(AppError::NotFound {
        entity: "showtime",
        id: raw,
    })
}

pub(crate) fn instant_param(
    req: &Request,
    name: &str,
) -> Result<Option<time::OffsetDateTime>, AppError> {
    crate::http::query_param(req, name)
        .map(|raw| {
            crate::domain::performance::parse_instant(&raw)
                .ok_or_else(|| AppError::invalid(name, "must be an RFC 3339 date-time"))
        })
        .transpose()
}
