//! Cancelling a confirmed reservation, before the machine runs: the quote, taken at the moment of asking, and
//! the pending cancellation kept on the reservation (one conditional write, so two cancels racing leave one).
//! The cancellation machine (`saga::cancellation`) then refunds exactly that quote.

use crate::domain::performance::{format_instant, parse_instant, Performance};
use crate::domain::refund::{quote, CancelRefusal, Canceller, Quote, QuoteInput};
use crate::domain::reservation::{
    Actor, Cancellation, CancellationStatus, Change, Reservation, ReservedSeat,
};
use crate::domain::showtime::Showtime;
use crate::error::AppError;
use crate::store::{Store, StoreError};
use time::OffsetDateTime;

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
