//! State `Pay` of `statemachines/reservation.asl.json`, and the settling of a payment a dead Pay left WAITING.

use crate::domain::events::{deferred_event, payment_summary};
use crate::domain::payment::{Payment, PaymentInput, PaymentMethod};
use crate::domain::reservation::{PaymentFallback, Reservation, ReservationStatus};
use crate::domain::wallet::{LedgerKind, WalletError};
use crate::events::{Event, EventType};
use crate::payments::breaker::Permit;
use crate::payments::test_mode::TestModeProvider;
use crate::payments::{ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError};
use crate::saga::{crash_point, now_text, reservation, SagaState, StepError};
use crate::store::Store;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// State `Pay`: charges the card or debits the wallet once (keys `charge-<id>`, `pay-<id>`), and records the
/// outcome on the payment with `PaymentCompleted` / `PaymentFailed`; or, when the provider's breaker refuses
/// the card, defers it (`PaymentDeferred`: the machine waits for a payment again).
pub(crate) async fn run(
    state: &SagaState,
    reservation_id: &str,
    input: &PaymentInput,
) -> Result<Value, StepError> {
    let store = &state.store;
    let r = reservation(store, reservation_id).await?;
    let now_epoch = OffsetDateTime::now_utc().unix_timestamp();
    let mut waiting = Payment::waiting(
        &r.id,
        &r.member_id,
        input.method(),
        r.total_price,
        &r.currency,
        &now_text(),
    );
    waiting.performance_id = r.performance_id.clone();
    waiting.showtime_id = r.showtime_id.clone();
    // A card is charged only when the provider's breaker lets it: while it is open, the hold falls back to
    // pay-later (the machine waits for a payment again, for the hold's remaining time). A payment already
    // started (an earlier attempt failed or died mid-charge) cannot fall back, since its charge may have
    // happened: while the breaker is open its retries fail without calling, and once they run out the
    // release asks the provider what became of the charge (settle_waiting).
    let mut permit = Permit::Call;
    let card = matches!(input, PaymentInput::Card { .. });
    let mut payment = match store.get_payment(&r.id).await? {
        Some(stored) if card && stored.status == crate::domain::payment::PaymentStatus::Waiting => {
            match state.breaker.admit().await? {
                Ok(given) => permit = given,
                Err(refused) => {
                    return Err(StepError::PaymentTransient(format!(
                        "the payment provider's breaker is open (retry in {} s): not called",
                        refused.retry_after
                    )))
                }
            }
            stored
        }
        Some(stored) => stored,
        // Nothing is charged for a hold that ended (cancelled by its buyer, or lapsed).
        None if r.effective_status(now_epoch) != ReservationStatus::Held => {
            return Err(StepError::HoldEnded(format!(
                "reservation {} is {}",
                r.id,
                r.effective_status(now_epoch)
            )))
        }
        // The payment is started on the version of the hold it prices: a change of seats in between
        // fails it, and the step (retried) prices the hold again.
        None => {
            if card {
                match state.breaker.admit().await? {
                    Ok(given) => permit = given,
                    Err(refused) => return defer(state, &r, refused.retry_after, now_epoch).await,
                }
            }
            store.start_payment(&waiting, r.version).await?
        }
    };
    match payment.status {
        crate::domain::payment::PaymentStatus::Waiting => {}
        crate::domain::payment::PaymentStatus::Failed => {
            let reason = payment.failure_reason.clone().unwrap_or_default();
            return Err(if reason == "insufficient_points" {
                StepError::InsufficientPoints(reason)
            } else {
                StepError::PaymentDeclined(reason)
            });
        }
        // Paid by an earlier attempt of this step.
        _ => return Ok(json!({"paymentStatus": payment.status})),
    }
    let seen = payment.version;
    let now = now_text();
    let outcome: Result<(String, Option<crate::domain::payment::CardSummary>), StepError> =
        match input {
            PaymentInput::Wallet {} => {
                let amount = i64::try_from(r.total_price)
                    .map_err(|_| StepError::Invalid("a price beyond i64".into()))?;
                match store
                    .apply_ledger_line(
                        &r.member_id,
                        &format!("pay-{}", r.id),
                        LedgerKind::Payment,
                        -amount,
                        &r.id,
                        &now,
                    )
                    .await?
                {
                    Ok(applied) => Ok((applied.line().id.clone(), None)),
                    Err(WalletError::InsufficientPoints { balance, needed }) => Err(
                        StepError::InsufficientPoints(format!("{balance} points, {needed} needed")),
                    ),
                    Err(e) => Err(StepError::Invalid(e.to_string())),
                }
            }
            PaymentInput::Card { token } => {
                let provider = TestModeProvider::new(store.clone());
                let request = ChargeRequest {
                    token: token.clone(),
                    amount: r.total_price,
                    currency: r.currency.clone(),
                    idempotency_key: format!("charge-{}", r.id),
                };
                match state.breaker.call(permit, provider.charge(&request)).await {
                    Ok(ChargeOutcome::Approved { reference, card }) => Ok((reference, Some(card))),
                    Ok(ChargeOutcome::Declined { code }) => Err(StepError::PaymentDeclined(code)),
                    Err(ProviderError::Invalid(code)) => Err(StepError::PaymentDeclined(code)),
                    Err(ProviderError::Transient(why)) => {
                        return Err(StepError::PaymentTransient(why))
                    }
                }
            }
        };
    // The money moved (or was refused) and is not recorded yet: a retry asks again under the same key.
    crash_point(state, &r.id, "pay@moved").await;
    let recorded = record_outcome(
        store,
        &r,
        (&mut payment, seen),
        outcome
            .as_ref()
            .map(|(reference, card)| (reference.clone(), card.clone()))
            .map_err(|e| e.reason()),
    )
    .await?;
    outcome?;
    Ok(json!({"paymentStatus": recorded.status}))
}

/// The card of HELD reservation `r` is not charged (the breaker refused it): the reservation reads
/// `fallback: PAY_LATER` and `PaymentDeferred` tells the buyer to pay within the hold (once per reservation: a
/// retried step or a second deferral finds it set). The error sends the machine back to `WaitForPayment`
/// (a `Catch`: the path of every sale keeps its transitions).
async fn defer(
    state: &SagaState,
    r: &Reservation,
    retry_after: u32,
    now: i64,
) -> Result<Value, StepError> {
    if r.fallback.is_none() {
        let mut next = r.clone();
        next.fallback = Some(PaymentFallback::PayLater);
        next.version += 1;
        let event = deferred_event(&next, &now_text(), retry_after);
        state.store.defer_payment(r, &next, &event).await?;
    }
    tracing::warn!(
        retry_after,
        "the payment provider's breaker is open: the card is not charged, the hold waits for a payment"
    );
    Err(StepError::PaymentDeferred(format!(
        "the payment provider's breaker is open: pay within the hold ({} s left), by card in {retry_after} s",
        (r.hold_expires_at - now).max(0)
    )))
}

/// Records what became of a WAITING payment: completed with the charge's reference (and card), or failed for
/// a reason; `PaymentCompleted` / `PaymentFailed` in the same write.
pub(crate) async fn record_outcome(
    store: &Store,
    r: &Reservation,
    (payment, seen): (&mut Payment, u64),
    outcome: Result<(String, Option<crate::domain::payment::CardSummary>), &str>,
) -> Result<Payment, StepError> {
    let now = now_text();
    let kind = match outcome {
        Ok((reference, card)) => {
            payment
                .complete(reference, card, &now)
                .map_err(|e| StepError::Invalid(e.to_string()))?;
            EventType::PaymentCompleted
        }
        Err(reason) => {
            payment
                .fail(reason, &now)
                .map_err(|e| StepError::Invalid(e.to_string()))?;
            EventType::PaymentFailed
        }
    };
    let event = Event::new(kind, &r.id, &r.member_id, &now, payment_summary(payment));
    store.replace_payment(payment, seen, &[event]).await?;
    Ok(payment.clone())
}

/// The reason of a payment whose Pay step never finished and whose money never moved.
pub const PAYMENT_INTERRUPTED: &str = "payment_interrupted";

/// Settles a payment that a Pay step left WAITING (it died between the charge and its record, and its retries
/// ran out): asks where the money would be (the wallet's ledger line `pay-<id>`, the provider's charge under
/// `charge-<id>`) and records what happened: COMPLETED with that charge, or FAILED. Runs only once no Pay
/// attempt of this reservation can still be under way (after the Pay state, or for the repairer, once the
/// execution is over). Returns the payment as it stands (`None`: there is none).
pub(crate) async fn settle_waiting(
    state: &SagaState,
    r: &Reservation,
) -> Result<Option<Payment>, StepError> {
    let store = &state.store;
    let Some(mut payment) = store.get_payment(&r.id).await? else {
        return Ok(None);
    };
    if payment.status != crate::domain::payment::PaymentStatus::Waiting {
        return Ok(Some(payment));
    }
    let outcome = match payment.method {
        PaymentMethod::Wallet => store
            .ledger_line(&r.member_id, &format!("pay-{}", r.id))
            .await?
            .map(|line| (line.id, None)),
        PaymentMethod::Card => match TestModeProvider::new(store.clone())
            .find_charge(&format!("charge-{}", r.id))
            .await
            .map_err(|e| StepError::PaymentTransient(e.to_string()))?
        {
            Some(ChargeOutcome::Approved { reference, card }) => Some((reference, Some(card))),
            Some(ChargeOutcome::Declined { code }) => {
                let seen = payment.version;
                return record_outcome(store, r, (&mut payment, seen), Err(&code))
                    .await
                    .map(Some);
            }
            None => None,
        },
    };
    let seen = payment.version;
    match record_outcome(
        store,
        r,
        (&mut payment, seen),
        outcome.ok_or(PAYMENT_INTERRUPTED),
    )
    .await
    {
        Ok(p) => Ok(Some(p)),
        // Recorded meanwhile by someone else: that record stands.
        Err(StepError::Transient(_)) => Ok(store.get_payment(&r.id).await?),
        Err(e) => Err(e),
    }
}
