//! Per-member request budgets on the routes a script would hammer (rules in [`crate::domain::rate_limit`],
//! the count in [`crate::store::rates`]). The stack sets each budget (`HOLD_RATE_LIMIT`,
//! `QUEUE_JOIN_RATE_LIMIT`: requests per 10 s; `0` turns it off); the defaults are the domain's.

use crate::domain::rate_limit::{Limit, Limited, Route};
use crate::error::AppError;
use crate::runtime::AppState;
use std::sync::OnceLock;
use time::OffsetDateTime;

/// Every budget is counted over windows of this many seconds.
const WINDOW_SECONDS: u32 = 10;

fn configured(route: Route) -> Option<Limit> {
    static HOLD: OnceLock<Option<Limit>> = OnceLock::new();
    static JOIN: OnceLock<Option<Limit>> = OnceLock::new();
    let (cell, name) = match route {
        Route::Hold => (&HOLD, "HOLD_RATE_LIMIT"),
        Route::QueueJoin => (&JOIN, "QUEUE_JOIN_RATE_LIMIT"),
    };
    *cell.get_or_init(
        || match std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok()) {
            Some(0) => None,
            Some(requests) => Some(Limit {
                requests,
                window_seconds: WINDOW_SECONDS,
            }),
            None => Some(Limit::default_for(route)),
        },
    )
}

/// Counts one request of `member_id` on `route`; [`AppError::RateLimited`] (429 with `Retry-After`) once the
/// member's budget for the current window is spent.
pub async fn admit(state: &AppState, member_id: &str, route: Route) -> Result<(), AppError> {
    let Some(limit) = configured(route) else {
        return Ok(());
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if state
        .store
        .count_request(member_id, route, limit, now)
        .await?
    {
        return Ok(());
    }
    tracing::info!(
        route = route.as_str(),
        limit = limit.requests,
        "over the member's request budget"
    );
    Err(AppError::RateLimited(Limited {
        route,
        limit,
        retry_after: limit.retry_after(now),
    }))
}
