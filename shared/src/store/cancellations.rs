//! Cancellations of confirmed reservations, and the progress of an organizer's cancellation of a showtime.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | C1 | begin a cancellation (or change a hold, or record an admin's reason) | `PutItem` of the whole reservation, `version = :seen` (optimistic; the domain checked CONFIRMED and no cancellation under way on the version it read) | `RES#<id>`/`META` |
//! | C2 | finish a cancellation: seats back, reservation marked, its events recorded | `TransactWriteItems`: Put reservation `version = :seen` + per seat Update `#status = :sold AND holder = :res` → AVAILABLE + the member's count `ADD seats :-n` (H7) [+ Update progress `ADD`] + the outcome's event puts (`ReservationCancelled`, `RefundIssued`) | `RES#<id>`/`META`, seat items, `SHOW#<showtimeId>`/`CANCELLATION` |
//! | C3 | an organizer's cancellation run: start, count, resume, finish, read | `PutItem` (start: `attribute_not_exists(PK) OR #status = :done`; in the repairer's index RP1 while RUNNING), `UpdateItem` `ADD` (counted in the same transaction as the change it counts, so a retry never counts twice), `UpdateItem` resume `resumed = :seen`, finish `REMOVE` the RP1 keys, `GetItem` | `SHOW#<showtimeId>`/`CANCELLATION` |
//! | C4 | a failure of one reservation in run `n`, counted once | `TransactWriteItems`: Put marker `attribute_not_exists(PK)` + Update progress `ADD failed :1` | `SHOW#<showtimeId>`/`CXLFAIL#<n>#<reservationId>` |
//!
//! The reservation item holds its cancellations (at most one pending, the rest done or failed; a reservation
//! has at most 10 seats, so at most 10 cancellations), so every step reads one item.

use super::error::conditional;
use super::keys::{progress_key, sweep_failure_key};
use super::reservations::reservation_item;
use super::StoreError;
use super::{built, n, s, Item, Store, TYPE};
use crate::domain::performance::format_instant;
use crate::domain::reservation::{Reservation, ReservedSeat};
use crate::domain::seat::{SeatId, SeatStatus};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How an organizer's cancellation of a showtime is going.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationProgress {
    pub showtime_id: String,
    /// `RUNNING` while the sweep goes over the reservations, `DONE` after it.
    pub status: String,
    /// 1 for the first sweep; a re-run (after failures) counts up. Nobody is refunded twice.
    pub run: u64,
    pub reason: String,
    #[schema(format = DateTime)]
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
    /// Reservations the sweep looked at (in the latest run).
    #[serde(default)]
    pub total: u64,
    /// Holds released.
    #[serde(default)]
    pub released: u64,
    /// Confirmed reservations cancelled.
    #[serde(default)]
    pub cancelled: u64,
    /// Of those, refunded (a free ticket has nothing to refund).
    #[serde(default)]
    pub refunded: u64,
    /// Money given back, in minor units.
    #[serde(default)]
    pub refunded_amount: u64,
    /// Reservations that could not be cancelled in the latest run (a re-run retries them).
    #[serde(default)]
    pub failed: u64,
    /// How often this run stopped before it was done and was started again where the progress stood (by the
    /// repairer, or the organizer asking again).
    #[serde(default)]
    pub resumed: u64,
}

/// What a finished cancellation adds to its showtime's progress (organizer sweeps only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counted {
    pub released: u64,
    pub cancelled: u64,
    pub refunded: u64,
    pub refunded_amount: u64,
}

impl Store {
    /// The progress counter update of a sweep, for a transaction.
    pub(crate) fn progress_update(
        &self,
        showtime_id: &str,
        counted: Counted,
    ) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .update(built(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(progress_key(showtime_id)))
                    .update_expression(
                        "ADD released :released, cancelled :cancelled, refunded :refunded, refundedAmount :amount",
                    )
                    .condition_expression("attribute_exists(PK)")
                    .expression_attribute_values(":released", n(counted.released))
                    .expression_attribute_values(":cancelled", n(counted.cancelled))
                    .expression_attribute_values(":refunded", n(counted.refunded))
                    .expression_attribute_values(":amount", n(counted.refunded_amount))
                    .build(),
            )?)
            .build())
    }

    /// C1: stores `next` (the whole reservation) if the stored version is still `seen`.
    pub async fn replace_reservation(
        &self,
        next: &Reservation,
        seen: u64,
    ) -> Result<(), StoreError> {
        self.put_if_version(
            reservation_item(next)?,
            seen,
            ("reservation", &next.id),
            &[],
        )
        .await
    }

    /// C2: gives back `seats` (SOLD to `stored`) and stores `next` (the reservation after the cancellation), in
    /// one transaction with `events` (the outbox, E1); `counted` adds to the showtime's sweep progress in the
    /// same transaction. `Ok(false)` when the reservation changed since `stored` was read (the caller reads it
    /// again).
    pub async fn finish_cancellation(
        &self,
        (stored, next): (&Reservation, &Reservation),
        seats: &[ReservedSeat],
        counted: Option<Counted>,
        events: &[crate::events::Event],
    ) -> Result<bool, StoreError> {
        let mut items = vec![TransactWriteItem::builder()
            .put(built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(reservation_item(next)?))
                    .condition_expression("version = :seen")
                    .expression_attribute_values(":seen", n(stored.version))
                    .build(),
            )?)
            .build()];
        for seat in seats {
            items.push(
                TransactWriteItem::builder()
                    .update(built(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(super::keys::seat_key(
                                &stored.showtime_id,
                                seat.seat_id(),
                            )))
                            .update_expression("SET #status = :available REMOVE holder")
                            .condition_expression("#status = :sold AND holder = :res")
                            .expression_attribute_names("#status", "status")
                            .expression_attribute_values(
                                ":available",
                                s(SeatStatus::Available.as_str()),
                            )
                            .expression_attribute_values(":sold", s(SeatStatus::Sold.as_str()))
                            .expression_attribute_values(":res", s(&stored.id))
                            .build(),
                    )?)
                    .build(),
            );
        }
        if !seats.is_empty() {
            // The seats go back to the member's count (H7), once: with the reservation's version.
            items.push(self.ticket_count_update(
                (&stored.member_id, &stored.showtime_id),
                -(seats.len() as i64),
                None,
            )?);
        }
        if let Some(counted) = counted {
            items.push(self.progress_update(&stored.showtime_id, counted)?);
        }
        items.extend(self.event_puts(events)?);
        match self
            .transact(
                items,
                "the reservation is being changed by another request; try again",
            )
            .await?
        {
            Ok(()) => Ok(true),
            Err(failed) if failed.first().copied().unwrap_or(false) => Ok(false),
            Err(failed) => {
                let seats: Vec<SeatId> = failed
                    .iter()
                    .skip(1)
                    .zip(seats)
                    .filter(|(f, _)| **f)
                    .map(|(_, s)| s.seat_id())
                    .collect();
                Err(StoreError::Corrupt(format!(
                    "reservation {}: seats {} are not sold to it",
                    stored.id,
                    crate::domain::seat::seat_list(&seats)
                )))
            }
        }
    }

    /// C3: starts run `n` of an organizer's sweep (a first run, or a re-run once the last one is done).
    /// `Ok(None)` while a run is under way.
    pub async fn start_sweep(
        &self,
        showtime_id: &str,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<Option<CancellationProgress>, StoreError> {
        let previous = self.sweep_progress(showtime_id).await?;
        if previous.as_ref().is_some_and(|p| p.status == "RUNNING") {
            return Ok(None);
        }
        let progress = CancellationProgress {
            showtime_id: showtime_id.to_string(),
            status: "RUNNING".into(),
            run: previous.as_ref().map_or(1, |p| p.run + 1),
            reason: reason.to_string(),
            started_at: format_instant(now),
            finished_at: None,
            total: 0,
            released: previous.as_ref().map_or(0, |p| p.released),
            cancelled: previous.as_ref().map_or(0, |p| p.cancelled),
            refunded: previous.as_ref().map_or(0, |p| p.refunded),
            refunded_amount: previous.as_ref().map_or(0, |p| p.refunded_amount),
            failed: 0,
            resumed: 0,
        };
        let mut item: Item =
            serde_dynamo::to_item(&progress).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        item.extend(progress_key(showtime_id));
        item.insert(TYPE.into(), s("CancellationProgress"));
        // In the repairer's index while it runs (RP1).
        super::keys::with_repair_keys(&mut item, showtime_id, now.unix_timestamp());
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR (#status = :done AND run = :run)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("DONE"))
            .expression_attribute_values(":run", n(progress.run.saturating_sub(1)))
            .send()
            .await;
        Ok(conditional(result)?.map(|_| progress))
    }

    /// C3.
    pub async fn sweep_progress(
        &self,
        showtime_id: &str,
    ) -> Result<Option<CancellationProgress>, StoreError> {
        self.get_consistent(progress_key(showtime_id))
            .await?
            .map(|item| serde_dynamo::from_item(item).map_err(StoreError::from))
            .transpose()
    }

    /// C3: the sweep went over `total` reservations of run `run`; it is DONE.
    pub async fn finish_sweep(
        &self,
        showtime_id: &str,
        run: u64,
        total: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(progress_key(showtime_id)))
            .update_expression(format!(
                "SET #status = :done, finishedAt = :at, #total = :total REMOVE {}",
                super::repairs::REMOVE_REPAIR_KEYS
            ))
            .condition_expression("run = :run")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#total", "total")
            .expression_attribute_values(":done", s("DONE"))
            .expression_attribute_values(":at", s(format_instant(now)))
            .expression_attribute_values(":total", n(total))
            .expression_attribute_values(":run", n(run))
            .send()
            .await?;
        Ok(())
    }

    /// C3: run `run`, seen resumed `seen` times, is resumed once more. `Ok(false)`: it is no longer that run,
    /// or somebody else resumed it first.
    pub async fn count_sweep_resume(
        &self,
        showtime_id: &str,
        run: u64,
        seen: u64,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(progress_key(showtime_id)))
            .update_expression("SET resumed = :next")
            .condition_expression(
                "#status = :running AND run = :run AND (attribute_not_exists(resumed) OR resumed = :seen)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":running", s("RUNNING"))
            .expression_attribute_values(":run", n(run))
            .expression_attribute_values(":seen", n(seen))
            .expression_attribute_values(":next", n(seen + 1))
            .send()
            .await;
        Ok(conditional(result)?.is_some())
    }

    /// C4: counts a reservation that run `run` could not cancel, once however often it is reported.
    pub async fn count_sweep_failure(
        &self,
        showtime_id: &str,
        run: u64,
        reservation_id: &str,
    ) -> Result<(), StoreError> {
        let mut marker = sweep_failure_key(showtime_id, run, reservation_id);
        marker.insert(TYPE.into(), s("CancellationFailure"));
        let items = vec![
            TransactWriteItem::builder()
                .put(built(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(marker))
                        .condition_expression("attribute_not_exists(PK)")
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .update(built(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(progress_key(showtime_id)))
                        .update_expression("ADD failed :one")
                        .expression_attribute_values(":one", n(1))
                        .build(),
                )?)
                .build(),
        ];
        // A failed condition is a failure counted already.
        self.transact(items, "busy; try again").await?.ok();
        Ok(())
    }
}
