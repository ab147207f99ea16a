//! Domain events on the EventBridge bus: versioned JSON, one `detail-type` per event, the reservation id as
//! the correlation id of everything that happens to it. Schemas: `docs/events.md`.
//!
//! # Delivery: a transactional outbox
//!
//! An event is never sent by the code that makes its change. It is written as an item of the table
//! (`ticketing::store::outbox`) in the same transaction as the change it reports, so it exists if and only if
//! the change committed. The table's stream carries each new event item to the publisher function
//! (`ticketing::outbox`), which puts it on the bus; a publisher that fails or crashes is given the same stream
//! records again (the stream keeps them for 24 hours), so every event goes out at least once, whatever
//! happens between the write and the publish. Its `eventId` is derived from what happened
//! (`<reservationId>:<type>`), so consumers drop duplicates by id.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The `source` of every event of ours.
pub const SOURCE: &str = "ticketing.reservations";
/// Schema version of every event's `detail`; bumped on an incompatible change.
pub const VERSION: u32 = 1;

/// The event types the saga publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EventType {
    ReservationHeld,
    PaymentCompleted,
    PaymentFailed,
    /// A card given with a hold was not charged (the provider's breaker was open): pay within the hold.
    PaymentDeferred,
    ReservationConfirmed,
    ReservationFailed,
    ReservationExpired,
    RefundIssued,
    ReservationCancelled,
    ReservationChanged,
    ShowtimeCancelled,
    ShowtimeChanged,
    /// The payment provider's circuit breaker opened: card payments fall back to pay-later.
    PaymentProviderDegraded,
    /// It closed again after its probe payments succeeded.
    PaymentProviderRecovered,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ReservationHeld => "ReservationHeld",
            EventType::PaymentCompleted => "PaymentCompleted",
            EventType::PaymentFailed => "PaymentFailed",
            EventType::PaymentDeferred => "PaymentDeferred",
            EventType::ReservationConfirmed => "ReservationConfirmed",
            EventType::ReservationFailed => "ReservationFailed",
            EventType::ReservationExpired => "ReservationExpired",
            EventType::RefundIssued => "RefundIssued",
            EventType::ReservationCancelled => "ReservationCancelled",
            EventType::ReservationChanged => "ReservationChanged",
            EventType::ShowtimeCancelled => "ShowtimeCancelled",
            EventType::ShowtimeChanged => "ShowtimeChanged",
            EventType::PaymentProviderDegraded => "PaymentProviderDegraded",
            EventType::PaymentProviderRecovered => "PaymentProviderRecovered",
        }
    }
}

/// The `detail` of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub version: u32,
    /// The reservation id.
    pub correlation_id: String,
    /// The member whose reservation it is (consumers route by it: notifications, my page).
    pub member_id: String,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    /// The event type's fields: docs/events.md.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl Event {
    pub fn new(
        kind: EventType,
        reservation_id: &str,
        member_id: &str,
        occurred_at: &str,
        data: Value,
    ) -> Event {
        Event {
            event_id: format!("{reservation_id}:{}", kind.as_str()),
            kind,
            version: VERSION,
            correlation_id: reservation_id.to_string(),
            member_id: member_id.to_string(),
            occurred_at: occurred_at.to_string(),
            data,
        }
    }

    /// An event that can happen more than once to the same reservation (each cancellation, each change, each
    /// refund): its id is `<reservationId>:<type>:<key>`.
    pub fn keyed(
        kind: EventType,
        reservation_id: &str,
        key: &str,
        member_id: &str,
        occurred_at: &str,
        data: Value,
    ) -> Event {
        Event {
            event_id: format!("{reservation_id}:{}:{key}", kind.as_str()),
            ..Event::new(kind, reservation_id, member_id, occurred_at, data)
        }
    }
}

impl EventType {
    /// Every event type, for consumers that route by `detail-type`.
    pub const ALL: [EventType; 14] = [
        EventType::ReservationHeld,
        EventType::PaymentCompleted,
        EventType::PaymentFailed,
        EventType::PaymentDeferred,
        EventType::ReservationConfirmed,
        EventType::ReservationFailed,
        EventType::ReservationExpired,
        EventType::RefundIssued,
        EventType::ReservationCancelled,
        EventType::ReservationChanged,
        EventType::ShowtimeCancelled,
        EventType::ShowtimeChanged,
        EventType::PaymentProviderDegraded,
        EventType::PaymentProviderRecovered,
    ];

    pub fn parse(raw: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Where the type stands in a reservation's life: held, paid (or not), decided, then changed, cancelled
    /// and refunded. Events of one aggregate written at the same instant are ordered by it.
    pub fn stage(self) -> u8 {
        match self {
            EventType::ReservationHeld => 0,
            EventType::PaymentCompleted | EventType::PaymentFailed | EventType::PaymentDeferred => {
                1
            }
            EventType::ReservationConfirmed
            | EventType::ReservationFailed
            | EventType::ReservationExpired => 2,
            EventType::ShowtimeChanged | EventType::ReservationChanged => 3,
            EventType::ShowtimeCancelled | EventType::ReservationCancelled => 4,
            EventType::RefundIssued => 5,
            EventType::PaymentProviderDegraded | EventType::PaymentProviderRecovered => 6,
        }
    }
}

/// The order of an aggregate's events, whatever order the bus delivered them in (EventBridge promises none):
/// when they happened (`occurredAt`, RFC 3339 with any precision), then their [`EventType::stage`]. Unknown
/// types and unreadable instants sort first.
pub fn order_key(occurred_at: &str, kind: &str) -> (i128, u8) {
    let at =
        time::OffsetDateTime::parse(occurred_at, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp_nanos())
            .unwrap_or(i128::MIN);
    (at, EventType::parse(kind).map_or(0, EventType::stage))
}

impl Event {
    /// The `detail` as it goes on the bus.
    pub fn detail(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// The reservation as every reservation event carries it.
pub fn reservation_summary(r: &crate::reservation::Reservation) -> Value {
    json!({
        "reservationId": r.id,
        "memberId": r.member_id,
        "performanceId": r.performance_id,
        "showtimeId": r.showtime_id,
        "seats": r.seats,
        "totalPrice": r.total_price,
        "currency": r.currency,
        "status": r.status,
    })
}

/// The payment as every payment event carries it.
pub fn payment_summary(p: &crate::payment::Payment) -> Value {
    json!({
        "paymentId": p.id,
        "memberId": p.member_id,
        "method": p.method,
        "status": p.status,
        "amount": p.amount,
        "refundedAmount": p.refunded_amount,
        "currency": p.currency,
        "providerReference": p.provider_reference,
        "failureReason": p.failure_reason,
    })
}

/// `ReservationHeld`, recorded in the hold's own transaction.
pub fn held_event(r: &crate::reservation::Reservation) -> Event {
    Event::new(
        EventType::ReservationHeld,
        &r.id,
        &r.member_id,
        &r.created_at,
        json!({"reservation": reservation_summary(r), "holdExpiresAt": crate::reservation::epoch_to_rfc3339(r.hold_expires_at)}),
    )
}

/// `PaymentDeferred`: the card given with hold `r` was not charged because the payment provider's breaker was
/// open; the buyer pays within the hold (`retryAfterSeconds`: when the provider may be back).
pub fn deferred_event(r: &crate::reservation::Reservation, at: &str, retry_after: u32) -> Event {
    Event::new(
        EventType::PaymentDeferred,
        &r.id,
        &r.member_id,
        at,
        json!({
            "reservation": reservation_summary(r),
            "holdExpiresAt": crate::reservation::epoch_to_rfc3339(r.hold_expires_at),
            "fallback": "PAY_LATER",
            "retryAfterSeconds": retry_after,
        }),
    )
}

/// `ReservationCancelled` for a hold given up before payment, recorded with the release.
pub fn hold_cancelled_event(r: &crate::reservation::Reservation) -> Event {
    Event::new(
        EventType::ReservationCancelled,
        &r.id,
        &r.member_id,
        &r.updated_at,
        json!({
            "reservation": reservation_summary(r),
            "seats": r.seats,
            "whole": true,
            "fee": 0,
            "refund": 0,
            "actor": r.changes.last().map(|c| c.actor),
            "reason": r.failure_reason,
        }),
    )
}
