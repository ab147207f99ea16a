//! The waiting room's items (docs/waiting-room.md; rules in [`crate::domain::waiting_room`]).
//!
//! # Items
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | room | `SHOW#<showtimeId>` | `ROOM` | `settings` (JSON), `opensAtMs`, `seed` (the pre-queue shuffle's, drawn at opening), `serving` (positions let in), `closed` (slots `0..closed` have their totals), `positionsBefore` (their tickets), `history` (the inlet's runs in the admission lifetime), `lastRunMs`, `version`; registered under `ROOMS`/`SHOW#<showtimeId>` for the inlet |
//! | ticket | `QUEUE#<showtimeId>#M#<memberId>` | `TICKET` | `slot`, `shard`, `seq` (absent until counted), `joinedAtMs`, `lastPollAtMs` |
//! | shard counter | `QSLOT#<showtimeId>#<slot>#<shard>` | `COUNT` | `n` |
//! | slot total | `QTOTAL#<showtimeId>` | `SLOT#<slot, 12 digits>` | `total`, `before` (tickets of the slots before it) |
//!
//! | # | access pattern | operation | key condition |
//! |---|---|---|---|
//! | W1 | open or change a room | `PutItem` (`attribute_not_exists(PK) OR version = :seen`) | `SHOW#<s>`/`ROOM` |
//! | W2 | join: claim the member's ticket | `PutItem` `attribute_not_exists(PK)`, the old item returned on failure (a second join reads nothing more) | `QUEUE#<s>#M#<m>`/`TICKET` |
//! | W3 | join: count it in its shard | `UpdateItem` `ADD n :one`, `UPDATED_NEW` | `QSLOT#<s>#<slot>#<shard>`/`COUNT` |
//! | W4 | join: record the sequence | `UpdateItem` `SET seq` | the ticket |
//! | W5 | poll | `UpdateItem` `SET lastPollAtMs`, `ALL_NEW` | the ticket |
//! | W6 | the inlet closes a slot | `BatchGetItem` of its [`SHARDS`] counters, `PutItem` of its total | `QSLOT#...`, `QTOTAL#<s>`/`SLOT#<slot>` |
//! | W8 | first admitted | `UpdateItem` `SET admittedAtMs = if_not_exists(...)` | the ticket |
//! | W9 | the inlet's rooms | `PutItem` / `Query` | `ROOMS`/`SHOW#<s>` |
//! | W10 | the showtime's flag | `UpdateItem` `SET waitingRoom` | `SHOW#<s>`/`META` |
//! | W7 | a ticket's position | `GetItem` of its slot's total, and (once per slot and container) its counters | `QTOTAL#<s>`/`SLOT#<slot>` |
//!
//! Joins write one claim per member (spread by member), one of 128 counters of the current second, and the
//! claim again: no item takes more than ~500 writes a second at 62,000 joins a second.

use super::{n, s, Item, Store, PK, SK, TYPE};
use crate::domain::waiting_room::{Settings, SlotTicket, SHARDS};
use crate::error::AppError;
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
    pub version: u64,
}

fn num<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn ticket_key(showtime_id: &str, member_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("QUEUE#{showtime_id}#M#{member_id}"))),
        (SK.into(), s("TICKET")),
    ])
}

fn counter_key(showtime_id: &str, slot: u64, shard: u32) -> Item {
    Item::from([
        (PK.into(), s(format!("QSLOT#{showtime_id}#{slot}#{shard}"))),
        (SK.into(), s("COUNT")),
    ])
}

fn room_key(showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("SHOW#{showtime_id}"))),
        (SK.into(), s("ROOM")),
    ])
}

fn ticket_of(showtime_id: &str, member_id: &str, item: &Item) -> Result<Ticket, AppError> {
    let corrupt = || AppError::Corrupt(format!("ticket {showtime_id}.{member_id}"));
    Ok(Ticket {
        showtime_id: showtime_id.to_string(),
        member_id: member_id.to_string(),
        slot: num(item, "slot").ok_or_else(corrupt)?,
        shard: num(item, "shard").ok_or_else(corrupt)?,
        seq: num(item, "seq"),
        joined_at_ms: num(item, "joinedAtMs").ok_or_else(corrupt)?,
        last_poll_at_ms: num(item, "lastPollAtMs").unwrap_or_default(),
    })
}

fn room_of(showtime_id: &str, item: &Item) -> Result<Room, AppError> {
    let corrupt = || AppError::Corrupt(format!("waiting room of {showtime_id}"));
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
        version: num(item, "version").unwrap_or_default(),
    })
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
    pub async fn get_room(&self, showtime_id: &str) -> Result<Option<Room>, AppError> {
        self.get_consistent(room_key(showtime_id))
            .await?
            .map(|item| room_of(showtime_id, &item))
            .transpose()
    }

    /// W1: writes `room` over the version it was read at (`room.version`; 0 for a new room), as version + 1.
    pub async fn put_room(&self, room: &Room) -> Result<(), AppError> {
        let mut item = room_key(&room.showtime_id);
        item.insert(TYPE.into(), s("WaitingRoom"));
        item.insert(
            "settings".into(),
            s(serde_json::to_string(&room.settings)
                .map_err(|e| AppError::Corrupt(e.to_string()))?),
        );
        item.insert("opensAtMs".into(), n(room.opens_at_ms));
        item.insert("seed".into(), n(room.seed));
        item.insert("serving".into(), n(room.serving));
        item.insert("closed".into(), n(room.closed));
        item.insert("positionsBefore".into(), n(room.positions_before));
        item.insert(
            "history".into(),
            s(serde_json::to_string(&room.history)
                .map_err(|e| AppError::Corrupt(e.to_string()))?),
        );
        item.insert("lastRunMs".into(), n(room.last_run_ms));
        item.insert("version".into(), n(room.version + 1));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR version = :seen")
            .expression_attribute_values(":seen", n(room.version))
            .send()
            .await
            .map_err(|e| match e.into_service_error() {
                e if e.is_conditional_check_failed_exception() => {
                    AppError::Conflict("the waiting room changed meanwhile; read it again".into())
                }
                e => AppError::Dependency(format!("{e:?}")),
            })?;
        Ok(())
    }

    /// W2-W4: the member's ticket, new (claimed, counted in its shard, its sequence recorded) or the one they
    /// hold already.
    pub async fn join_queue(
        &self,
        showtime_id: &str,
        member_id: &str,
        (slot, shard): (u64, u32),
        now_ms: i64,
    ) -> Result<Joined, AppError> {
        let mut item = ticket_key(showtime_id, member_id);
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
            .condition_expression("attribute_not_exists(PK)")
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
                        None => Err(AppError::Dependency("the ticket vanished".into())),
                    },
                },
                e => Err(AppError::Dependency(format!("{e:?}"))),
            };
        }
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(showtime_id, slot, shard)))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await?;
        let seq: u64 = counted
            .attributes
            .as_ref()
            .and_then(|a| num(a, "n"))
            .ok_or_else(|| AppError::Corrupt("the shard counter returned no count".into()))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(showtime_id, member_id)))
            .update_expression("SET seq = :seq")
            .expression_attribute_values(":seq", n(seq))
            .send()
            .await?;
        let mut ticket = ticket_of(showtime_id, member_id, &item)?;
        ticket.seq = Some(seq);
        Ok(Joined::New(ticket))
    }

    /// W5: the member's ticket, its poll recorded; `None` when they hold none.
    pub async fn poll_ticket(
        &self,
        showtime_id: &str,
        member_id: &str,
        now_ms: i64,
    ) -> Result<Option<(Ticket, i64)>, AppError> {
        let Some(item) = self
            .get_consistent(ticket_key(showtime_id, member_id))
            .await?
        else {
            return Ok(None);
        };
        let before = ticket_of(showtime_id, member_id, &item)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(showtime_id, member_id)))
            .update_expression("SET lastPollAtMs = :now")
            .expression_attribute_values(":now", n(now_ms))
            .send()
            .await?;
        let previous_poll = before.last_poll_at_ms;
        Ok(Some((before, previous_poll)))
    }

    /// W8: the instant the ticket was first seen admitted (set once; later calls return the first), which
    /// its admission's lifetime counts from: polling again does not extend it.
    pub async fn admitted_at(
        &self,
        showtime_id: &str,
        member_id: &str,
        now_ms: i64,
    ) -> Result<i64, AppError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(showtime_id, member_id)))
            .update_expression("SET admittedAtMs = if_not_exists(admittedAtMs, :now)")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":now", n(now_ms))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await?;
        Ok(out
            .attributes
            .as_ref()
            .and_then(|a| num(a, "admittedAtMs"))
            .unwrap_or(now_ms))
    }

    /// W10: marks the showtime as having a waiting room, so the hold path knows from the showtime it reads
    /// anyway.
    pub async fn set_waiting_room(&self, showtime_id: &str, on: bool) -> Result<(), AppError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(format!("SHOW#{showtime_id}")))
            .key(SK, s("META"))
            .update_expression("SET waitingRoom = :on")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":on", AttributeValue::Bool(on))
            .send()
            .await?;
        Ok(())
    }

    /// W9: registers an open room for the inlet.
    pub async fn register_room(&self, showtime_id: &str) -> Result<(), AppError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s("ROOMS"))
            .item(SK, s(format!("SHOW#{showtime_id}")))
            .item(TYPE, s("WaitingRoomEntry"))
            .item("showtimeId", s(showtime_id))
            .send()
            .await?;
        Ok(())
    }

    /// W9: the showtimes with an open room (a handful at a time: one item each in one partition, read once
    /// per inlet run).
    pub async fn open_rooms(&self) -> Result<Vec<String>, AppError> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :rooms")
                .expression_attribute_values(":rooms", s("ROOMS"))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            for item in out.items.unwrap_or_default() {
                if let Some(AttributeValue::S(id)) = item.get("showtimeId") {
                    ids.push(id.clone());
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(ids);
            }
        }
    }

    /// W6: the shard counts of a slot (zero for a shard nobody joined).
    pub async fn slot_counts(&self, showtime_id: &str, slot: u64) -> Result<Vec<u64>, AppError> {
        let mut counts = vec![0u64; SHARDS as usize];
        let keys: Vec<Item> = (0..SHARDS)
            .map(|shard| counter_key(showtime_id, slot, shard))
            .collect();
        for chunk in keys.chunks(100) {
            for item in self.batch_get_consistent(chunk.to_vec()).await? {
                let shard = match item.get(PK) {
                    Some(AttributeValue::S(pk)) => {
                        pk.rsplit('#').next().and_then(|x| x.parse::<usize>().ok())
                    }
                    _ => None,
                };
                if let Some(shard) = shard.filter(|i| *i < counts.len()) {
                    counts[shard] = num(&item, "n").unwrap_or_default();
                }
            }
        }
        Ok(counts)
    }

    /// W6: records a closed slot's total and the tickets before it.
    pub async fn put_slot_total(
        &self,
        showtime_id: &str,
        slot: u64,
        total: u64,
        before: u64,
    ) -> Result<(), AppError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(format!("QTOTAL#{showtime_id}")))
            .item(SK, s(format!("SLOT#{slot:012}")))
            .item(TYPE, s("QueueSlotTotal"))
            .item("total", n(total))
            .item("before", n(before))
            .send()
            .await?;
        Ok(())
    }

    /// W7: a closed slot's (total, tickets before it); `None` while it is open.
    pub async fn slot_total(
        &self,
        showtime_id: &str,
        slot: u64,
    ) -> Result<Option<(u64, u64)>, AppError> {
        let key = Item::from([
            (PK.into(), s(format!("QTOTAL#{showtime_id}"))),
            (SK.into(), s(format!("SLOT#{slot:012}"))),
        ]);
        Ok(self
            .get_consistent(key)
            .await?
            .and_then(|item| Some((num(&item, "total")?, num(&item, "before")?))))
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
        };
        assert_eq!(Ticket::parse_id(&t.id()), Some(("s-1", "m-1")));
        assert_eq!(Ticket::parse_id("nodot"), None);
        assert_eq!(Ticket::parse_id(".m"), None);
        assert_eq!(Ticket::parse_id("s.m.x"), None);
        assert_eq!(t.slot_ticket(), Some(SlotTicket { seq: 2, shard: 3 }));
    }
}
