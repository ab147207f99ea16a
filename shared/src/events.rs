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
use serde::Serialize;
use serde_json::Value;

/// The `source` of every event of ours.
pub const SOURCE: &str = "ticketing.reservations";
/// Schema version of every event's `detail`; bumped on an incompatible change.
pub const VERSION: u32 = 1;

/// The event types the saga publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub occurred_at: String,
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
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl Publisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Publisher {
            client,
            bus: bus.into(),
        }
    }

    /// Puts events given as (`detail-type`, `detail`) on the bus, in order, ten to a `PutEvents`. `Ok(n)` when
    /// all `n` went out; `Err((i, why))` when entry `i` (and maybe some after it) was refused or the call
    /// failed: the entries before `i` are on the bus.
    pub async fn put(&self, entries: &[(&str, &str)]) -> Result<usize, (usize, AppError)> {
        for (chunk_index, chunk) in entries.chunks(10).enumerate() {
            let offset = chunk_index * 10;
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
