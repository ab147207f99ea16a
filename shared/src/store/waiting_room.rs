//! The waiting room's items (docs/waiting-room.md; rules in [`crate::domain::waiting_room`]).
//!
//! # Items
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | room | `SHOW#<showtimeId>` | `ROOM` | `settings` (JSON), `opensAtMs`, `seed` (the pre-queue shuffle's, drawn at opening), `serving` (positions let in), `closed` (slots `0..closed` have their totals), `positionsBefore` (their tickets), `history` (the inlet's runs in the admission lifetime), `lastRunMs`, `version`; registered under `ROOMS`/`SHOW#<showtimeId>` for the inlet |
//! | ticket | `QUEUE#<showtimeId>#M#<memberId>` | `TICKET` | `slot`, `shard`, `seq` (absent until counted), `joinedAtMs`, `lastPollAtMs`, `position` (once its slot closed and it polled), `admittedAtMs`, `lost`, `finishedBy` (the reservation whose purchase finished its admission), `finishedAtMs`; a lost, lapsed or finished ticket may be claimed anew (W2's condition) |
//! | shard counter | `QSLOT#<showtimeId>#<slot>#<shard>` | `COUNT` | `n` |
//! | slot total | `QTOTAL#<showtimeId>` | `SLOT#<slot, 12 digits>` | `total`, `before` (tickets of the slots before it), `counts` (the shard counts the inlet read, comma-separated: they rank the slot's tickets) |
//! | slot mark | `QSLOTS#<showtimeId>` | `SLOT#<slot, 12 digits>#<shard, 3 digits>` | (a join counted in that shard and second) |
//! | finishes | `QFIN#<showtimeId>` | `SEC#<admission second, 12 digits>` | `n`: admissions let in that second that finished (bought) |
//!
//! Queue items carry `expiresAt` (TTL) a week after their write.
//!
//! | # | access pattern | operation | key condition |
//! |---|---|---|---|
//! | W1 | open or change a room | `PutItem` (`attribute_not_exists(PK) OR version = :seen`) | `SHOW#<s>`/`ROOM` |
//! | W2 | join: claim the member's ticket | `PutItem` `attribute_not_exists(PK) OR lost = :lost OR admittedAtMs < :lapsed OR attribute_exists(finishedBy)`, the old item returned on failure (a second join reads nothing more) | `QUEUE#<s>#M#<m>`/`TICKET` |
//! | W3 | join: count it in its shard | `UpdateItem` `ADD n :one`, `UPDATED_NEW` | `QSLOT#<s>#<slot>#<shard>`/`COUNT` |
//! | W4 | join: record the sequence | `UpdateItem` `SET seq` | the ticket |
//! | W5 | poll | `GetItem` (consistent), then `UpdateItem` `SET lastPollAtMs` (and `position` once known, `lost` once abandoned), `ALL_NEW` | the ticket |
//! | W6 | the inlet closes a slot | `BatchGetItem` of its [`SHARDS`] counters, `PutItem` of its total | `QSLOT#...`, `QTOTAL#<s>`/`SLOT#<slot>` |
//! | W8 | first admitted | in W5's update: `SET admittedAtMs = if_not_exists(...)` | the ticket |
//! | W9 | the inlet's rooms | `PutItem` / `Query` | `ROOMS`/`SHOW#<s>` |
//! | W11 | the seconds somebody joined in | `PutItem` by the first join of each (slot, shard) (`n` came back 1); the inlet's `Query` `BETWEEN SLOT#<closed> AND SLOT#<open>` | `QSLOTS#<s>`/`SLOT#<slot>#<shard>` |
//! | W10 | the showtime's flag | `UpdateItem` `SET waitingRoom` | `SHOW#<s>`/`META` |
//! | W7 | a ticket's position, once (then it is on the ticket) | `GetItem` of its slot's total (once per slot and container) | `QTOTAL#<s>`/`SLOT#<slot>` |
//! | W12 | a hold under an admission: unused | `ConditionCheck` in the hold's own `TransactWriteItems` (no extra call): `admittedAtMs` in the token's second `AND attribute_not_exists(finishedBy)` | the ticket |
//! | W13 | a purchase finishes its admission | `UpdateItem` `SET finishedBy` under W12's condition, then `ADD n :one` on the admission second's finishes | the ticket, `QFIN#<s>`/`SEC#<second>` |
//! | W14 | the inlet: finishes of admissions still alive | `Query` `SK > SEC#<second>` (the seconds inside the lifetime that had a finish) | `QFIN#<s>` |
//!
//! Joins write one claim per member (spread by member), one of 128 counters of the current second, and the
//! claim again: no item takes more than ~500 writes a second at 62,000 joins a second.

use super::error::conditional;
use super::keys::{
    counter_key, counter_shard, finishes_pk, finishes_sort_key, room_key, room_registry_key,
    showtime_key, slot_mark_key, slot_marks_pk, slot_of_sort_key, slot_sort_key, slot_total_key,
    ticket_key, ROOMS,
};
use super::StoreError;
use super::{n, s, Item, Store, PK, SK, TYPE};
use crate::domain::waiting_room::{slot_of, Settings, SlotTicket, SHARDS};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

/// A member's ticket in a showtime's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub showtime_id: String,
    pub member_id: String,
    pub slot: u64,
    pub shard: u32,
    /// Its sequence in its shard; `None` while the join is being counted.
    pub seq: Option<u64>,
    pub joined_at_ms: i64,
    pub last_poll_at_ms: i64,
    /// Its place (from 0), recorded by the first poll after its slot closed.
    pub position: Option<u64>,
    /// When it was first seen admitted: its admission's lifetime counts from here.
    pub admitted_at_ms: Option<i64>,
    /// It went unpolled past the room's `abandonSeconds` before its admission: its place is gone.
    pub lost: bool,
    /// Its admission was used for a purchase: its capacity is back, and its token buys no more.
    pub finished: bool,
}

impl Ticket {
    /// The ticket's id: its showtime and member (only that member may read it).
    pub fn id(&self) -> String {
        format!("{}.{}", self.showtime_id, self.member_id)
    }

    /// The (showtime, member) a ticket id names, if it is one.
    pub fn parse_id(id: &str) -> Option<(&str, &str)> {
        let (showtime, member) = id.split_once('.')?;
        (!showtime.is_empty() && !member.is_empty() && !member.contains('.'))
            .then_some((showtime, member))
    }

    pub fn slot_ticket(&self) -> Option<SlotTicket> {
        self.seq.map(|seq| SlotTicket {
            seq,
            shard: self.shard,
        })
    }
}

/// A showtime's open waiting room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    pub showtime_id: String,
    pub settings: Settings,
    pub opens_at_ms: i64,
    pub seed: u64,
    pub serving: u64,
    /// Slots `0..closed` are closed: their totals are recorded.
    pub closed: u64,
    /// The tickets of the closed slots.
    pub positions_before: u64,
    /// `(at_ms, serving)` after each inlet run within the admission lifetime (and the newest before it).
    pub history: Vec<(i64, u64)>,
    pub last_run_ms: i64,
    /// The sale's end: the inlet retires the room then (0: never).
    pub closes_at_ms: i64,
    pub version: u64,
}

fn num<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// W12's condition on the ticket: let in within second `admitted_at` (the token's `iat`; a ticket claimed
/// anew has another admission, or none yet) and not yet used for a purchase.
const UNUSED_ADMISSION: &str =
    "admittedAtMs BETWEEN :admittedFrom AND :admittedTo AND attribute_not_exists(finishedBy)";

fn admission_values(admitted_at: i64) -> [(&'static str, AttributeValue); 2] {
    let from = admitted_at.saturating_mul(1000);
    [
        (":admittedFrom", n(from)),
        (":admittedTo", n(from.saturating_add(999))),
    ]
}

fn ticket_of(showtime_id: &str, member_id: &str, item: &Item) -> Result<Ticket, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("ticket {showtime_id}.{member_id}"));
    Ok(Ticket {
        showtime_id: showtime_id.to_string(),
        member_id: member_id.to_string(),
        slot: num(item, "slot").ok_or_else(corrupt)?,
        shard: num(item, "shard").ok_or_else(corrupt)?,
        seq: num(item, "seq"),
        joined_at_ms: num(item, "joinedAtMs").ok_or_else(corrupt)?,
        last_poll_at_ms: num(item, "lastPollAtMs").unwrap_or_default(),
        position: num(item, "position"),
        admitted_at_ms: num(item, "admittedAtMs"),
        lost: matches!(item.get("lost"), Some(AttributeValue::Bool(true))),
        finished: item.contains_key("finishedBy"),
    })
}

fn room_of(showtime_id: &str, item: &Item) -> Result<Room, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("waiting room of {showtime_id}"));
    let settings = match item.get("settings") {
        Some(AttributeValue::S(raw)) => serde_json::from_str(raw).map_err(|_| corrupt())?,
        _ => return Err(corrupt()),
    };
    Ok(Room {
        showtime_id: showtime_id.to_string(),
        settings,
        opens_at_ms: num(item, "opensAtMs").ok_or_else(corrupt)?,
        seed: num(item, "seed").unwrap_or_default(),
        serving: num(item, "serving").unwrap_or_default(),
        closed: num(item, "closed").unwrap_or_default(),
        positions_before: num(item, "positionsBefore").unwrap_or_default(),
        history: match item.get("history") {
            Some(AttributeValue::S(raw)) => serde_json::from_str(raw).map_err(|_| corrupt())?,
            _ => Vec::new(),
        },
        last_run_ms: num(item, "lastRunMs").unwrap_or_default(),
        closes_at_ms: num(item, "closesAtMs").unwrap_or_default(),
        version: num(item, "version").unwrap_or_default(),
    })
}

/// A closed slot: what ranks its tickets. It never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedSlot {
    pub counts: Vec<u64>,
    pub total: u64,
    pub before: u64,
}

fn now() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The TTL attribute, and how long queue items outlive their last write (a week: long past any sale).
const EXPIRES: &str = "expiresAt";
const KEEP_SECONDS: i64 = 7 * 24 * 3600;

/// What a poll learnt about its ticket, to record with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollOutcome {
    pub position: Option<u64>,
    pub status: PollStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollStatus {
    Waiting,
    /// Let in by the inlet's run at this instant.
    Admitted(i64),
    Lost,
}

/// The outcome of a join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// A new ticket.
    New(Ticket),
    /// The member's ticket from before (a reload, a retry, a second tab).
    Existing(Ticket),
}

impl Store {
    /// A showtime's waiting room, if it has one.
    pub async fn get_room(&self, showtime_id: &str) -> Result<Option<Room>, StoreError> {
        self.get_consistent(room_key(showtime_id))
            .await?
            .map(|item| room_of(showtime_id, &item))
            .transpose()
    }

    /// W1: writes `room` over the version it was read at (`room.version`; 0 for a new room), as version + 1.
    pub async fn put_room(&self, room: &Room) -> Result<(), StoreError> {
        let mut item = room_key(&room.showtime_id);
        item.insert(TYPE.into(), s("WaitingRoom"));
        item.insert(
            "settings".into(),
            s(serde_json::to_string(&room.settings)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?),
        );
        item.insert("opensAtMs".into(), n(room.opens_at_ms));
        item.insert("seed".into(), n(room.seed));
        item.insert("serving".into(), n(room.serving));
        item.insert("closed".into(), n(room.closed));
        item.insert("positionsBefore".into(), n(room.positions_before));
        item.insert(
            "history".into(),
            s(serde_json::to_string(&room.history)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?),
        );
        item.insert("lastRunMs".into(), n(room.last_run_ms));
        item.insert("closesAtMs".into(), n(room.closes_at_ms));
        item.insert("version".into(), n(room.version + 1));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR version = :seen")
            .expression_attribute_values(":seen", n(room.version))
            .send()
            .await;
        conditional(put)?.map(|_| ()).ok_or_else(|| {
            StoreError::Conflict("the waiting room changed meanwhile; read it again".into())
        })
    }

    /// W2-W4: the member's ticket, new (claimed, counted in its shard, its sequence recorded) or the one they
    /// hold already.
    pub async fn join_queue(
        &self,
        showtime_id: &str,
        member_id: &str,
        (opens_at_ms, shard): (i64, u32),
        (now_ms, lapsed_before_ms): (i64, i64),
    ) -> Result<Joined, StoreError> {
        let slot = slot_of(now_ms, opens_at_ms);
        let mut item = ticket_key(showtime_id, member_id);
        item.insert(EXPIRES.into(), n(now_ms / 1000 + KEEP_SECONDS));
        item.insert(TYPE.into(), s("QueueTicket"));
        item.insert("slot".into(), n(slot));
        item.insert("shard".into(), n(shard));
        item.insert("joinedAtMs".into(), n(now_ms));
        item.insert("lastPollAtMs".into(), n(now_ms));
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.clone()))
            .condition_expression(
                "attribute_not_exists(PK) OR lost = :lost OR admittedAtMs < :lapsed OR attribute_exists(finishedBy)",
            )
            .expression_attribute_values(":lost", AttributeValue::Bool(true))
            .expression_attribute_values(":lapsed", n(lapsed_before_ms))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        if let Err(err) = claimed {
            return match err.into_service_error() {
                aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(
                    e,
                ) => match e.item {
                    Some(old) => Ok(Joined::Existing(ticket_of(showtime_id, member_id, &old)?)),
                    None => match self.get_consistent(ticket_key(showtime_id, member_id)).await? {
                        Some(old) => Ok(Joined::Existing(ticket_of(showtime_id, member_id, &old)?)),
                        None => Err(StoreError::Dependency("the ticket vanished".into())),
                    },
                },
                e => Err(StoreError::Dependency(format!("{e:?}"))),
            };
        }
        let mut ticket = ticket_of(showtime_id, member_id, &item)?;
        // Its second is the one it is counted in: taken after the claim, as near the count as can be.
        let counted_at = now();
        ticket.slot = slot_of(counted_at, opens_at_ms);
        ticket.seq = Some(
            self.count_ticket(&ticket, (ticket.slot, shard), counted_at)
                .await?,
        );
        Ok(Joined::New(ticket))
    }

    /// W3/W4/W11: counts `ticket` in `(slot, shard)` and records its sequence there (a join, or a join
    /// counted again because its count may have come after its slot closed). Returns the sequence.
    pub async fn count_ticket(
        &self,
        ticket: &Ticket,
        (slot, shard): (u64, u32),
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let showtime_id = ticket.showtime_id.as_str();
        let member_id = ticket.member_id.as_str();
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(showtime_id, slot, shard)))
            .update_expression("ADD n :one SET expiresAt = if_not_exists(expiresAt, :expires)")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(now_ms / 1000 + KEEP_SECONDS))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await?;
        let seq: u64 = counted
            .attributes
            .as_ref()
            .and_then(|a| num(a, "n"))
            .ok_or_else(|| StoreError::Corrupt("the shard counter returned no count".into()))?;
        if seq == 1 {
            // The first join of this shard in this second marks the second as joined (W11): at most
            // SHARDS marks a second, and the inlet reads only the seconds somebody joined in.
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(slot_mark_key(showtime_id, slot, shard)))
                .item(TYPE, s("QueueSlotMark"))
                .item(EXPIRES, n(now_ms / 1000 + KEEP_SECONDS))
                .send()
                .await?;
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(showtime_id, member_id)))
            .update_expression("SET seq = :seq, #slot = :slot, #shard = :shard")
            .expression_attribute_names("#slot", "slot")
            .expression_attribute_names("#shard", "shard")
            .expression_attribute_values(":seq", n(seq))
            .expression_attribute_values(":slot", n(slot))
            .expression_attribute_values(":shard", n(shard))
            .send()
            .await?;
        Ok(seq)
    }

    /// W5: the member's ticket; `None` when they hold none.
    pub async fn get_ticket(
        &self,
        showtime_id: &str,
        member_id: &str,
    ) -> Result<Option<Ticket>, StoreError> {
        self.get_consistent(ticket_key(showtime_id, member_id))
            .await?
            .map(|item| ticket_of(showtime_id, member_id, &item))
            .transpose()
    }

    /// W5/W8: records a poll of `ticket` at `now_ms` with what it learnt: the ticket's place once known,
    /// that it is lost, or when it was let in (kept once written: the room's history forgets old runs).
    /// Returns the ticket as written.
    pub async fn record_poll(
        &self,
        ticket: &Ticket,
        now_ms: i64,
        outcome: PollOutcome,
    ) -> Result<Ticket, StoreError> {
        let mut set = vec!["lastPollAtMs = :now"];
        let mut values = vec![(":now", n(now_ms))];
        if let Some(place) = outcome.position {
            set.push("#position = :position");
            values.push((":position", n(place)));
        }
        match outcome.status {
            PollStatus::Lost => {
                set.push("lost = :lost");
                values.push((":lost", AttributeValue::Bool(true)));
            }
            PollStatus::Admitted(at) => {
                set.push("admittedAtMs = if_not_exists(admittedAtMs, :admitted)");
                values.push((":admitted", n(at)));
            }
            PollStatus::Waiting => {}
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(&ticket.showtime_id, &ticket.member_id)))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression("attribute_exists(PK)")
            .return_values(ReturnValue::AllNew);
        if outcome.position.is_some() {
            update = update.expression_attribute_names("#position", "position");
        }
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        let out = update.send().await?;
        let item = out
            .attributes
            .ok_or_else(|| StoreError::Corrupt("the poll returned no ticket".into()))?;
        ticket_of(&ticket.showtime_id, &ticket.member_id, &item)
    }

    /// W12: the check a hold under `member_id`'s admission (let in at second `admitted_at`) adds to its own
    /// transaction: the admission has bought nothing yet.
    pub(crate) fn unused_admission(
        &self,
        showtime_id: &str,
        member_id: &str,
        admitted_at: i64,
    ) -> Result<aws_sdk_dynamodb::types::ConditionCheck, StoreError> {
        let [from, to] = admission_values(admitted_at);
        super::built(
            aws_sdk_dynamodb::types::ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(ticket_key(showtime_id, member_id)))
                .condition_expression(UNUSED_ADMISSION)
                .expression_attribute_values(from.0, from.1)
                .expression_attribute_values(to.0, to.1)
                .build(),
        )
    }

    /// W13: the purchase `reservation_id` finishes `member_id`'s admission let in at second `admitted_at`:
    /// marked on the ticket once, then counted under that second for the inlet. A crash between the two
    /// leaves the count short, never long: that admission's capacity then comes back when it lapses.
    /// Returns whether this call finished it (false: finished already, or the ticket was claimed anew).
    pub async fn finish_admission(
        &self,
        (showtime_id, member_id): (&str, &str),
        admitted_at: i64,
        reservation_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let [from, to] = admission_values(admitted_at);
        let marked = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(showtime_id, member_id)))
            .update_expression("SET finishedBy = :res, finishedAtMs = :now")
            .condition_expression(UNUSED_ADMISSION)
            .expression_attribute_values(":res", s(reservation_id))
            .expression_attribute_values(":now", n(now_ms))
            .expression_attribute_values(from.0, from.1)
            .expression_attribute_values(to.0, to.1)
            .send()
            .await;
        if conditional(marked)?.is_none() {
            return Ok(false);
        }
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(finishes_pk(showtime_id)))
            .key(SK, s(finishes_sort_key(admitted_at)))
            .update_expression("ADD n :one SET #type = :type, expiresAt = :expires")
            .expression_attribute_names("#type", TYPE)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":type", s("QueueFinishes"))
            .expression_attribute_values(":expires", n(now_ms / 1000 + KEEP_SECONDS))
            .send()
            .await?;
        Ok(true)
    }

    /// W14: how many admissions let in after second `after` have finished.
    pub async fn finished_after(&self, showtime_id: &str, after: i64) -> Result<u64, StoreError> {
        let items = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK > :after")
            .expression_attribute_values(":pk", s(finishes_pk(showtime_id)))
            .expression_attribute_values(":after", s(finishes_sort_key(after)))
            .projection_expression("n")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        Ok(items.iter().filter_map(|item| num::<u64>(item, "n")).sum())
    }

    /// W10: marks the showtime as having a waiting room, so the hold path knows from the showtime it reads
    /// anyway.
    pub async fn set_waiting_room(&self, showtime_id: &str, on: bool) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(showtime_key(showtime_id)))
            .update_expression("SET waitingRoom = :on")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":on", AttributeValue::Bool(on))
            .send()
            .await?;
        Ok(())
    }

    /// W9: registers an open room for the inlet.
    pub async fn register_room(&self, showtime_id: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(room_registry_key(showtime_id)))
            .item(TYPE, s("WaitingRoomEntry"))
            .item("showtimeId", s(showtime_id))
            .send()
            .await?;
        Ok(())
    }

    /// W9: the showtimes with an open room (a handful at a time: one item each in one partition, read once
    /// per inlet run).
    pub async fn open_rooms(&self) -> Result<Vec<String>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :rooms")
            .expression_attribute_values(":rooms", s(ROOMS));
        self.query_all(query, |item| match item.get("showtimeId") {
            Some(AttributeValue::S(id)) => Ok(Some(id.clone())),
            _ => Ok(None),
        })
        .await
    }

    /// W11: the slots in `from..to` somebody joined in, in order.
    pub async fn joined_slots(
        &self,
        showtime_id: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<u64>, StoreError> {
        let mut slots: Vec<u64> = Vec::new();
        if from >= to {
            return Ok(slots);
        }
        let marks = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(slot_marks_pk(showtime_id)))
            .expression_attribute_values(":from", s(slot_sort_key(from)))
            // `#` sorts before digits: every mark of slot `to - 1` is under `SLOT#<to>`.
            .expression_attribute_values(":to", s(slot_sort_key(to)))
            .projection_expression("SK")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await?;
        for item in marks {
            let slot = match item.get(SK) {
                Some(AttributeValue::S(sk)) => slot_of_sort_key(sk),
                _ => None,
            };
            if let Some(slot) = slot.filter(|x| *x < to && slots.last() != Some(x)) {
                slots.push(slot);
            }
        }
        Ok(slots)
    }

    /// W9: retires a room from the inlet's registry (its sale is over).
    pub async fn retire_room(&self, showtime_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(room_registry_key(showtime_id)))
            .send()
            .await?;
        Ok(())
    }

    /// W6: the shard counts of a slot (zero for a shard nobody joined).
    pub async fn slot_counts(&self, showtime_id: &str, slot: u64) -> Result<Vec<u64>, StoreError> {
        let mut counts = vec![0u64; SHARDS as usize];
        let keys: Vec<Item> = (0..SHARDS)
            .map(|shard| counter_key(showtime_id, slot, shard))
            .collect();
        for chunk in keys.chunks(100) {
            for item in self.batch_get_consistent(chunk.to_vec()).await? {
                let shard = match item.get(PK) {
                    Some(AttributeValue::S(pk)) => counter_shard(pk),
                    _ => None,
                };
                if let Some(shard) = shard.filter(|i| *i < counts.len()) {
                    counts[shard] = num(&item, "n").unwrap_or_default();
                }
            }
        }
        Ok(counts)
    }

    /// W6: records a closed slot: its shard counts as the inlet read them (what ranks its tickets: a count
    /// that lands later is in no total) and the tickets before it.
    pub async fn put_slot_total(
        &self,
        showtime_id: &str,
        slot: u64,
        counts: &[u64],
        before: u64,
    ) -> Result<(), StoreError> {
        let listed: Vec<String> = counts.iter().map(u64::to_string).collect();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(slot_total_key(showtime_id, slot)))
            .item(TYPE, s("QueueSlotTotal"))
            .item("total", n(counts.iter().sum::<u64>()))
            .item("before", n(before))
            .item("counts", s(listed.join(",")))
            .item(
                EXPIRES,
                n(time::OffsetDateTime::now_utc().unix_timestamp() + KEEP_SECONDS),
            )
            .send()
            .await?;
        Ok(())
    }

    /// W7: a closed slot: its total, the tickets before it and its shard counts; `None` if it was not
    /// recorded (open, or nobody was counted in it when it closed).
    pub async fn closed_slot(
        &self,
        showtime_id: &str,
        slot: u64,
    ) -> Result<Option<ClosedSlot>, StoreError> {
        let key = slot_total_key(showtime_id, slot);
        let Some(item) = self.get_consistent(key).await? else {
            return Ok(None);
        };
        let corrupt = || StoreError::Corrupt(format!("queue slot {slot} of {showtime_id}"));
        let counts = match item.get("counts") {
            Some(AttributeValue::S(raw)) => raw
                .split(',')
                .map(|c| c.parse::<u64>().map_err(|_| corrupt()))
                .collect::<Result<Vec<u64>, _>>()?,
            _ => return Err(corrupt()),
        };
        Ok(Some(ClosedSlot {
            total: num(&item, "total").ok_or_else(corrupt)?,
            before: num(&item, "before").ok_or_else(corrupt)?,
            counts,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_name_the_showtime_and_the_member() {
        let t = Ticket {
            showtime_id: "s-1".into(),
            member_id: "m-1".into(),
            slot: 0,
            shard: 3,
            seq: Some(2),
            joined_at_ms: 1,
            last_poll_at_ms: 1,
            position: None,
            admitted_at_ms: None,
            lost: false,
            finished: false,
        };
        assert_eq!(Ticket::parse_id(&t.id()), Some(("s-1", "m-1")));
        assert_eq!(Ticket::parse_id("nodot"), None);
        assert_eq!(Ticket::parse_id(".m"), None);
        assert_eq!(Ticket::parse_id("s.m.x"), None);
        assert_eq!(t.slot_ticket(), Some(SlotTicket { seq: 2, shard: 3 }));
    }
}
