//! State `CancelPage` of `statemachines/showtime-cancellation.asl.json`: a Map over one page, an item per
//! reservation.

use crate::app::cancellations::{begin, new_cancellation};
use crate::domain::events::hold_cancelled_event;
use crate::domain::performance::format_instant;
use crate::domain::refund::{quote, Canceller, QuoteInput};
use crate::domain::reservation::{organizer_cancellation_id, Actor, Change, ReservationStatus};
use crate::saga::cancellation::{refund_step, release_step};
use crate::saga::{reservation, SagaState, StepError};
use crate::store::cancellations::Counted;
use crate::store::StoreError;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// Step `cancel-for-showtime`: one reservation of a showtime its organizer cancelled. A hold is released (a
/// pay-later saga waiting for its payment is told); a confirmed reservation is refunded in full and marked
/// CANCELLED; anything else is left as it is. Every part is idempotent and counted once in the sweep's
/// progress, so a re-run refunds nobody twice.
pub async fn cancel_for_showtime(
    state: &SagaState,
    reservation_id: &str,
    reason: &str,
) -> Result<Value, StepError> {
    let store = &state.store;
    let r = reservation(store, reservation_id).await?;
    let now = OffsetDateTime::now_utc();
    let change = Change {
        at: format_instant(now),
        by: "organizer".into(),
        actor: Actor::Organizer,
        action: "SHOWTIME_CANCELLED".into(),
        reason: Some(reason.to_string()),
    };
    match r.status {
        ReservationStatus::Held => {
            let released = store
                .release_hold(
                    &r,
                    ReservationStatus::Cancelled,
                    Some("showtime_cancelled"),
                    Some(&change),
                    Some(Counted {
                        released: 1,
                        ..Counted::default()
                    }),
                    &|next| vec![hold_cancelled_event(next)],
                )
                .await;
            match released {
                Ok(released) => {
                    if released.status == ReservationStatus::Cancelled {
                        if let Some(token) = store.payment_task(&released.id).await? {
                            if let Some(saga) = &state.saga {
                                saga.end_wait(&token).await?;
                            }
                        }
                    }
                    Ok(json!({"outcome": "released"}))
                }
                // Confirmed meanwhile: the next attempt refunds it.
                Err(StoreError::Conflict(why)) => Err(StepError::Transient(why)),
                Err(e) => Err(e.into()),
            }
        }
        ReservationStatus::Confirmed => {
            let id = match &r.pending_cancellation {
                Some(p) if p.id == organizer_cancellation_id(&r.id) => p.id.clone(),
                Some(p) => {
                    return Err(StepError::Transient(format!(
                        "cancellation {} of reservation {} is under way",
                        p.id, r.id
                    )))
                }
                None => {
                    let seats = r.seats.clone();
                    let amount = seats.iter().map(|s| s.price).sum();
                    let q = quote(
                        QuoteInput {
                            policy: &Default::default(),
                            starts_at: now,
                            booked_at: now,
                            changed: None,
                            amount,
                        },
                        Canceller::Organizer,
                        now,
                    )
                    .map_err(|e| StepError::Invalid(e.to_string()))?;
                    let c = new_cancellation(
                        organizer_cancellation_id(&r.id),
                        seats,
                        true,
                        q,
                        ("organizer", Actor::Organizer),
                        Some(reason.to_string()),
                        now,
                    );
                    begin(store, &r, &c, change).await?;
                    c.id
                }
            };
            let refunded = refund_step(state, &r.id, &id).await?;
            let amount = refunded["refunded"].as_u64().unwrap_or(0);
            release_step(
                state,
                &r.id,
                &id,
                Some(Counted {
                    cancelled: 1,
                    refunded: u64::from(amount > 0),
                    refunded_amount: amount,
                    ..Counted::default()
                }),
            )
            .await?;
            Ok(json!({"outcome": "cancelled"}))
        }
        _ => Ok(json!({"outcome": "unchanged"})),
    }
}

/// The Catch of `CancelPage`'s item: a reservation the sweep could not cancel, counted once per run.
pub(crate) async fn count_failure(
    state: &SagaState,
    showtime_id: &str,
    reservation_id: &str,
    run: u64,
) -> Result<Value, StepError> {
    let store = &state.store;
    store
        .count_sweep_failure(showtime_id, run, reservation_id)
        .await?;
    Ok(json!({"outcome": "failed"}))
}
