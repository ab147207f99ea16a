//! State `Refund` of `statemachines/cancellation.asl.json`.

use super::{find, issue_refund, refund_id, Found};
use crate::saga::{reservation, SagaState, StepError};
use serde_json::{json, Value};

/// Step `refund-cancellation`: refunds the pending cancellation's quote.
pub async fn refund_step(
    state: &SagaState,
    reservation_id: &str,
    cancellation_id: &str,
) -> Result<Value, StepError> {
    let r = reservation(&state.store, reservation_id).await?;
    let c = match find(&r, cancellation_id)? {
        Found::Pending(c) => c,
        Found::Finished(c) => return Ok(json!({"refunded": c.quote.refund})),
    };
    issue_refund(
        state,
        reservation_id,
        &refund_id(cancellation_id),
        c.quote.refund,
        // RefundIssued follows ReservationCancelled, from the publish step.
        &|_, _| vec![],
    )
    .await?;
    Ok(json!({"refunded": c.quote.refund}))
}
