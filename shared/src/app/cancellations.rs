//! Cancelling a confirmed reservation, before the machine runs: the quote, taken at the moment of asking, and
//! the pending cancellation kept on the reservation (one conditional write, so two cancels racing leave one).
//! The cancellation machine (`saga::cancellation`) then refunds exactly that quote.

use crate::auth::Caller;
use crate::domain::events::hold_cancelled_event;
use crate::domain::performance::{format_instant, parse_instant, Performance};
use crate::domain::refund::{quote, CancelRefusal, Canceller, Quote, QuoteInput};
use crate::domain::reservation::{
    Actor, CancelError, Cancellation, CancellationStatus, Change, Reservation, ReservationStatus,
    ReservedSeat,
};
use crate::domain::seat::SeatId;
use crate::domain::showtime::Showtime;
use crate::error::{AppError, FieldError};
use crate::runtime::CancelRouteState;
use crate::store::{Store, StoreError};
use time::OffsetDateTime;
use tracing::Instrument;

/// The quote for cancelling `seats` of `r` at `now` by `who`, from its performance's schedule and its
/// showtime's change window.
pub fn quote_for(
    r: &Reservation,
    performance: &Performance,
    showtime: &Showtime,
    seats: &[ReservedSeat],
    who: Canceller,
    now: OffsetDateTime,
) -> Result<Quote, CancelRefusal> {
    let booked_at = parse_instant(&r.created_at).unwrap_or(now);
    quote(
        QuoteInput {
            policy: &performance.details.refund_policy,
            starts_at: showtime.details.starts_at,
            booked_at,
            changed: showtime.change_window(),
            amount: seats.iter().map(|s| s.price).sum(),
        },
        who,
        now,
    )
}

/// What a cancellation asks for: which seats (all remaining when `None`), why, and (admins) a waived fee.
pub struct Ask<'a> {
    pub seats: Option<&'a [SeatId]>,
    pub reason: Option<String>,
    pub waive_fee: bool,
}

/// What `DELETE /reservations/{id}` came to (answered once per request, never kept: its size is no cost).
#[allow(clippy::large_enum_variant)]
pub enum Cancelled {
    /// A hold, released: nothing was paid.
    Released(Reservation),
    /// A confirmed reservation whose cancellation `.1` has begun (or, for a repeat of the same key, the
    /// cancellation it began then), with the reservation as it stands.
    Begun(Reservation, Cancellation),
}

/// Cancels `r` whole as `caller` asks: a hold is released; a confirmed reservation is cancelled and refunded
/// per the schedule (its cancellation `id`, the request's key or a new one).
pub async fn cancel(
    routes: &CancelRouteState,
    caller: &Caller,
    mut r: Reservation,
    ask: Ask<'_>,
    id: String,
) -> Result<Cancelled, AppError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (actor_kind, _) = actor(caller, &r, &ask.reason, ask.waive_fee)?;
    if r.effective_status(now) == ReservationStatus::Held {
        match release_hold(routes, caller, &r, ask.reason.clone(), actor_kind).await? {
            Some(released) => return Ok(Cancelled::Released(released)),
            // It turned CONFIRMED meanwhile: cancelled with a refund.
            None => {
                r = routes
                    .app
                    .store
                    .get_reservation(&r.id)
                    .await?
                    .ok_or_else(|| not_found(&r.id))?;
            }
        }
    }
    let (r, c) = cancel_confirmed(routes, caller, r, ask, id).await?;
    Ok(Cancelled::Begun(r, c))
}

/// Cancels some seats of a confirmed reservation (`ask.seats`); a hold is refused (change it, or give it up).
pub async fn cancel_seats(
    routes: &CancelRouteState,
    caller: &Caller,
    r: Reservation,
    ask: Ask<'_>,
    id: String,
) -> Result<(Reservation, Cancellation), AppError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if r.effective_status(now) == ReservationStatus::Held {
        return Err(AppError::Conflict(format!(
            "reservation {} is HELD, not paid: change its seats with PUT, or give the hold up with DELETE",
            r.id
        )));
    }
    cancel_confirmed(routes, caller, r, ask, id).await
}

/// What cancelling `seats` of `r` (all remaining when `None`) would cost now, with the seats it would be.
pub async fn quote_cancellation(
    store: &Store,
    caller: &Caller,
    r: &Reservation,
    seats: Option<&[SeatId]>,
    waive_fee: bool,
) -> Result<(Vec<ReservedSeat>, Quote), AppError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if r.effective_status(now) != ReservationStatus::Confirmed {
        return Err(match r.effective_status(now) {
            ReservationStatus::Held => AppError::Conflict(format!(
                "reservation {} is HELD: nothing was paid, and giving the hold up costs nothing",
                r.id
            )),
            _ => not_cancellable(r, now),
        });
    }
    let (_, who) = actor(caller, r, &Some("quote".into()), waive_fee)?;
    let chosen = r
        .seats_to_cancel(seats)
        .map_err(|e| AppError::Validation(vec![FieldError::rule("seats", e.to_string())]))?;
    let quote = quote_now(store, r, &chosen, who).await?;
    Ok((chosen, quote))
}

/// Begins the cancellation of `ask.seats` (all remaining when `None`) of a CONFIRMED reservation and starts
/// its saga: the reservation as it stands and the cancellation (pending, or done for a repeat of its key).
async fn cancel_confirmed(
    routes: &CancelRouteState,
    caller: &Caller,
    r: Reservation,
    ask: Ask<'_>,
    id: String,
) -> Result<(Reservation, Cancellation), AppError> {
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
        return Ok((r, existing));
    }
    if let Err(e) = r.can_begin_cancellation() {
        return Err(match e {
            CancelError::NotConfirmed(_) => {
                not_cancellable(&r, OffsetDateTime::now_utc().unix_timestamp())
            }
            CancelError::InProgress(id) => stalled(routes, &r.id, &id).await?,
            other => AppError::Conflict(other.to_string()),
        });
    }
    let chosen = r
        .seats_to_cancel(seats)
        .map_err(|e| AppError::Validation(vec![FieldError::rule("seats", e.to_string())]))?;
    let whole = chosen.len() == r.seats.len();
    let quote = quote_now(&state.store, &r, &chosen, who).await?;
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
    Ok((begun, c))
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "reservation",
        id: id.to_string(),
    }
}

/// Who is acting, and the rules that follow: an admin on someone else's reservation must say why; only
/// admins waive fees.
pub fn actor(
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

pub fn change(caller: &Caller, actor: Actor, action: &str, reason: Option<String>) -> Change {
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
    store: &Store,
    r: &Reservation,
    seats: &[ReservedSeat],
    who: Canceller,
) -> Result<Quote, AppError> {
    let showtime = store
        .get_showtime(&r.showtime_id)
        .await?
        .ok_or_else(|| AppError::Corrupt(format!("showtime {} is gone", r.showtime_id)))?;
    let performance = store
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
pub fn not_cancellable(r: &Reservation, now: i64) -> AppError {
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
pub async fn wait_until_done(
    store: &Store,
    reservation_id: &str,
    id: &str,
    seconds: u64,
) -> Result<Option<Reservation>, AppError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(r) = store.get_reservation(reservation_id).await? {
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

/// Releases a HELD reservation as CANCELLED (nothing was paid; a payment under way finds the hold gone and
/// refunds itself). `Ok(None)` when it turned CONFIRMED meanwhile: then it is cancelled with a refund.
pub async fn release_hold(
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

/// Begins the cancellation of `seats` of a CONFIRMED reservation: keeps `c` as its pending cancellation, if
/// the reservation is still the version read. `Err(Conflict)` when another change won.
pub async fn begin(
    store: &Store,
    r: &Reservation,
    c: &Cancellation,
    change: Change,
) -> Result<Reservation, AppError> {
    r.can_begin_cancellation()
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let mut next = r.clone();
    next.pending_cancellation = Some(c.clone());
    next.changes.push(change);
    next.version += 1;
    next.updated_at = c.requested_at.clone();
    match store.replace_reservation(&next, r.version).await {
        Ok(()) => Ok(next),
        Err(StoreError::Stale { .. }) => Err(AppError::Conflict(format!(
            "reservation {} changed while it was being cancelled; look at it again",
            r.id
        ))),
        Err(e) => Err(e.into()),
    }
}

/// A new pending cancellation.
pub fn new_cancellation(
    id: String,
    seats: Vec<ReservedSeat>,
    whole: bool,
    quote: Quote,
    (by, actor): (&str, Actor),
    reason: Option<String>,
    now: OffsetDateTime,
) -> Cancellation {
    Cancellation {
        id,
        seats,
        whole,
        quote,
        by: by.to_string(),
        actor,
        reason,
        status: CancellationStatus::Pending,
        requested_at: format_instant(now),
        failure_reason: None,
        resumed: 0,
    }
}
