//! Every key of the table, in one place: the partition and sort key of each item type and the index keys
//! it carries. What each item holds and every access pattern are in the module of its items (the tables at the
//! top of `members.rs`, `performances.rs`, ...); the key design as a whole is in [`super`].

use super::repairs::{GSI4PK, GSI4SK};
use super::{s, Item, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, PK, SK};
use crate::domain::payment::payment_id;
use crate::domain::performance::{Performance, PerformanceStatus};
use crate::domain::reservation::Reservation;
use crate::domain::seat::SeatId;
use crate::domain::showtime::block_of;
use aws_sdk_dynamodb::types::AttributeValue;

/// The partition of the public catalog (GSI1) and, with `#<category>`, of one category's (GSI2).
pub(crate) const CATALOG: &str = "CATALOG";

// members

pub(crate) fn profile_key(id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("MEMBER#{id}"))),
        (SK.into(), s("PROFILE")),
    ])
}

pub(crate) fn email_key(email: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("EMAIL#{email}"))),
        (SK.into(), s("EMAIL")),
    ])
}

pub(crate) fn revoked_key(token_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("REVOKED#{token_id}"))),
        (SK.into(), s("REVOKED")),
    ])
}

/// A member's count of seats held and bought on one showtime (the per-member ticket limit, H7).
pub(crate) fn ticket_count_key(member_id: &str, showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("MEMBER#{member_id}"))),
        (SK.into(), s(format!("TICKETS#{showtime_id}"))),
    ])
}

/// A member's requests on one rate-limited route in one window (R6; TTL `expiresAt`).
pub(crate) fn rate_key(member_id: &str, route: &str, window: i64) -> Item {
    Item::from([
        (PK.into(), s(format!("MEMBER#{member_id}"))),
        (SK.into(), s(format!("RATE#{route}#{window}"))),
    ])
}

// the payment provider

/// The partition of the card provider's circuit breaker: its state item and its events (BK1–BK4, E1).
pub(crate) const BREAKER_PK: &str = "PSP#BREAKER";

/// The breaker's state (BK1–BK4).
pub(crate) fn breaker_key() -> Item {
    Item::from([(PK.into(), s(BREAKER_PK)), (SK.into(), s("STATE"))])
}

/// One shard of the breaker's outcome buckets (BK5, BK6).
pub(crate) fn breaker_bucket_pk(shard: u32) -> String {
    format!("{BREAKER_PK}#{shard}")
}

/// The sort key of the bucket starting at second `bucket` (zero-padded, so that a range reads in order).
pub(crate) fn breaker_bucket_sk(bucket: i64) -> String {
    format!("W#{:012}", bucket.max(0))
}

/// The test-mode provider's fault switch (BK7).
pub(crate) fn provider_fault_key() -> Item {
    Item::from([(PK.into(), s("PSP#FAULT")), (SK.into(), s("SWITCH"))])
}

// performances

pub(crate) fn performance_key(id: &str) -> Item {
    Item::from([(PK.into(), s(format!("PERF#{id}"))), (SK.into(), s("META"))])
}

/// The secondary-index keys of a performance:
/// * approved: the catalog (GSI1, by run start) and the category catalog (GSI2);
/// * pending or rejected: the admins' review queue for that status (GSI2, oldest first);
/// * always: the organizer's own list (GSI3, by creation).
pub(crate) fn performance_index_keys(p: &Performance) -> Vec<(&'static str, String)> {
    let by_creation = format!("{}#{}", p.created_at, p.id);
    let mut keys = vec![
        (GSI3PK, format!("ORG#{}", p.organizer_id)),
        (GSI3SK, by_creation.clone()),
    ];
    match p.status {
        PerformanceStatus::Approved => {
            let by_run = format!("{}#{}", p.details.run_start_date, p.id);
            keys.push((GSI1PK, CATALOG.to_string()));
            keys.push((GSI1SK, by_run.clone()));
            keys.push((GSI2PK, format!("{CATALOG}#{}", p.details.category.as_str())));
            keys.push((GSI2SK, by_run));
        }
        PerformanceStatus::PendingApproval | PerformanceStatus::Rejected => {
            keys.push((GSI2PK, format!("PERFSTATUS#{}", p.status.as_str())));
            keys.push((GSI2SK, by_creation));
        }
    }
    keys
}

// reservations

pub(crate) fn reservation_key(id: &str) -> Item {
    Item::from([(PK.into(), s(format!("RES#{id}"))), (SK.into(), s("META"))])
}

/// The secondary-index keys of a reservation: by member (GSI1), showtime (GSI2) and performance (GSI3), each
/// sorted by creation.
pub(crate) fn reservation_index_keys(r: &Reservation) -> [(&'static str, String); 6] {
    let by_creation = format!("{}#{}", r.created_at, r.id);
    [
        (GSI1PK, format!("MEMBER#{}#RES", r.member_id)),
        (GSI1SK, by_creation.clone()),
        (GSI2PK, format!("SHOW#{}#RES", r.showtime_id)),
        (GSI2SK, by_creation.clone()),
        (GSI3PK, format!("PERF#{}#RES", r.performance_id)),
        (GSI3SK, by_creation),
    ]
}

// showtimes

pub(crate) fn showtime_key(id: &str) -> Item {
    Item::from([(PK.into(), s(format!("SHOW#{id}"))), (SK.into(), s("META"))])
}

// seats
/// The partition of a showtime's seats in `block`.
pub(crate) fn seat_partition(showtime_id: &str, block: u16) -> String {
    format!("SHOW#{showtime_id}#B#{block}")
}

/// The showtime a seat partition ([`seat_partition`]) belongs to.
pub(crate) fn showtime_of_seat_partition(pk: &str) -> Option<&str> {
    pk.strip_prefix("SHOW#")?
        .split_once("#B#")
        .map(|(id, _)| id)
}

/// `SEAT#<row:03>-<col:03>`: zero-padded, so seats sort row-major within a block.
pub(crate) fn seat_sort_key(seat: SeatId) -> String {
    format!("SEAT#{:03}-{:03}", seat.row, seat.col)
}

/// The seat a sort key names; `None` for anything that is not a seat sort key.
pub(crate) fn seat_from_sort_key(sk: &str) -> Option<SeatId> {
    let (row, col) = sk.strip_prefix("SEAT#")?.split_once('-')?;
    let number = |raw: &str| -> Option<u16> {
        if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok().filter(|&v| v >= 1)
    };
    Some(SeatId::new(number(row)?, number(col)?))
}

pub(crate) fn seat_key(showtime_id: &str, seat: SeatId) -> Item {
    Item::from([
        (PK.into(), s(seat_partition(showtime_id, block_of(seat)))),
        (SK.into(), s(seat_sort_key(seat))),
    ])
}

// payments

pub(crate) fn payment_key(reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("RES#{reservation_id}"))),
        (SK.into(), s(format!("PAY#{}", payment_id(reservation_id)))),
    ])
}

pub(crate) fn task_key(reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("RES#{reservation_id}"))),
        (SK.into(), s("TASK")),
    ])
}

// cancellations

pub(crate) fn progress_key(showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("SHOW#{showtime_id}"))),
        (SK.into(), s("CANCELLATION")),
    ])
}

// wallets
pub(crate) fn member_pk(member_id: &str) -> AttributeValue {
    s(format!("MEMBER#{member_id}"))
}

pub(crate) fn wallet_key(member_id: &str) -> Item {
    [
        (PK.to_string(), member_pk(member_id)),
        (SK.to_string(), s("WALLET")),
    ]
    .into()
}

pub(crate) fn guard_key(member_id: &str, line_id: &str) -> Item {
    [
        (PK.to_string(), member_pk(member_id)),
        (SK.to_string(), s(format!("LINE#{line_id}"))),
    ]
    .into()
}

// psp

pub(crate) fn refund_key(idempotency_key: &str) -> Item {
    [
        (PK.to_string(), s(format!("PSP#REFUND#{idempotency_key}"))),
        (SK.to_string(), s("REFUND")),
    ]
    .into()
}

pub(crate) fn charge_key(reference: &str) -> Item {
    [
        (PK.to_string(), s(format!("PSP#{reference}"))),
        (SK.to_string(), s("CHARGE")),
    ]
    .into()
}

// views

pub(crate) fn view_key(member_id: &str, reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("MYPAGE#{member_id}"))),
        (SK.into(), s(format!("RES#{reservation_id}"))),
    ])
}

/// An event folded into a my-page view, kept once beside it: `MYPAGE#<memberId>`/`EVT#<reservationId>#<eventId>`.
pub(crate) fn view_event_key(member_id: &str, reservation_id: &str, event_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("MYPAGE#{member_id}"))),
        (
            SK.into(),
            s(format!("{}{event_id}", view_events_prefix(reservation_id))),
        ),
    ])
}

/// The sort-key prefix of the events of one my-page view (V4).
pub(crate) fn view_events_prefix(reservation_id: &str) -> String {
    format!("EVT#{reservation_id}#")
}

pub(crate) fn notif_key(member_id: &str, id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("MEMBER#{member_id}#NOTIF"))),
        (SK.into(), s(format!("NOTIF#{id}"))),
    ])
}

pub(crate) fn unread_key(member_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("MEMBER#{member_id}#NOTIF"))),
        (SK.into(), s("UNREAD")),
    ])
}

// waiting_room

pub(crate) fn ticket_key(showtime_id: &str, member_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("QUEUE#{showtime_id}#M#{member_id}"))),
        (SK.into(), s("TICKET")),
    ])
}

pub(crate) fn counter_key(showtime_id: &str, slot: u64, shard: u32) -> Item {
    Item::from([
        (PK.into(), s(format!("QSLOT#{showtime_id}#{slot}#{shard}"))),
        (SK.into(), s("COUNT")),
    ])
}

pub(crate) fn room_key(showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("SHOW#{showtime_id}"))),
        (SK.into(), s("ROOM")),
    ])
}

// repairs

/// The index keys of an item of `id` due at `due` (epoch seconds).
pub(crate) fn repair_keys(id: &str, due: i64) -> [(String, AttributeValue); 2] {
    let shard = id.chars().last().and_then(|c| c.to_digit(16)).unwrap_or(0);
    [
        (GSI4PK.to_string(), s(format!("REPAIR#{shard}"))),
        (GSI4SK.to_string(), s(format!("{:010}#{id}", due.max(0)))),
    ]
}

/// Adds the repair keys to `item`.
pub(crate) fn with_repair_keys(item: &mut Item, id: &str, due: i64) {
    item.extend(repair_keys(id, due));
}

// settlement

pub(crate) fn statement_key(id: &str) -> Item {
    Item::from([(PK.into(), s(format!("STMT#{id}"))), (SK.into(), s("META"))])
}

/// The guard that keeps one event's money in one statement.
pub(crate) fn settled_key(event_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("SETTLED#{event_id}"))),
        (SK.into(), s("SETTLED")),
    ])
}

/// An organizer's own commission rate (absent: the stack's default).
pub(crate) fn commission_key(organizer_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("MEMBER#{organizer_id}"))),
        (SK.into(), s("COMMISSION")),
    ])
}
