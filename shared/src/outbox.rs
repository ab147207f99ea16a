//! The outbox publisher: the table's stream, filtered to new event items ([`crate::store::outbox`]), puts
//! each event on the bus, in stream order.
//!
//! It answers with a partial batch response: the first record it could not publish is reported, and the
//! stream gives it (and the records after it) again. Records before it are done; a record published just
//! before a crash is published again, which consumers drop by event id. A record that is not an event item
//! (no `detail`) cannot be published by any retry: it is logged and skipped.
//!
//! Test stacks (`FAULT_INJECTION=on`) can make the publisher crash on an event, after its item was written
//! and before it reaches the bus, the one moment an outbox exists for: an item `FAULT#publisher`/
//! `<memberId>` with `remaining = N` makes the next N attempts at that member's events exit the process, as
//! a crashed function would.

use crate::events::Publisher;
use crate::store::Store;
use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{service_fn, LambdaEvent};

/// What the publisher needs, built once per process.
#[derive(Clone, Debug)]
pub struct OutboxState {
    pub publisher: Publisher,
    /// Set on test stacks only (`FAULT_INJECTION=on`): where injected faults are kept.
    pub faults: Option<Store>,
}

impl OutboxState {
    /// Reads `EVENT_BUS_NAME`, and `TABLE_NAME` with `FAULT_INJECTION=on`. No network I/O.
    pub async fn from_env() -> Result<Self, lambda_runtime::Error> {
        let bus = std::env::var("EVENT_BUS_NAME").map_err(|_| "EVENT_BUS_NAME is not set")?;
        let config = crate::aws::sdk_config().await;
        let faults = if std::env::var("FAULT_INJECTION").as_deref() == Ok("on") {
            let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
            Some(Store::new(
                crate::aws::Lazy::new(&config, aws_sdk_dynamodb::Client::new),
                table,
            ))
        } else {
            None
        };
        Ok(OutboxState {
            publisher: Publisher::new(
                crate::aws::Lazy::new(&config, aws_sdk_eventbridge::Client::new),
                bus,
            ),
            faults,
        })
    }
}

/// An event item's record, ready to publish.
#[derive(Debug, PartialEq)]
pub struct Outgoing {
    pub sequence_number: String,
    pub event_type: String,
    pub event_id: String,
    pub correlation_id: String,
    pub member_id: String,
    pub detail: String,
}

/// The event a stream record carries, or `None` for a record that is not a new event item (the filter on
/// the event source lets only those through; anything else is skipped, with a log line).
pub fn outgoing(record: &EventRecord) -> Option<Outgoing> {
    let image = &record.change.new_image;
    let text = |name: &str| match image.get(name) {
        Some(serde_dynamo::AttributeValue::S(v)) => Some(v.clone()),
        _ => None,
    };
    if record.event_name != "INSERT" || text("type").as_deref() != Some("Event") {
        return None;
    }
    let detail = text("detail")?;
    let parsed: serde_json::Value = serde_json::from_str(&detail).ok()?;
    Some(Outgoing {
        sequence_number: record.change.sequence_number.clone().unwrap_or_default(),
        event_type: text("eventType")?,
        event_id: parsed["eventId"].as_str()?.to_string(),
        correlation_id: parsed["correlationId"].as_str()?.to_string(),
        member_id: parsed["memberId"].as_str()?.to_string(),
        detail,
    })
}

/// Publishes a batch of stream records; the answer names the first record to be given again, if any.
pub async fn handle(state: &OutboxState, event: StreamEvent) -> DynamoDbEventResponse {
    let mut pending = Vec::with_capacity(event.records.len());
    for record in &event.records {
        match outgoing(record) {
            Some(o) => pending.push(o),
            None if record.event_name == "INSERT" => tracing::error!(
                event_id = %record.event_id,
                "stream record is not a publishable event item; skipped"
            ),
            None => {}
        }
    }
    let mut response = DynamoDbEventResponse::default();
    if let Some(store) = &state.faults {
        for o in &pending {
            match store.take_fault("publisher", &o.member_id).await {
                Ok(true) => {
                    tracing::warn!(event_id = %o.event_id, correlation_id = %o.correlation_id, "injected fault: the publisher crashes before publishing");
                    std::process::exit(70);
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "fault check failed");
                    response
                        .batch_item_failures
                        .push(failure(&o.sequence_number));
                    return response;
                }
            }
        }
    }
    let entries: Vec<(&str, &str)> = pending
        .iter()
        .map(|o| (o.event_type.as_str(), o.detail.as_str()))
        .collect();
    match state.publisher.put(&entries).await {
        Ok(_) => {
            for o in &pending {
                tracing::info!(event_id = %o.event_id, event_type = %o.event_type, correlation_id = %o.correlation_id, "event published");
            }
        }
        Err((first, why)) => {
            for o in &pending[..first] {
                tracing::info!(event_id = %o.event_id, event_type = %o.event_type, correlation_id = %o.correlation_id, "event published");
            }
            let Some(o) = pending.get(first) else {
                return response;
            };
            tracing::warn!(error = %why, event_id = %o.event_id, correlation_id = %o.correlation_id, "publishing failed; the stream gives it again");
            response
                .batch_item_failures
                .push(failure(&o.sequence_number));
        }
    }
    response
}

fn failure(sequence_number: &str) -> DynamoDbBatchItemFailure {
    let mut f = DynamoDbBatchItemFailure::default();
    f.item_identifier = Some(sequence_number.to_string());
    f
}

/// Runs the publisher under the Lambda runtime.
pub async fn serve(state: OutboxState) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamEvent>| {
        let state = state.clone();
        async move { Ok::<_, std::convert::Infallible>(handle(&state, event.payload).await) }
    }))
    .await
}
