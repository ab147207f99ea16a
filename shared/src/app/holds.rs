//! The hold: seats held for a member in one conditional transaction (no read-then-write window: two buyers of
//! one seat cannot both win), then the reservation saga started, which pays at once when the buyer gave a
//! payment or waits for one as long as the hold lasts.

use crate::domain::ids::new_id;
use crate::domain::payment::PaymentInput;
use crate::domain::reservation::{Reservation, ReservationStatus};
use crate::domain::seat::{validate_seat_selection, SeatId, MAX_SEATS_PER_HOLD};
use crate::error::AppError;
use crate::runtime::AppState;
use crate::sfn::SagaClient;
use crate::store::seats::HoldOutcome;
use time::OffsetDateTime;
use tracing::Instrument;

/// What a hold asks for.
pub struct HoldInput<'a> {
    /// The reservation's id when the request carries an `Idempotency-Key` (derived from it), else a new one.
    pub id: Option<String>,
    pub member_id: &'a str,
    pub showtime_id: &'a str,
    pub seats: &'a [SeatId],
    /// Required on a showtime with a waiting room.
    pub admission_token: Option<&'a str>,
    /// Pay at once; without it the saga waits for a payment as long as the hold lasts.
    pub payment: Option<&'a PaymentInput>,
}

/// Holds the seats and starts the saga: the reservation as held (or as a repeat of the same key found it).
/// Refusals: an unknown or unpublished showtime (422), a waiting-room admission missing or used (403), a sale
/// not open or a showtime not taking holds (409), seats taken (409 with them).
pub async fn hold(
    state: &AppState,
    saga: &SagaClient,
    input: HoldInput<'_>,
) -> Result<Reservation, AppError> {
    let unknown_showtime = || AppError::unprocessable("showtimeId", "no such showtime");
    let showtime = state
        .store
        .get_showtime(input.showtime_id)
        .await?
        .ok_or_else(unknown_showtime)?;
    let now = OffsetDateTime::now_utc();
    let admitted_at = if showtime.waiting_room {
        // Checked from the token alone: no read. That it has not bought already is checked in the hold's
        // own transaction.
        let keys = state
            .keys
            .as_ref()
            .ok_or_else(|| AppError::Dependency("no signing key configured".into()))?;
        let admission = crate::auth::admission::check(
            keys.get().await?,
            input.admission_token,
            input.member_id,
            &showtime.id,
            now.unix_timestamp(),
        )
        .map_err(AppError::AdmissionRefused)?;
        Some(admission.iat)
    } else {
        None
    };
    let performance = match state.caches.performances.get(&showtime.performance_id) {
        Some(p) => p,
        None => {
            let p = state
                .store
                .get_performance(&showtime.performance_id)
                .await?
                .ok_or_else(unknown_showtime)?;
            state.caches.performances.put(&p.id, p.clone());
            p
        }
    };
    if !performance.is_public() {
        return Err(unknown_showtime());
    }
    showtime
        .accepts_holds(now)
        .map_err(|refusal| AppError::Conflict(format!("showtime {}: {refusal}", showtime.id)))?;
    if !performance.details.on_sale(now) {
        return Err(AppError::Conflict(format!(
            "tickets for this performance are on sale from {} to {}",
            performance.details.sale_opens_at, performance.details.sale_closes_at
        )));
    }
    let seats =
        validate_seat_selection(input.seats, &showtime.details.seat_map, MAX_SEATS_PER_HOLD)
            .map_err(AppError::Validation)?;
    let id = input.id.unwrap_or_else(new_id);
    let reservation = Reservation {
        admitted_at,
        ..Reservation::hold(
            id,
            input.member_id.to_string(),
            &showtime,
            &seats,
            performance.details.hold_minutes,
            now,
        )
        .map_err(|e| AppError::Corrupt(format!("pricing a validated selection: {e}")))?
    };
    // The reservation id is the correlation id of everything that happens to this hold from here on.
    let span = tracing::info_span!("hold", correlation_id = %reservation.id);
    let outcome = state
        .store
        .hold_seats(
            &reservation,
            now.unix_timestamp(),
            &[crate::domain::events::held_event(&reservation)],
        )
        .instrument(span.clone())
        .await?;
    let _entered = span.enter();
    match outcome {
        HoldOutcome::Held(held) => {
            tracing::info!(
                seats = held.seats.len(),
                total = held.total_price,
                "seats held"
            );
            drop(_entered);
            // Test stacks: the request dies between its write and the saga's start.
            crate::faults::api_crash_point(&state.store, &held.id, "hold@written").await;
            if held.status == ReservationStatus::Held {
                saga.start(&held.id, input.payment)
                    .instrument(span.clone())
                    .await?;
            }
            Ok(*held)
        }
        HoldOutcome::Unavailable(taken) => {
            tracing::info!(taken = taken.len(), "seats unavailable");
            Err(AppError::SeatsUnavailable(taken))
        }
    }
}
