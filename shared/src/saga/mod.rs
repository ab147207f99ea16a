//! The sagas' steps: one Lambda function that Step Functions invokes with `{"action": ..., "reservationId":
//! ...}` for every Task of the three state machines. This module reads the step ([`Step`]), dispatches it
//! ([`run`]) and names its failure ([`StepError`], the names the machines' `Retry` and `Catch` match, never a
//! Rust type path); each machine is a child module with one file per state:
//!
//! | machine | module |
//! |---|---|
//! | `statemachines/reservation.asl.json` (reserve → pay → confirm, with its compensations) | [`reservation`] |
//! | `statemachines/cancellation.asl.json` (refund → release, or abandon) | [`cancellation`] |
//! | `statemachines/showtime-cancellation.asl.json` (an organizer's sweep) | [`sweep`] |
//! | `statemachines/settlement.asl.json` (closing a day's statements) | [`settlement`] |
//! | `statemachines/reconciliation.asl.json` (the nightly check of every invariant) | [`reconciliation`] |
//!
//! Every step is idempotent (a retry after a timeout or a crash does nothing twice) and records the events of
//! the change it makes in the same write (the outbox).
use crate::domain::performance::format_instant;
use crate::domain::reservation::{Reservation, ReservationStatus};
use crate::error::AppError;
use crate::store::Store;

use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

pub mod cancellation;
pub mod reconciliation;
pub mod reservation;
pub mod settlement;
pub mod sweep;

use reservation::{confirm_seats, pay, refund, reserve_seats, wait_for_payment};
pub use reservation::{release_unsold, PAYMENT_INTERRUPTED};
pub use sweep::SWEEP_PAGE;

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
    /// Settlement: one page of the statements to close (`day` absent or empty: every day that may close).
    SettlementPlan {
        #[serde(default)]
        day: Option<String>,
        /// Only this organizer's statements (of `day`); absent or empty: everyone's.
        #[serde(default, rename = "organizerId")]
        organizer_id: Option<String>,
        #[serde(default)]
        force: bool,
        #[serde(default)]
        cursor: String,
    },
    /// Reconciliation: a call's worth of pages of one segment.
    ReconcileSegment {
        #[serde(rename = "runId")]
        run_id: String,
        segment: u32,
        total: u32,
        #[serde(default)]
        cursor: String,
    },
    /// Reconciliation: the report.
    ReconcileFinish {
        #[serde(rename = "runId")]
        run_id: String,
        #[serde(rename = "startedAt")]
        started_at: String,
    },
    /// Settlement: one statement closed.
    SettlementClose {
        #[serde(rename = "settlementId")]
        settlement_id: String,
        #[serde(default)]
        force: bool,
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
    /// The provider's circuit breaker refused the card: nothing was charged, and the machine goes back to
    /// waiting for a payment (`Catch` → `WaitForPayment`).
    #[error("the card payment is deferred: {0}")]
    PaymentDeferred(String),
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
            StepError::PaymentDeferred(_) => "PaymentDeferred",
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
            AppError::Dependency(m) | AppError::Conflict(m) | AppError::Busy(m) => {
                StepError::Transient(m)
            }
            other => StepError::Invalid(other.to_string()),
        }
    }
}

impl From<crate::store::StoreError> for StepError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::from(e).into()
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
    /// The settlement machine's commission default and settle delay.
    pub settlement: crate::app::settlement::Settings,
    /// The card provider's circuit breaker (this process's cache of it).
    pub breaker: crate::payments::breaker::CircuitBreaker,
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

pub(crate) fn now_text() -> String {
    format_instant(OffsetDateTime::now_utc())
}

pub(crate) async fn reservation(store: &Store, id: &str) -> Result<Reservation, StepError> {
    store
        .get_reservation(id)
        .await?
        .ok_or_else(|| StepError::Invalid(format!("no reservation {id}")))
}

/// Runs one step; its output becomes the state's result. Each machine's states are in its module.
pub async fn run(state: &SagaState, step: Step) -> Result<Value, StepError> {
    match step {
        Step::Reserve { reservation_id } => reserve_seats::run(state, &reservation_id).await,
        Step::AwaitPayment {
            reservation_id,
            task_token,
        } => wait_for_payment::run(state, &reservation_id, &task_token).await,
        Step::Pay {
            reservation_id,
            payment,
        } => pay::run(state, &reservation_id, &payment).await,
        Step::Confirm { reservation_id } => confirm_seats::run(state, &reservation_id).await,
        Step::Refund { reservation_id } => refund::refund_in_full(state, &reservation_id).await,
        Step::Release {
            reservation_id,
            status,
            error,
        } => release_unsold(state, &reservation_id, status, error.as_ref()).await,
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
        } => sweep::list_page::run(state, &showtime_id, &cursor, seen, &since).await,
        Step::CancelForShowtime {
            reservation_id,
            reason,
        } => sweep::cancel_page::cancel_for_showtime(state, &reservation_id, &reason).await,
        Step::CountSweepFailure {
            showtime_id,
            reservation_id,
            run,
        } => sweep::cancel_page::count_failure(state, &showtime_id, &reservation_id, run).await,
        Step::FinishSweep {
            showtime_id,
            run,
            total,
        } => sweep::finish::run(state, &showtime_id, run, total).await,
        Step::SettlementPlan {
            day,
            organizer_id,
            force,
            cursor,
        } => {
            settlement::plan::run(
                state,
                (day.as_deref(), organizer_id.as_deref()),
                force,
                &cursor,
            )
            .await
        }
        Step::SettlementClose {
            settlement_id,
            force,
        } => settlement::close::run(state, &settlement_id, force).await,
        Step::ReconcileSegment {
            run_id,
            segment,
            total,
            cursor,
        } => reconciliation::scan_segment::run(state, &run_id, (segment, total), &cursor).await,
        Step::ReconcileFinish { run_id, started_at } => {
            reconciliation::finish::run(state, &run_id, &started_at).await
        }
    }
}

impl SagaState {
    /// Reads `TABLE_NAME` and builds the clients. No network I/O. (Events are recorded in the table, the
    /// outbox; the publisher puts them on the bus.)
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
        let config = crate::aws::sdk_config().await;
        let store = Store::new(
            crate::aws::Lazy::new(&config, aws_sdk_dynamodb::Client::new),
            table,
        );
        Ok(SagaState {
            breaker: crate::payments::breaker::CircuitBreaker::from_env(store.clone()),
            store,
            saga: Some(SagaClient::from_env().await),
            faults: std::env::var("FAULT_INJECTION").as_deref() == Ok("on"),
            settlement: crate::app::settlement::Settings::from_env(),
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
    use super::reservation::release::failure_reason;
    use super::*;
    use crate::domain::payment::PaymentMethod;

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
            "PaymentDeferred",
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
            StepError::PaymentDeferred("x".into()).name(),
            "PaymentDeferred"
        );
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
