//! Every key of the table, in one place: the partition and sort key of each item type and the index keys
//! it carries. What each item holds and every access pattern are in the module of its items (the tables at the
//! top of `members.rs`, `performances.rs`, ...); the key design as a whole is in [`super`].

use super::{s, Item, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK, PK, SK};
use crate::domain::events::{Event, EventType};
use crate::domain::payment::{payment_id, Payment, PaymentStatus};
use crate::domain::performance::{Performance, PerformanceStatus};
use crate::domain::reservation::Reservation;
use crate::domain::seat::SeatId;
use crate::domain::settlement::SettlementStatus;
use crate::domain::showtime::block_of;
use aws_sdk_dynamodb::types::AttributeValue;

/// The partition of the public catalog (GSI1) and, with `#<category>`, of one category's (GSI2).
pub(crate) const CATALOG: &str = "CATALOG";

/// The sort key of an entity's own item in its partition (a performance, showtime, reservation, statement).
pub(crate) const META: &str = "META";

// members

/// A member's partition: the profile, wallet, ledger, ticket counts, request budgets, commission rate.
pub(crate) fn member_partition(member_id: &str) -> String {
    format!("MEMBER#{member_id}")
}

/// The member a [`member_partition`] names.
pub(crate) fn member_of_partition(pk: &str) -> Option<&str> {
    pk.strip_prefix("MEMBER#")
}

pub(crate) fn profile_key(id: &str) -> Item {
    Item::from([
        (PK.into(), s(member_partition(id))),
        (SK.into(), s("PROFILE")),
    ])
}

pub(crate) fn email_key(email: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("EMAIL#{email}"))),
        (SK.into(), s("EMAIL")),
    ])
}

/// The partition-key prefix of a revoked token's marker ([`revoked_key`]).
pub(crate) const REVOKED_PREFIX: &str = "REVOKED#";

pub(crate) fn revoked_key(token_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("{REVOKED_PREFIX}{token_id}"))),
        (SK.into(), s("REVOKED")),
    ])
}

/// A member's count of seats held and bought on one showtime (the per-member ticket limit, H7).
pub(crate) fn ticket_count_key(member_id: &str, showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(member_partition(member_id))),
        (SK.into(), s(format!("TICKETS#{showtime_id}"))),
    ])
}

/// A member's requests on one rate-limited route in one window (R6; TTL `expiresAt`).
pub(crate) fn rate_key(member_id: &str, route: &str, window: i64) -> Item {
    Item::from([
        (PK.into(), s(member_partition(member_id))),
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
    Item::from([(PK.into(), s(format!("PERF#{id}"))), (SK.into(), s(META))])
}

/// The GSI2 partition of one category's catalog.
pub(crate) fn category_catalog_pk(category: &str) -> String {
    format!("{CATALOG}#{category}")
}

/// The GSI2 partition of the performances awaiting review (or rejected): the admins' queue.
pub(crate) fn performances_by_status_pk(status: PerformanceStatus) -> String {
    format!("PERFSTATUS#{}", status.as_str())
}

/// The GSI3 partition of an organizer's own performances.
pub(crate) fn organizer_performances_pk(organizer_id: &str) -> String {
    format!("ORG#{organizer_id}")
}

/// The secondary-index keys of a performance:
/// * approved: the catalog (GSI1, by run start) and the category catalog (GSI2);
/// * pending or rejected: the admins' review queue for that status (GSI2, oldest first);
/// * always: the organizer's own list (GSI3, by creation).
pub(crate) fn performance_index_keys(p: &Performance) -> Vec<(&'static str, String)> {
    let by_creation = format!("{}#{}", p.created_at, p.id);
    let mut keys = vec![
        (GSI3PK, organizer_performances_pk(&p.organizer_id)),
        (GSI3SK, by_creation.clone()),
    ];
    match p.status {
        PerformanceStatus::Approved => {
            let by_run = format!("{}#{}", p.details.run_start_date, p.id);
            keys.push((GSI1PK, CATALOG.to_string()));
            keys.push((GSI1SK, by_run.clone()));
            keys.push((GSI2PK, category_catalog_pk(p.details.category.as_str())));
            keys.push((GSI2SK, by_run));
        }
        PerformanceStatus::PendingApproval | PerformanceStatus::Rejected => {
            keys.push((GSI2PK, performances_by_status_pk(p.status)));
            keys.push((GSI2SK, by_creation));
        }
    }
    keys
}

// reservations

/// A reservation's partition: the reservation, its payment, its task token, its events.
pub(crate) fn reservation_partition(id: &str) -> String {
    format!("RES#{id}")
}

/// The reservation a [`reservation_partition`] names.
pub(crate) fn reservation_of_partition(pk: &str) -> Option<&str> {
    pk.strip_prefix("RES#")
}

pub(crate) fn reservation_key(id: &str) -> Item {
    Item::from([
        (PK.into(), s(reservation_partition(id))),
        (SK.into(), s(META)),
    ])
}

/// The GSI1 partition of a member's reservations.
pub(crate) fn member_reservations_pk(member_id: &str) -> String {
    format!("MEMBER#{member_id}#RES")
}

/// The GSI2 partition of a showtime's reservations.
pub(crate) fn showtime_reservations_pk(showtime_id: &str) -> String {
    format!("SHOW#{showtime_id}#RES")
}

/// The GSI3 partition of a performance's reservations.
pub(crate) fn performance_reservations_pk(performance_id: &str) -> String {
    format!("PERF#{performance_id}#RES")
}

/// The secondary-index keys of a reservation: by member (GSI1), showtime (GSI2) and performance (GSI3), each
/// sorted by creation.
pub(crate) fn reservation_index_keys(r: &Reservation) -> [(&'static str, String); 6] {
    let by_creation = format!("{}#{}", r.created_at, r.id);
    [
        (GSI1PK, member_reservations_pk(&r.member_id)),
        (GSI1SK, by_creation.clone()),
        (GSI2PK, showtime_reservations_pk(&r.showtime_id)),
        (GSI2SK, by_creation.clone()),
        (GSI3PK, performance_reservations_pk(&r.performance_id)),
        (GSI3SK, by_creation),
    ]
}

// showtimes

/// A showtime's partition: the showtime, its waiting room, its cancellation sweep, its events.
pub(crate) fn showtime_partition(id: &str) -> String {
    format!("SHOW#{id}")
}

/// The showtime a [`showtime_partition`] names.
pub(crate) fn showtime_of_partition(pk: &str) -> Option<&str> {
    pk.strip_prefix("SHOW#")
}

pub(crate) fn showtime_key(id: &str) -> Item {
    Item::from([(PK.into(), s(showtime_partition(id))), (SK.into(), s(META))])
}

/// The GSI3 partition listing a performance's showtimes.
pub(crate) fn performance_showtimes_pk(performance_id: &str) -> String {
    format!("PERF#{performance_id}#SHOWS")
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
        (PK.into(), s(reservation_partition(reservation_id))),
        (SK.into(), s(format!("PAY#{}", payment_id(reservation_id)))),
    ])
}

/// The GSI2 partition of the payments in one status.
pub(crate) fn payments_by_status_pk(status: PaymentStatus) -> String {
    format!("PAYSTATUS#{}", status.as_str())
}

/// The GSI1 partition of a member's payments.
pub(crate) fn member_payments_pk(member_id: &str) -> String {
    format!("MEMBER#{member_id}#PAY")
}

/// The GSI3 partition of a performance's payments.
pub(crate) fn performance_payments_pk(performance_id: &str) -> String {
    format!("PERF#{performance_id}#PAY")
}

/// The secondary-index keys of a payment: by status and last change (GSI2), by member (GSI1) and by
/// performance (GSI3) in order of creation.
pub(crate) fn payment_index_keys(p: &Payment) -> Vec<(&'static str, String)> {
    let by_creation = format!("{}#{}", p.created_at, p.id);
    let mut keys = vec![
        (GSI2PK, payments_by_status_pk(p.status)),
        (GSI2SK, format!("{}#{}", p.updated_at, p.id)),
        (GSI1PK, member_payments_pk(&p.member_id)),
        (GSI1SK, by_creation.clone()),
    ];
    if !p.performance_id.is_empty() {
        keys.push((GSI3PK, performance_payments_pk(&p.performance_id)));
        keys.push((GSI3SK, by_creation));
    }
    keys
}

pub(crate) fn task_key(reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(reservation_partition(reservation_id))),
        (SK.into(), s("TASK")),
    ])
}

// cancellations

/// The sort key of a showtime's cancellation sweep progress ([`progress_key`]).
pub(crate) const PROGRESS_SK: &str = "CANCELLATION";

pub(crate) fn progress_key(showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(showtime_partition(showtime_id))),
        (SK.into(), s(PROGRESS_SK)),
    ])
}

/// The marker of a reservation that sweep run `run` could not cancel (counted once).
pub(crate) fn sweep_failure_key(showtime_id: &str, run: u64, reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(showtime_partition(showtime_id))),
        (SK.into(), s(format!("CXLFAIL#{run}#{reservation_id}"))),
    ])
}

// wallets
pub(crate) fn member_pk(member_id: &str) -> AttributeValue {
    s(member_partition(member_id))
}

/// The sort-key prefix of a member's ledger lines.
pub(crate) const LEDGER_PREFIX: &str = "LEDGER#";

/// A ledger line: `MEMBER#<memberId>`/`LEDGER#<seq:012>`, `seq` the wallet's version after the line (zero-padded,
/// so the ledger sorts in the order the balance moved). Its guard is [`guard_key`].
pub(crate) fn ledger_line_key(member_id: &str, seq: u64) -> Item {
    [
        (PK.to_string(), member_pk(member_id)),
        (SK.to_string(), s(ledger_sort_key(seq))),
    ]
    .into()
}

pub(crate) fn ledger_sort_key(seq: u64) -> String {
    format!("{LEDGER_PREFIX}{seq:012}")
}

pub(crate) fn wallet_key(member_id: &str) -> Item {
    [
        (PK.to_string(), member_pk(member_id)),
        (SK.to_string(), s("WALLET")),
    ]
    .into()
}

/// A ledger line's guard, `MEMBER#<memberId>`/`LINE#<lineId>`: makes the line's id unique and holds its `seq`.
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

// events and the outbox

/// The partition an event's item lives in: the aggregate it belongs to (a reservation, or a showtime for the
/// showtime events), so an aggregate's history reads back with one query; the payment provider's events sit
/// beside the breaker's state.
pub(crate) fn event_partition(event: &Event) -> String {
    match event.kind {
        EventType::ShowtimeCancelled | EventType::ShowtimeChanged => {
            showtime_partition(&event.correlation_id)
        }
        EventType::PaymentProviderDegraded | EventType::PaymentProviderRecovered => {
            BREAKER_PK.to_string()
        }
        _ => reservation_partition(&event.correlation_id),
    }
}

/// An event's item: `<aggregate partition>`/`EVT#<eventId>`.
pub(crate) fn event_key(event: &Event) -> Item {
    Item::from([
        (PK.into(), s(event_partition(event))),
        (SK.into(), s(format!("EVT#{}", event.event_id))),
    ])
}

/// The GSI1 partition of a member's events (E3).
pub(crate) fn member_events_pk(member_id: &str) -> String {
    format!("MEMBER#{member_id}#EVT")
}

/// A test stack's fault switch `switch` of `function` (`FAULT#<function>`/`<switch>`).
pub(crate) fn fault_key(function: &str, switch: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("FAULT#{function}"))),
        (SK.into(), s(switch)),
    ])
}

// views

/// A member's my-page partition: a view per reservation and the events folded into it.
pub(crate) fn my_page_partition(member_id: &str) -> String {
    format!("MYPAGE#{member_id}")
}

/// The sort-key prefix of the views in a [`my_page_partition`].
pub(crate) const VIEW_PREFIX: &str = "RES#";

pub(crate) fn view_key(member_id: &str, reservation_id: &str) -> Item {
    Item::from([
        (PK.into(), s(my_page_partition(member_id))),
        (SK.into(), s(format!("{VIEW_PREFIX}{reservation_id}"))),
    ])
}

/// An event folded into a my-page view, kept once beside it: `MYPAGE#<memberId>`/`EVT#<reservationId>#<eventId>`.
pub(crate) fn view_event_key(member_id: &str, reservation_id: &str, event_id: &str) -> Item {
    Item::from([
        (PK.into(), s(my_page_partition(member_id))),
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

/// A member's notifications partition (the table) and its newest-first listing (GSI1).
pub(crate) fn notifications_partition(member_id: &str) -> String {
    format!("MEMBER#{member_id}#NOTIF")
}

pub(crate) fn notif_key(member_id: &str, id: &str) -> Item {
    Item::from([
        (PK.into(), s(notifications_partition(member_id))),
        (SK.into(), s(format!("NOTIF#{id}"))),
    ])
}

pub(crate) fn unread_key(member_id: &str) -> Item {
    Item::from([
        (PK.into(), s(notifications_partition(member_id))),
        (SK.into(), s("UNREAD")),
    ])
}

/// The audit log of one aggregate (a reservation or a showtime), its entries sorted by time.
pub(crate) fn audit_partition(correlation_id: &str) -> String {
    format!("AUDIT#{correlation_id}")
}

/// The GSI1 partition of a member's audit entries.
pub(crate) fn member_audit_pk(member_id: &str) -> String {
    format!("AUDIT#MEMBER#{member_id}")
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

/// The shard a [`counter_key`]'s partition names.
pub(crate) fn counter_shard(pk: &str) -> Option<usize> {
    pk.rsplit('#').next().and_then(|x| x.parse().ok())
}

pub(crate) fn room_key(showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(showtime_partition(showtime_id))),
        (SK.into(), s("ROOM")),
    ])
}

/// The inlet's registry of open rooms: one partition, an item per showtime.
pub(crate) const ROOMS: &str = "ROOMS";

pub(crate) fn room_registry_key(showtime_id: &str) -> Item {
    Item::from([
        (PK.into(), s(ROOMS)),
        (SK.into(), s(showtime_partition(showtime_id))),
    ])
}

/// `SLOT#<slot:012>`: a slot's total, and the start of its marks' sort keys (zero-padded, so slots sort).
pub(crate) fn slot_sort_key(slot: u64) -> String {
    format!("SLOT#{slot:012}")
}

/// The slot a slot total's or slot mark's sort key names.
pub(crate) fn slot_of_sort_key(sk: &str) -> Option<u64> {
    sk.strip_prefix("SLOT#")?.split('#').next()?.parse().ok()
}

/// The partition of a showtime's slot marks (the seconds somebody joined in, W11).
pub(crate) fn slot_marks_pk(showtime_id: &str) -> String {
    format!("QSLOTS#{showtime_id}")
}

pub(crate) fn slot_mark_key(showtime_id: &str, slot: u64, shard: u32) -> Item {
    Item::from([
        (PK.into(), s(slot_marks_pk(showtime_id))),
        (SK.into(), s(format!("{}#{shard:03}", slot_sort_key(slot)))),
    ])
}

/// A closed slot's total (W6, W7).
pub(crate) fn slot_total_key(showtime_id: &str, slot: u64) -> Item {
    Item::from([
        (PK.into(), s(format!("QTOTAL#{showtime_id}"))),
        (SK.into(), s(slot_sort_key(slot))),
    ])
}

/// The partition of a showtime's finished admissions, by admission second (W13, W14).
pub(crate) fn finishes_pk(showtime_id: &str) -> String {
    format!("QFIN#{showtime_id}")
}

/// `SEC#<second:012>`: the sort key of the admissions let in at `second` (zero-padded, so seconds sort).
pub(crate) fn finishes_sort_key(second: i64) -> String {
    format!("SEC#{:012}", second.max(0))
}

// repairs

/// The index keys of an item of `id` due at `due` (epoch seconds).
pub(crate) fn repair_keys(id: &str, due: i64) -> [(String, AttributeValue); 2] {
    let shard = id.chars().last().and_then(|c| c.to_digit(16)).unwrap_or(0);
    [
        (GSI4PK.to_string(), s(repair_shard_pk(shard))),
        (GSI4SK.to_string(), s(format!("{:010}#{id}", due.max(0)))),
    ]
}

/// The GSI4 partition of one repair shard.
pub(crate) fn repair_shard_pk(shard: u32) -> String {
    format!("REPAIR#{shard}")
}

/// Adds the repair keys to `item`.
pub(crate) fn with_repair_keys(item: &mut Item, id: &str, due: i64) {
    item.extend(repair_keys(id, due));
}

// settlement

/// A statement's partition: the statement and the money booked in it.
pub(crate) fn statement_partition(id: &str) -> String {
    format!("STMT#{id}")
}

pub(crate) fn statement_key(id: &str) -> Item {
    Item::from([
        (PK.into(), s(statement_partition(id))),
        (SK.into(), s(META)),
    ])
}

/// The sort-key prefix of the money lines of a statement.
pub(crate) const MONEY_PREFIX: &str = "MONEY#";

/// One event's money booked in statement `statement_id`.
pub(crate) fn statement_money_key(statement_id: &str, event_id: &str) -> Item {
    Item::from([
        (PK.into(), s(statement_partition(statement_id))),
        (SK.into(), s(format!("{MONEY_PREFIX}{event_id}"))),
    ])
}

/// The GSI1 partition of an organizer's statements.
pub(crate) fn organizer_statements_pk(organizer_id: &str) -> String {
    format!("ORG#{organizer_id}#STMT")
}

/// The GSI2 partition of the statements in one status.
pub(crate) fn statements_by_status_pk(status: SettlementStatus) -> String {
    format!("STMTSTATUS#{}", status.as_str())
}

/// The GSI3 partition of one day's statements.
pub(crate) fn statements_of_day_pk(day: &str) -> String {
    format!("STMTDAY#{day}")
}

/// The secondary-index keys of organizer `organizer_id`'s statement of `day` in `currency`: by organizer
/// (GSI1), by status (GSI2) and by day (GSI3).
pub(crate) fn statement_index_keys(
    organizer_id: &str,
    day: &str,
    currency: &str,
    status: SettlementStatus,
) -> [(&'static str, String); 6] {
    [
        (GSI1PK, organizer_statements_pk(organizer_id)),
        (GSI1SK, format!("{day}#{currency}")),
        (GSI2PK, statements_by_status_pk(status)),
        (GSI2SK, format!("{day}#{organizer_id}#{currency}")),
        (GSI3PK, statements_of_day_pk(day)),
        (GSI3SK, format!("{organizer_id}#{currency}")),
    ]
}

/// The guard that keeps one event's money in one statement.
pub(crate) fn settled_key(event_id: &str) -> Item {
    Item::from([
        (PK.into(), s(format!("SETTLED#{event_id}"))),
        (SK.into(), s("SETTLED")),
    ])
}

/// The event a [`settled_key`]'s partition names.
pub(crate) fn event_of_settled_partition(pk: &str) -> Option<&str> {
    pk.strip_prefix("SETTLED#")
}

/// An organizer's own commission rate (absent: the stack's default).
pub(crate) fn commission_key(organizer_id: &str) -> Item {
    Item::from([
        (PK.into(), s(member_partition(organizer_id))),
        (SK.into(), s("COMMISSION")),
    ])
}

// reconciliation

/// A reconciliation run's partition: its report and its pages of breaks.
pub(crate) fn reconciliation_partition(run_id: &str) -> String {
    format!("RECON#{run_id}")
}

/// The run id under which the newest run's report is kept as well.
pub(crate) const LATEST_RUN: &str = "LATEST";

/// A run's report (`RECON#<runId>`/`REPORT`).
pub(crate) fn reconciliation_report_key(run_id: &str) -> Item {
    Item::from([
        (PK.into(), s(reconciliation_partition(run_id))),
        (SK.into(), s("REPORT")),
    ])
}

/// The sort-key prefix of a run's pages of breaks.
pub(crate) const SEGMENT_PREFIX: &str = "SEG#";

/// The sort key of page `page` of segment `segment`'s breaks.
pub(crate) fn segment_page_sk(segment: u32, page: u32) -> String {
    format!("{SEGMENT_PREFIX}{segment:03}#{page:06}")
}
