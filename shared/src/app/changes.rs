//! Changing a hold's seats: the new seats held and the old ones released in one transaction (never both,
//! never neither), the price recomputed, the hold's expiry kept. A paid reservation is not changed: it is
//! cancelled (or some of its seats) and booked again.

use crate::app::cancellations::{actor, change};
use crate::auth::Caller;
use crate::domain::events::reservation_summary;
use crate::domain::reservation::{Reservation, ReservationStatus};
use crate::domain::seat::{validate_seat_selection, SeatId, MAX_SEATS_PER_HOLD};
use crate::error::AppError;
use crate::events::{Event, EventType};
use crate::runtime::AppState;
use crate::store::seats::HoldOutcome;
use serde_json::json;
use time::OffsetDateTime;
use tracing::Instrument;

/// Gives the HELD reservation `r` the seats `seats` instead of its own, as `caller` asks (`reason` is
/// recorded; an admin changing someone else's hold must give one): the reservation as changed, or the seats
/// that were taken (409).
pub async fn change_seats(
    state: &AppState,
    caller: &Caller,
    r: &Reservation,
    seats: &[SeatId],
    reason: Option<String>,
) -> Result<Reservation, AppError> {
    let (actor_kind, _) = actor(caller, r, &reason, false)?;
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
    showtime
        .accepts_holds(now)
        .map_err(|refusal| AppError::Conflict(format!("showtime {}: {refusal}", showtime.id)))?;
    let seats = validate_seat_selection(seats, &showtime.details.seat_map, MAX_SEATS_PER_HOLD)
        .map_err(AppError::Validation)?;
    let mut next = r
        .with_seats(&showtime, &seats, now)
        .map_err(|e| AppError::Corrupt(format!("pricing a validated selection: {e}")))?;
    next.changes
        .push(change(caller, actor_kind, "SEATS_CHANGED", reason));
    let span = tracing::info_span!("change_seats", correlation_id = %r.id);
    let changed_event = Event::keyed(
        EventType::ReservationChanged,
        &next.id,
        &next.version.to_string(),
        &next.member_id,
        &next.updated_at,
        json!({"reservation": reservation_summary(&next), "previousSeats": r.seats}),
    );
    let limit = crate::app::holds::performance_of(state, &r.performance_id)
        .await?
        .and_then(|p| p.details.max_tickets_per_member);
    match state
        .store
        .change_hold((r, &next), now.unix_timestamp(), limit, &[changed_event])
        .instrument(span)
        .await?
    {
        HoldOutcome::Held(changed) => Ok(*changed),
        HoldOutcome::Unavailable(taken) => Err(AppError::SeatsUnavailable(taken)),
        HoldOutcome::OverLimit(reached) => Err(AppError::TicketLimit(reached)),
    }
}
