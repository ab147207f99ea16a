//! Reservation items (access patterns R1–R5 in the [module docs](super)).
//!
//! # Items
//!
//! | item | PK | SK | index keys |
//! |---|---|---|---|
//! | reservation | `RES#<id>` | `META` | GSI1 `MEMBER#<memberId>#RES` / `<createdAt>#<id>`; GSI2 `SHOW#<showtimeId>#RES` / same; GSI3 `PERF#<performanceId>#RES` / same; GSI4 `REPAIR#<shard>` / `<due>#<id>` while HELD or a cancellation is pending ([`super::repairs`]) |
//!
//! Attributes: the [`Reservation`] in camelCase (`status`, `holdExpiresAt` as N epoch seconds, `seats` as a list
//! of maps, ...), `type = Reservation`. The item is created by the hold transaction ([`super::seats`]) and
//! changed only by the confirm and release writes there.

use super::cursor::Page;
use super::keys::{
    member_reservations_pk, performance_reservations_pk, reservation_index_keys, reservation_key,
    showtime_reservations_pk,
};
use super::StoreError;
use super::{
    cursor, n, s, Item, Store, GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, GSI3, GSI3PK, GSI3SK,
    PK, SK, TYPE,
};
use crate::domain::reservation::{Reservation, ReservationStatus};
use std::collections::HashMap;
use time::OffsetDateTime;

/// The full item of a reservation (keys, index keys, `type`).
pub(crate) fn reservation_item(r: &Reservation) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend(reservation_key(&r.id));
    item.insert(TYPE.into(), s("Reservation"));
    for (name, value) in reservation_index_keys(r) {
        item.insert(name.into(), s(value));
    }
    if let Some(due) = repair_due(r) {
        super::keys::with_repair_keys(&mut item, &r.id, due);
    }
    Ok(item)
}

/// When the repairer should look at `r` if it is still under way then (pattern RP1): a hold when it runs
/// out, a pending cancellation from when it was asked for. `None`: nothing of it is under way.
fn repair_due(r: &Reservation) -> Option<i64> {
    match (&r.status, &r.pending_cancellation) {
        (ReservationStatus::Held, _) => Some(r.hold_expires_at),
        (_, Some(p)) => Some(
            crate::domain::performance::parse_instant(&p.requested_at)
                .map_or(0, OffsetDateTime::unix_timestamp),
        ),
        _ => None,
    }
}

pub(crate) fn from_item(item: Item) -> Result<Reservation, StoreError> {
    Ok(serde_dynamo::from_item(item)?)
}

/// Which reservations a listing reads, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationListing<'a> {
    /// A member's own (pattern R2).
    Member(&'a str),
    /// One showtime's (pattern R3).
    Showtime(&'a str),
    /// Every showtime of one performance (pattern R4).
    Performance(&'a str),
}

impl ReservationListing<'_> {
    fn index(&self) -> (&'static str, &'static str, &'static str, String) {
        match self {
            ReservationListing::Member(id) => (GSI1, GSI1PK, GSI1SK, member_reservations_pk(id)),
            ReservationListing::Showtime(id) => {
                (GSI2, GSI2PK, GSI2SK, showtime_reservations_pk(id))
            }
            ReservationListing::Performance(id) => {
                (GSI3, GSI3PK, GSI3SK, performance_reservations_pk(id))
            }
        }
    }
}

/// The `FilterExpression` (with its values) that keeps reservations whose *effective* status at `now` is `status`
/// ([`Reservation::effective_status`]): a HELD reservation past `holdExpiresAt` counts as EXPIRED, not HELD.
/// Names `#status`.
fn status_filter(
    status: ReservationStatus,
    now: i64,
) -> (
    &'static str,
    HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) {
    let held = (":held".to_string(), s(ReservationStatus::Held.as_str()));
    let at = (":now".to_string(), n(now));
    match status {
        ReservationStatus::Held => (
            "#status = :held AND holdExpiresAt >= :now",
            HashMap::from([held, at]),
        ),
        ReservationStatus::Expired => (
            "#status = :expired OR (#status = :held AND holdExpiresAt < :now)",
            HashMap::from([
                held,
                at,
                (
                    ":expired".to_string(),
                    s(ReservationStatus::Expired.as_str()),
                ),
            ]),
        ),
        other => (
            "#status = :status",
            HashMap::from([(":status".to_string(), s(other.as_str()))]),
        ),
    }
}

impl Store {
    /// Pattern R1: a reservation by id, consistent.
    pub async fn get_reservation(&self, id: &str) -> Result<Option<Reservation>, StoreError> {
        self.get_consistent(reservation_key(id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Pattern R5: stores `next` (the HELD reservation `stored` with its card deferred to pay-later) with its
    /// `PaymentDeferred` event, if the stored version is still `stored.version`.
    pub async fn defer_payment(
        &self,
        stored: &Reservation,
        next: &Reservation,
        event: &crate::events::Event,
    ) -> Result<(), StoreError> {
        self.put_if_version(
            reservation_item(next)?,
            stored.version,
            ("reservation", &next.id),
            std::slice::from_ref(event),
        )
        .await
    }

    /// Patterns R2–R4: one page of a listing, newest first, optionally only the reservations whose effective
    /// status is `status` (a `FilterExpression`, so a page may hold fewer than `limit` items, even none, and still
    /// have a `nextCursor`).
    pub async fn list_reservations(
        &self,
        listing: ReservationListing<'_>,
        status: Option<ReservationStatus>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Reservation>, StoreError> {
        let (index, pk_name, sk_name, partition) = listing.index();
        let start_key = cursor
            .map(|raw| cursor::decode(raw, &[PK, SK, pk_name, sk_name], pk_name, &partition))
            .transpose()?;
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key);
        if let Some(status) = status {
            let (filter, values) =
                status_filter(status, OffsetDateTime::now_utc().unix_timestamp());
            query = query
                .filter_expression(filter)
                .expression_attribute_names("#status", "status");
            for (name, value) in values {
                query = query.expression_attribute_values(name, value);
            }
        }
        let out = query.send().await?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(cursor::encode);
        Ok(Page { items, next_cursor })
    }
}

impl Store {
    /// Pattern R3 from an instant on: one page of a showtime's reservations created at or after `since`
    /// (RFC 3339, compared as the sort key's prefix), oldest first. The organizer's sweep looks again at the
    /// last moments before the showtime was cancelled, which the index may not have shown yet the first time.
    pub async fn list_showtime_reservations_since(
        &self,
        showtime_id: &str,
        since: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Reservation>, StoreError> {
        let partition = showtime_reservations_pk(showtime_id);
        let start_key = cursor
            .map(|raw| cursor::decode(raw, &[PK, SK, GSI2PK, GSI2SK], GSI2PK, &partition))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI2)
            .key_condition_expression("#pk = :pk AND #sk >= :since")
            .expression_attribute_names("#pk", GSI2PK)
            .expression_attribute_names("#sk", GSI2SK)
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":since", s(since))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;
        let items = out
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(cursor::encode);
        Ok(Page { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reservation::ReservedSeat;

    fn reservation() -> Reservation {
        Reservation {
            id: "r1".into(),
            member_id: "m1".into(),
            performance_id: "p1".into(),
            showtime_id: "s1".into(),
            seats: vec![
                ReservedSeat {
                    row: 1,
                    col: 2,
                    grade: "VIP".into(),
                    price: 150_000,
                },
                ReservedSeat {
                    row: 11,
                    col: 1,
                    grade: "R".into(),
                    price: 110_000,
                },
            ],
            total_price: 260_000,
            currency: "KRW".into(),
            status: ReservationStatus::Held,
            hold_expires_at: 1_800_000_600,
            version: 1,
            created_at: "2027-01-15T08:00:00Z".into(),
            failure_reason: None,
            updated_at: "2027-01-15T08:00:00Z".into(),
            cancelled_seats: Vec::new(),
            pending_cancellation: None,
            cancellations: Vec::new(),
            changes: Vec::new(),
            admitted_at: None,
            fallback: None,
        }
    }

    fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    }

    #[test]
    fn item_keys_and_round_trip() {
        let r = reservation();
        let item = reservation_item(&r).expect("item");
        assert_eq!(text(&item, PK), Some("RES#r1"));
        assert_eq!(text(&item, SK), Some("META"));
        assert_eq!(text(&item, TYPE), Some("Reservation"));
        assert_eq!(text(&item, GSI1PK), Some("MEMBER#m1#RES"));
        assert_eq!(text(&item, GSI2PK), Some("SHOW#s1#RES"));
        assert_eq!(text(&item, GSI3PK), Some("PERF#p1#RES"));
        for sk in [GSI1SK, GSI2SK, GSI3SK] {
            assert_eq!(text(&item, sk), Some("2027-01-15T08:00:00Z#r1"));
        }
        assert_eq!(text(&item, "status"), Some("HELD"));
        assert_eq!(
            item.get("holdExpiresAt")
                .and_then(|v| v.as_n().ok())
                .map(String::as_str),
            Some("1800000600"),
            "stored as a number, like the seat items' holdExpiresAt"
        );
        assert!(item.get("seats").is_some_and(|v| v.as_l().is_ok()));
        assert_eq!(from_item(item).expect("parses"), r);
    }

    #[test]
    fn listings_pick_their_index() {
        assert_eq!(
            ReservationListing::Member("m1").index(),
            (GSI1, GSI1PK, GSI1SK, "MEMBER#m1#RES".to_string())
        );
        assert_eq!(
            ReservationListing::Showtime("s1").index(),
            (GSI2, GSI2PK, GSI2SK, "SHOW#s1#RES".to_string())
        );
        assert_eq!(
            ReservationListing::Performance("p1").index(),
            (GSI3, GSI3PK, GSI3SK, "PERF#p1#RES".to_string())
        );
    }

    #[test]
    fn status_filters_follow_the_effective_status() {
        let (held, values) = status_filter(ReservationStatus::Held, 42);
        assert_eq!(held, "#status = :held AND holdExpiresAt >= :now");
        assert_eq!(
            values
                .get(":now")
                .and_then(|v| v.as_n().ok())
                .map(String::as_str),
            Some("42")
        );
        let (expired, values) = status_filter(ReservationStatus::Expired, 42);
        assert!(expired.contains("holdExpiresAt < :now"));
        assert_eq!(values.len(), 3);
        let (confirmed, values) = status_filter(ReservationStatus::Confirmed, 42);
        assert_eq!(confirmed, "#status = :status");
        assert_eq!(text(&values, ":status"), Some("CONFIRMED"));
    }
}
