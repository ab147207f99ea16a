//! State `ReserveSeats` of `statemachines/reservation.asl.json`.

use crate::domain::reservation::ReservationStatus;
use crate::saga::{reservation, SagaState, StepError};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// State `ReserveSeats`: re-asserts the hold; a no-op when this reservation holds its seats and the hold is
/// live. Answers how long the pay-later wait may last: exactly as long as the hold.
pub(crate) async fn run(state: &SagaState, reservation_id: &str) -> Result<Value, StepError> {
    let store = &state.store;
    let r = reservation(store, reservation_id).await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if r.effective_status(now) != ReservationStatus::Held {
        return Err(StepError::HoldEnded(format!(
            "reservation {} is {}",
            r.id,
            r.effective_status(now)
        )));
    }
    // ReservationHeld was recorded with the hold itself.
    // The pay-later wait lasts exactly as long as the hold.
    Ok(json!({"holdSeconds": (r.hold_expires_at - now).max(1)}))
}
