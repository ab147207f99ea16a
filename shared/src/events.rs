//! Domain events on the EventBridge bus: versioned JSON, one `detail-type` per event, the reservation id as
//! the correlation id of everything that happens to it. Schemas: `docs/events.md`.
//!
//! # Delivery: a transactional outbox
//!
//! An event is never sent by the code that makes its change. It is written as an item of the table
//! ([`crate::store::outbox`]) in the same transaction as the change it reports, so it exists if and only if
//! the change committed. The table's stream carries each new event item to the publisher function
//! ([`crate::outbox`]), which puts it on the bus; a publisher that fails or crashes is given the same stream
//! records again (the stream keeps them for 24 hours), so every event goes out at least once, whatever
//! happens between the write and the publish. Its `eventId` is derived from what happened
//! (`<reservationId>:<type>`), so consumers drop duplicates by id.

use crate::error::AppError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    ReservationConfirmed,
    ReservationFailed,
    ReservationExpired,
    RefundIssued,
    ReservationCancelled,
    ReservationChanged,
    ShowtimeCancelled,
    ShowtimeChanged,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ReservationHeld => "ReservationHeld",
            EventType::PaymentCompleted => "PaymentCompleted",
            EventType::PaymentFailed => "PaymentFailed",
            EventType::ReservationConfirmed => "ReservationConfirmed",
            EventType::ReservationFailed => "ReservationFailed",
            EventType::ReservationExpired => "ReservationExpired",
            EventType::RefundIssued => "RefundIssued",
            EventType::ReservationCancelled => "ReservationCancelled",
            EventType::ReservationChanged => "ReservationChanged",
            EventType::ShowtimeCancelled => "ShowtimeCancelled",
            EventType::ShowtimeChanged => "ShowtimeChanged",
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
    pub const ALL: [EventType; 11] = [
        EventType::ReservationHeld,
        EventType::PaymentCompleted,
        EventType::PaymentFailed,
        EventType::ReservationConfirmed,
        EventType::ReservationFailed,
        EventType::ReservationExpired,
        EventType::RefundIssued,
        EventType::ReservationCancelled,
        EventType::ReservationChanged,
        EventType::ShowtimeCancelled,
        EventType::ShowtimeChanged,
    ];

    pub fn parse(raw: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// Where the type stands in a reservation's life: held, paid (or not), decided, then changed, cancelled
    /// and refunded. Events of one aggregate written at the same instant are ordered by it.
    pub fn stage(self) -> u8 {
        match self {
            EventType::ReservationHeld => 0,
            EventType::PaymentCompleted | EventType::PaymentFailed => 1,
            EventType::ReservationConfirmed
            | EventType::ReservationFailed
            | EventType::ReservationExpired => 2,
            EventType::ShowtimeChanged | EventType::ReservationChanged => 3,
            EventType::ShowtimeCancelled | EventType::ReservationCancelled => 4,
            EventType::RefundIssued => 5,
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
    /// The table partition its item lives in: the aggregate it belongs to (a reservation, or a showtime for
    /// the showtime events), so an aggregate's history reads back with one query.
    pub fn partition(&self) -> String {
        match self.kind {
            EventType::ShowtimeCancelled | EventType::ShowtimeChanged => {
                format!("SHOW#{}", self.correlation_id)
            }
            _ => format!("RES#{}", self.correlation_id),
        }
    }

    /// The `detail` as it goes on the bus.
    pub fn detail(&self) -> Result<String, AppError> {
        serde_json::to_string(self).map_err(|e| AppError::Corrupt(e.to_string()))
    }
}

/// Publishes to one bus.
#[derive(Clone, Debug)]
pub struct Publisher {
    client: crate::aws::Lazy<aws_sdk_eventbridge::Client>,
    bus: String,
}

/// The size a `PutEvents` request may have in all (256 KB), less a margin for the envelope.
pub const PUT_EVENTS_BYTES: usize = 250_000;

/// Splits entries, in order, into the runs one `PutEvents` takes: at most ten, and together within
/// [`PUT_EVENTS_BYTES`] as EventBridge counts them (source, detail-type and detail). Each run comes with the
/// index of its first entry. An entry over the limit alone gets a run of its own (and is refused by name).
pub fn put_chunks<'a>(entries: &'a [(&'a str, &'a str)]) -> Vec<(usize, &'a [(&'a str, &'a str)])> {
    let size = |(kind, detail): &(&str, &str)| SOURCE.len() + kind.len() + detail.len();
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let n = size(entry);
        if i > start && (i - start == 10 || bytes + n > PUT_EVENTS_BYTES) {
            runs.push((start, &entries[start..i]));
            (start, bytes) = (i, 0);
        }
        bytes += n;
    }
    if start < entries.len() {
        runs.push((start, &entries[start..]));
    }
    runs
}

impl Publisher {
    pub fn new(
        client: impl Into<crate::aws::Lazy<aws_sdk_eventbridge::Client>>,
        bus: impl Into<String>,
    ) -> Self {
        Publisher {
            client: client.into(),
            bus: bus.into(),
        }
    }

    /// Puts events given as (`detail-type`, `detail`) on the bus, in order, in `PutEvents` calls of at most
    /// ten entries and [`PUT_EVENTS_BYTES`] ([`put_chunks`]). `Ok(n)` when all `n` went out; `Err((i, why))`
    /// when entry `i` (and maybe some after it) was refused or the call failed: the entries before `i` are on
    /// the bus.
    pub async fn put(&self, entries: &[(&str, &str)]) -> Result<usize, (usize, AppError)> {
        for (offset, chunk) in put_chunks(entries) {
            let mut request = self.client.put_events();
            for (detail_type, detail) in chunk {
                request = request.entries(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(*detail_type)
                        .detail(*detail)
                        .build(),
                );
            }
            let out = request
                .send()
                .await
                .map_err(|e| (offset, AppError::Dependency(format!("PutEvents: {e:?}"))))?;
            if out.failed_entry_count() > 0 {
                let first = out
                    .entries()
                    .iter()
                    .position(|e| e.error_code().is_some())
                    .unwrap_or(0);
                let why = out.entries().get(first).map(|e| {
                    format!(
                        "{}: {}",
                        e.error_code().unwrap_or_default(),
                        e.error_message().unwrap_or_default()
                    )
                });
                return Err((
                    offset + first,
                    AppError::Dependency(format!(
                        "PutEvents refused {} of {} events ({})",
                        out.failed_entry_count(),
                        chunk.len(),
                        why.unwrap_or_default()
                    )),
                ));
            }
        }
        Ok(entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_chunks_keep_order_and_both_limits() {
        let small: Vec<(&str, &str)> = (0..23).map(|_| ("ReservationHeld", "{}")).collect();
        let sizes: Vec<(usize, usize)> = put_chunks(&small)
            .iter()
            .map(|(o, r)| (*o, r.len()))
            .collect();
        assert_eq!(sizes, [(0, 10), (10, 10), (20, 3)]);
        let big = "x".repeat(100_000);
        let mixed: Vec<(&str, &str)> = vec![
            ("ShowtimeChanged", &big),
            ("ShowtimeChanged", &big),
            ("ShowtimeChanged", &big),
            ("ReservationHeld", "{}"),
        ];
        let sizes: Vec<(usize, usize)> = put_chunks(&mixed)
            .iter()
            .map(|(o, r)| (*o, r.len()))
            .collect();
        assert_eq!(sizes, [(0, 2), (2, 2)]);
        assert!(put_chunks(&[]).is_empty());
    }
}
