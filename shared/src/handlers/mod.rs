//! One async function per API route. Each takes the shared state and the request and always returns a
//! response: errors become problem documents in [`crate::http::into_response`], nowhere else.

pub mod authorizer;
pub mod cancellations;
pub mod fallback;
pub mod health;
pub mod members;
pub mod openapi;
pub mod payments;
pub mod performances;
pub mod reservations;
pub mod showtimes;
pub mod views;
pub mod waiting_room;
pub mod wallet;

use crate::auth::Caller;
use crate::error::AppError;
use lambda_http::Request;

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
