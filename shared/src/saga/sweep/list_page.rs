//! State `ListPage` of `statemachines/showtime-cancellation.asl.json` (and `SecondPass`, `Recheck`, which run
//! it again for what was created meanwhile).

use crate::saga::{SagaState, StepError};
use serde_json::{json, Value};

/// Reservations per page of an organizer's showtime sweep (the Map state's items per iteration).
pub const SWEEP_PAGE: u32 = 100;

/// State `ListPage`: one page of the showtime's reservation ids (on the second pass, only those created since
/// the first began, not counted again).
pub(crate) async fn run(
    state: &SagaState,
    showtime_id: &str,
    cursor: &str,
    seen: u64,
    since: &str,
) -> Result<Value, StepError> {
    let store = &state.store;
    let cursor = (!cursor.is_empty()).then_some(cursor);
    let page = if since.is_empty() {
        store
            .list_reservations(
                crate::store::reservations::ReservationListing::Showtime(showtime_id),
                None,
                SWEEP_PAGE,
                cursor,
            )
            .await?
    } else {
        store
            .list_showtime_reservations_since(showtime_id, since, SWEEP_PAGE, cursor)
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
