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

use crate::app::cancellations::{begin, new_cancellation, quote_for};
use crate::auth::{caller, Caller};
use crate::domain::events::hold_cancelled_event;
use crate::domain::ids::new_id;
use crate::domain::refund::{Canceller, Quote};
use crate::domain::reservation::{
    Actor, Cancellation, CancellationStatus, Change, Reservation, ReservationStatus,
    ReservationView, ReservedSeat,
};
use crate::domain::seat::{validate_seat_selection, SeatId, MAX_SEATS_PER_HOLD};
use crate::error::{AppError, FieldError};
use crate::events::{Event, EventType};
use crate::http::{into_response, json_response, parse_json, query_param};
use crate::runtime::AppState;
use crate::store::StoreError;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use tracing::Instrument;

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

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "reservation",
        id: id.to_string(),
    }
}

/// Who is acting, and the rules that follow: an admin on someone else's reservation must say why; only
/// admins waive fees.
fn actor(
    caller: &Caller,
    r: &Reservation,
    reason: &Option<String>,
    waive_fee: bool,
) -> Result<(Actor, Canceller), AppError> {
    if let Some(reason) = reason {
        crate::domain::rules::REASON
            .check("reason", reason)
            .map_err(|e| AppError::Validation(vec![e]))?;
    }
    if caller.is_admin() {
        if r.member_id != caller.member_id && reason.is_none() {
            return Err(AppError::unprocessable(
                "reason",
                "an admin changing someone else's reservation must give a reason",
            ));
        }
        return Ok((Actor::Admin, Canceller::Admin { waive_fee }));
    }
    if waive_fee {
        return Err(AppError::Forbidden(
            "only an admin may waive the fee".into(),
        ));
    }
    Ok((Actor::Buyer, Canceller::Buyer))
}

fn change(caller: &Caller, actor: Actor, action: &str, reason: Option<String>) -> Change {
    Change {
        at: crate::domain::performance::format_instant(OffsetDateTime::now_utc()),
        by: caller.member_id.clone(),
        actor,
        action: action.to_string(),
        reason,
    }
}

/// The quote for `seats` of `r` now, or the refusal as a 409 naming why.
async fn quote_now(
    state: &AppState,
    r: &Reservation,
    seats: &[ReservedSeat],
    who: Canceller,
) -> Result<Quote, AppError> {
    let showtime = state
        .store
        .get_showtime(&r.showtime_id)
        .await?
        .ok_or_else(|| AppError::Corrupt(format!("showtime {} is gone", r.showtime_id)))?;
    let performance = state
        .store
        .get_performance(&r.performance_id)
        .await?
        .ok_or_else(|| AppError::Corrupt(format!("performance {} is gone", r.performance_id)))?;
    quote_for(
        r,
        &performance,
        &showtime,
        seats,
        who,
        OffsetDateTime::now_utc(),
    )
    .map_err(|refusal| AppError::Conflict(refusal.to_string()))
}

/// Why a reservation in `status` cannot be cancelled with a refund (nothing to do for HELD: the caller
/// releases it).
fn not_cancellable(r: &Reservation, now: i64) -> AppError {
    match r.effective_status(now) {
        ReservationStatus::Cancelled => {
            AppError::Conflict(format!("reservation {} is cancelled already", r.id))
        }
        status => AppError::Conflict(format!(
            "reservation {} is {status}: there is nothing to cancel",
            r.id
        )),
    }
}

/// Waits up to `seconds` (the client's `Prefer: wait`) for cancellation `id` to leave PENDING.
async fn wait_for_cancellation(
    state: &AppState,
    reservation_id: &str,
    id: &str,
    seconds: u64,
) -> Result<Option<Reservation>, AppError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(r) = state.store.get_reservation(reservation_id).await? {
            if r.pending_cancellation.as_ref().is_none_or(|p| p.id != id) {
                return Ok(Some(r));
            }
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
}

/// Begins the cancellation of `seats` (all remaining when `None`) of a CONFIRMED reservation, starts its
/// saga, and answers 200 with the outcome if it comes within `Prefer: wait`, else 202.
/// What a cancellation asks for: which seats (all remaining when `None`), why, and (admins) a waived fee.
struct Ask<'a> {
    seats: Option<&'a [SeatId]>,
    reason: Option<String>,
    waive_fee: bool,
}

async fn cancel_confirmed(
    routes: &CancelRouteState,
    req: &Request,
    caller: &Caller,
    r: Reservation,
    ask: Ask<'_>,
    id: String,
) -> Result<Response<Body>, AppError> {
    let Ask {
        seats,
        reason,
        waive_fee,
    } = ask;
    let state = &routes.app;
    let (actor, who) = actor(caller, &r, &reason, waive_fee)?;
    // A retried request (same Idempotency-Key) finds its cancellation.
    if let Some(existing) = r
        .pending_cancellation
        .iter()
        .chain(r.cancellations.iter())
        .find(|c| c.id == id)
        .cloned()
    {
        if existing.status == CancellationStatus::Pending {
            // Its first request may have died before it started the saga: make sure it runs.
            crate::app::resume::resume(&state.store, &routes.saga, &r.id).await?;
        }
        return answer(routes, req, r, existing).await;
    }
    if let Err(e) = r.can_begin_cancellation() {
        return Err(match e {
            crate::domain::reservation::CancelError::NotConfirmed(_) => {
                not_cancellable(&r, OffsetDateTime::now_utc().unix_timestamp())
            }
            crate::domain::reservation::CancelError::InProgress(id) => {
                stalled(routes, &r.id, &id).await?
            }
            other => AppError::Conflict(other.to_string()),
        });
    }
    let chosen = r
        .seats_to_cancel(seats)
        .map_err(|e| AppError::Validation(vec![FieldError::rule("seats", e.to_string())]))?;
    let whole = chosen.len() == r.seats.len();
    let quote = quote_now(state, &r, &chosen, who).await?;
    let now = OffsetDateTime::now_utc();
    let c = new_cancellation(
        id,
        chosen,
        whole,
        quote,
        (&caller.member_id, actor),
        reason.clone(),
        now,
    );
    let span = tracing::info_span!("cancel", correlation_id = %r.id, cancellation_id = %c.id);
    let begun = begin(
        &state.store,
        &r,
        &c,
        change(caller, actor, "CANCELLATION_REQUESTED", reason),
    )
    .instrument(span.clone())
    .await?;
    // Test stacks: the request dies between its write and the saga's start.
    crate::faults::api_crash_point(&state.store, &r.id, "cancel@written").await;
    routes
        .saga
        .start_cancellation(&begun.id, &c)
        .instrument(span)
        .await?;
    answer(routes, req, begun, c).await
}

/// The answer to a cancel that finds cancellation `id` pending: 409 either way, once the pending one is sure
/// to be running (a stalled run is resumed here, so that no reservation stays blocked by it).
async fn stalled(
    routes: &CancelRouteState,
    reservation_id: &str,
    id: &str,
) -> Result<AppError, AppError> {
    use crate::app::resume::Resumed;
    let why = match crate::app::resume::resume(&routes.app.store, &routes.saga, reservation_id).await? {
        Resumed::Nothing => format!(
            "cancellation {id} of this reservation finished meanwhile; look at the reservation again"
        ),
        Resumed::Started(_) | Resumed::Restarted(_) => format!(
            "cancellation {id} of this reservation had stalled and has been resumed; look at the reservation again shortly"
        ),
        Resumed::UnderWay | Resumed::OwnedBySweep => {
            format!("cancellation {id} of this reservation is still under way")
        }
    };
    Ok(AppError::Conflict(why))
}

async fn answer(
    routes: &CancelRouteState,
    req: &Request,
    r: Reservation,
    c: Cancellation,
) -> Result<Response<Body>, AppError> {
    let wait = super::prefer_wait(req);
    let done = match wait {
        Some(seconds)
            if seconds > 0
                && r.pending_cancellation
                    .as_ref()
                    .is_some_and(|p| p.id == c.id) =>
        {
            wait_for_cancellation(&routes.app, &r.id, &c.id, seconds).await?
        }
        _ if r
            .pending_cancellation
            .as_ref()
            .is_some_and(|p| p.id == c.id) =>
        {
            None
        }
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

/// Releases a HELD reservation as CANCELLED (nothing was paid; a payment under way finds the hold gone and
/// refunds itself). `Ok(None)` when it turned CONFIRMED meanwhile: then it is cancelled with a refund.
async fn release_hold(
    routes: &CancelRouteState,
    caller: &Caller,
    r: &Reservation,
    reason: Option<String>,
    actor: Actor,
) -> Result<Option<Reservation>, AppError> {
    let state = &routes.app;
    let why = match actor {
        Actor::Admin => "cancelled_by_admin",
        _ => "cancelled_by_buyer",
    };
    let span = tracing::info_span!("cancel_hold", correlation_id = %r.id);
    let released = match state
        .store
        .release_hold(
            r,
            ReservationStatus::Cancelled,
            Some(why),
            Some(&change(caller, actor, "HOLD_CANCELLED", reason)),
            None,
            &|next| vec![hold_cancelled_event(next)],
        )
        .instrument(span.clone())
        .await
    {
        Ok(released) => released,
        Err(StoreError::Conflict(_)) => {
            let now = state.store.get_reservation(&r.id).await?;
            if now
                .as_ref()
                .is_some_and(|n| n.status == ReservationStatus::Confirmed)
            {
                return Ok(None);
            }
            return Err(AppError::Busy(format!(
                "reservation {} is being changed by another request; try again",
                r.id
            )));
        }
        Err(e) => return Err(e.into()),
    };
    if released.status != ReservationStatus::Cancelled {
        return Err(not_cancellable(
            &released,
            OffsetDateTime::now_utc().unix_timestamp(),
        ));
    }
    if let Some(token) = state.store.payment_task(&released.id).await? {
        routes.saga.end_wait(&token).instrument(span).await?;
    }
    Ok(Some(released))
}

/// `DELETE /reservations/{reservationId}`: a hold is released (200); a confirmed reservation is cancelled
/// whole and refunded per the schedule (200 once done within `Prefer: wait`, else 202).
pub async fn cancel(routes: CancelRouteState, req: Request) -> Response<Body> {
    into_response(
        async {
            let state = &routes.app;
            let caller = caller(&req)?;
            // The body is optional: none, or JSON `null`, is no reason and no waiver.
            let body: CancelRequest = if has_body(&req) {
                parse_json::<Option<CancelRequest>>(&req)?.unwrap_or_default()
            } else {
                CancelRequest::default()
            };
            let idempotent = super::idempotent_id(&req, &caller, "cancellation")?;
            let mut r = super::own_reservation(state, &req, &caller).await?;
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let (actor_kind, _) = actor(&caller, &r, &body.reason, body.waive_fee)?;
            if r.effective_status(now) == ReservationStatus::Held {
                match release_hold(&routes, &caller, &r, body.reason.clone(), actor_kind).await? {
                    Some(released) => {
                        return Ok(json_response(
                            StatusCode::OK,
                            &CancellationResult {
                                reservation: released.view(now),
                                cancellation: None,
                            },
                        ))
                    }
                    None => {
                        r = state
                            .store
                            .get_reservation(&r.id)
                            .await?
                            .ok_or_else(|| not_found(&r.id))?;
                    }
                }
            }
            let id = idempotent.unwrap_or_else(new_id);
            cancel_confirmed(
                &routes,
                &req,
                &caller,
                r,
                Ask {
                    seats: None,
                    reason: body.reason,
                    waive_fee: body.waive_fee,
                },
                id,
            )
            .await
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
            let state = &routes.app;
            let caller = caller(&req)?;
            let idempotent = super::idempotent_id(&req, &caller, "cancellation")?;
            let body: CancelSeatsRequest = parse_json(&req)?;
            let seats = unique_seats(&body.seats, true)?;
            let r = super::own_reservation(state, &req, &caller).await?;
            let now = OffsetDateTime::now_utc().unix_timestamp();
            if r.effective_status(now) == ReservationStatus::Held {
                return Err(AppError::Conflict(format!(
                    "reservation {} is HELD, not paid: change its seats with PUT, or give the hold up with DELETE",
                    r.id
                )));
            }
            let id = idempotent.unwrap_or_else(new_id);
            cancel_confirmed(
                &routes,
                &req,
                &caller,
                r,
                Ask {
                    seats: Some(&seats),
                    reason: body.reason,
                    waive_fee: body.waive_fee,
                },
                id,
            )
            .await
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
            let now = OffsetDateTime::now_utc().unix_timestamp();
            if r.effective_status(now) != ReservationStatus::Confirmed {
                return Err(match r.effective_status(now) {
                    ReservationStatus::Held => AppError::Conflict(format!(
                        "reservation {} is HELD: nothing was paid, and giving the hold up costs nothing",
                        r.id
                    )),
                    _ => not_cancellable(&r, now),
                });
            }
            let (_, who) = actor(&caller, &r, &Some("quote".into()), waive)?;
            let chosen = r.seats_to_cancel(seats.as_deref()).map_err(|e| {
                AppError::Validation(vec![FieldError::rule("seats", e.to_string())])
            })?;
            let quote = quote_now(&state, &r, &chosen, who).await?;
            Ok(json_response(
                StatusCode::OK,
                &CancellationQuote {
                    reservation_id: r.id,
                    seats: chosen,
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
            let (actor_kind, _) = actor(&caller, &r, &body.reason, false)?;
            let now = OffsetDateTime::now_utc();
            match r.effective_status(now.unix_timestamp()) {
                ReservationStatus::Held => {}
                ReservationStatus::Confirmed => {
                    return Err(AppError::Conflict(format!(
                        "reservation {} is paid: cancel it (or some seats) and book the new seats",
                        r.id
                    )))
                }
                status => {
                    return Err(AppError::Conflict(format!(
                        "reservation {} is {status}: there is no hold to change",
                        r.id
                    )))
                }
            }
            if state.store.get_payment(&r.id).await?.is_some() {
                return Err(AppError::Conflict(format!(
                    "reservation {} is being paid: its seats can no longer change",
                    r.id
                )));
            }
            let showtime = state
                .store
                .get_showtime(&r.showtime_id)
                .await?
                .ok_or_else(|| AppError::Corrupt(format!("showtime {} is gone", r.showtime_id)))?;
            showtime.accepts_holds(now).map_err(|refusal| {
                AppError::Conflict(format!("showtime {}: {refusal}", showtime.id))
            })?;
            let seats = validate_seat_selection(
                &body.seats,
                &showtime.details.seat_map,
                MAX_SEATS_PER_HOLD,
            )
            .map_err(AppError::Validation)?;
            let mut next = r
                .with_seats(&showtime, &seats, now)
                .map_err(|e| AppError::Corrupt(format!("pricing a validated selection: {e}")))?;
            next.changes
                .push(change(&caller, actor_kind, "SEATS_CHANGED", body.reason));
            let span = tracing::info_span!("change_seats", correlation_id = %r.id);
            let changed_event = Event::keyed(
                EventType::ReservationChanged,
                &next.id,
                &next.version.to_string(),
                &next.member_id,
                &next.updated_at,
                json!({"reservation": crate::domain::events::reservation_summary(&next), "previousSeats": r.seats}),
            );
            match state
                .store
                .change_hold(&r, &next, now.unix_timestamp(), &[changed_event])
                .instrument(span)
                .await?
            {
                crate::store::seats::HoldOutcome::Held(changed) => Ok(json_response(
                    StatusCode::OK,
                    &changed.view(now.unix_timestamp()),
                )),
                crate::store::seats::HoldOutcome::Unavailable(taken) => {
                    Err(AppError::SeatsUnavailable(taken))
                }
            }
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
