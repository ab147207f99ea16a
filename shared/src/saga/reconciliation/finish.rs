//! `Finish`: the run's pages added up into its report (written as the latest too), and its metric logged
//! (`Ticketing/Reconciliation` `ReconciliationBreaks`, which the alarm watches).

use crate::app::reconciliation::{finish, metric};
use crate::saga::{SagaState, StepError};
use serde_json::{json, Value};
use time::OffsetDateTime;

pub async fn run(state: &SagaState, run_id: &str, started_at: &str) -> Result<Value, StepError> {
    let report = finish(&state.store, run_id, started_at, OffsetDateTime::now_utc()).await?;
    println!("{}", metric(&report));
    if report.break_count > 0 {
        tracing::error!(run_id, breaks = report.break_count, first = ?report.breaks.first(), "reconciliation found breaks");
    } else {
        tracing::info!(
            run_id,
            items = report.counts.items,
            "reconciliation found no break"
        );
    }
    Ok(json!({"breaks": report.break_count, "items": report.counts.items}))
}
