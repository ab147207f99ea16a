//! Performances: who may see one and who may change it, creating one, changing one (a revision, a review),
//! and an organizer's cancellation of all its showtimes.

use crate::auth::Caller;
use crate::domain::ids::new_id;
use crate::domain::member::Role;
use crate::domain::performance::{Performance, PerformanceInput};
use crate::error::AppError;
use crate::runtime::{AppState, CancelRouteState};
use crate::store::cancellations::CancellationProgress;
use crate::store::StoreError;
use std::future::Future;
use time::OffsetDateTime;

/// Read-modify-write attempts when a concurrent change wins and the client did not send `If-Match`.
const WRITE_ATTEMPTS: usize = 3;

/// The roles that publish performances.
pub const PUBLISHERS: [Role; 2] = [Role::Organizer, Role::Admin];

pub fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "performance",
        id: id.to_string(),
    }
}

/// A performance as a public read may show it: an approved one to anyone; one in any other status only to
/// its organizer and admins (with its status), and to everyone else it does not exist. `viewer` names the
/// signed-in reader; it is asked only when the performance is not public.
pub async fn visible_performance<F, Fut>(
    state: &AppState,
    id: &str,
    viewer: F,
) -> Result<Performance, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Option<Caller>, AppError>>,
{
    let p = state
        .store
        .get_performance(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if p.is_public() {
        return Ok(p);
    }
    match viewer().await? {
        Some(v) if manages(&v, &p) => Ok(p),
        _ => Err(not_found(id)),
    }
}

/// Whether `caller` may manage `p`: its organizer, or an admin.
fn manages(caller: &Caller, p: &Performance) -> bool {
    caller.is_admin() || p.organizer_id == caller.member_id
}

/// Loads a performance the caller may change: its organizer or an admin. Others learn nothing about a
/// performance the public cannot see (404), and are refused one they can (403).
pub async fn load_for_change(
    state: &AppState,
    id: &str,
    caller: &Caller,
) -> Result<Performance, AppError> {
    let p = state
        .store
        .get_performance(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    if manages(caller, &p) {
        Ok(p)
    } else if p.is_public() {
        Err(AppError::Forbidden(
            "only the performance's organizer or an admin may change it".into(),
        ))
    } else {
        Err(not_found(id))
    }
}

/// Creates a performance of `caller`'s, waiting for approval. A repeat of the same `Idempotency-Key` (the
/// id) with the same details finds the performance it created; with other details it is a 409.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    idempotent_id: Option<String>,
    input: PerformanceInput,
) -> Result<Performance, AppError> {
    let details = input.validate().map_err(AppError::Validation)?;
    let id = idempotent_id.clone().unwrap_or_else(new_id);
    let performance = Performance::new(
        id.clone(),
        caller.member_id.clone(),
        details,
        OffsetDateTime::now_utc(),
    );
    let created = match state.store.create_performance(&performance).await {
        Ok(()) => performance,
        Err(StoreError::Conflict(_)) if idempotent_id.is_some() => {
            // A repeat of an earlier create with the same key: replay it if it asked for the same thing.
            match state.store.get_performance(&id).await? {
                Some(existing) if existing.details == performance.details => existing,
                _ => {
                    return Err(AppError::Conflict(
                        "Idempotency-Key was already used for a different request".into(),
                    ))
                }
            }
        }
        Err(err) => return Err(err.into()),
    };
    tracing::info!(performance_id = %created.id, organizer_id = %created.organizer_id, "performance created");
    Ok(created)
}

/// Applies `change` to performance `id` (which `caller` may change) and writes it back if nobody changed it
/// meanwhile. With an `expected` version (`If-Match`), a stale one is a 412; without, a lost race is retried
/// on fresh data.
pub async fn change_performance<F>(
    state: &AppState,
    (id, expected): (&str, Option<u64>),
    caller: &Caller,
    mut change: F,
) -> Result<Performance, AppError>
where
    F: FnMut(&mut Performance) -> Result<(), AppError>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut p = load_for_change(state, id, caller).await?;
        let previous = p.version;
        if let Some(expected) = expected {
            if expected != previous {
                return Err(AppError::PreconditionFailed {
                    entity: "performance",
                    id: id.to_string(),
                    expected,
                });
            }
        }
        change(&mut p)?;
        match state.store.replace_performance(&p, previous).await {
            Ok(()) => return Ok(p),
            Err(StoreError::Stale { .. }) if expected.is_none() && attempt < WRITE_ATTEMPTS => {
                continue
            }
            Err(err) => return Err(err.into()),
        }
    }
}

/// Cancels every showtime of `performance` (each as [`crate::app::showtimes::cancel_one`] does): each one's
/// progress; a showtime whose sweep is under way already is left to it.
pub async fn cancel(
    routes: &CancelRouteState,
    caller: &Caller,
    performance: &Performance,
    reason: &str,
) -> Result<Vec<CancellationProgress>, AppError> {
    let showtimes = routes.app.store.all_showtimes(&performance.id).await?;
    let mut progress = Vec::with_capacity(showtimes.len());
    for showtime in showtimes {
        match crate::app::showtimes::cancel_one(routes, caller, showtime, reason).await {
            Ok(p) => progress.push(p),
            // A sweep already under way for this showtime: report where it is.
            Err(AppError::Conflict(_) | AppError::Busy(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(progress)
}
