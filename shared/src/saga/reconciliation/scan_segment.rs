//! `ScanSegment`: up to a call's worth of pages of one segment checked and recorded; where to go on from.

use crate::app::reconciliation::{check_segment, Options};
use crate::saga::{SagaState, StepError};
use serde_json::{json, Value};
use time::OffsetDateTime;

pub async fn run(
    state: &SagaState,
    run_id: &str,
    (segment, total): (u32, u32),
    cursor: &str,
) -> Result<Value, StepError> {
    if total == 0 || segment >= total {
        return Err(StepError::Invalid(format!(
            "segment {segment} of {total} does not exist"
        )));
    }
    let progress = check_segment(
        &state.store,
        run_id,
        (segment, total),
        cursor,
        &Options::default(),
        OffsetDateTime::now_utc(),
    )
    .await?;
    Ok(json!({"cursor": progress.cursor, "more": progress.more}))
}
