//! State `Refund` of `statemachines/reservation.asl.json` (compensation: a payment given back in full).

use crate::domain::events::payment_summary;
use crate::domain::payment::Payment;
use crate::domain::reservation::ReservationStatus;
use crate::events::{Event, EventType};
use crate::saga::cancellation::issue_refund;
use crate::saga::reservation::pay::settle_waiting;
use crate::saga::{reservation, SagaState, StepError};
use serde_json::{json, Value};

/// Step `refund`: gives back in full whatever the payment of a reservation that was never sold kept (a payment
/// left WAITING is settled first). A CONFIRMED reservation (its confirm committed and only its answer was lost)
/// is a sale: nothing is refunded. Nor is one whose cancellations refunded it (it was sold first).
pub(crate) async fn refund_in_full(
    state: &SagaState,
    reservation_id: &str,
) -> Result<Value, StepError> {
    let r = reservation(&state.store, reservation_id).await?;
    if r.status == ReservationStatus::Confirmed
        || r.pending_cancellation.is_some()
        || !r.cancellations.is_empty()
    {
        return Ok(json!({"refunded": 0, "status": r.status}));
    }
    let Some(payment) = settle_waiting(state, &r).await? else {
        return Ok(json!({"refunded": 0}));
    };
    let refund_id = format!("refund-{reservation_id}-full");
    let amount = payment.refundable();
    if payment.kept() == 0 || payment.refund_ids.contains(&refund_id) {
        return Ok(json!({"refunded": 0}));
    }
    let refunded = |p: &Payment, amount: u64| {
        vec![Event::new(
            EventType::RefundIssued,
            reservation_id,
            &p.member_id,
            &p.updated_at,
            json!({"refundId": refund_id, "amount": amount, "payment": payment_summary(p)}),
        )]
    };
    if issue_refund(state, reservation_id, &refund_id, amount, &refunded)
        .await?
        .is_none()
    {
        return Ok(json!({"refunded": 0}));
    }
    Ok(json!({"refunded": amount}))
}
