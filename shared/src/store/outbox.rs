//! The transactional outbox: every domain event is an item of the table, written in the same transaction as
//! the change it reports (patterns E1–E3 in the [module docs](super)).
//!
//! # Items
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | event | the aggregate's partition ([`super::keys::event_partition`]: `RES#<reservationId>`, `SHOW#<showtimeId>`) | `EVT#<eventId>` | `type = Event`, `eventType`, `detail` (the JSON put on the bus), `occurredAt`, `memberId`; `GSI1PK = MEMBER#<memberId>#EVT`, `GSI1SK = <occurredAt>#<eventId>` |
//! | fault | `FAULT#<function>` | `<memberId>` | `remaining` (N): test stacks only, see [`crate::outbox`] |
//!
//! | # | access pattern | operation | key condition |
//! |---|---|---|---|
//! | E1 | record an event with its change | a `Put` in the change's `TransactWriteItems` (no condition: the same event id written again is the same event, and its stream record is a MODIFY, which the publisher skips) | `<aggregate>`/`EVT#<eventId>` |
//! | E2 | publish | the table's stream (`NEW_IMAGE`) → the publisher, filtered on INSERTs of `type = Event` | |
//! | E3 | a member's event history, oldest first (rebuilding a read model) | `Query` GSI1 | `GSI1PK = MEMBER#<memberId>#EVT` |
//!
//! Event items stay: they are the reservations' history (a handful each), read back by E3 and by an
//! aggregate's own partition.

use super::error::conditional;
use super::keys::{event_key, fault_key, member_events_pk};
use super::StoreError;
use super::{built, n, s, Item, Store, GSI1PK, GSI1SK, TYPE};
use crate::events::Event;

/// What a crash switch of a test stack says besides its count (see `crate::faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashSwitch {
    /// Wait at the point until the switch's `pause` is cleared (at most 20 s).
    pub pause: bool,
    /// Then go on instead of ending the process.
    pub pass_through: bool,
}
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

/// The `type` of event items (the stream filter matches it).
pub const EVENT_TYPE: &str = "Event";

/// The item of an event.
pub fn event_item(event: &Event) -> Result<Item, StoreError> {
    let mut item = Item::from([
        (TYPE.into(), s(EVENT_TYPE)),
        ("eventType".into(), s(event.kind.as_str())),
        (
            "detail".into(),
            s(event
                .detail()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?),
        ),
        ("occurredAt".into(), s(&event.occurred_at)),
        ("memberId".into(), s(&event.member_id)),
    ]);
    item.extend(event_key(event));
    // A member's history (E3); the payment provider's events belong to no member.
    if !event.member_id.is_empty() {
        item.insert(GSI1PK.into(), s(member_events_pk(&event.member_id)));
        item.insert(
            GSI1SK.into(),
            s(format!("{}#{}", event.occurred_at, event.event_id)),
        );
    }
    Ok(item)
}

impl Store {
    /// E1: the `Put`s that record `events` in a change's transaction.
    pub(crate) fn event_puts(
        &self,
        events: &[Event],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        events
            .iter()
            .map(|event| {
                Ok(TransactWriteItem::builder()
                    .put(built(
                        Put::builder()
                            .table_name(&self.table)
                            .set_item(Some(event_item(event)?))
                            .build(),
                    )?)
                    .build())
            })
            .collect()
    }

    /// E1 for events whose change is already stored (or is the event itself): the event items alone, in one
    /// transaction (at most 100).
    pub async fn record_events(&self, events: &[Event]) -> Result<(), StoreError> {
        for chunk in events.chunks(100) {
            let items = self.event_puts(chunk)?;
            self.transact(items, "busy recording events; try again")
                .await?
                .map_err(|_| StoreError::Dependency("recording events failed".into()))?;
        }
        Ok(())
    }

    /// A test stack's injected fault for `function` on the events of `member_id`: takes one of its remaining
    /// occurrences; `true` when there was one to take.
    pub async fn take_fault(&self, function: &str, member_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(fault_key(function, member_id)))
            .update_expression("ADD remaining :minus")
            .condition_expression("remaining > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        Ok(conditional(result)?.is_some())
    }

    /// [`Store::take_fault`] of a crash switch: `Some` when a pass was taken, with what else the switch says
    /// (`pause`: wait until it is cleared; `passThrough`: go on instead of ending).
    pub async fn take_crash(
        &self,
        function: &str,
        key: &str,
    ) -> Result<Option<CrashSwitch>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(fault_key(function, key)))
            .update_expression("ADD remaining :minus")
            .condition_expression("remaining > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        Ok(conditional(result)?.map(|out| CrashSwitch {
            pause: Self::flag(out.attributes(), "pause"),
            pass_through: Self::flag(out.attributes(), "passThrough"),
        }))
    }

    /// Whether crash switch `key` of `function` still says `pause` (a consistent read).
    pub async fn crash_paused(&self, function: &str, key: &str) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(fault_key(function, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Dependency(e.to_string()))?;
        Ok(Self::flag(out.item(), "pause"))
    }

    fn flag(item: Option<&Item>, name: &str) -> bool {
        item.and_then(|i| i.get(name))
            .is_some_and(|v| matches!(v, aws_sdk_dynamodb::types::AttributeValue::Bool(true)))
    }
}
