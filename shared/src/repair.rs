//! The repairer: finds what a dead process left half-done and finishes it from what is recorded.
//!
//! The sagas retry every step that dies (docs/saga.md, "The failure model"); what they cannot cover is an
//! execution that is over while its reservation is not: its retries ran out in a compensation, it was stopped
//! or timed out, or it never started (the request that wrote the hold or the pending cancellation died before
//! its `StartExecution`). The repairer reads the repair index (pattern RP1: holds past their expiry,
//! cancellations and sweeps begun a while ago, see [`crate::store::repairs`]), re-reads each item, and:
//!
//! | found | its execution | what the repairer does |
//! |---|---|---|
//! | a HELD reservation past its hold | running | nothing (it is still working) |
//! | a HELD reservation past its hold | over, or never started | ends it as the saga would have: refunds whatever the payment kept (a payment left WAITING is settled from the ledger or the provider first), releases the seats, marks it FAILED (a payment was tried) or EXPIRED, with its event ([`crate::saga::release_unsold`]) |
//! | a pending cancellation | running | nothing |
//! | a pending cancellation | never started | starts it under its own name |
//! | a pending cancellation | over | a new run of the same idempotent steps ([`crate::app::resume::resume`]) |
//! | an organizer's sweep RUNNING | over, or never started | resumed where its progress stands ([`crate::app::resume::resume_sweep`]) |
//!
//! Every action is idempotent and guarded by DescribeExecution, so the scheduled repairer, `ticketing-admin
//! repair` and a later request may all run at once.

use crate::app::resume::{self, Resumed};
use crate::domain::reservation::ReservationStatus;
use crate::error::AppError;
use crate::saga::{Execution, Machine, SagaState};
use crate::store::repairs::DueItem;
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// How long after an item is due the repairer looks at it, by default: past the sagas' retry bound (a step
/// is retried for at most about 4 min 20 s), so that it finds only what nothing else will finish.
pub const DEFAULT_GRACE_SECONDS: i64 = 300;

/// At most this many items of each of the index's 16 shards are looked at in one run (a run a minute keeps
/// well within DescribeExecution's quota of 15 a second).
pub const PER_SHARD: i32 = 25;

/// What one repair run found and did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RepairReport {
    /// Items of the index that were due.
    pub looked_at: usize,
    /// Of those, half-done with nothing working on them: what the repairer repaired (the metric
    /// `RepairsFound`).
    pub found: usize,
    /// Still being worked on (an execution runs), or finished since the index was read.
    pub fine: usize,
    /// Could not be repaired this time (a dependency failed); the next run tries again.
    pub failed: usize,
    /// One line per item repaired or failed: what it was and what was done.
    pub actions: Vec<String>,
}

/// One repair run over what was due `grace_seconds` ago.
pub async fn run(state: &SagaState, grace_seconds: i64) -> Result<RepairReport, AppError> {
    let saga = state
        .saga
        .as_ref()
        .ok_or_else(|| AppError::Dependency("the repairer has no saga client".into()))?;
    let before = OffsetDateTime::now_utc().unix_timestamp() - grace_seconds.max(0);
    let due = state.store.due_repairs(before, PER_SHARD).await?;
    let mut report = RepairReport {
        looked_at: due.len(),
        ..RepairReport::default()
    };
    // A few at a time: each is a handful of calls, and DescribeExecution has a low quota.
    for chunk in due.chunks(4) {
        let mut tasks = tokio::task::JoinSet::new();
        for item in chunk.iter().cloned() {
            let (state, saga) = (state.clone(), saga.clone());
            tasks.spawn(async move {
                let outcome = repair_one(&state, &saga, &item).await;
                (item, outcome)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (item, outcome) =
                joined.map_err(|e| AppError::Dependency(format!("repair task: {e}")))?;
            match outcome {
                Ok(None) => report.fine += 1,
                Ok(Some(action)) => {
                    report.found += 1;
                    report.actions.push(action);
                }
                Err(e) => {
                    report.found += 1;
                    report.failed += 1;
                    report
                        .actions
                        .push(format!("{}: not repaired: {e}", name(&item)));
                }
            }
        }
    }
    report.actions.sort();
    Ok(report)
}

fn name(item: &DueItem) -> String {
    match item {
        DueItem::Reservation(id) => format!("reservation {id}"),
        DueItem::Sweep(id) => format!("showtime {id}"),
    }
}

/// Repairs one item: `Ok(None)` when it needs nothing, else what was done.
async fn repair_one(
    state: &SagaState,
    saga: &crate::sfn::SagaClient,
    item: &DueItem,
) -> Result<Option<String>, AppError> {
    let store = &state.store;
    match item {
        DueItem::Sweep(showtime_id) => {
            let resumed = resume::resume_sweep(store, saga, showtime_id).await?;
            Ok(resumed_action(&name(item), "sweep", resumed))
        }
        DueItem::Reservation(id) => {
            let Some(r) = store.get_reservation(id).await? else {
                return Ok(None);
            };
            if r.status == ReservationStatus::Held {
                if r.hold_expires_at >= OffsetDateTime::now_utc().unix_timestamp() {
                    // Still live (the index was read before a change): its saga or its buyer has time.
                    return Ok(None);
                }
                let execution = saga.execution(Machine::Reservation, id).await?;
                if execution == Execution::Running {
                    return Ok(None);
                }
                let paid = store.get_payment(id).await?.is_some();
                let status = if paid {
                    ReservationStatus::Failed
                } else {
                    ReservationStatus::Expired
                };
                let ended = crate::saga::release_unsold(
                    state,
                    id,
                    status,
                    Some(&json!({"Error": "SagaInterrupted"})),
                )
                .await
                .map_err(|e| AppError::Dependency(e.to_string()))?;
                let saga_was = match execution {
                    Execution::Ended(how) => format!("ended {how}"),
                    _ => "never started".to_string(),
                };
                return Ok(Some(format!(
                    "{}: HELD past its hold, its saga {saga_was}: {}",
                    name(item),
                    describe(&ended)
                )));
            }
            if r.pending_cancellation.is_some() {
                let resumed = resume::resume(store, saga, id).await?;
                return Ok(resumed_action(&name(item), "cancellation", resumed));
            }
            Ok(None)
        }
    }
}

fn describe(ended: &Value) -> String {
    match (ended["status"].as_str(), ended["reason"].as_str()) {
        (Some(status), Some(reason)) => format!("ended {status} ({reason})"),
        (Some(status), None) => format!("ended {status}"),
        _ => ended.to_string(),
    }
}

fn resumed_action(what: &str, kind: &str, resumed: Resumed) -> Option<String> {
    match resumed {
        Resumed::Nothing | Resumed::UnderWay => None,
        // The sweep of its showtime finishes it (and is in the index itself while it runs).
        Resumed::OwnedBySweep => None,
        Resumed::Started(run) => Some(format!(
            "{what}: the {kind} had never started: started {run}"
        )),
        Resumed::Restarted(run) => Some(format!(
            "{what}: the {kind}'s run ended half-done: resumed as {run}"
        )),
    }
}

/// The CloudWatch embedded-metric line of a run: `RepairsFound` (what needed a repair), `RepairsFailed`.
pub fn emf(report: &RepairReport) -> Value {
    crate::telemetry::emf(
        "Ticketing/Repair",
        &[],
        &[
            ("RepairsFound", "Count", json!(report.found)),
            ("RepairsFailed", "Count", json!(report.failed)),
            ("LookedAt", "Count", json!(report.looked_at)),
        ],
    )
}

/// Runs the repairer under the Lambda runtime (the schedule's invocation, or a test's): the payload may set
/// `graceSeconds`; answers the report and logs its metric line.
pub async fn serve(state: SagaState) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Value>| {
            let state = state.clone();
            async move {
                let grace = event.payload["graceSeconds"]
                    .as_i64()
                    .unwrap_or(DEFAULT_GRACE_SECONDS);
                let report = run(&state, grace)
                    .await
                    .map_err(|e| lambda_runtime::Diagnostic {
                        error_type: "RepairFailed".into(),
                        error_message: e.to_string(),
                    })?;
                println!("{}", emf(&report));
                for action in &report.actions {
                    tracing::warn!(action = %action, "repaired");
                }
                tracing::info!(
                    looked_at = report.looked_at,
                    found = report.found,
                    failed = report.failed,
                    "repair run done"
                );
                Ok::<_, lambda_runtime::Diagnostic>(
                    serde_json::to_value(&report).unwrap_or_default(),
                )
            }
        },
    ))
    .await
}
