//! The hold: seats held for a member in one conditional transaction (no read-then-write window: two buyers of
//! one seat cannot both win), then the reservation saga started, which pays at once when the buyer gave a
//! payment or waits for one as long as the hold lasts.

use crate::domain::ids::new_id;
use crate::domain::payment::PaymentInput;
use crate::domain::reservation::{PaymentFallback, Reservation, ReservationStatus};
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

/// A hold made (or found again under its key).
pub struct Held {
    pub reservation: Reservation,
    /// Its card fell back to pay-later: the seconds after which the provider may take cards again.
    pub retry_after: Option<u32>,
}

/// Holds the seats and starts the saga: the reservation as held (or as a repeat of the same key found it).
/// Refusals: an unknown or unpublished showtime (422), a waiting-room admission missing or used (403), a sale
/// not open or a showtime not taking holds (409), seats taken (409 with them), the performance's ticket limit
/// per member passed (409 with the member's count and the limit). A card given while the payment provider's
/// breaker is open is not charged: the hold reads `fallback: PAY_LATER` (with `PaymentDeferred`) and waits for
/// a payment.
pub async fn hold(
    state: &AppState,
    saga: &SagaClient,
    input: HoldInput<'_>,
) -> Result<Held, AppError> {
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
    let performance = performance_of(state, &showtime.performance_id)
        .await?
        .ok_or_else(unknown_showtime)?;
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
    // A card given while the provider's breaker is open is not kept for the saga: the hold falls back to
    // pay-later at once (the buyer is told when to try again, and pays within the hold).
    let mut payment = input.payment;
    let mut deferred = None;
    if let Some(PaymentInput::Card { .. }) = payment {
        if let Err(refused) = state.breaker.peek().await? {
            payment = None;
            deferred = Some(refused.retry_after);
        }
    }
    let id = input.id.unwrap_or_else(new_id);
    let reservation = Reservation {
        admitted_at,
        fallback: deferred.map(|_| PaymentFallback::PayLater),
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
    let mut events = vec![crate::domain::events::held_event(&reservation)];
    if let Some(retry_after) = deferred {
        events.push(crate::domain::events::deferred_event(
            &reservation,
            &reservation.created_at,
            retry_after,
        ));
    }
    // The reservation id is the correlation id of everything that happens to this hold from here on.
    let span = tracing::info_span!("hold", correlation_id = %reservation.id);
    let outcome = state
        .store
        .hold_seats(
            &reservation,
            now.unix_timestamp(),
            performance.details.max_tickets_per_member,
            &events,
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
                saga.start(&held.id, payment)
                    .instrument(span.clone())
                    .await?;
            }
            Ok(Held {
                retry_after: held.fallback.map(|_| deferred.unwrap_or(1)),
                reservation: *held,
            })
        }
        HoldOutcome::Unavailable(taken) => {
            tracing::info!(taken = taken.len(), "seats unavailable");
            Err(AppError::SeatsUnavailable(taken))
        }
        HoldOutcome::OverLimit(reached) => {
            tracing::info!(
                current = reached.current,
                limit = reached.limit,
                "over the ticket limit"
            );
            Err(AppError::TicketLimit(reached))
        }
    }
}

/// The performance `id` from the process's cache (a few seconds old at most), else the table.
pub(crate) async fn performance_of(
    state: &AppState,
    id: &str,
) -> Result<Option<crate::domain::performance::Performance>, AppError> {
    if let Some(p) = state.caches.performances.get(id) {
        return Ok(Some(p));
    }
    let Some(p) = state.store.get_performance(id).await? else {
        return Ok(None);
    };
    state.caches.performances.put(&p.id, p.clone());
    Ok(Some(p))
}
