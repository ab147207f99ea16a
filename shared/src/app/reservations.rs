//! Reservations: whose a reservation is.

use crate::auth::Caller;
use crate::domain::reservation::Reservation;
use crate::error::AppError;
use crate::runtime::AppState;

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "reservation",
        id: id.to_string(),
    }
}

/// The reservation `id` as `caller` may act on it: their own, or any for an admin; to anyone else it does
/// not exist (404).
pub async fn own_reservation(
    state: &AppState,
    id: &str,
    caller: &Caller,
) -> Result<Reservation, AppError> {
    state
        .store
        .get_reservation(id)
        .await?
        .filter(|r| caller.is_admin() || r.member_id == caller.member_id)
        .ok_or_else(|| not_found(id))
}
