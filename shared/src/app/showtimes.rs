//! Showtimes: which showtime a request names, and an organizer's cancellation of one.

use crate::domain::showtime::Showtime;
use crate::error::AppError;
use crate::runtime::{AppState, CancelRouteState};
use time::OffsetDateTime;

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "showtime",
        id: id.to_string(),
    }
}

/// Showtime `id` of performance `performance_id` (404 when it is another performance's).
pub async fn showtime_of(
    state: &AppState,
    performance_id: &str,
    id: &str,
) -> Result<Showtime, AppError> {
    state
        .store
        .get_showtime(id)
        .await?
        .filter(|s| s.performance_id == performance_id)
        .ok_or_else(|| not_found(id))
}

/// Cancels a showtime (it takes no holds from now on), tells the buyers (`ShowtimeCancelled`), and starts
/// the sweep that releases its holds and refunds its confirmed reservations in full. On a showtime already
/// cancelled, a new sweep is started once the last is done (it retries what failed; nobody is refunded
/// twice). 202 with the progress.
pub async fn cancel_one(
    routes: &CancelRouteState,
    caller: &crate::auth::Caller,
    mut showtime: Showtime,
    reason: &str,
) -> Result<crate::store::cancellations::CancellationProgress, AppError> {
    let state = &routes.app;
    let now = OffsetDateTime::now_utc();
    if showtime.status == crate::domain::showtime::ShowtimeStatus::Scheduled {
        let previous = showtime.version;
        if showtime.cancel(now).is_ok() {
            showtime.cancellation_reason = Some(reason.to_string());
            let cancelled = crate::events::Event::new(
                crate::events::EventType::ShowtimeCancelled,
                &showtime.id,
                &caller.member_id,
                &showtime.updated_at,
                serde_json::json!({
                    "showtimeId": showtime.id,
                    "performanceId": showtime.performance_id,
                    "startsAt": crate::domain::performance::format_instant(showtime.details.starts_at),
                    "reason": reason,
                }),
            );
            state
                .store
                .replace_showtime(&showtime, previous, &[cancelled])
                .await?;
        }
    }
    let Some(progress) = state.store.start_sweep(&showtime.id, reason, now).await? else {
        // A run is under way: make sure it really runs (one that stopped is resumed where it stood).
        use crate::app::resume::Resumed;
        let how = match crate::app::resume::resume_sweep(&state.store, &routes.saga, &showtime.id)
            .await?
        {
            Resumed::Started(_) | Resumed::Restarted(_) => "it had stopped and has been resumed",
            _ => "follow its progress",
        };
        return Err(AppError::Conflict(format!(
            "showtime {}: a cancellation run is under way; {how}",
            showtime.id
        )));
    };
    // Test stacks: the request dies between its write and the sweep's start.
    crate::faults::api_crash_point(&state.store, &showtime.id, "sweep@written").await;
    routes
        .saga
        .start_sweep(&showtime.id, (progress.run, 0), reason)
        .await?;
    Ok(progress)
}
