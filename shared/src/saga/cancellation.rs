//! Cancellations: what the routes do before the saga, and the steps of the cancellation saga
//! (`statemachines/cancellation.asl.json`) and of an organizer's showtime sweep
//! (`statemachines/showtime-cancellation.asl.json`), run by the saga function (`crate::saga`).
//!
//! A cancellation of a CONFIRMED reservation is begun by a route: the quote is taken at that moment and kept on
//! the reservation as its pending cancellation (one conditional write, so two cancels racing leave one). The
//! saga then refunds exactly that quote (idempotency key `refund-<cancellationId>`), gives the seats back and
//! marks the reservation in one transaction, and publishes `ReservationCancelled` and `RefundIssued`.

use super::{SagaState, StepError};
pub use crate::app::resume::{resume, resume_sweep, Resumed};
use crate::domain::payment::{Payment, PaymentMethod};
use crate::domain::performance::{format_instant, parse_instant, Performance};
use crate::domain::refund::{quote, CancelRefusal, Canceller, Quote, QuoteInput};
pub use crate::domain::reservation::organizer_cancellation_id;
use crate::domain::reservation::{
    Actor, Cancellation, CancellationStatus, Change, Reservation, ReservationStatus, ReservedSeat,
};
use crate::domain::showtime::Showtime;
use crate::domain::wallet::LedgerKind;
use crate::error::AppError;
use crate::events::{Event, EventType};
use crate::payments::test_mode::TestModeProvider;
use crate::payments::{PaymentProvider, ProviderError, RefundRequest};
use crate::store::cancellations::Counted;
use crate::store::Store;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The quote for cancelling `seats` of `r` at `now` by `who`, from its performance's schedule and its
/// showtime's change window.
pub fn quote_for(
    r: &Reservation,
    performance: &Performance,
    showtime: &Showtime,
    seats: &[ReservedSeat],
    who: Canceller,
    now: OffsetDateTime,
) -> Result<Quote, CancelRefusal> {
    let booked_at = parse_instant(&r.created_at).unwrap_or(now);
    quote(
        QuoteInput {
            policy: &performance.details.refund_policy,
            starts_at: showtime.details.starts_at,
            booked_at,
            changed: showtime.change_window(),
            amount: seats.iter().map(|s| s.price).sum(),
        },
        who,
        now,
    )
}

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
                TestModeProvider::new(store.clone())
                    .refund(&RefundRequest {
                        reference,
                        amount,
                        idempotency_key: refund_id.to_string(),
                    })
                    .await
                    .map_err(|e| match e {
                        ProviderError::Transient(why) => StepError::PaymentTransient(why),
                        ProviderError::Invalid(why) => StepError::Invalid(why),
                    })?;
            }
        }
        // The money moved and is not recorded yet: a crash here is what the refund's idempotency key is for.
        super::crash_point(state, reservation_id, "refund@moved").await;
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
            Err(AppError::PreconditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StepError::Transient(format!(
        "the payment of {reservation_id} keeps changing"
    )))
}

fn refund_id(cancellation_id: &str) -> String {
    format!("refund-{cancellation_id}")
}

async fn reservation(store: &Store, id: &str) -> Result<Reservation, StepError> {
    store
        .get_reservation(id)
        .await?
        .ok_or_else(|| StepError::Invalid(format!("no reservation {id}")))
}

/// Where a cancellation stands on a reservation as read.
enum Found {
    Pending(Cancellation),
    Finished(Cancellation),
}

fn find(r: &Reservation, cancellation_id: &str) -> Result<Found, StepError> {
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

/// What a finished cancellation `c` of `r` (as it stands after it) announces: `ReservationCancelled` (with the
/// seats given back) and, when money went back, `RefundIssued`. Event ids carry the cancellation id, so a
/// record made again is the same event.
fn cancellation_events(r: &Reservation, c: &Cancellation, payment: Option<&Payment>) -> Vec<Event> {
    let mut events = vec![Event::keyed(
        EventType::ReservationCancelled,
        &r.id,
        &c.id,
        &r.member_id,
        &r.updated_at,
        json!({
            "reservation": super::summary(r),
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
            json!({"refundId": refund_id(&c.id), "amount": c.quote.refund, "payment": super::payment_data(p)}),
        ));
    }
    events
}

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
            Err(AppError::PreconditionFailed { .. }) => continue,
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

/// Begins the cancellation of `seats` of a CONFIRMED reservation: keeps `c` as its pending cancellation, if
/// the reservation is still the version read. `Err(Conflict)` when another change won.
pub async fn begin(
    store: &Store,
    r: &Reservation,
    c: &Cancellation,
    change: Change,
) -> Result<Reservation, AppError> {
    r.can_begin_cancellation()
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let mut next = r.clone();
    next.pending_cancellation = Some(c.clone());
    next.changes.push(change);
    next.version += 1;
    next.updated_at = c.requested_at.clone();
    match store.replace_reservation(&next, r.version).await {
        Ok(()) => Ok(next),
        Err(AppError::PreconditionFailed { .. }) => Err(AppError::Conflict(format!(
            "reservation {} changed while it was being cancelled; look at it again",
            r.id
        ))),
        Err(e) => Err(e),
    }
}

/// A new pending cancellation.
pub fn new_cancellation(
    id: String,
    seats: Vec<ReservedSeat>,
    whole: bool,
    quote: Quote,
    (by, actor): (&str, Actor),
    reason: Option<String>,
    now: OffsetDateTime,
) -> Cancellation {
    Cancellation {
        id,
        seats,
        whole,
        quote,
        by: by.to_string(),
        actor,
        reason,
        status: CancellationStatus::Pending,
        requested_at: format_instant(now),
        failure_reason: None,
        resumed: 0,
    }
}

/// Step `cancel-for-showtime`: one reservation of a showtime its organizer cancelled. A hold is released (a
/// pay-later saga waiting for its payment is told); a confirmed reservation is refunded in full and marked
/// CANCELLED; anything else is left as it is. Every part is idempotent and counted once in the sweep's
/// progress, so a re-run refunds nobody twice.
pub async fn cancel_for_showtime(
    state: &SagaState,
    reservation_id: &str,
    reason: &str,
) -> Result<Value, StepError> {
    let store = &state.store;
    let r = reservation(store, reservation_id).await?;
    let now = OffsetDateTime::now_utc();
    let change = Change {
        at: format_instant(now),
        by: "organizer".into(),
        actor: Actor::Organizer,
        action: "SHOWTIME_CANCELLED".into(),
        reason: Some(reason.to_string()),
    };
    match r.status {
        ReservationStatus::Held => {
            let released = store
                .release_hold(
                    &r,
                    ReservationStatus::Cancelled,
                    Some("showtime_cancelled"),
                    Some(&change),
                    Some(Counted {
                        released: 1,
                        ..Counted::default()
                    }),
                    &|next| vec![hold_cancelled_event(next)],
                )
                .await;
            match released {
                Ok(released) => {
                    if released.status == ReservationStatus::Cancelled {
                        if let Some(token) = store.payment_task(&released.id).await? {
                            if let Some(saga) = &state.saga {
                                saga.end_wait(&token).await?;
                            }
                        }
                    }
                    Ok(json!({"outcome": "released"}))
                }
                // Confirmed meanwhile: the next attempt refunds it.
                Err(AppError::Conflict(why)) => Err(StepError::Transient(why)),
                Err(e) => Err(e.into()),
            }
        }
        ReservationStatus::Confirmed => {
            let id = match &r.pending_cancellation {
                Some(p) if p.id == organizer_cancellation_id(&r.id) => p.id.clone(),
                Some(p) => {
                    return Err(StepError::Transient(format!(
                        "cancellation {} of reservation {} is under way",
                        p.id, r.id
                    )))
                }
                None => {
                    let seats = r.seats.clone();
                    let amount = seats.iter().map(|s| s.price).sum();
                    let q = quote(
                        QuoteInput {
                            policy: &Default::default(),
                            starts_at: now,
                            booked_at: now,
                            changed: None,
                            amount,
                        },
                        Canceller::Organizer,
                        now,
                    )
                    .map_err(|e| StepError::Invalid(e.to_string()))?;
                    let c = new_cancellation(
                        organizer_cancellation_id(&r.id),
                        seats,
                        true,
                        q,
                        ("organizer", Actor::Organizer),
                        Some(reason.to_string()),
                        now,
                    );
                    begin(store, &r, &c, change).await?;
                    c.id
                }
            };
            let refunded = refund_step(state, &r.id, &id).await?;
            let amount = refunded["refunded"].as_u64().unwrap_or(0);
            release_step(
                state,
                &r.id,
                &id,
                Some(Counted {
                    cancelled: 1,
                    refunded: u64::from(amount > 0),
                    refunded_amount: amount,
                    ..Counted::default()
                }),
            )
            .await?;
            Ok(json!({"outcome": "cancelled"}))
        }
        _ => Ok(json!({"outcome": "unchanged"})),
    }
}

/// `ReservationCancelled` for a hold given up before payment, recorded with the release.
pub fn hold_cancelled_event(r: &Reservation) -> Event {
    Event::new(
        EventType::ReservationCancelled,
        &r.id,
        &r.member_id,
        &r.updated_at,
        json!({
            "reservation": super::summary(r),
            "seats": r.seats,
            "whole": true,
            "fee": 0,
            "refund": 0,
            "actor": r.changes.last().map(|c| c.actor),
            "reason": r.failure_reason,
        }),
    )
}
