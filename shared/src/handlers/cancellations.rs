//! Cancelling and changing reservations.
//!
//! | route | who |
//! |---|---|
//! | `DELETE /reservations/{reservationId}` | its buyer, or an ADMIN (with a reason; may waive the fee): a hold is released, a confirmed reservation cancelled and refunded per the schedule |
//! | `POST /reservations/{reservationId}/cancellations` | same: some seats of a confirmed reservation |
//! | `GET /reservations/{reservationId}/cancellation-quote?seats=` | same: what cancelling (some seats) would cost now |
//! | `PUT /reservations/{reservationId}` | same: other seats for a HELD reservation, in one transaction |
//!
//! The quote a cancellation refunds is taken when it is asked for, from the same rule the quote route shows
//! ([`crate::app::cancellations::quote_for`]), and kept on the reservation; the cancellation saga refunds exactly
//! that.

use crate::app::cancellations::{self as cancellations, Ask, Cancelled};
use crate::auth::caller;
use crate::domain::ids::new_id;
use crate::domain::refund::Quote;
use crate::domain::reservation::{Cancellation, Reservation, ReservationView, ReservedSeat};
use crate::domain::seat::{SeatId, MAX_SEATS_PER_HOLD};
use crate::error::AppError;
#[cfg(test)]
use crate::error::FieldError;
use crate::http::{into_response, json_response, parse_json, query_param};
use crate::runtime::AppState;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::runtime::CancelRouteState;

/// `DELETE /reservations/{reservationId}` body (optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Why; required of an admin cancelling someone else's reservation, and recorded.
    #[serde(default)]
    #[schema(schema_with = crate::domain::rules::reason_schema)]
    pub reason: Option<String>,
    /// Admins only: refund in full, whatever the schedule says.
    #[serde(default)]
    pub waive_fee: bool,
}

/// `POST /reservations/{reservationId}/cancellations` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelSeatsRequest {
    /// 1 to 10 seats of the reservation, each once.
    #[schema(schema_with = seats_schema)]
    pub seats: Vec<SeatId>,
    #[serde(default)]
    #[schema(schema_with = crate::domain::rules::reason_schema)]
    pub reason: Option<String>,
    #[serde(default)]
    pub waive_fee: bool,
}

/// `PUT /reservations/{reservationId}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeSeatsRequest {
    /// The seats the hold should have instead: 1 to 10, each once, on the showtime's map.
    #[schema(schema_with = seats_schema)]
    pub seats: Vec<SeatId>,
    #[serde(default)]
    #[schema(schema_with = crate::domain::rules::reason_schema)]
    pub reason: Option<String>,
}

fn seats_schema() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name("SeatId"))
        .min_items(Some(1))
        .max_items(Some(MAX_SEATS_PER_HOLD))
        .unique_items(true)
        .build()
}

/// A cancellation begun or done, with the reservation as it now stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationResult {
    pub reservation: ReservationView,
    /// Absent when a hold was released (nothing was paid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Cancellation>,
}

/// What cancelling would cost now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationQuote {
    pub reservation_id: String,
    pub seats: Vec<ReservedSeat>,
    #[serde(flatten)]
    pub quote: Quote,
}

/// The answer to a cancellation begun (or found, for a repeat of its key): 200 with the outcome once it is
/// done, waiting for it up to the client's `Prefer: wait`; else 202 with it pending.
async fn answer(
    routes: &CancelRouteState,
    req: &Request,
    r: Reservation,
    c: Cancellation,
) -> Result<Response<Body>, AppError> {
    let wait = super::prefer_wait(req);
    let pending = r
        .pending_cancellation
        .as_ref()
        .is_some_and(|p| p.id == c.id);
    let done = match wait {
        Some(seconds) if seconds > 0 && pending => {
            cancellations::wait_until_done(&routes.app.store, &r.id, &c.id, seconds).await?
        }
        _ if pending => None,
        _ => Some(r.clone()),
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (status, body) = match done {
        Some(after) => {
            let finished = after
                .cancellations
                .iter()
                .find(|x| x.id == c.id)
                .cloned()
                .unwrap_or(c);
            (
                StatusCode::OK,
                CancellationResult {
                    reservation: after.view(now),
                    cancellation: Some(finished),
                },
            )
        }
        None => (
            StatusCode::ACCEPTED,
            CancellationResult {
                reservation: r.clone().view(now),
                cancellation: Some(c),
            },
        ),
    };
    Ok(super::located(json_response(status, &body), &r.id, wait))
}

/// `DELETE /reservations/{reservationId}`: a hold is released (200); a confirmed reservation is cancelled
/// whole and refunded per the schedule (200 once done within `Prefer: wait`, else 202).
pub async fn cancel(routes: CancelRouteState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            // The body is optional: none, or JSON `null`, is no reason and no waiver.
            let body: CancelRequest = if has_body(&req) {
                parse_json::<Option<CancelRequest>>(&req)?.unwrap_or_default()
            } else {
                CancelRequest::default()
            };
            let idempotent = super::idempotent_id(&req, &caller, "cancellation")?;
            let r = super::own_reservation(&routes.app, &req, &caller).await?;
            let ask = Ask {
                seats: None,
                reason: body.reason,
                waive_fee: body.waive_fee,
            };
            let id = idempotent.unwrap_or_else(new_id);
            match cancellations::cancel(&routes, &caller, r, ask, id).await? {
                Cancelled::Released(released) => Ok(json_response(
                    StatusCode::OK,
                    &CancellationResult {
                        reservation: released.view(OffsetDateTime::now_utc().unix_timestamp()),
                        cancellation: None,
                    },
                )),
                Cancelled::Begun(r, c) => answer(&routes, &req, r, c).await,
            }
        }
        .await,
    )
}

fn has_body(req: &Request) -> bool {
    match req.body() {
        Body::Empty => false,
        Body::Text(t) => !t.trim().is_empty(),
        Body::Binary(b) => !b.iter().all(u8::is_ascii_whitespace),
        _ => false,
    }
}

/// `POST /reservations/{reservationId}/cancellations`: cancels some seats of a confirmed reservation; the
/// payment becomes PART_CANCELED with the refunded amount (CANCELED when no seat is left).
pub async fn cancel_seats(routes: CancelRouteState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let idempotent = super::idempotent_id(&req, &caller, "cancellation")?;
            let body: CancelSeatsRequest = parse_json(&req)?;
            let seats = unique_seats(&body.seats, true)?;
            let r = super::own_reservation(&routes.app, &req, &caller).await?;
            let ask = Ask {
                seats: Some(&seats),
                reason: body.reason,
                waive_fee: body.waive_fee,
            };
            let id = idempotent.unwrap_or_else(new_id);
            let (r, c) = cancellations::cancel_seats(&routes, &caller, r, ask, id).await?;
            answer(&routes, &req, r, c).await
        }
        .await,
    )
}

/// The seats sorted, or why not: a count out of range is always a breach of the document (400); a seat listed
/// twice is one where the document says `uniqueItems` (a JSON body), and a rule beyond it (422) where it cannot
/// (the `seats` query string, whose pattern cannot state uniqueness).
fn unique_seats(seats: &[SeatId], repeats_stated: bool) -> Result<Vec<SeatId>, AppError> {
    if seats.is_empty() || seats.len() > MAX_SEATS_PER_HOLD {
        return Err(AppError::invalid(
            "seats",
            format!("must list 1 to {MAX_SEATS_PER_HOLD} seats"),
        ));
    }
    let mut sorted = seats.to_vec();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        let message = "must list each seat once";
        return Err(if repeats_stated {
            AppError::invalid("seats", message)
        } else {
            AppError::unprocessable("seats", message)
        });
    }
    Ok(sorted)
}

/// `seats=1-1,1-2` as seat ids.
fn seats_query(req: &Request) -> Result<Option<Vec<SeatId>>, AppError> {
    let Some(raw) = query_param(req, "seats") else {
        return Ok(None);
    };
    let bad = || {
        AppError::invalid(
            "seats",
            "must be seats as row-col, comma-separated (1-1,1-2)",
        )
    };
    let mut seats = Vec::new();
    for part in raw.split(',') {
        let (row, col) = part.trim().split_once('-').ok_or_else(bad)?;
        let row: u16 = row.parse().map_err(|_| bad())?;
        let col: u16 = col.parse().map_err(|_| bad())?;
        if row == 0 || col == 0 {
            return Err(bad());
        }
        seats.push(SeatId::new(row, col));
    }
    unique_seats(&seats, false).map(Some)
}

/// `GET /reservations/{reservationId}/cancellation-quote?seats=`: the fee and refund of cancelling now (all
/// remaining seats, or those named).
pub async fn quote(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let seats = seats_query(&req)?;
            let waive = match query_param(&req, "waiveFee").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => return Err(AppError::invalid("waiveFee", "must be true or false")),
            };
            let r = super::own_reservation(&state, &req, &caller).await?;
            let (seats, quote) = cancellations::quote_cancellation(
                &state.store,
                &caller,
                &r,
                seats.as_deref(),
                waive,
            )
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &CancellationQuote {
                    reservation_id: r.id,
                    seats,
                    quote,
                },
            ))
        }
        .await,
    )
}

/// `PUT /reservations/{reservationId}`: other seats for a HELD reservation. The new seats are held and the
/// old ones released in one transaction (never both, never neither), the price is recomputed and the hold
/// keeps its expiry. A paid reservation is not changed: cancel it and book again.
pub async fn change_seats(routes: CancelRouteState, req: Request) -> Response<Body> {
    into_response(
        async {
            let state = &routes.app;
            let caller = caller(&req)?;
            let body: ChangeSeatsRequest = parse_json(&req)?;
            let r = super::own_reservation(state, &req, &caller).await?;
            let changed =
                crate::app::changes::change_seats(state, &caller, &r, &body.seats, body.reason)
                    .await?;
            Ok(json_response(
                StatusCode::OK,
                &changed.view(OffsetDateTime::now_utc().unix_timestamp()),
            ))
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;
    use std::collections::HashMap;

    fn quote_request(seats: &str) -> Request {
        Request::default()
            .with_query_string_parameters(HashMap::from([("seats".to_owned(), seats.to_owned())]))
    }

    fn fields(err: AppError) -> Vec<FieldError> {
        match err {
            AppError::Validation(errors) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn quote_seats_are_sorted_and_a_repeat_is_a_rule_beyond_the_pattern() {
        let seats = seats_query(&quote_request("2-3,1-4")).unwrap().unwrap();
        assert_eq!(seats, vec![SeatId::new(1, 4), SeatId::new(2, 3)]);
        // The pattern admits `7-3,7-3`: uniqueness is a 422, not a breach of the document.
        let errors = fields(seats_query(&quote_request("916-708,7-3409,7-3409")).unwrap_err());
        assert!(AppError::is_rule_violation(&errors), "{errors:?}");
        assert_eq!(errors[0].field, "seats");
        // What the pattern refuses stays a 400.
        for bad in ["1-0", "x", "1-1,"] {
            let errors = fields(seats_query(&quote_request(bad)).unwrap_err());
            assert!(!AppError::is_rule_violation(&errors), "{bad}: {errors:?}");
        }
    }

    #[test]
    fn a_body_repeat_breaks_the_documents_unique_items() {
        let errors =
            fields(unique_seats(&[SeatId::new(1, 1), SeatId::new(1, 1)], true).unwrap_err());
        assert!(!AppError::is_rule_violation(&errors), "{errors:?}");
    }
}
