//! State `Finish` of `statemachines/showtime-cancellation.asl.json`.

use crate::saga::{SagaState, StepError};
use serde_json::{json, Value};
use time::OffsetDateTime;

/// State `Finish`: the sweep's progress DONE with its total.
pub(crate) async fn run(
    state: &SagaState,
    showtime_id: &str,
    run: u64,
    total: u64,
) -> Result<Value, StepError> {
    let store = &state.store;
    store
        .finish_sweep(showtime_id, run, total, OffsetDateTime::now_utc())
        .await?;
    Ok(json!({"total": total}))
}
