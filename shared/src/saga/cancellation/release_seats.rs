//! State `ReleaseSeats` of `statemachines/cancellation.asl.json` (and `publish-cancellation`, the step of
//! executions started before the release recorded the events itself).

use super::{cancellation_events, find, Found};
use crate::domain::reservation::{CancellationStatus, Reservation};
use crate::saga::{reservation, SagaState, StepError};
use crate::store::cancellations::Counted;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Step `release-cancelled`: the seats back on sale and the reservation marked, in one transaction.
pub async fn release_step(
    state: &SagaState,
    reservation_id: &str,
    cancellation_id: &str,
    counted: Option<Counted>,
) -> Result<Reservation, StepError> {
    for _ in 0..5 {
        let r = reservation(&state.store, reservation_id).await?;
        let c = match find(&r, cancellation_id)? {
            Found::Pending(c) => c,
            Found::Finished(_) => return Ok(r),
        };
        let next = r.after_cancellation(&c, OffsetDateTime::now_utc());
        let done = next
            .cancellations
            .iter()
            .find(|d| d.id == cancellation_id)
            .unwrap_or(&c);
        let payment = state.store.get_payment(reservation_id).await?;
        let events = cancellation_events(&next, done, payment.as_ref());
        if state
            .store
            .finish_cancellation((&r, &next), &c.seats, counted, &events)
            .await?
        {
            return Ok(next);
        }
    }
    Err(StepError::Transient(format!(
        "reservation {reservation_id} keeps changing"
    )))
}

/// Step `publish-cancellation` of executions started before the release recorded the events itself: records
/// them again (the same ids, so the same items; the publisher sends new items only).
pub async fn publish_step(
    state: &SagaState,
    reservation_id: &str,
    cancellation_id: &str,
) -> Result<Value, StepError> {
    let r = reservation(&state.store, reservation_id).await?;
    let c = match find(&r, cancellation_id)? {
        Found::Finished(c) if c.status == CancellationStatus::Done => c,
        _ => {
            return Err(StepError::Invalid(format!(
                "cancellation {cancellation_id} is not done"
            )))
        }
    };
    let payment = state.store.get_payment(reservation_id).await?;
    let events = cancellation_events(&r, &c, payment.as_ref());
    state.store.record_events(&events).await?;
    Ok(json!({"published": events.len()}))
}
