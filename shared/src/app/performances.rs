//! Performances: who may see one and who may change it.

use crate::auth::Caller;
use crate::domain::member::Role;
use crate::domain::performance::Performance;
use crate::error::AppError;
use crate::runtime::AppState;
use std::future::Future;

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
