//! Domain events on the EventBridge bus: versioned JSON, one `detail-type` per event, the reservation id as
//! the correlation id of everything that happens to it. Schemas: `docs/events.md`.
//!
//! An event is published by the saga step whose change it reports, after that change committed; a step that
//! fails to publish fails and is retried by Step Functions, and its change is idempotent, so the event goes
//! out at least once. Its `eventId` is derived from what happened (`<reservationId>:<type>`), so consumers
//! drop duplicates by id.

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

    /// Publishes every event in one `PutEvents` (at most 10); any entry refused is an error (retried by the
    /// saga step that publishes).
    pub async fn publish(&self, events: &[Event]) -> Result<(), AppError> {
        if events.is_empty() {
            return Ok(());
        }
        if events.len() > 10 {
            for chunk in events.chunks(10) {
                Box::pin(self.publish(chunk)).await?;
            }
            return Ok(());
        }
        let mut request = self.client.put_events();
        for event in events {
            let detail =
                serde_json::to_string(event).map_err(|e| AppError::Corrupt(e.to_string()))?;
            request = request.entries(
                aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(event.kind.as_str())
                    .detail(detail)
                    .build(),
            );
        }
        let out = request
            .send()
            .await
            .map_err(|e| AppError::Dependency(format!("PutEvents: {e:?}")))?;
        if out.failed_entry_count() > 0 {
            return Err(AppError::Dependency(format!(
                "PutEvents refused {} of {} events",
                out.failed_entry_count(),
                events.len()
            )));
        }
        for event in events {
            tracing::info!(event_id = %event.event_id, event_type = event.kind.as_str(), correlation_id = %event.correlation_id, "event published");
        }
        Ok(())
    }
}
