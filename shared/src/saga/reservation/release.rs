//! States `ReleaseFailed` and `Expire` of `statemachines/reservation.asl.json` (compensation: the seats back
//! on sale), also the repairer's end of a hold whose saga is over.

use crate::domain::events::reservation_summary;
use crate::domain::reservation::ReservationStatus;
use crate::events::{Event, EventType};
use crate::saga::reservation::refund::refund_in_full;
use crate::saga::{reservation, SagaState, StepError};
use serde_json::{json, Value};

/// Steps `release` (ReleaseFailed, Expire), and the repairer's end of a hold whose saga is over: gives back
/// whatever the payment kept (settling a payment left WAITING first), then the seats, and marks the
/// reservation FAILED or EXPIRED with its reason and `ReservationFailed` / `ReservationExpired`. A CONFIRMED
/// reservation (its confirm committed; only the answer was lost) is a sale and stays one; a released one is
/// returned as it is (whoever released it recorded its event).
pub async fn release_unsold(
    state: &SagaState,
    reservation_id: &str,
    status: ReservationStatus,
    error: Option<&Value>,
) -> Result<Value, StepError> {
    let store = &state.store;
    let r = reservation(store, reservation_id).await?;
    if r.status == ReservationStatus::Confirmed {
        return Ok(json!({"status": r.status}));
    }
    refund_in_full(state, reservation_id).await?;
    // The payment's own reason when it failed (`card_declined`, ...), else the error's.
    let payment_reason = store
        .get_payment(reservation_id)
        .await?
        .and_then(|p| p.failure_reason);
    let reason = match status {
        ReservationStatus::Expired => "hold_expired".to_string(),
        _ => payment_reason.unwrap_or_else(|| {
            error
                .and_then(|e| e["Error"].as_str())
                .map(failure_reason)
                .unwrap_or_else(|| "saga_failed".to_string())
        }),
    };
    let released = store
        .release_seats(&r, status, Some(&reason), &|next| {
            let kind = match next.status {
                ReservationStatus::Expired => EventType::ReservationExpired,
                _ => EventType::ReservationFailed,
            };
            vec![Event::new(
                kind,
                &next.id,
                &next.member_id,
                &next.updated_at,
                json!({"reservation": reservation_summary(next), "reason": next.failure_reason}),
            )]
        })
        .await?;
    Ok(json!({"status": released.status, "reason": released.failure_reason}))
}

/// The reason recorded for a Catch'ed error name; the payment's own reason when there is one.
pub(crate) fn failure_reason(error_name: &str) -> String {
    match error_name {
        "HoldEnded" => "hold_expired",
        "InsufficientPoints" => "insufficient_points",
        "PaymentDeclined" => "payment_declined",
        "SagaInterrupted" => "saga_interrupted",
        _ => "saga_failed",
    }
    .to_string()
}
