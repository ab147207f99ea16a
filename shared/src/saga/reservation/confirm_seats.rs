//! State `ConfirmSeats` of `statemachines/reservation.asl.json`.

use crate::domain::events::reservation_summary;
use crate::domain::reservation::ReservationStatus;
use crate::events::{Event, EventType};
use crate::saga::{reservation, SagaState, StepError};
use crate::store::StoreError;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// State `ConfirmSeats`: seats HELD → SOLD and the reservation CONFIRMED, in one transaction
/// (`ReservationConfirmed` with it). A hold that ended first is `HoldEnded`; a busy store is retried.
pub(crate) async fn run(state: &SagaState, reservation_id: &str) -> Result<Value, StepError> {
    let store = &state.store;
    let r = reservation(store, reservation_id).await?;
    // A hold made in the moment its showtime was being cancelled is not sold: the organizer's sweep
    // may have listed the showtime's reservations before it. (A confirm that committed before its
    // process died is a sale the sweep will find.)
    if r.status != ReservationStatus::Confirmed
        && store
            .get_showtime(&r.showtime_id)
            .await?
            .is_some_and(|s| s.status == crate::domain::showtime::ShowtimeStatus::Cancelled)
    {
        return Err(StepError::HoldEnded(format!(
            "showtime {} is cancelled",
            r.showtime_id
        )));
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let confirmed = match store
        .confirm_seats(&r, now, |c| {
            vec![Event::new(
                EventType::ReservationConfirmed,
                &c.id,
                &c.member_id,
                &c.updated_at,
                json!({"reservation": reservation_summary(c)}),
            )]
        })
        .await
    {
        Ok(c) => c,
        // The hold ended (expired, released) before the confirmation: a Busy store is retried.
        Err(StoreError::Conflict(why)) => return Err(StepError::HoldEnded(why)),
        Err(e) => return Err(e.into()),
    };
    if r.status != ReservationStatus::Confirmed {
        // The dashboard's sales per minute (CloudWatch embedded metric format); a retry of a step that
        // confirmed already counts nothing again.
        println!(
            "{}",
            crate::telemetry::emf(
                "Ticketing/Sales",
                &[],
                &[
                    ("Sales", "Count", json!(1)),
                    ("SeatsSold", "Count", json!(confirmed.seats.len())),
                    ("SalesAmount", "None", json!(confirmed.total_price)),
                ],
            )
        );
    }
    if let Some(admitted_at) = confirmed.admitted_at {
        // The purchase finishes the buyer's waiting-room admission: its capacity goes back to the
        // queue. Best effort (a retry of this step after a confirmation comes here too): a failure
        // only leaves that capacity to come back when the admission lapses.
        let now_ms = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        if let Err(e) = store
            .finish_admission(
                (&confirmed.showtime_id, &confirmed.member_id),
                admitted_at,
                &confirmed.id,
                now_ms,
            )
            .await
        {
            tracing::warn!(error = %e, "the admission was not finished; its capacity comes back when it lapses");
        }
    }
    Ok(json!({"status": confirmed.status}))
}
