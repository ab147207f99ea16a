//! The steps of the reservation saga (`statemachines/reservation.asl.json`), one Lambda function that Step
//! Functions invokes with `{"action": ..., "reservationId": ...}`. Every step is idempotent (a retry after a
//! timeout does nothing twice), publishes the events of the change it made after that change committed, and
//! fails with a named error that the state machine's `Retry` and `Catch` match ([`StepError::name`]), never a
//! Rust type path.

use crate::domain::payment::{Payment, PaymentMethod};
use crate::domain::performance::format_instant;
use crate::domain::reservation::{Reservation, ReservationStatus};
use crate::domain::wallet::{LedgerKind, WalletError};
use crate::error::AppError;
use crate::events::{Event, EventType};
use crate::payments::test_mode::TestModeProvider;
use crate::payments::{ChargeOutcome, ChargeRequest, PaymentProvider, ProviderError};
use crate::store::Store;

/// Reservations per page of an organizer's showtime sweep (the Map state's items per iteration).
pub const SWEEP_PAGE: u32 = 100;
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

pub mod cancellation;

pub use crate::domain::payment::PaymentInput;
pub use crate::sfn::{sweep_run_name, Execution, Machine, SagaClient};

/// One invocation of the saga function.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Step {
    /// Re-asserts the hold: a no-op when this reservation holds its seats and the hold is live.
    Reserve {
        #[serde(rename = "reservationId")]
        reservation_id: String,
    },
    /// Keeps the task token of the pay-later wait; `POST /reservations/{id}/payment` sends it back.
    AwaitPayment {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        #[serde(rename = "taskToken")]
        task_token: String,
    },
    Pay {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        payment: PaymentInput,
    },
    /// Seats HELD → SOLD and the reservation CONFIRMED, in one transaction.
    Confirm {
        #[serde(rename = "reservationId")]
        reservation_id: String,
    },
    /// Gives a completed payment back in full (compensation).
    Refund {
        #[serde(rename = "reservationId")]
        reservation_id: String,
    },
    /// Releases the seats and marks the reservation FAILED or EXPIRED (compensation).
    Release {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        status: ReservationStatus,
        #[serde(default)]
        error: Option<Value>,
    },
    /// Cancellation saga: refunds the pending cancellation's quote.
    RefundCancellation {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        #[serde(rename = "cancellationId")]
        cancellation_id: String,
    },
    /// Cancellation saga: the seats back on sale and the reservation marked, in one transaction.
    ReleaseCancelled {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        #[serde(rename = "cancellationId")]
        cancellation_id: String,
    },
    /// Cancellation saga: `ReservationCancelled` and `RefundIssued`.
    PublishCancellation {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        #[serde(rename = "cancellationId")]
        cancellation_id: String,
    },
    /// Cancellation saga: the refund failed for good; the cancellation is recorded FAILED, the seats stay sold.
    AbandonCancellation {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        #[serde(rename = "cancellationId")]
        cancellation_id: String,
        #[serde(default)]
        error: Option<Value>,
    },
    /// Showtime sweep: one page of the showtime's reservation ids.
    ListShowtimeReservations {
        #[serde(rename = "showtimeId")]
        showtime_id: String,
        /// Empty for the first page.
        #[serde(default)]
        cursor: String,
        #[serde(default)]
        seen: u64,
        /// Empty on the first pass (every reservation); on the second, only those created from then on
        /// (and they are not counted again).
        #[serde(default)]
        since: String,
    },
    /// Showtime sweep: one reservation (released, or refunded in full and cancelled).
    CancelForShowtime {
        #[serde(rename = "reservationId")]
        reservation_id: String,
        reason: String,
    },
    /// Showtime sweep: a reservation the sweep could not cancel, counted once per run.
    CountSweepFailure {
        #[serde(rename = "showtimeId")]
        showtime_id: String,
        #[serde(rename = "reservationId")]
        reservation_id: String,
        run: u64,
    },
    /// Showtime sweep: done.
    FinishSweep {
        #[serde(rename = "showtimeId")]
        showtime_id: String,
        run: u64,
        total: u64,
    },
}

/// A step that did not complete, by the name the state machine matches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The hold is over (expired, released, or never there): nothing can be sold.
    #[error("the hold has ended: {0}")]
    HoldEnded(String),
    #[error("the card was declined: {0}")]
    PaymentDeclined(String),
    #[error("the wallet has too few points: {0}")]
    InsufficientPoints(String),
    /// The provider failed transiently; the step is retried with the same idempotency key.
    #[error("the payment provider failed transiently: {0}")]
    PaymentTransient(String),
    /// A dependency failed (DynamoDB, EventBridge); retried.
    #[error("a dependency failed: {0}")]
    Transient(String),
    /// A bug or impossible input; not retried.
    #[error("the step cannot run: {0}")]
    Invalid(String),
}

impl StepError {
    /// The error name in Step Functions (`ErrorEquals`).
    pub fn name(&self) -> &'static str {
        match self {
            StepError::HoldEnded(_) => "HoldEnded",
            StepError::PaymentDeclined(_) => "PaymentDeclined",
            StepError::InsufficientPoints(_) => "InsufficientPoints",
            StepError::PaymentTransient(_) => "PaymentTransient",
            StepError::Transient(_) => "Transient",
            StepError::Invalid(_) => "Invalid",
        }
    }

    /// The reason recorded on a reservation that fails because of this error.
    pub fn reason(&self) -> &str {
        match self {
            StepError::HoldEnded(_) => "hold_expired",
            StepError::PaymentDeclined(code) => code,
            StepError::InsufficientPoints(_) => "insufficient_points",
            _ => "saga_failed",
        }
    }
}

impl From<AppError> for StepError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Dependency(m) | AppError::Conflict(m) => StepError::Transient(m),
            other => StepError::Invalid(other.to_string()),
        }
    }
}

/// What the saga function needs.
#[derive(Clone, Debug)]
pub struct SagaState {
    pub store: Store,
    /// Ends a pay-later wait when its hold is cancelled.
    pub saga: Option<SagaClient>,
    /// Test stacks only (`FAULT_INJECTION=on`): the crash switches of [`crash_point`] are honoured.
    pub faults: bool,
}

/// A crash switch of a test stack: when an item `FAULT#saga`/`<key>#<point>` has `remaining > 0`, takes one
/// and ends the process at once, as an out-of-memory kill or a lost execution environment ends a Lambda
/// (Step Functions sees `Runtime.ExitError`). `key` is the reservation id (the showtime id for a sweep's own
/// steps); `point` is `<action>@before` (nothing written yet), `<action>@after` (everything written, no answer
/// given) or, where money moves, `pay@moved` / `refund@moved` (moved, not recorded). A no-op elsewhere.
pub async fn crash_point(state: &SagaState, key: &str, point: &str) {
    if state.faults {
        crate::faults::crash_point(&state.store, "saga", key, point).await;
    }
}

fn now_text() -> String {
    format_instant(OffsetDateTime::now_utc())
}

async fn reservation(store: &Store, id: &str) -> Result<Reservation, StepError> {
    store
        .get_reservation(id)
        .await?
        .ok_or_else(|| StepError::Invalid(format!("no reservation {id}")))
}

pub(crate) fn summary(r: &Reservation) -> Value {
    json!({
        "reservationId": r.id,
        "memberId": r.member_id,
        "performanceId": r.performance_id,
        "showtimeId": r.showtime_id,
        "seats": r.seats,
        "totalPrice": r.total_price,
        "currency": r.currency,
        "status": r.status,
    })
}

pub(crate) fn payment_data(p: &Payment) -> Value {
    json!({
        "paymentId": p.id,
        "memberId": p.member_id,
        "method": p.method,
        "status": p.status,
        "amount": p.amount,
        "refundedAmount": p.refunded_amount,
        "currency": p.currency,
        "providerReference": p.provider_reference,
        "failureReason": p.failure_reason,
    })
}

/// `ReservationHeld`, recorded in the hold's own transaction.
pub fn held_event(r: &Reservation) -> Event {
    Event::new(
        EventType::ReservationHeld,
        &r.id,
        &r.member_id,
        &r.created_at,
        json!({"reservation": summary(r), "holdExpiresAt": crate::domain::reservation::epoch_to_rfc3339(r.hold_expires_at)}),
    )
}

/// Runs one step; its output becomes the state's result.
pub async fn run(state: &SagaState, step: Step) -> Result<Value, StepError> {
    let store = &state.store;
    match step {
        Step::Reserve { reservation_id } => {
            let r = reservation(store, &reservation_id).await?;
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
        Step::AwaitPayment {
            reservation_id,
            task_token,
        } => {
            store.put_payment_task(&reservation_id, &task_token).await?;
            // A hold cancelled before its token was kept: the canceller found no token to end the wait with,
            // so the wait ends here (one of the two always sees the other's write).
            let r = reservation(store, &reservation_id).await?;
            if r.status.is_release() {
                if let Some(saga) = &state.saga {
                    saga.end_wait(&task_token).await?;
                }
            }
            Ok(json!({}))
        }
        Step::Pay {
            reservation_id,
            payment,
        } => pay(state, &reservation_id, &payment).await,
        Step::Confirm { reservation_id } => {
            let r = reservation(store, &reservation_id).await?;
            // A hold made in the moment its showtime was being cancelled is not sold: the organizer's sweep
            // may have listed the showtime's reservations before it. (A confirm that committed before its
            // process died is a sale the sweep will find.)
            if r.status != ReservationStatus::Confirmed
                && store
                    .get_showtime(&r.showtime_id)
                    .await?
                    .is_some_and(|s| s.status == crate::domain::showtime::ShowtimeStatus::Cancelled)
            {
                return Err(StepError::HoldEnded(format!(
                    "showtime {} is cancelled",
                    r.showtime_id
                )));
            }
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let confirmed = match store
                .confirm_seats(&r, now, |c| {
                    vec![Event::new(
                        EventType::ReservationConfirmed,
                        &c.id,
                        &c.member_id,
                        &c.updated_at,
                        json!({"reservation": summary(c)}),
                    )]
                })
                .await
            {
                Ok(c) => c,
                Err(AppError::Conflict(why)) if !why.contains("try again") => {
                    return Err(StepError::HoldEnded(why))
                }
                Err(e) => return Err(e.into()),
            };
            if let Some(admitted_at) = confirmed.admitted_at {
                // The purchase finishes the buyer's waiting-room admission: its capacity goes back to the
                // queue. Best effort (a retry of this step after a confirmation comes here too): a failure
                // only leaves that capacity to come back when the admission lapses.
                let now_ms = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
                if let Err(e) = store
                    .finish_admission(
                        (&confirmed.showtime_id, &confirmed.member_id),
                        admitted_at,
                        &confirmed.id,
                        now_ms,
                    )
                    .await
                {
                    tracing::warn!(error = %e, "the admission was not finished; its capacity comes back when it lapses");
                }
            }
            Ok(json!({"status": confirmed.status}))
        }
        Step::Refund { reservation_id } => refund_in_full(state, &reservation_id).await,
        Step::RefundCancellation {
            reservation_id,
            cancellation_id,
        } => cancellation::refund_step(state, &reservation_id, &cancellation_id).await,
        Step::ReleaseCancelled {
            reservation_id,
            cancellation_id,
        } => {
            let r =
                cancellation::release_step(state, &reservation_id, &cancellation_id, None).await?;
            Ok(json!({"status": r.status}))
        }
        Step::PublishCancellation {
            reservation_id,
            cancellation_id,
        } => cancellation::publish_step(state, &reservation_id, &cancellation_id).await,
        Step::AbandonCancellation {
            reservation_id,
            cancellation_id,
            error,
        } => {
            cancellation::abandon_step(state, &reservation_id, &cancellation_id, error.as_ref())
                .await
        }
        Step::ListShowtimeReservations {
            showtime_id,
            cursor,
            seen,
            since,
        } => {
            let cursor = (!cursor.is_empty()).then_some(cursor.as_str());
            let page = if since.is_empty() {
                store
                    .list_reservations(
                        crate::store::reservations::ReservationListing::Showtime(&showtime_id),
                        None,
                        SWEEP_PAGE,
                        cursor,
                    )
                    .await?
            } else {
                store
                    .list_showtime_reservations_since(&showtime_id, &since, SWEEP_PAGE, cursor)
                    .await?
            };
            let ids: Vec<String> = page.items.into_iter().map(|r| r.id).collect();
            let seen = if since.is_empty() {
                seen + ids.len() as u64
            } else {
                seen
            };
            Ok(json!({
                "ids": ids,
                "cursor": page.next_cursor.clone().unwrap_or_default(),
                "more": page.next_cursor.is_some(),
                "seen": seen,
                "since": since,
            }))
        }
        Step::CancelForShowtime {
            reservation_id,
            reason,
        } => cancellation::cancel_for_showtime(state, &reservation_id, &reason).await,
        Step::CountSweepFailure {
            showtime_id,
            reservation_id,
            run,
        } => {
            store
                .count_sweep_failure(&showtime_id, run, &reservation_id)
                .await?;
            Ok(json!({"outcome": "failed"}))
        }
        Step::FinishSweep {
            showtime_id,
            run,
            total,
        } => {
            store
                .finish_sweep(&showtime_id, run, total, OffsetDateTime::now_utc())
                .await?;
            Ok(json!({"total": total}))
        }
        Step::Release {
            reservation_id,
            status,
            error,
        } => release_unsold(state, &reservation_id, status, error.as_ref()).await,
    }
}

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
                json!({"reservation": summary(next), "reason": next.failure_reason}),
            )]
        })
        .await?;
    Ok(json!({"status": released.status, "reason": released.failure_reason}))
}

/// The reason recorded for a Catch'ed error name; the payment's own reason when there is one.
fn failure_reason(error_name: &str) -> String {
    match error_name {
        "HoldEnded" => "hold_expired",
        "InsufficientPoints" => "insufficient_points",
        "PaymentDeclined" => "payment_declined",
        "SagaInterrupted" => "saga_interrupted",
        _ => "saga_failed",
    }
    .to_string()
}

async fn pay(
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
    let mut payment = match store.get_payment(&r.id).await? {
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
        None => store.start_payment(&waiting, r.version).await?,
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
                match provider.charge(&request).await {
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

/// Records what became of a WAITING payment: completed with the charge's reference (and card), or failed for
/// a reason; `PaymentCompleted` / `PaymentFailed` in the same write.
async fn record_outcome(
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
    let event = Event::new(kind, &r.id, &r.member_id, &now, payment_data(payment));
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
async fn settle_waiting(state: &SagaState, r: &Reservation) -> Result<Option<Payment>, StepError> {
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

/// Step `refund`: gives back in full whatever the payment of a reservation that was never sold kept (a payment
/// left WAITING is settled first). A CONFIRMED reservation (its confirm committed and only its answer was lost)
/// is a sale: nothing is refunded. Nor is one whose cancellations refunded it (it was sold first).
async fn refund_in_full(state: &SagaState, reservation_id: &str) -> Result<Value, StepError> {
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
            json!({"refundId": refund_id, "amount": amount, "payment": payment_data(p)}),
        )]
    };
    if cancellation::issue_refund(state, reservation_id, &refund_id, amount, &refunded)
        .await?
        .is_none()
    {
        return Ok(json!({"refunded": 0}));
    }
    Ok(json!({"refunded": amount}))
}

impl SagaState {
    /// Reads `TABLE_NAME` and builds the clients. No network I/O. (Events are recorded in the table, the
    /// outbox; the publisher puts them on the bus.)
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
        let config = crate::aws::sdk_config().await;
        Ok(SagaState {
            store: Store::new(
                crate::aws::Lazy::new(&config, aws_sdk_dynamodb::Client::new),
                table,
            ),
            saga: Some(SagaClient::from_env().await),
            faults: std::env::var("FAULT_INJECTION").as_deref() == Ok("on"),
        })
    }
}

/// Runs the saga function under the Lambda runtime: each invocation is one step, logged with the reservation
/// id as its correlation id; a failed step is a `Diagnostic` whose `errorType` is the step error's name.
pub async fn serve(state: SagaState) -> Result<(), lambda_runtime::Error> {
    use tracing::Instrument;
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| {
            let state = state.clone();
            Box::pin(async move {
                let correlation = event.payload["reservationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let action = event.payload["action"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let span = tracing::info_span!(
                    "saga_step",
                    request_id = %event.context.request_id,
                    correlation_id = %correlation,
                    action = %action,
                );
                async move {
                    let key = event.payload["reservationId"]
                        .as_str()
                        .or(event.payload["showtimeId"].as_str())
                        .unwrap_or_default()
                        .to_string();
                    let result = match serde_json::from_value::<Step>(event.payload) {
                        Ok(step) => {
                            crash_point(&state, &key, &format!("{action}@before")).await;
                            let result = run(&state, step).await;
                            if result.is_ok() {
                                crash_point(&state, &key, &format!("{action}@after")).await;
                            }
                            result
                        }
                        Err(e) => Err(StepError::Invalid(format!("not a saga step: {e}"))),
                    };
                    match result {
                        Ok(output) => {
                            tracing::info!("step done");
                            Ok(output)
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, error_type = err.name(), "step failed");
                            Err(lambda_runtime::Diagnostic {
                                error_type: err.name().to_string(),
                                error_message: err.to_string(),
                            })
                        }
                    }
                }
                .instrument(span)
                .await
            })
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_and_payments_read_as_the_state_machine_sends_them() {
        let step: Step = serde_json::from_value(json!({
            "action": "pay", "reservationId": "r1", "payment": {"method": "CARD", "token": "tok_visa"}
        }))
        .expect("pay");
        assert!(matches!(
            step,
            Step::Pay {
                payment: PaymentInput::Card { .. },
                ..
            }
        ));
        let step: Step = serde_json::from_value(json!({
            "action": "release", "reservationId": "r1", "status": "EXPIRED"
        }))
        .expect("release");
        assert!(matches!(
            step,
            Step::Release {
                status: ReservationStatus::Expired,
                ..
            }
        ));
        let wallet: PaymentInput =
            serde_json::from_value(json!({"method": "WALLET"})).expect("wallet");
        assert_eq!(wallet.method(), PaymentMethod::Wallet);
        assert!(
            serde_json::from_value::<PaymentInput>(json!({"method": "WALLET", "x": 1})).is_err()
        );
        assert!(serde_json::from_value::<PaymentInput>(json!({"method": "CASH"})).is_err());
    }

    /// Every Task of the three state machines sends a payload this function reads as a step, and every error
    /// of ours they retry or catch is one a step raises.
    #[test]
    fn every_task_of_the_state_machines_is_a_step() {
        fn sample(key: &str) -> Value {
            match key {
                "seen" | "run" | "total" => json!(1),
                "payment" => json!({"method": "WALLET"}),
                "status" => json!("EXPIRED"),
                "error" => json!({"Error": "HoldEnded", "Cause": "x"}),
                _ => json!("x"),
            }
        }
        fn walk(v: &Value, steps: &mut Vec<Value>, errors: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::Object(payload)) = map.get("Payload") {
                        let concrete: serde_json::Map<String, Value> = payload
                            .iter()
                            .map(|(k, v)| match k.strip_suffix(".$") {
                                Some(name) => (name.to_string(), sample(name)),
                                None => (k.clone(), v.clone()),
                            })
                            .collect();
                        steps.push(Value::Object(concrete));
                    }
                    if let Some(Value::Array(names)) = map.get("ErrorEquals") {
                        errors.extend(names.iter().filter_map(|n| n.as_str().map(str::to_string)));
                    }
                    map.values().for_each(|v| walk(v, steps, errors));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(v, steps, errors)),
                _ => {}
            }
        }
        let ours = [
            "HoldEnded",
            "PaymentDeclined",
            "InsufficientPoints",
            "PaymentTransient",
            "Transient",
            "Invalid",
        ];
        for file in [
            "reservation.asl.json",
            "cancellation.asl.json",
            "showtime-cancellation.asl.json",
        ] {
            let path = format!("{}/../statemachines/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("the state machine");
            let doc: Value = serde_json::from_str(&text).expect("JSON");
            let (mut steps, mut errors) = (Vec::new(), Vec::new());
            walk(&doc, &mut steps, &mut errors);
            assert!(!steps.is_empty(), "{file}");
            for step in steps {
                assert!(
                    serde_json::from_value::<Step>(step.clone()).is_ok(),
                    "{file}: {step} is not a step"
                );
            }
            for e in errors {
                assert!(
                    ours.contains(&e.as_str())
                        || e.starts_with("States.")
                        || e.starts_with("Lambda."),
                    "{file}: {e} is no error a step raises"
                );
            }
        }
    }

    #[test]
    fn errors_have_state_machine_names_and_reasons() {
        assert_eq!(StepError::HoldEnded("x".into()).name(), "HoldEnded");
        assert_eq!(
            StepError::PaymentDeclined("card_declined".into()).reason(),
            "card_declined"
        );
        assert_eq!(
            StepError::InsufficientPoints("x".into()).reason(),
            "insufficient_points"
        );
        assert_eq!(failure_reason("HoldEnded"), "hold_expired");
    }
}
