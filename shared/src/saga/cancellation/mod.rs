//! The cancellation machine, `statemachines/cancellation.asl.json`: one file per state, and what they share
//! (a refund made once whatever crashes, the events of a finished cancellation). What a route does before the
//! machine starts is the use-case `app::cancellations`.
//!
//! A cancellation of a CONFIRMED reservation is begun by a route: the quote is taken at that moment and kept on
//! the reservation as its pending cancellation (one conditional write, so two cancels racing leave one). The
//! saga then refunds exactly that quote (idempotency key `refund-<cancellationId>`), gives the seats back and
//! marks the reservation in one transaction, and publishes `ReservationCancelled` and `RefundIssued`.

//!
//! | state | file |
//! |---|---|
//! | `Refund` | [`refund`] |
//! | `ReleaseSeats` | [`release_seats`] |
//! | `Abandon` | [`abandon`] |
//! | `RefundedAfterAll` (a Choice), `Cancelled`, `NotCancelled` | the machine alone |

pub mod abandon;
pub mod refund;
pub mod release_seats;

pub use abandon::abandon_step;
pub use refund::refund_step;
pub use release_seats::{publish_step, release_step};

use crate::domain::events::{payment_summary, reservation_summary};
use crate::domain::payment::{Payment, PaymentMethod};
use crate::domain::performance::format_instant;
use crate::domain::reservation::{Cancellation, Reservation};
use crate::domain::wallet::LedgerKind;
use crate::events::{Event, EventType};
use crate::payments::test_mode::TestModeProvider;
use crate::payments::{PaymentProvider, ProviderError, RefundRequest};
use crate::saga::{crash_point, SagaState, StepError};
use crate::store::StoreError;
use serde_json::json;
use time::OffsetDateTime;

/// Gives `amount` of a reservation's payment back as refund `refund_id`: to the wallet (a ledger line of
/// that id) or to the card (the provider's idempotency key is that id), then records it on the payment. Each
/// part is idempotent, so a retry after a crash anywhere refunds once. Returns the payment afterwards (`None`
/// when the reservation has none).
pub async fn issue_refund(
    state: &SagaState,
    reservation_id: &str,
    refund_id: &str,
    amount: u64,
    events: &(dyn Fn(&Payment, u64) -> Vec<Event> + Sync),
) -> Result<Option<Payment>, StepError> {
    let store = &state.store;
    for _ in 0..3 {
        let Some(mut payment) = store.get_payment(reservation_id).await? else {
            return Ok(None);
        };
        if payment.refund_ids.iter().any(|id| id == refund_id) || payment.kept() == 0 {
            return Ok(Some(payment));
        }
        let amount = amount.min(payment.refundable());
        if amount == 0 {
            return Ok(Some(payment));
        }
        let now = format_instant(OffsetDateTime::now_utc());
        match payment.method {
            PaymentMethod::Wallet => {
                let credit = i64::try_from(amount)
                    .map_err(|_| StepError::Invalid("a refund beyond i64".into()))?;
                store
                    .apply_ledger_line(
                        &payment.member_id,
                        refund_id,
                        LedgerKind::Refund,
                        credit,
                        reservation_id,
                        &now,
                    )
                    .await?
                    .map_err(|e| StepError::Invalid(e.to_string()))?;
            }
            PaymentMethod::Card => {
                let reference = payment.provider_reference.clone().ok_or_else(|| {
                    StepError::Invalid("a card payment without its reference".into())
                })?;
                // A refund is owed whatever the breaker says: not refused, only timed out (and retried
                // under its key by the machine).
                let provider = TestModeProvider::new(store.clone());
                let request = RefundRequest {
                    reference,
                    amount,
                    idempotency_key: refund_id.to_string(),
                };
                crate::payments::breaker::timed(
                    state.breaker.settings.call_timeout_millis,
                    provider.refund(&request),
                )
                .await
                .map_err(|e| match e {
                    ProviderError::Transient(why) => StepError::PaymentTransient(why),
                    ProviderError::Invalid(why) => StepError::Invalid(why),
                })?;
            }
        }
        // The money moved and is not recorded yet: a crash here is what the refund's idempotency key is for.
        crash_point(state, reservation_id, "refund@moved").await;
        let seen = payment.version;
        payment
            .refund(refund_id, amount, &now)
            .map_err(|e| StepError::Invalid(e.to_string()))?;
        match store
            .replace_payment(&payment, seen, &events(&payment, amount))
            .await
        {
            Ok(()) => return Ok(Some(payment)),
            // Another refund of this payment was recorded meanwhile: read it again (the money of this one
            // moved once; its ledger line or provider key stops a second move).
            Err(StoreError::Stale { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StepError::Transient(format!(
        "the payment of {reservation_id} keeps changing"
    )))
}

pub(crate) fn refund_id(cancellation_id: &str) -> String {
    format!("refund-{cancellation_id}")
}

/// Where a cancellation stands on a reservation as read.
pub(crate) enum Found {
    Pending(Cancellation),
    Finished(Cancellation),
}

pub(crate) fn find(r: &Reservation, cancellation_id: &str) -> Result<Found, StepError> {
    if let Some(p) = r
        .pending_cancellation
        .as_ref()
        .filter(|p| p.id == cancellation_id)
    {
        return Ok(Found::Pending(p.clone()));
    }
    r.cancellations
        .iter()
        .find(|c| c.id == cancellation_id)
        .map(|c| Found::Finished(c.clone()))
        .ok_or_else(|| {
            StepError::Invalid(format!(
                "reservation {} has no cancellation {cancellation_id}",
                r.id
            ))
        })
}

/// What a finished cancellation `c` of `r` (as it stands after it) announces: `ReservationCancelled` (with the
/// seats given back) and, when money went back, `RefundIssued`. Event ids carry the cancellation id, so a
/// record made again is the same event.
pub(crate) fn cancellation_events(
    r: &Reservation,
    c: &Cancellation,
    payment: Option<&Payment>,
) -> Vec<Event> {
    let mut events = vec![Event::keyed(
        EventType::ReservationCancelled,
        &r.id,
        &c.id,
        &r.member_id,
        &r.updated_at,
        json!({
            "reservation": reservation_summary(r),
            "cancellationId": c.id,
            "seats": c.seats,
            "whole": c.whole,
            "fee": c.quote.fee,
            "refund": c.quote.refund,
            "basis": c.quote.basis,
            "actor": c.actor,
            "reason": c.reason,
        }),
    )];
    if let Some(p) = payment.filter(|_| c.quote.refund > 0) {
        events.push(Event::keyed(
            EventType::RefundIssued,
            &r.id,
            &c.id,
            &r.member_id,
            // Announced with the cancellation it belongs to (the refund itself is `payment.updatedAt`).
            &r.updated_at,
            json!({"refundId": refund_id(&c.id), "amount": c.quote.refund, "payment": payment_summary(p)}),
        ));
    }
    events
}
