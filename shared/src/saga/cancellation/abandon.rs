//! State `Abandon` of `statemachines/cancellation.asl.json`.

use super::refund::refund_step;
use super::release_seats::release_step;
use super::{find, refund_id, Found};
use crate::domain::payment::PaymentMethod;
use crate::domain::performance::format_instant;
use crate::domain::reservation::{Cancellation, CancellationStatus};
use crate::payments::test_mode::TestModeProvider;
use crate::payments::PaymentProvider;
use crate::saga::{reservation, SagaState, StepError};
use crate::store::StoreError;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Step `abandon-cancellation`: the refund could not be made; the seats stay sold, the cancellation is
/// recorded as FAILED and another may be asked for.
pub async fn abandon_step(
    state: &SagaState,
    reservation_id: &str,
    cancellation_id: &str,
    error: Option<&Value>,
) -> Result<Value, StepError> {
    if refund_made(state, reservation_id, cancellation_id).await? {
        // The refund went through and only its record failed: record it (its key makes this no second
        // refund) and finish the cancellation, rather than leave the buyer refunded with the seats.
        refund_step(state, reservation_id, cancellation_id).await?;
        let r = release_step(state, reservation_id, cancellation_id, None).await?;
        let status = find(&r, cancellation_id).map(|f| match f {
            Found::Pending(c) | Found::Finished(c) => c.status,
        })?;
        return Ok(json!({"status": status}));
    }
    for _ in 0..5 {
        let r = reservation(&state.store, reservation_id).await?;
        let c = match find(&r, cancellation_id)? {
            Found::Pending(c) => c,
            Found::Finished(c) => return Ok(json!({"status": c.status})),
        };
        let mut next = r.clone();
        next.pending_cancellation = None;
        next.cancellations.push(Cancellation {
            status: CancellationStatus::Failed,
            failure_reason: Some(
                error
                    .and_then(|e| e["Error"].as_str())
                    .unwrap_or("refund_failed")
                    .to_string(),
            ),
            ..c
        });
        next.version += 1;
        next.updated_at = format_instant(OffsetDateTime::now_utc());
        match state.store.replace_reservation(&next, r.version).await {
            Ok(()) => return Ok(json!({"status": CancellationStatus::Failed})),
            Err(StoreError::Stale { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StepError::Transient(format!(
        "reservation {reservation_id} keeps changing"
    )))
}

/// Whether the refund of cancellation `cancellation_id` was made, recorded or not: on the payment, as a wallet
/// ledger line, or at the provider under its key.
async fn refund_made(
    state: &SagaState,
    reservation_id: &str,
    cancellation_id: &str,
) -> Result<bool, StepError> {
    let key = refund_id(cancellation_id);
    let Some(payment) = state.store.get_payment(reservation_id).await? else {
        return Ok(false);
    };
    if payment.refund_ids.contains(&key) {
        return Ok(true);
    }
    match payment.method {
        PaymentMethod::Wallet => Ok(state
            .store
            .ledger_line(&payment.member_id, &key)
            .await?
            .is_some()),
        PaymentMethod::Card => TestModeProvider::new(state.store.clone())
            .refund_made(&key)
            .await
            .map_err(|e| StepError::PaymentTransient(e.to_string())),
    }
}
