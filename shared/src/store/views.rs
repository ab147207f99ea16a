//! The event consumers' own items: my page (the CQRS read model), notifications and the audit log. Each
//! consumer writes only these, and each write is idempotent by event id.
//!
//! # Items
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | my-page view | `MYPAGE#<memberId>` | `RES#<reservationId>` | `view` (the [`MyReservation`] as JSON, absent until a reservation event arrived), `folded` (the ids of the events folded in, JSON), `show` ([`ShowInfo`]), `version`, `projectedAtMs` (when it was written) |
//! | my-page event | `MYPAGE#<memberId>` | `EVT#<reservationId>#<eventId>` | `event` (JSON): every event of the view, written once and never again, so the bytes a reservation's events cost grow with their number, not its square (the view item used to carry them all and was rewritten whole on each) |
//! | notification | `MEMBER#<memberId>#NOTIF` | `NOTIF#<notificationId>` | `notification` (JSON), `readAt`, `mail` (`PENDING`/`SENT`/`NONE`); `GSI1PK = MEMBER#<memberId>#NOTIF`, `GSI1SK = <occurredAt, sortable>#<notificationId>` |
//! | unread count | `MEMBER#<memberId>#NOTIF` | `UNREAD` | `unread` (N) |
//! | audit entry | `AUDIT#<reservationId>` | `<occurredAt, sortable>#<eventId>` | `event` (JSON), `expiresAt` (TTL); `GSI1PK = AUDIT#MEMBER#<memberId>`, `GSI1SK` = the SK |
//!
//! | # | access pattern | operation | key condition |
//! |---|---|---|---|
//! | V1 | fold an event into a view | `PutItem` of the event `attribute_not_exists(PK)` (kept once), `GetItem` of the view consistent (an id in `folded` is done), then `PutItem` of the view `attribute_not_exists(PK)` or `version = :seen` (optimistic). An event after the last folded one is applied to the view as it is (3 calls); one that arrived late, or a first view, is a fold of V4 | `MYPAGE#<m>`/`EVT#<r>#<eventId>`, `MYPAGE#<m>`/`RES#<r>` |
//! | V4 | the events of one view | `Query` consistent, `begins_with(SK, EVT#<r>#)` | `PK = MYPAGE#<m>` |
//! | V2 | a member's reservations, newest first (ids are time-ordered UUIDv7) | `Query` descending, `begins_with(SK, RES#)` | `PK = MYPAGE#<m>` |
//! | V3 | one of them | `GetItem` | `MYPAGE#<m>`/`RES#<r>` |
//! | N1 | record a notification | `TransactWriteItems`: Put `attribute_not_exists(PK)` + Update count `ADD unread 1` | notification, unread count |
//! | N2 | a member's notifications, newest first, and the unread count | `Query` GSI1 descending + `GetItem` | `GSI1PK = MEMBER#<m>#NOTIF` |
//! | N3 | mark one read | `TransactWriteItems`: Update `attribute_exists(PK) AND attribute_not_exists(readAt)` + Update count `ADD unread -1` | notification, unread count |
//! | N4 | its mail went out | `UpdateItem` `SET mail = SENT` | notification |
//! | A1 | record an audit entry | `PutItem` `attribute_not_exists(PK)` (a duplicate is a no-op), TTL from the operator's retention | `AUDIT#<r>`/`<at>#<eventId>` |
//! | A2 | a reservation's history in a period | `Query` `SK BETWEEN` | `PK = AUDIT#<r>` |
//! | A3 | a member's history in a period | `Query` GSI1 `GSI1SK BETWEEN` | `GSI1PK = AUDIT#MEMBER#<m>` |
//!
//! Every partition here belongs to one member or one reservation, so a rush spreads over as many
//! partitions as there are buyers.

use super::error::conditional;
use super::keys::{
    audit_partition, member_audit_pk, member_events_pk, my_page_partition, notif_key,
    notifications_partition, showtime_partition, unread_key, view_event_key, view_events_prefix,
    view_key, VIEW_PREFIX,
};
use super::StoreError;
use super::{built, cursor, n, s, Item, Store, GSI1, GSI1PK, GSI1SK, PK, SK, TYPE};
use crate::domain::my_page::{MyReservation, ShowInfo};
use crate::events::Event;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

/// An instant in a fixed-width form (nanoseconds, `Z`), so keys sort in time order whatever precision the
/// event gave.
pub fn sortable(at: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(at, &Rfc3339) {
        Ok(t) => {
            let t = t.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
                t.nanosecond()
            )
        }
        Err(_) => at.to_string(),
    }
}

fn text_attr(item: &Item, name: &str) -> Option<String> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    }
}

/// A query's page: the `attr` JSON of each item that has it, and the cursor after the last.
fn json_page<T: serde::de::DeserializeOwned>(
    out: aws_sdk_dynamodb::operation::query::QueryOutput,
    attr: &str,
) -> Result<super::cursor::Page<T>, StoreError> {
    let mut items = Vec::new();
    for item in out.items.unwrap_or_default() {
        if let Some(value) = json(&item, attr)? {
            items.push(value);
        }
    }
    Ok(super::cursor::Page {
        items,
        next_cursor: out.last_evaluated_key.as_ref().and_then(cursor::encode),
    })
}

fn json<T: serde::de::DeserializeOwned>(item: &Item, name: &str) -> Result<Option<T>, StoreError> {
    text_attr(item, name)
        .map(|raw| {
            serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
        })
        .transpose()
}

fn to_json<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The stored view of one reservation: the view, the events it folds and the show it was read with.
fn view_item(
    member_id: &str,
    reservation_id: &str,
    folded: &[String],
    show: &ShowInfo,
    view: Option<&MyReservation>,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = view_key(member_id, reservation_id);
    item.insert(TYPE.into(), s("MyReservation"));
    item.insert("folded".into(), to_json(&folded)?);
    item.insert("show".into(), to_json(show)?);
    item.insert("version".into(), n(version));
    // When the projection was written: its staleness, and the lag benchmark's end point.
    item.insert(
        "projectedAtMs".into(),
        n(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000),
    );
    if let Some(v) = view {
        item.insert("view".into(), to_json(v)?);
    }
    Ok(item)
}

/// A notification, as `GET /notifications` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    /// The event type it is about.
    #[serde(rename = "type")]
    pub kind: String,
    pub event_id: String,
    pub reservation_id: String,
    pub subject: String,
    pub body: String,
    /// `ko` or `en`: the member's language when it was written.
    pub locale: String,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub read_at: Option<String>,
}

/// The outcome of recording a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Written now; its mail (if any) is to be sent.
    New,
    /// Written before; `mail_pending` when its mail never went out (a crash after N1).
    Seen { mail_pending: bool },
}

impl Store {
    /// V1: folds `event` into the view of `reservation_id` of `member_id`; `show` is asked for once, when the
    /// view starts. Returns the view when it exists after the event (`None` while no reservation event has
    /// arrived).
    pub async fn fold_into_view<F, Fut>(
        &self,
        member_id: &str,
        reservation_id: &str,
        event: &Event,
        show: F,
    ) -> Result<Option<MyReservation>, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<ShowInfo, StoreError>>,
    {
        // The event once, in an item of its own (a duplicate delivery finds it there).
        self.put_view_events(member_id, reservation_id, std::slice::from_ref(event))
            .await?;
        for attempt in 0..super::TX_ATTEMPTS {
            let stored = self
                .get_consistent(view_key(member_id, reservation_id))
                .await?;
            let (folded, info, version) = match &stored {
                Some(item) => (
                    json::<Vec<String>>(item, "folded")?.unwrap_or_default(),
                    json::<ShowInfo>(item, "show")?.unwrap_or_default(),
                    item.get("version")
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0),
                ),
                None => (Vec::new(), show().await?, 0),
            };
            if folded.contains(&event.event_id) {
                return Ok(match &stored {
                    Some(item) => json(item, "view")?,
                    None => None,
                });
            }
            let current: Option<MyReservation> = match &stored {
                Some(item) => json(item, "view")?,
                None => None,
            };
            let old_layout = match &stored {
                Some(item) => json::<Vec<Event>>(item, "events")?,
                None => None,
            };
            let (folded, view) = match current.as_ref().and_then(|v| v.followed_by(event)) {
                // In order (the common case): the view and this one event, no other event read.
                Some(next) if old_layout.is_none() => {
                    let mut ids = folded;
                    ids.push(event.event_id.clone());
                    (ids, Some(next))
                }
                // Late, or the first: the fold of every event kept.
                _ => {
                    if let Some(old) = old_layout {
                        // A view written before its events had items of their own: they move out now.
                        self.put_view_events(member_id, reservation_id, &old)
                            .await?;
                    }
                    let events = self.view_events(member_id, reservation_id).await?;
                    let ids = events.iter().map(|e| e.event_id.clone()).collect();
                    (ids, MyReservation::fold(&events, &info))
                }
            };
            match self
                .put_view(
                    member_id,
                    reservation_id,
                    &folded,
                    &info,
                    view.as_ref(),
                    version,
                )
                .await
            {
                Ok(()) => return Ok(view),
                Err(StoreError::Conflict(_)) => super::backoff(attempt).await,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Busy("my page view is busy; try again".into()))
    }

    /// Keeps `events` as the view's own event items, each once (one already there is left as it is).
    async fn put_view_events(
        &self,
        member_id: &str,
        reservation_id: &str,
        events: &[Event],
    ) -> Result<(), StoreError> {
        for event in events {
            let mut item = view_event_key(member_id, reservation_id, &event.event_id);
            item.insert(TYPE.into(), s("MyReservationEvent"));
            item.insert("event".into(), to_json(event)?);
            // Not written: kept already (a duplicate delivery).
            self.put_if_absent(item).await?;
        }
        Ok(())
    }

    /// V4: every event of one view, as kept.
    async fn view_events(
        &self,
        member_id: &str,
        reservation_id: &str,
    ) -> Result<Vec<Event>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression("PK = :pk AND begins_with(SK, :evt)")
            .expression_attribute_values(":pk", s(my_page_partition(member_id)))
            .expression_attribute_values(":evt", s(view_events_prefix(reservation_id)));
        self.query_all(query, |item| json::<Event>(&item, "event"))
            .await
    }

    /// Writes a view over the one of `version` (0: none); [`StoreError::Conflict`] when it moved meanwhile.
    /// `version = None` overwrites whatever is there (a rebuild).
    pub(crate) async fn put_view(
        &self,
        member_id: &str,
        reservation_id: &str,
        folded: &[String],
        show: &ShowInfo,
        view: Option<&MyReservation>,
        version: u64,
    ) -> Result<(), StoreError> {
        let item = view_item(member_id, reservation_id, folded, show, view, version + 1)?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        put = if version == 0 {
            put.condition_expression("attribute_not_exists(PK)")
        } else {
            put.condition_expression("version = :seen")
                .expression_attribute_values(":seen", n(version))
        };
        conditional(put.send().await)?
            .map(|_| ())
            .ok_or_else(|| StoreError::Conflict("the view changed meanwhile".into()))
    }

    /// Replaces a member's view of one reservation by the fold of `events` (a rebuild from history).
    pub async fn rebuild_view(
        &self,
        member_id: &str,
        reservation_id: &str,
        events: &[Event],
        show: &ShowInfo,
    ) -> Result<Option<MyReservation>, StoreError> {
        self.put_view_events(member_id, reservation_id, events)
            .await?;
        let view = MyReservation::fold(events, show);
        // A version no live write holds, so a projector's write in flight retries on top of the rebuild.
        let version = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
        let folded: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
        let item = view_item(
            member_id,
            reservation_id,
            &folded,
            show,
            view.as_ref(),
            version,
        )?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await?;
        Ok(view)
    }

    /// V3.
    pub async fn get_view(
        &self,
        member_id: &str,
        reservation_id: &str,
    ) -> Result<Option<MyReservation>, StoreError> {
        match self
            .get_consistent(view_key(member_id, reservation_id))
            .await?
        {
            Some(item) => json(&item, "view"),
            None => Ok(None),
        }
    }

    /// V2: one page of a member's views, newest first.
    pub async fn list_views(
        &self,
        member_id: &str,
        limit: u32,
        cursor_raw: Option<&str>,
    ) -> Result<super::cursor::Page<MyReservation>, StoreError> {
        let partition = my_page_partition(member_id);
        let start_key = cursor_raw
            .map(|raw| cursor::decode(raw, &[PK, SK], PK, &partition))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :res)")
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":res", s(VIEW_PREFIX))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;
        json_page(out, "view")
    }

    /// N1: records a notification for `member_id` (its id names the event it is about, so a second delivery
    /// finds it). `mail`: whether an email is to go out for it.
    pub async fn record_notification(
        &self,
        member_id: &str,
        notification: &Notification,
        mail: bool,
    ) -> Result<Recorded, StoreError> {
        let mut item = notif_key(member_id, &notification.id);
        item.insert(TYPE.into(), s("Notification"));
        item.insert("notification".into(), to_json(notification)?);
        item.insert("mail".into(), s(if mail { "PENDING" } else { "NONE" }));
        item.insert(GSI1PK.into(), s(notifications_partition(member_id)));
        item.insert(
            GSI1SK.into(),
            s(format!(
                "{}#{}",
                sortable(&notification.occurred_at),
                notification.id
            )),
        );
        let put = TransactWriteItem::builder()
            .put(built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(PK)")
                    .build(),
            )?)
            .build();
        let count = TransactWriteItem::builder()
            .update(built(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(unread_key(member_id)))
                    .update_expression("ADD unread :one")
                    .expression_attribute_values(":one", n(1))
                    .build(),
            )?)
            .build();
        match self
            .transact(vec![put, count], "busy recording a notification")
            .await?
        {
            Ok(()) => Ok(Recorded::New),
            Err(_) => {
                let stored = self
                    .get_consistent(notif_key(member_id, &notification.id))
                    .await?;
                Ok(Recorded::Seen {
                    mail_pending: stored
                        .as_ref()
                        .and_then(|i| text_attr(i, "mail"))
                        .as_deref()
                        == Some("PENDING"),
                })
            }
        }
    }

    /// N4.
    pub async fn mail_sent(
        &self,
        member_id: &str,
        id: &str,
        message_id: &str,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(notif_key(member_id, id)))
            .update_expression("SET mail = :sent, mailMessageId = :id")
            .expression_attribute_values(":sent", s("SENT"))
            .expression_attribute_values(":id", s(message_id))
            .send()
            .await?;
        Ok(())
    }

    /// N2: one page of a member's notifications, newest first, with the unread count.
    pub async fn list_notifications(
        &self,
        member_id: &str,
        limit: u32,
        cursor_raw: Option<&str>,
    ) -> Result<(super::cursor::Page<Notification>, u64), StoreError> {
        let (items, next_cursor) = self
            .index_page_desc(
                (GSI1, GSI1PK, GSI1SK),
                notifications_partition(member_id),
                limit,
                cursor_raw,
            )
            .await?;
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            if let Some(mut notification) = json::<Notification>(&item, "notification")? {
                notification.read_at = text_attr(&item, "readAt");
                list.push(notification);
            }
        }
        let unread = self
            .get_consistent(unread_key(member_id))
            .await?
            .and_then(|i| i.get("unread").and_then(|v| v.as_n().ok()).cloned())
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0) as u64;
        Ok((
            super::cursor::Page {
                items: list,
                next_cursor,
            },
            unread,
        ))
    }

    /// N3: marks a notification read (once: a second call changes nothing). `None` when it is not this
    /// member's.
    pub async fn read_notification(
        &self,
        member_id: &str,
        id: &str,
        now: &str,
    ) -> Result<Option<Notification>, StoreError> {
        let mark = TransactWriteItem::builder()
            .update(built(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(notif_key(member_id, id)))
                    .update_expression("SET readAt = :now")
                    .condition_expression("attribute_exists(PK) AND attribute_not_exists(readAt)")
                    .expression_attribute_values(":now", s(now))
                    .build(),
            )?)
            .build();
        let count = TransactWriteItem::builder()
            .update(built(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(unread_key(member_id)))
                    .update_expression("ADD unread :minus")
                    .expression_attribute_values(":minus", n(-1))
                    .build(),
            )?)
            .build();
        // A condition that failed means missing or already read: either way the stored item answers.
        let _ = self
            .transact(vec![mark, count], "busy marking a notification read")
            .await?;
        let Some(item) = self.get_consistent(notif_key(member_id, id)).await? else {
            return Ok(None);
        };
        let mut notification: Option<Notification> = json(&item, "notification")?;
        if let Some(n) = notification.as_mut() {
            n.read_at = text_attr(&item, "readAt");
        }
        Ok(notification)
    }

    /// A1: records an audit entry for `event` (a duplicate is a no-op), kept until `expires_at` (epoch s).
    pub async fn record_audit(&self, event: &Event, expires_at: i64) -> Result<bool, StoreError> {
        let sk = format!("{}#{}", sortable(&event.occurred_at), event.event_id);
        let item = Item::from([
            (PK.into(), s(audit_partition(&event.correlation_id))),
            (SK.into(), s(&sk)),
            (TYPE.into(), s("Audit")),
            ("event".into(), to_json(event)?),
            ("expiresAt".into(), n(expires_at)),
            (GSI1PK.into(), s(member_audit_pk(&event.member_id))),
            (GSI1SK.into(), s(&sk)),
        ]);
        self.put_if_absent(item).await
    }

    /// A2/A3: a reservation's or a member's audit entries within `from..=to` (RFC 3339), oldest first.
    pub async fn list_audit(
        &self,
        by: AuditListing<'_>,
        (from, to): (&str, &str),
        limit: u32,
        cursor_raw: Option<&str>,
    ) -> Result<super::cursor::Page<Event>, StoreError> {
        let (index, pk_name, sk_name, partition) = match by {
            AuditListing::Reservation(r) => (None, PK, SK, audit_partition(r)),
            AuditListing::Member(m) => (Some(GSI1), GSI1PK, GSI1SK, member_audit_pk(m)),
        };
        let keys: &[&str] = if index.is_some() {
            &[PK, SK, GSI1PK, GSI1SK]
        } else {
            &[PK, SK]
        };
        let start_key = cursor_raw
            .map(|raw| cursor::decode(raw, keys, pk_name, &partition))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#sk", sk_name)
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":from", s(sortable(from)))
            .expression_attribute_values(":to", s(format!("{}~", sortable(to))))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;
        json_page(out, "event")
    }

    /// E3 and the aggregate partitions: every recorded event of a member (oldest first), for a rebuild.
    pub async fn member_events(&self, member_id: &str) -> Result<Vec<Event>, StoreError> {
        self.events_where(Some(GSI1), GSI1PK, member_events_pk(member_id))
            .await
    }

    /// Every recorded event of a showtime (in its partition: the showtime's cancellations and changes).
    pub async fn showtime_events(&self, showtime_id: &str) -> Result<Vec<Event>, StoreError> {
        self.events_where(None, PK, showtime_partition(showtime_id))
            .await
    }

    async fn events_where(
        &self,
        index: Option<&str>,
        pk_name: &str,
        partition: String,
    ) -> Result<Vec<Event>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(index.map(str::to_string))
            .key_condition_expression("#pk = :pk")
            .filter_expression("#type = :event")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_names("#type", TYPE)
            .expression_attribute_values(":pk", s(partition.clone()))
            .expression_attribute_values(":event", s(super::outbox::EVENT_TYPE));
        self.query_all(query, |item| json::<Event>(&item, "detail"))
            .await
    }
}

/// Whose audit entries to list.
#[derive(Debug, Clone, Copy)]
pub enum AuditListing<'a> {
    Reservation(&'a str),
    Member(&'a str),
}

#[cfg(test)]
mod tests {
    use super::sortable;

    #[test]
    fn sortable_instants_sort_in_time_order() {
        let a = sortable("2026-12-01T10:00:01Z");
        let b = sortable("2026-12-01T10:00:01.5Z");
        let c = sortable("2026-12-01T10:00:01.45Z");
        assert_eq!(a, "2026-12-01T10:00:01.000000000Z");
        assert!(a < c && c < b, "{a} {c} {b}");
    }
}
