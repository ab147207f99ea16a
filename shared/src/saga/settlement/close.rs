//! `CloseEach`'s item: one statement frozen, priced and written (again the same, when it runs again).

use crate::app::settlement::close;
use crate::saga::{SagaState, StepError};
use serde_json::{json, Value};
use time::OffsetDateTime;

pub async fn run(state: &SagaState, id: &str, force: bool) -> Result<Value, StepError> {
    let force = super::forced(state, force)?;
    let st = close(
        &state.store,
        &state.settlement,
        id,
        force,
        OffsetDateTime::now_utc(),
    )
    .await
    .map_err(super::refusal)?;
    Ok(json!({
        "settlementId": st.settlement_id,
        "status": st.status,
        "netPayable": st.totals.map(|t| t.net_payable),
    }))
}
