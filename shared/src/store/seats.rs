//! Seat items and the conditional writes that move seats between reservations (patterns H1–H5 in the
//! [module docs](super)).
//!
//! # Items
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | seat | `SHOW#<showtimeId>#B#<block>` | `SEAT#<row:03>-<col:03>` | `type = Seat`, `status` (AVAILABLE / HELD / SOLD), `holder` (reservation id; HELD and SOLD), `holdExpiresAt` (N, epoch seconds; HELD only) |
//!
//! `block` = [`block_of`] (rows 1–10 are block 0, 11–20 block 1, ...), so one showtime's seats spread over up to
//! 50 partitions and a hot on-sale spreads its writes. The sort key is zero-padded so a block reads back in
//! row-major order. Seat items carry no price: a seat's price is its row's grade in the showtime's seat map, so a
//! price change rewrites one item, not 50,000.
//!
//! **Seat items are created lazily, by the first hold.** A seat of the map with no item is AVAILABLE
//! ([`SeatState::available`]); creating a showtime writes no seat item. Writing 50,000 AVAILABLE items up front
//! costs 50,000 write units per showtime and, against LocalStack on a small machine, longer than the create
//! request may take (2,000 `BatchWriteItem` calls: ~13 s alone, past the 29 s limit under test load); reading them
//! all back for a seat map took longer than the 10 s function limit. Lazily, a new map reads as a few empty
//! queries and the seat map lists only the seats ever held. Which seats exist is the showtime's seat map, checked
//! by [`validate_seat_selection`](crate::domain::seat::validate_seat_selection) before any hold.
//!
//! Every condition here is the DynamoDB spelling of a rule in [`crate::domain::seat`], applied to the item's
//! state, or to [`SeatState::available`] when there is no item:
//!
//! | write | condition | domain rule |
//! |---|---|---|
//! | hold | `attribute_not_exists(#status) OR #status = :available OR (#status = :held AND holdExpiresAt < :now)` | [`can_hold`](crate::domain::seat::can_hold) (no item = AVAILABLE) |
//! | confirm | `#status = :held AND holder = :res AND holdExpiresAt >= :now` | [`can_confirm`](crate::domain::seat::can_confirm) |
//! | release | `#status = :held AND holder = :res` | [`can_release`](crate::domain::seat::can_release) |
//!
//! Only the hold creates an item (two holds racing for a new seat: DynamoDB applies one, and the other's
//! condition then sees HELD and fails). Confirm and release fail on a missing item (a comparison with a missing
//! attribute is false): a seat nobody holds is neither sold nor released.

use super::cancellations::Counted;
use super::error::conditional;
use super::keys::{
    payment_key, reservation_key, seat_from_sort_key, seat_key, seat_partition, ticket_count_key,
};
use super::reservations::reservation_item;
use super::StoreError;
use super::{backoff, built, n, s, Item, Store, CONDITION_FAILED, PK, SK, TX_ATTEMPTS, TYPE};
use crate::domain::reservation::{Change, Reservation, ReservationStatus};
use crate::domain::seat::{can_hold, seat_list, SeatId, SeatState, SeatStatus};
use crate::domain::showtime::Showtime;
use crate::domain::ticket_limit;
use aws_sdk_dynamodb::types::{
    CancellationReason, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use std::collections::HashMap;
use time::OffsetDateTime;
use tokio::task::JoinSet;

/// Attempts of a hold whose transaction collided with another on the same seats. A popular on-sale makes
/// collisions common; after the retries the loser usually finds the seats taken (a clean 409 naming them).
const HOLD_ATTEMPTS: u32 = 5;
/// Block partitions queried at once by [`Store::read_seats`].
const READ_CONCURRENCY: usize = 16;

/// The condition of a hold: [`can_hold`] on the item, a missing item being AVAILABLE.
pub(crate) const HOLD_CONDITION: &str =
    "attribute_not_exists(#status) OR #status = :available OR (#status = :held AND holdExpiresAt < :now)";

/// A seat item's state (`status`, `holder`, `holdExpiresAt`).
pub(crate) fn seat_from_item(mut item: Item) -> Result<(SeatId, SeatState), StoreError> {
    let sk = item.remove(SK);
    let seat = sk
        .as_ref()
        .and_then(|v| v.as_s().ok())
        .and_then(|sk| seat_from_sort_key(sk))
        .ok_or_else(|| StoreError::Corrupt(format!("seat item with sort key {sk:?}")))?;
    let state = SeatState {
        status: item
            .get("status")
            .and_then(|v| v.as_s().ok())
            .and_then(|raw| SeatStatus::parse(raw))
            .ok_or_else(|| StoreError::Corrupt(format!("seat {seat} has no valid status")))?,
        holder: item.get("holder").and_then(|v| v.as_s().ok()).cloned(),
        hold_expires_at: item
            .get("holdExpiresAt")
            .and_then(|v| v.as_n().ok())
            .and_then(|raw| raw.parse().ok()),
    };
    Ok((seat, state))
}

/// What a hold came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutcome {
    /// The seats are held by this reservation (now, or already by an earlier attempt with the same id).
    Held(Box<Reservation>),
    /// Nothing was written: these seats are held by someone else, sold, or do not exist.
    Unavailable(Vec<SeatId>),
    /// Nothing was written: the member would pass the performance's ticket limit on this showtime.
    OverLimit(crate::domain::ticket_limit::LimitReached),
}

/// How a cancelled hold transaction (reservation put first, then one update per seat) failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HoldFailure {
    /// The reservation item already exists (a retried hold, or an id reused); the stored item when DynamoDB
    /// returned it.
    ReservationExists(Option<Item>),
    /// The waiting-room admission it was held under has bought already (the last operation, W12).
    AdmissionUsed,
    /// The member's count would pass the ticket limit (the count update, the last operation when there is
    /// a limit).
    OverLimit,
    /// The seats whose condition failed, in request order.
    SeatsTaken(Vec<SeatId>),
    /// No usable reasons (none given, or no condition marked failed).
    Unknown,
}

/// Maps the cancellation reasons of a hold transaction (operation 0 = the reservation put, operation `i + 1` =
/// seat `seats[i]`, and the last one the admission check when `admission` says there is one) to what
/// happened. A failed reservation put wins (a retried hold fails on its own seats, and on its admission once
/// that bought, too); then a used admission (its seats do not matter: it may hold none).
pub(crate) fn hold_failure(
    reasons: &[CancellationReason],
    seats: &[SeatId],
    (admission, limited): (bool, bool),
) -> HoldFailure {
    let failed = |r: &CancellationReason| r.code() == Some(CONDITION_FAILED);
    if let Some(first) = reasons.first().filter(|r| failed(r)) {
        return HoldFailure::ReservationExists(first.item().cloned());
    }
    // The member's count is always the last operation (conditional only under a limit), and an admission
    // check the one before it.
    let mut tail = reasons.iter().skip(seats.len() + 1).rev();
    let limit_failed = tail.next().is_some_and(failed) && limited;
    if admission && tail.next().is_some_and(failed) {
        return HoldFailure::AdmissionUsed;
    }
    if limit_failed {
        return HoldFailure::OverLimit;
    }
    let taken: Vec<SeatId> = reasons
        .iter()
        .skip(1)
        .zip(seats)
        .filter(|(r, _)| failed(r))
        .map(|(_, seat)| *seat)
        .collect();
    if taken.is_empty() {
        HoldFailure::Unknown
    } else {
        HoldFailure::SeatsTaken(taken)
    }
}

/// The seats of a cancelled confirm or release transaction (operation 0 = the reservation, `i + 1` = seat
/// `seats[i]`) whose condition failed.
pub(crate) fn failed_seats(reasons: &[CancellationReason], seats: &[SeatId]) -> Vec<SeatId> {
    reasons
        .iter()
        .skip(1)
        .zip(seats)
        .filter(|(r, _)| r.code() == Some(CONDITION_FAILED))
        .map(|(_, seat)| *seat)
        .collect()
}

impl Store {
    /// H7: the member's count of seats on `showtime_id` changed by `delta`; when seats are added under a
    /// `limit`, only if the count stays within it (`room` = limit − delta, which the caller checked exists).
    pub(crate) fn ticket_count_update(
        &self,
        (member_id, showtime_id): (&str, &str),
        delta: i64,
        limit: Option<u32>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ticket_count_key(member_id, showtime_id)))
            .update_expression("SET #type = :type ADD seats :delta")
            .expression_attribute_names("#type", TYPE)
            .expression_attribute_values(":type", s("TicketCount"))
            .expression_attribute_values(":delta", n(delta));
        if let (Some(limit), Ok(added)) = (limit, u32::try_from(delta)) {
            let room = ticket_limit::room(limit, added).unwrap_or(0);
            update = update
                .condition_expression("attribute_not_exists(seats) OR seats <= :room")
                .expression_attribute_values(":room", n(room));
        }
        Ok(TransactWriteItem::builder()
            .update(built(update.build())?)
            .build())
    }

    /// H7: how many seats `member_id` holds and owns on `showtime_id` (a consistent read; 0 without a count).
    pub async fn ticket_count(
        &self,
        member_id: &str,
        showtime_id: &str,
    ) -> Result<u32, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(ticket_count_key(member_id, showtime_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
        Ok(out
            .item()
            .and_then(|i| i.get("seats"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(0, |v| u32::try_from(v.max(0)).unwrap_or(u32::MAX)))
    }

    /// The refusal of `requested` more seats for `member_id` on `showtime_id` under `limit`, with the count as
    /// it stands.
    async fn over_limit(
        &self,
        (member_id, showtime_id): (&str, &str),
        requested: u32,
        limit: u32,
    ) -> Result<HoldOutcome, StoreError> {
        Ok(HoldOutcome::OverLimit(ticket_limit::LimitReached {
            current: self.ticket_count(member_id, showtime_id).await?,
            limit,
            requested,
        }))
    }

    /// The hold update of one seat, under the [`can_hold`] condition.
    fn hold_update(&self, r: &Reservation, seat: SeatId, now: i64) -> Result<Update, StoreError> {
        built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(seat_key(&r.showtime_id, seat)))
                .update_expression(
                    "SET #status = :held, holder = :res, holdExpiresAt = :expiresAt, #type = :seat",
                )
                .condition_expression(HOLD_CONDITION)
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#type", TYPE)
                .expression_attribute_values(":seat", s("Seat"))
                .expression_attribute_values(":available", s(SeatStatus::Available.as_str()))
                .expression_attribute_values(":held", s(SeatStatus::Held.as_str()))
                .expression_attribute_values(":res", s(&r.id))
                .expression_attribute_values(":expiresAt", n(r.hold_expires_at))
                .expression_attribute_values(":now", n(now))
                .build(),
        )
    }

    /// Pattern H1: holds every seat of `r` and stores `r` (HELD), all or nothing, in one `TransactWriteItems`:
    /// Put the reservation (`attribute_not_exists(PK)`) + one Update per seat under the [`can_hold`] condition
    /// ([`HOLD_CONDITION`]; the update creates the seat's item on its first hold). The seats must be on the
    /// showtime's map (validated by the caller).
    ///
    /// Cancellation reasons map back to the request: reason 0 is the reservation, reason `i + 1` the seat
    /// `r.seats[i]`; the seats whose `ConditionalCheckFailed` is set are returned as
    /// [`HoldOutcome::Unavailable`]. A reservation that already exists (reason 0) is a retried hold: the stored
    /// reservation is returned as [`HoldOutcome::Held`] when it is the same hold (same member, showtime and
    /// seats; its status may have moved on since, so callers look at it), otherwise [`StoreError::Conflict`].
    /// Under a waiting-room admission (`r.admitted_at`) a last ConditionCheck refuses an admission that has
    /// bought already ([`StoreError::AdmissionRefused`] with `Used`).
    /// Collisions with other transactions (`TransactionConflict`) are retried with backoff.
    pub async fn hold_seats(
        &self,
        r: &Reservation,
        now: i64,
        limit: Option<u32>,
        events: &[crate::events::Event],
    ) -> Result<HoldOutcome, StoreError> {
        let seats = r.seat_ids();
        let requested = u32::try_from(seats.len()).unwrap_or(u32::MAX);
        let member = (r.member_id.as_str(), r.showtime_id.as_str());
        if let Some(limit) = limit.filter(|&l| ticket_limit::room(l, requested).is_none()) {
            return self.over_limit(member, requested, limit).await;
        }
        let reservation = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(reservation_item(r)?))
                .condition_expression("attribute_not_exists(PK)")
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build(),
        )?;
        let mut items = vec![TransactWriteItem::builder().put(reservation).build()];
        for &seat in &seats {
            items.push(
                TransactWriteItem::builder()
                    .update(self.hold_update(r, seat, now)?)
                    .build(),
            );
        }
        // After the seats, so that reason `i + 1` is still seat `i`.
        items.extend(self.event_puts(events)?);
        // Last: a hold under a waiting-room admission checks, in the same call, that the admission has not
        // been used for a purchase (W12).
        if let Some(at) = r.admitted_at {
            items.push(
                TransactWriteItem::builder()
                    .condition_check(self.unused_admission(&r.showtime_id, &r.member_id, at)?)
                    .build(),
            );
        }
        // Last: the member's count, under the ticket limit when there is one (H7).
        items.push(self.ticket_count_update(member, i64::from(requested), limit)?);
        let reasons = match self
            .transact_detailed(
                items,
                HOLD_ATTEMPTS,
                "these seats are in demand right now; try again",
            )
            .await?
        {
            Ok(()) => return Ok(HoldOutcome::Held(Box::new(r.clone()))),
            Err(reasons) => reasons,
        };
        match hold_failure(&reasons, &seats, (r.admitted_at.is_some(), limit.is_some())) {
            HoldFailure::ReservationExists(item) => {
                let stored = match item {
                    Some(item) => Some(super::reservations::from_item(item)?),
                    None => self.get_reservation(&r.id).await?,
                };
                self.same_hold(r, stored)
            }
            HoldFailure::AdmissionUsed => Err(StoreError::AdmissionRefused(
                crate::auth::admission::Refusal::Used,
            )),
            HoldFailure::OverLimit => match limit {
                Some(limit) => self.over_limit(member, requested, limit).await,
                None => Err(StoreError::Busy(
                    "the member's ticket count changed; try again".into(),
                )),
            },
            HoldFailure::SeatsTaken(taken) => Ok(HoldOutcome::Unavailable(taken)),
            HoldFailure::Unknown => {
                // No per-operation reasons: look at what is stored now.
                if let Some(stored) = self.get_reservation(&r.id).await? {
                    return self.same_hold(r, Some(stored));
                }
                if let Some(limit) = limit {
                    let current = self.ticket_count(member.0, member.1).await?;
                    if ticket_limit::check(Some(limit), current, requested).is_err() {
                        return self.over_limit(member, requested, limit).await;
                    }
                }
                let taken: Vec<SeatId> = self
                    .read_seat_states(&r.showtime_id, &seats)
                    .await?
                    .into_iter()
                    .filter(|(_, state)| !can_hold(&state.clone().unwrap_or_default(), now))
                    .map(|(seat, _)| seat)
                    .collect();
                if taken.is_empty() {
                    Err(StoreError::Busy(
                        "the seats changed while they were being held; try again".into(),
                    ))
                } else {
                    Ok(HoldOutcome::Unavailable(taken))
                }
            }
        }
    }

    /// Pattern H6: gives a HELD reservation other seats, all or nothing, in one `TransactWriteItems`: Put
    /// `next` (`#status = :held AND version = :seen AND holdExpiresAt >= :now`) + ConditionCheck that no
    /// payment has started (`attribute_not_exists(PK)` on `RES#<id>`/`PAY#pay-<id>`) + a hold update (the
    /// [`can_hold`] condition) for each seat it gains + a release (`#status = :held AND holder = :res`) for each
    /// seat it gives up. There is never a moment with both sets held, or neither. Seats another buyer has are
    /// [`HoldOutcome::Unavailable`]; a hold that ran out, changed or started paying meanwhile is a
    /// [`StoreError::Conflict`].
    pub async fn change_hold(
        &self,
        (stored, next): (&Reservation, &Reservation),
        now: i64,
        limit: Option<u32>,
        events: &[crate::events::Event],
    ) -> Result<HoldOutcome, StoreError> {
        let old = stored.seat_ids();
        let new = next.seat_ids();
        let member = (stored.member_id.as_str(), stored.showtime_id.as_str());
        // More seats than before count against the ticket limit; fewer give some back.
        let delta = new.len() as i64 - old.len() as i64;
        let added = u32::try_from(delta).unwrap_or(0);
        if let Some(limit) = limit.filter(|&l| ticket_limit::room(l, added).is_none()) {
            return self.over_limit(member, added, limit).await;
        }
        let gained: Vec<SeatId> = new.iter().filter(|s| !old.contains(s)).copied().collect();
        let given_up: Vec<SeatId> = old.iter().filter(|s| !new.contains(s)).copied().collect();
        let mut items = vec![
            TransactWriteItem::builder()
                .put(built(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(reservation_item(next)?))
                        .condition_expression(
                            "#status = :held AND version = :seen AND holdExpiresAt >= :now",
                        )
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":held", s(ReservationStatus::Held.as_str()))
                        .expression_attribute_values(":seen", n(stored.version))
                        .expression_attribute_values(":now", n(now))
                        .build(),
                )?)
                .build(),
            TransactWriteItem::builder()
                .condition_check(built(
                    aws_sdk_dynamodb::types::ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(payment_key(&stored.id)))
                        .condition_expression("attribute_not_exists(PK)")
                        .build(),
                )?)
                .build(),
        ];
        for &seat in &gained {
            items.push(
                TransactWriteItem::builder()
                    .update(self.hold_update(next, seat, now)?)
                    .build(),
            );
        }
        for &seat in &given_up {
            items.push(
                TransactWriteItem::builder()
                    .update(built(
                        Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(seat_key(&stored.showtime_id, seat)))
                            .update_expression(
                                "SET #status = :available REMOVE holder, holdExpiresAt",
                            )
                            .condition_expression("#status = :held AND holder = :res")
                            .expression_attribute_names("#status", "status")
                            .expression_attribute_values(
                                ":available",
                                s(SeatStatus::Available.as_str()),
                            )
                            .expression_attribute_values(":held", s(SeatStatus::Held.as_str()))
                            .expression_attribute_values(":res", s(&stored.id))
                            .build(),
                    )?)
                    .build(),
            );
        }
        // The member's count (H7) after the seats, so that their flags keep their places.
        let count_at = items.len();
        if delta != 0 {
            items.push(self.ticket_count_update(member, delta, limit)?);
        }
        // Last, so that the flags of the items before keep their places.
        items.extend(self.event_puts(events)?);
        let failed = match self
            .transact(items, "these seats are in demand right now; try again")
            .await?
        {
            Ok(()) => return Ok(HoldOutcome::Held(Box::new(next.clone()))),
            Err(failed) => failed,
        };
        let flag = |i: usize| failed.get(i).copied().unwrap_or(false);
        if flag(0) || flag(1) {
            return Err(StoreError::Conflict(format!(
                "reservation {} changed, ran out or started paying meanwhile; look at it again",
                stored.id
            )));
        }
        if let (Some(limit), true) = (limit, delta > 0 && flag(count_at)) {
            return self.over_limit(member, added, limit).await;
        }
        let taken: Vec<SeatId> = gained
            .iter()
            .enumerate()
            .filter(|(i, _)| flag(i + 2))
            .map(|(_, s)| *s)
            .collect();
        if !taken.is_empty() {
            return Ok(HoldOutcome::Unavailable(taken));
        }
        Err(StoreError::Conflict(format!(
            "the hold of reservation {} on some of its seats has lapsed",
            stored.id
        )))
    }

    fn same_hold(
        &self,
        r: &Reservation,
        stored: Option<Reservation>,
    ) -> Result<HoldOutcome, StoreError> {
        match stored {
            Some(stored) if stored.is_same_hold(r) => Ok(HoldOutcome::Held(Box::new(stored))),
            Some(_) => Err(StoreError::Conflict(format!(
                "reservation {} already exists for a different hold",
                r.id
            ))),
            None => Err(StoreError::Busy(format!(
                "reservation {} changed while it was being created; try again",
                r.id
            ))),
        }
    }

    /// Pattern H3: gives back the seats of a HELD reservation and ends it as `final_status` (CANCELLED, EXPIRED or
    /// FAILED); returns the reservation as stored afterwards.
    ///
    /// Idempotency by per-seat conditional updates (not one transaction): the reservation is read (consistent),
    /// then each of its seats gets `SET #status = :available REMOVE holder, holdExpiresAt` under
    /// `#status = :held AND holder = :res` ([`can_release`](crate::domain::seat::can_release)), and a seat whose
    /// condition fails (already released, reclaimed by another hold after expiry, or sold) is skipped. Only
    /// then is the reservation moved to `final_status` under `#status = :held AND version = :seen`. A release
    /// repeated after a crash releases what is left and finishes the status; a reservation already CANCELLED,
    /// EXPIRED or FAILED is returned as stored (its seats were released before that status was written; its
    /// status is not changed again). One transaction would not do: a seat reclaimed by someone else after expiry
    /// would cancel it forever.
    ///
    /// Against a concurrent confirm: if the confirm wins, its seats are SOLD (the release skips them) and the
    /// status write fails → the reservation is re-read, CONFIRMED → [`StoreError::Conflict`]. If the release
    /// frees any seat first, the confirm's transaction fails on it and nothing is sold. A CONFIRMED reservation
    /// is never released here (its seats are SOLD; undoing a sale belongs to the refund flow):
    /// [`StoreError::Conflict`]. No such reservation: [`StoreError::NotFound`].
    pub async fn release_seats(
        &self,
        r: &Reservation,
        final_status: ReservationStatus,
        reason: Option<&str>,
        events: &(dyn Fn(&Reservation) -> Vec<crate::events::Event> + Sync),
    ) -> Result<Reservation, StoreError> {
        self.release_hold(r, final_status, reason, None, None, events)
            .await
    }

    /// [`Store::release_seats`] that also records who released it and why (`change`), and counts the release in
    /// an organizer's sweep (`progress`: the status write and the count are one transaction, so a retried
    /// release never counts twice).
    pub async fn release_hold(
        &self,
        r: &Reservation,
        final_status: ReservationStatus,
        reason: Option<&str>,
        change: Option<&Change>,
        progress: Option<Counted>,
        events: &(dyn Fn(&Reservation) -> Vec<crate::events::Event> + Sync),
    ) -> Result<Reservation, StoreError> {
        if !final_status.is_release() {
            return Err(StoreError::Conflict(format!(
                "a hold cannot be released as {final_status}"
            )));
        }
        for attempt in 0..TX_ATTEMPTS {
            let stored =
                self.get_reservation(&r.id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound {
                        entity: "reservation",
                        id: r.id.clone(),
                    })?;
            match stored.status {
                ReservationStatus::Confirmed => {
                    return Err(StoreError::Conflict(format!(
                        "reservation {} is confirmed: its seats are sold and can only be given back by a refund",
                        r.id
                    )))
                }
                s if s.is_release() => return Ok(stored),
                _ => {}
            }
            self.release_each_seat(&stored).await?;
            let mut next = stored.with_status(final_status, OffsetDateTime::now_utc());
            next.failure_reason = reason.map(str::to_string);
            if let Some(change) = change {
                next.changes.push(change.clone());
            }
            let mut sets = vec![
                "#status = :final",
                "version = :next",
                "updatedAt = :updatedAt",
            ];
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(reservation_key(&stored.id)))
                .condition_expression("#status = :held AND version = :seen")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":final", s(final_status.as_str()))
                .expression_attribute_values(":held", s(ReservationStatus::Held.as_str()))
                .expression_attribute_values(":next", n(next.version))
                .expression_attribute_values(":seen", n(stored.version))
                .expression_attribute_values(":updatedAt", s(&next.updated_at));
            if let Some(reason) = reason {
                sets.push("failureReason = :reason");
                update = update.expression_attribute_values(":reason", s(reason));
            }
            if let Some(change) = change {
                sets.push("changes = list_append(if_not_exists(changes, :none), :change)");
                let value: aws_sdk_dynamodb::types::AttributeValue =
                    serde_dynamo::to_attribute_value(change)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                update = update
                    .expression_attribute_values(
                        ":none",
                        aws_sdk_dynamodb::types::AttributeValue::L(vec![]),
                    )
                    .expression_attribute_values(
                        ":change",
                        aws_sdk_dynamodb::types::AttributeValue::L(vec![value]),
                    );
            }
            let update = built(
                update
                    .update_expression(format!(
                        "SET {} REMOVE {}",
                        sets.join(", "),
                        super::repairs::REMOVE_REPAIR_KEYS
                    ))
                    .build(),
            )?;
            let mut items = vec![TransactWriteItem::builder().update(update).build()];
            // The seats go back to the member's count with the status that ends the hold (H7): once.
            items.push(self.ticket_count_update(
                (&stored.member_id, &stored.showtime_id),
                -(stored.seats.len() as i64),
                None,
            )?);
            if let Some(counted) = progress {
                items.push(self.progress_update(&stored.showtime_id, counted)?);
            }
            items.extend(self.event_puts(&events(&next))?);
            match self
                .transact(
                    items,
                    "the reservation is being changed by another request; try again",
                )
                .await?
            {
                Ok(()) => return Ok(next),
                // Changed meanwhile (confirmed, released, or a newer version): look again.
                Err(failed) if failed.first().copied().unwrap_or(true) => backoff(attempt).await,
                Err(_) => {
                    return Err(StoreError::Corrupt(format!(
                        "showtime {} has no cancellation progress to count in",
                        stored.showtime_id
                    )))
                }
            }
        }
        Err(StoreError::Busy(format!(
            "reservation {} is being changed by another request; try again",
            r.id
        )))
    }

    /// Releases each seat still held by `r`, concurrently; seats it no longer holds are skipped.
    async fn release_each_seat(&self, r: &Reservation) -> Result<(), StoreError> {
        let mut tasks: JoinSet<Result<(), StoreError>> = JoinSet::new();
        for seat in r.seat_ids() {
            let request = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(seat_key(&r.showtime_id, seat)))
                .update_expression("SET #status = :available REMOVE holder, holdExpiresAt")
                .condition_expression("#status = :held AND holder = :res")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":available", s(SeatStatus::Available.as_str()))
                .expression_attribute_values(":held", s(SeatStatus::Held.as_str()))
                .expression_attribute_values(":res", s(&r.id));
            // A failed condition: the seat is not this hold's any more, nothing to release.
            tasks.spawn(async move { conditional(request.send().await).map(|_| ()) });
        }
        while let Some(joined) = tasks.join_next().await {
            joined.map_err(|e| StoreError::Dependency(format!("seat release task: {e}")))??;
        }
        Ok(())
    }

    /// Pattern H2: turns the hold into a sale, all or nothing, in one `TransactWriteItems`: the reservation
    /// `HELD → CONFIRMED` (`#status = :held AND version = :seen`) + every seat `HELD → SOLD` under the
    /// [`can_confirm`](crate::domain::seat::can_confirm) condition (`REMOVE holdExpiresAt`; the holder stays and
    /// names the buyer). Returns the CONFIRMED reservation.
    ///
    /// A seat whose condition fails (hold expired or taken over) → [`StoreError::Conflict`] and nothing changes.
    /// A reservation already CONFIRMED (a retried confirm) → `Ok(stored)`. A stale `r` (older version, still
    /// HELD) is retried with the stored one. Released (CANCELLED / EXPIRED / FAILED) → Conflict; missing →
    /// NotFound.
    pub async fn confirm_seats(
        &self,
        r: &Reservation,
        now: i64,
        events: impl Fn(&Reservation) -> Vec<crate::events::Event>,
    ) -> Result<Reservation, StoreError> {
        let mut current = r.clone();
        for _ in 0..TX_ATTEMPTS {
            let next = current.with_status(ReservationStatus::Confirmed, OffsetDateTime::now_utc());
            let seats = current.seat_ids();
            let reservation = built(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(reservation_key(&current.id)))
                    .update_expression(format!(
                        "SET #status = :confirmed, version = :next, updatedAt = :updatedAt REMOVE {}",
                        super::repairs::REMOVE_REPAIR_KEYS
                    ))
                    .condition_expression("#status = :held AND version = :seen")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(
                        ":confirmed",
                        s(ReservationStatus::Confirmed.as_str()),
                    )
                    .expression_attribute_values(":held", s(ReservationStatus::Held.as_str()))
                    .expression_attribute_values(":next", n(next.version))
                    .expression_attribute_values(":seen", n(current.version))
                    .expression_attribute_values(":updatedAt", s(&next.updated_at))
                    .build(),
            )?;
            let mut items = vec![TransactWriteItem::builder().update(reservation).build()];
            for &seat in &seats {
                let update = built(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(seat_key(&current.showtime_id, seat)))
                        .update_expression("SET #status = :sold REMOVE holdExpiresAt")
                        .condition_expression(
                            "#status = :held AND holder = :res AND holdExpiresAt >= :now",
                        )
                        .expression_attribute_names("#status", "status")
                        .expression_attribute_values(":sold", s(SeatStatus::Sold.as_str()))
                        .expression_attribute_values(":held", s(SeatStatus::Held.as_str()))
                        .expression_attribute_values(":res", s(&current.id))
                        .expression_attribute_values(":now", n(now))
                        .build(),
                )?;
                items.push(TransactWriteItem::builder().update(update).build());
            }
            items.extend(self.event_puts(&events(&next))?);
            let reasons = match self
                .transact_detailed(
                    items,
                    TX_ATTEMPTS,
                    "the reservation is being changed by another request; try again",
                )
                .await?
            {
                Ok(()) => return Ok(next),
                Err(reasons) => reasons,
            };
            let stored =
                self.get_reservation(&current.id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound {
                        entity: "reservation",
                        id: current.id.clone(),
                    })?;
            match stored.status {
                ReservationStatus::Confirmed => return Ok(stored),
                ReservationStatus::Held if stored.version != current.version => {
                    current = stored;
                }
                ReservationStatus::Held => {
                    let lost = failed_seats(&reasons, &seats);
                    let which = if lost.is_empty() {
                        String::new()
                    } else {
                        format!(" (seats {})", seat_list(&lost))
                    };
                    return Err(StoreError::Conflict(format!(
                        "hold expired or lost{which}: reservation {} can no longer be confirmed",
                        current.id
                    )));
                }
                status => {
                    return Err(StoreError::Conflict(format!(
                        "reservation {} is {status}: its hold has ended",
                        current.id
                    )))
                }
            }
        }
        Err(StoreError::Busy(format!(
            "reservation {} is being changed by another request; try again",
            r.id
        )))
    }

    /// Pattern H4: the seats of a showtime that have an item (every seat ever held), with their state,
    /// row-major; **a seat of the map that is not listed is AVAILABLE** (as
    /// [`grade_counts`](crate::domain::seat::grade_counts) assumes). One `Query` per block partition (paginated),
    /// [`READ_CONCURRENCY`] blocks at a time; eventually consistent (a seat-map view may trail a hold by a moment;
    /// every write decides on the item itself, never on this read). No `Scan`.
    pub async fn read_seats(
        &self,
        showtime: &Showtime,
    ) -> Result<Vec<(SeatId, SeatState)>, StoreError> {
        let mut blocks = showtime.details.seat_map.blocks();
        let mut tasks: JoinSet<Result<Vec<(SeatId, SeatState)>, StoreError>> = JoinSet::new();
        let mut seats =
            Vec::with_capacity(usize::try_from(showtime.details.seat_map.capacity()).unwrap_or(0));
        loop {
            while tasks.len() < READ_CONCURRENCY {
                let Some(block) = blocks.next() else { break };
                let store = self.clone();
                let partition = seat_partition(&showtime.id, block);
                tasks.spawn(async move { store.read_block(partition).await });
            }
            match tasks.join_next().await {
                Some(joined) => seats.extend(
                    joined
                        .map_err(|e| StoreError::Dependency(format!("seat read task: {e}")))??,
                ),
                None => break,
            }
        }
        seats.sort_unstable_by_key(|(seat, _)| *seat);
        Ok(seats)
    }

    async fn read_block(&self, partition: String) -> Result<Vec<(SeatId, SeatState)>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .projection_expression("#sk, #status, holder, holdExpiresAt")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pk", s(&partition));
        self.query_all(query, |item| seat_from_item(item).map(Some))
            .await
    }

    /// The stored state of some seats (consistent `BatchGetItem`, ≤ 100 keys); `None` for a seat with no item
    /// (AVAILABLE).
    async fn read_seat_states(
        &self,
        showtime_id: &str,
        seats: &[SeatId],
    ) -> Result<Vec<(SeatId, Option<SeatState>)>, StoreError> {
        let keys = seats
            .iter()
            .map(|&seat| seat_key(showtime_id, seat))
            .collect();
        let mut found: HashMap<SeatId, SeatState> = HashMap::with_capacity(seats.len());
        for item in self.batch_get_consistent(keys).await? {
            let (seat, state) = seat_from_item(item)?;
            found.insert(seat, state);
        }
        Ok(seats
            .iter()
            .map(|seat| (*seat, found.remove(seat)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::seat_sort_key;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn seat(row: u16, col: u16) -> SeatId {
        SeatId::new(row, col)
    }

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder().code(code).build()
    }

    fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    }

    #[test]
    fn seat_keys_are_blocked_and_zero_padded() {
        let key = seat_key("st", seat(1, 7));
        assert_eq!(text(&key, PK), Some("SHOW#st#B#0"));
        assert_eq!(text(&key, SK), Some("SEAT#001-007"));
        let key = seat_key("st", seat(10, 500));
        assert_eq!(text(&key, PK), Some("SHOW#st#B#0"));
        assert_eq!(text(&key, SK), Some("SEAT#010-500"));
        let key = seat_key("st", seat(11, 1));
        assert_eq!(text(&key, PK), Some("SHOW#st#B#1"));
        let key = seat_key("st", seat(500, 12));
        assert_eq!(text(&key, PK), Some("SHOW#st#B#49"));
        assert_eq!(text(&key, SK), Some("SEAT#500-012"));
        // Row-major order of sort keys within a block.
        assert!(seat_sort_key(seat(2, 1)) > seat_sort_key(seat(1, 500)));
        assert!(seat_sort_key(seat(1, 10)) > seat_sort_key(seat(1, 9)));
    }

    #[test]
    fn sort_keys_parse_back() {
        for st in [seat(1, 1), seat(12, 7), seat(500, 500), seat(1000, 2)] {
            assert_eq!(seat_from_sort_key(&seat_sort_key(st)), Some(st));
        }
        for bad in [
            "",
            "SEAT#",
            "SEAT#001",
            "SEAT#000-001",
            "SEAT#001-000",
            "SEAT#a-1",
            "META",
            "SEAT#1-1-1",
            "SEAT#-1-1",
            "SEAT#99999-1",
        ] {
            assert_eq!(seat_from_sort_key(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn seat_items_round_trip() {
        let mut item = seat_key("st", seat(3, 4));
        item.insert("status".into(), s("AVAILABLE"));
        assert_eq!(
            seat_from_item(item).ok(),
            Some((seat(3, 4), SeatState::available()))
        );
        let mut held = seat_key("st", seat(12, 1));
        held.insert("status".into(), s("HELD"));
        held.insert("holder".into(), s("res-1"));
        held.insert("holdExpiresAt".into(), n(1_800_000_000));
        assert_eq!(
            seat_from_item(held).ok(),
            Some((
                seat(12, 1),
                SeatState {
                    status: SeatStatus::Held,
                    holder: Some("res-1".into()),
                    hold_expires_at: Some(1_800_000_000),
                }
            ))
        );
        let mut broken = seat_key("st", seat(1, 1));
        broken.insert("status".into(), s("RESERVED"));
        assert!(matches!(
            seat_from_item(broken),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            seat_from_item(Item::from([(SK.into(), s("META"))])),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn the_hold_condition_spells_can_hold_with_a_missing_item_available() {
        assert_eq!(
            HOLD_CONDITION,
            "attribute_not_exists(#status) OR #status = :available OR (#status = :held AND holdExpiresAt < :now)"
        );
        assert!(
            can_hold(&SeatState::default(), 0),
            "no item reads as AVAILABLE"
        );
    }

    #[test]
    fn failed_seat_conditions_name_the_seats() {
        let seats = [seat(1, 1), seat(1, 2), seat(1, 3)];
        let reasons = [
            reason("None"),
            reason("None"),
            reason("ConditionalCheckFailed"),
            reason("ConditionalCheckFailed"),
            reason("None"),
        ];
        assert_eq!(
            hold_failure(&reasons, &seats, (false, false)),
            HoldFailure::SeatsTaken(vec![seat(1, 2), seat(1, 3)])
        );
        assert_eq!(failed_seats(&reasons, &seats), [seat(1, 2), seat(1, 3)]);
    }

    #[test]
    fn an_existing_reservation_wins_over_its_own_held_seats() {
        let seats = [seat(1, 1)];
        let stored = Item::from([("id".to_string(), AttributeValue::S("res-1".into()))]);
        let reasons = [
            CancellationReason::builder()
                .code("ConditionalCheckFailed")
                .set_item(Some(stored.clone()))
                .build(),
            reason("ConditionalCheckFailed"),
        ];
        assert_eq!(
            hold_failure(&reasons, &seats, (false, false)),
            HoldFailure::ReservationExists(Some(stored))
        );
        assert_eq!(
            hold_failure(&[reason("ConditionalCheckFailed")], &seats, (false, false)),
            HoldFailure::ReservationExists(None)
        );
    }

    #[test]
    fn a_used_admission_is_named_after_an_existing_reservation_and_before_seats() {
        let seats = [seat(1, 1)];
        // Reservation put, one seat, one event put, the admission check, the member's count.
        let used = [
            reason("None"),
            reason("ConditionalCheckFailed"),
            reason("None"),
            reason("ConditionalCheckFailed"),
            reason("None"),
        ];
        assert_eq!(
            hold_failure(&used, &seats, (true, false)),
            HoldFailure::AdmissionUsed
        );
        // Without an admission check the last operation is an event put: only the seat counts.
        assert_eq!(
            hold_failure(&used, &seats, (false, false)),
            HoldFailure::SeatsTaken(vec![seat(1, 1)])
        );
        let mut retried = used.clone();
        retried[0] = reason("ConditionalCheckFailed");
        assert_eq!(
            hold_failure(&retried, &seats, (true, false)),
            HoldFailure::ReservationExists(None)
        );
        // A seat alone failing under an admission is still the seat.
        let taken = [
            reason("None"),
            reason("ConditionalCheckFailed"),
            reason("None"),
            reason("None"),
            reason("None"),
        ];
        assert_eq!(
            hold_failure(&taken, &seats, (true, false)),
            HoldFailure::SeatsTaken(vec![seat(1, 1)])
        );
    }

    #[test]
    fn a_count_over_the_limit_is_named_before_seats_and_after_an_admission() {
        let seats = [seat(1, 1)];
        // Reservation put, one seat, one event put, the member's count under a limit.
        let over = [
            reason("None"),
            reason("ConditionalCheckFailed"),
            reason("None"),
            reason("ConditionalCheckFailed"),
        ];
        assert_eq!(
            hold_failure(&over, &seats, (false, true)),
            HoldFailure::OverLimit
        );
        // Without a limit the count has no condition: a failure there is not the limit.
        assert_eq!(
            hold_failure(&over, &seats, (false, false)),
            HoldFailure::SeatsTaken(vec![seat(1, 1)])
        );
        // With an admission check before the count: a used admission wins.
        let both = [
            reason("None"),
            reason("None"),
            reason("None"),
            reason("ConditionalCheckFailed"),
            reason("ConditionalCheckFailed"),
        ];
        assert_eq!(
            hold_failure(&both, &seats, (true, true)),
            HoldFailure::AdmissionUsed
        );
    }

    #[test]
    fn no_usable_reasons_is_unknown() {
        let seats = [seat(1, 1)];
        assert_eq!(
            hold_failure(&[], &seats, (false, true)),
            HoldFailure::Unknown
        );
        assert_eq!(
            hold_failure(
                &[reason("None"), reason("TransactionConflict")],
                &seats,
                (true, true)
            ),
            HoldFailure::Unknown
        );
        assert!(failed_seats(&[], &seats).is_empty());
    }
}
