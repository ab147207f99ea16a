//! State `WaitForPayment` of `statemachines/reservation.asl.json` (the pay-later wait: a task token).

use crate::saga::{reservation, SagaState, StepError};
use serde_json::{json, Value};

/// State `WaitForPayment`: keeps the task token of the pay-later wait; `POST /reservations/{id}/payment` sends
/// it back.
pub(crate) async fn run(
    state: &SagaState,
    reservation_id: &str,
    task_token: &str,
) -> Result<Value, StepError> {
    let store = &state.store;
    store.put_payment_task(reservation_id, task_token).await?;
    // A hold cancelled before its token was kept: the canceller found no token to end the wait with,
    // so the wait ends here (one of the two always sees the other's write).
    let r = reservation(store, reservation_id).await?;
    if r.status.is_release() {
        if let Some(saga) = &state.saga {
            saga.end_wait(task_token).await?;
        }
    }
    Ok(json!({}))
}
