//! Showtimes: which showtime a request names, creating and changing one, and an organizer's cancellation of
//! one.

use crate::auth::Caller;
use crate::domain::ids::new_id;
use crate::domain::performance::Performance;
use crate::domain::showtime::{SeatMap, Showtime, ShowtimeInput};
use crate::error::AppError;
use crate::runtime::{AppState, CancelRouteState};
use crate::store::StoreError;
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

/// Creates a showtime of `performance` (every seat with it). A repeat of the same `Idempotency-Key` (the id)
/// with the same details finds the showtime it created; with other details it is a 409.
pub async fn create(
    state: &AppState,
    performance: &Performance,
    idempotent_id: Option<String>,
    input: ShowtimeInput,
) -> Result<Showtime, AppError> {
    let now = OffsetDateTime::now_utc();
    let details = input.validate(now).map_err(AppError::Validation)?;
    let id = idempotent_id.clone().unwrap_or_else(new_id);
    let showtime = Showtime::new(id.clone(), performance.id.clone(), details, now);
    let created = match state.store.create_showtime(&showtime).await {
        Ok(()) => showtime,
        Err(StoreError::Conflict(_)) if idempotent_id.is_some() => {
            match state.store.get_showtime(&id).await? {
                Some(existing) if existing.details == showtime.details => existing,
                _ => {
                    return Err(AppError::Conflict(
                        "Idempotency-Key was already used for a different request".into(),
                    ))
                }
            }
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(
        showtime_id = %created.id,
        performance_id = %created.performance_id,
        seats = created.details.seat_map.capacity(),
        "showtime created"
    );
    tracing::info!(
        showtime_id = %created.id,
        performance_id = %created.performance_id,
        seats = created.details.seat_map.capacity(),
        "showtime created"
    );
    Ok(created)
}

/// The layout (rows, columns, which rows are which grade) is fixed once seats exist; prices, grade names,
/// time and venue name may change.
fn same_layout(a: &SeatMap, b: &SeatMap) -> bool {
    a.rows == b.rows
        && a.cols == b.cols
        && a.grades.len() == b.grades.len()
        && a.grades
            .iter()
            .zip(&b.grades)
            .all(|(x, y)| x.from_row == y.from_row && x.to_row == y.to_row)
}

/// Changes showtime `showtime_id` of performance `performance_id` (if still at version `expected`, when
/// given): time, venue name, prices, grade names; never the layout. A new time or venue on a showtime with
/// sales publishes `ShowtimeChanged` listing the reservations it affects; their buyers may cancel without a
/// fee for
/// [`CHANGE_FREE_DAYS`](crate::domain::refund::CHANGE_FREE_DAYS) days.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    (performance_id, showtime_id): (&str, &str),
    expected: Option<u64>,
    input: ShowtimeInput,
) -> Result<Showtime, AppError> {
    let now = OffsetDateTime::now_utc();
    let details = input.validate(now).map_err(AppError::Validation)?;
    let mut showtime = showtime_of(state, performance_id, showtime_id).await?;
    if let Some(expected) = expected.filter(|v| *v != showtime.version) {
        return Err(AppError::PreconditionFailed {
            entity: "showtime",
            id: showtime.id,
            expected,
        });
    }
    if !same_layout(&showtime.details.seat_map, &details.seat_map) {
        return Err(AppError::Conflict(
            "the seat layout (rows, columns, the rows of each grade) cannot change once the showtime exists; \
             prices, grade names, time and venue name can"
                .into(),
        ));
    }
    if showtime.status == crate::domain::showtime::ShowtimeStatus::Cancelled {
        return Err(AppError::Conflict(format!(
            "showtime {} is cancelled",
            showtime.id
        )));
    }
    let previous = showtime.version;
    let moved = showtime.details.starts_at != details.starts_at
        || showtime.details.venue_name != details.venue_name;
    let before = (
        crate::domain::performance::format_instant(showtime.details.starts_at),
        showtime.details.venue_name.clone(),
    );
    let affected = if moved {
        sold_reservations(state, &showtime.id).await?
    } else {
        Vec::new()
    };
    showtime.details = details;
    showtime.version += 1;
    showtime.updated_at = crate::domain::performance::format_instant(now);
    if !affected.is_empty() {
        showtime.changed_at = Some(showtime.updated_at.clone());
        showtime.fee_free_until = Some(crate::domain::performance::format_instant(
            now + time::Duration::days(crate::domain::refund::CHANGE_FREE_DAYS),
        ));
    }
    // One event per 500 reservations keeps each well under EventBridge's 256 KB.
    let events: Vec<_> = affected
        .chunks(500)
        .enumerate()
        .map(|(i, chunk)| {
            crate::events::Event::keyed(
                crate::events::EventType::ShowtimeChanged,
                &showtime.id,
                &format!("{}-{i}", showtime.version),
                &caller.member_id,
                &showtime.updated_at,
                serde_json::json!({
                    "showtimeId": showtime.id,
                    "performanceId": showtime.performance_id,
                    "previous": {"startsAt": before.0, "venueName": before.1},
                    "startsAt": crate::domain::performance::format_instant(showtime.details.starts_at),
                    "venueName": showtime.details.venue_name,
                    "feeFreeUntil": showtime.fee_free_until,
                    "affectedReservations": chunk,
                }),
            )
        })
        .collect();
    state
        .store
        .replace_showtime(&showtime, previous, &events)
        .await?;
    Ok(showtime)
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

/// The reservations a change of time or venue affects: every CONFIRMED one, as `{reservationId, memberId}`.
async fn sold_reservations(
    state: &AppState,
    showtime_id: &str,
) -> Result<Vec<serde_json::Value>, AppError> {
    let mut affected = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_reservations(
                crate::store::reservations::ReservationListing::Showtime(showtime_id),
                Some(crate::domain::reservation::ReservationStatus::Confirmed),
                crate::domain::rules::PAGE_LIMIT.max as u32,
                cursor.as_deref(),
            )
            .await?;
        affected.extend(
            page.items
                .into_iter()
                .map(|r| serde_json::json!({"reservationId": r.id, "memberId": r.member_id})),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(affected),
        }
    }
}
