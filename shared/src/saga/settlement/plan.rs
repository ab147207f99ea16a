//! `Plan`: one page of the statements the run closes (those of the given day, or of every day that may
//! close now and a few before it that are still open).

use crate::app::settlement::plan;
use crate::saga::{SagaState, StepError};
use serde_json::{json, Value};
use time::OffsetDateTime;

pub async fn run(
    state: &SagaState,
    (day, organizer): (Option<&str>, Option<&str>),
    force: bool,
    cursor: &str,
) -> Result<Value, StepError> {
    let force = super::forced(state, force)?;
    let page = plan(
        &state.store,
        &state.settlement,
        (
            day.filter(|d| !d.is_empty()),
            organizer.filter(|o| !o.is_empty()),
            force,
        ),
        cursor,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(super::refusal)?;
    Ok(json!({"ids": page.ids, "cursor": page.cursor, "more": page.more}))
}
