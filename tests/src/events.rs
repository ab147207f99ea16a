//! What reaches the bus: a tap of its own per test, and the events' schemas.

use crate::*;
use serde_json::{json, Value};
use std::collections::HashMap;

/// How long a test waits for an event to reach the bus or a consumer. Delivery is asynchronous and, on
/// the 2-core CI machine, queues behind LocalStack's one Python process: under the heaviest tests (a showtime
/// sweep of 200 reservations beside the consumers, all areas in one test binary) an event took over 90 s
/// once. A poll, so a delivered event ends the wait at once.
pub const EVENT_WAIT_SECS: u64 = 150;

/// Reads what the saga publishes about some members: a rule of its own on the bus (matching their
/// `memberId`) feeding a queue of its own, so tests running at once never read each other's events.
pub struct EventTap {
    name: String,
    queue_url: String,
    /// Events read so far, by reservation id, in arrival order.
    seen: HashMap<String, Vec<Value>>,
}

impl EventTap {
    pub async fn new(members: &[&Member]) -> EventTap {
        let stack = stack();
        let name = format!("tap-{}", unique());
        let queue_url = stack
            .sqs()
            .create_queue()
            .queue_name(&name)
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("queue url");
        let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let bus = stack.event_bus_name();
        let events = stack.eventbridge();
        events
            .put_rule()
            .name(&name)
            .event_bus_name(&bus)
            .event_pattern(
                json!({"source": ["ticketing.reservations"], "detail": {"memberId": ids}})
                    .to_string(),
            )
            .send()
            .await
            .expect("rule");
        events
            .put_targets()
            .rule(&name)
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(format!("arn:aws:sqs:us-east-1:000000000000:{name}"))
                    .build()
                    .expect("target"),
            )
            .send()
            .await
            .expect("target");
        EventTap {
            name,
            queue_url,
            seen: HashMap::new(),
        }
    }

    /// Waits (up to [`EVENT_WAIT_SECS`]) until `reservation_id` has published exactly `kinds`, in that order, each event valid
    /// against its schema in docs/events/, carrying its derived id and correlation id.
    pub async fn expect(&mut self, reservation_id: &str, kinds: &[&str]) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(EVENT_WAIT_SECS);
        let sqs = stack().sqs();
        let distinct = |seen: &HashMap<String, Vec<Value>>| {
            seen.get(reservation_id).map_or(0, |events| {
                events
                    .iter()
                    .map(|e| e["eventId"].to_string())
                    .collect::<std::collections::HashSet<_>>()
                    .len()
            })
        };
        while distinct(&self.seen) < kinds.len() && std::time::Instant::now() < deadline {
            let out = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for message in out.messages.unwrap_or_default() {
                let envelope: Value =
                    serde_json::from_str(message.body.as_deref().unwrap_or("{}")).expect("JSON");
                assert_eq!(envelope["source"], "ticketing.reservations");
                assert_eq!(envelope["detail-type"], envelope["detail"]["type"]);
                let detail = envelope["detail"].clone();
                let id = detail["correlationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.seen.entry(id).or_default().push(detail);
            }
        }
        // Delivery is at least once (a retried step publishes again) and in no promised order: one event per
        // id, in the order the events themselves state (`occurredAt`, then stage).
        let got = self.events(reservation_id);
        let types: Vec<&str> = got.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(types, kinds, "the events of {reservation_id}, in order");
        for event in &got {
            let kind = event["type"].as_str().unwrap_or_default();
            let errors = event_schema_errors(kind, event);
            assert!(
                errors.is_empty(),
                "{kind} breaks its schema: {errors:?}\n{event}"
            );
            let id = event["eventId"].as_str().unwrap_or_default();
            assert!(
                id == format!("{reservation_id}:{kind}")
                    || id.starts_with(&format!("{reservation_id}:{kind}:")),
                "{kind} has the id {id}"
            );
            assert_eq!(event["correlationId"], reservation_id);
        }
    }

    /// The distinct events of `reservation_id` read so far, in the order they state.
    pub fn events(&self, reservation_id: &str) -> Vec<Value> {
        let mut ids = std::collections::HashSet::new();
        let mut got: Vec<Value> = self
            .seen
            .get(reservation_id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| ids.insert(e["eventId"].to_string()))
            .collect();
        got.sort_by_key(|e| {
            ticketing::events::order_key(
                e["occurredAt"].as_str().unwrap_or_default(),
                e["type"].as_str().unwrap_or_default(),
            )
        });
        got
    }

    /// How many copies of the `kind` event of `reservation_id` arrived so far (delivery is at least once).
    pub fn copies(&self, reservation_id: &str, kind: &str) -> usize {
        self.seen.get(reservation_id).map_or(0, |events| {
            events.iter().filter(|e| e["type"] == kind).count()
        })
    }

    /// Waits (up to [`EVENT_WAIT_SECS`]) for an event of `kind` about showtime `showtime_id` (correlated by it) that
    /// `matches`, valid against its schema; returns it.
    pub async fn expect_showtime(
        &mut self,
        showtime_id: &str,
        kind: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(EVENT_WAIT_SECS);
        let sqs = stack().sqs();
        loop {
            if let Some(found) = self
                .seen
                .get(showtime_id)
                .into_iter()
                .flatten()
                .find(|e| e["type"] == kind && matches(e))
            {
                let errors = event_schema_errors(kind, found);
                assert!(
                    errors.is_empty(),
                    "{kind} breaks its schema: {errors:?}\n{found}"
                );
                return found.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {kind} about {showtime_id}: {:?}",
                self.seen.get(showtime_id)
            );
            let out = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for message in out.messages.unwrap_or_default() {
                let envelope: Value =
                    serde_json::from_str(message.body.as_deref().unwrap_or("{}")).expect("JSON");
                let detail = envelope["detail"].clone();
                let id = detail["correlationId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                self.seen.entry(id).or_default().push(detail);
            }
        }
    }

    /// Removes the rule and the queue.
    pub async fn close(self) {
        let stack = stack();
        let events = stack.eventbridge();
        let bus = stack.event_bus_name();
        let _ = events
            .remove_targets()
            .rule(&self.name)
            .event_bus_name(&bus)
            .ids("queue")
            .send()
            .await;
        let _ = events
            .delete_rule()
            .name(&self.name)
            .event_bus_name(&bus)
            .send()
            .await;
        let _ = stack
            .sqs()
            .delete_queue()
            .queue_url(&self.queue_url)
            .send()
            .await;
    }
}

/// How `event` breaks the schema of its type (docs/events/<type>.schema.json); empty when it does not.
pub fn event_schema_errors(kind: &str, event: &Value) -> Vec<String> {
    let path = format!(
        "{}/../docs/events/{kind}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    validator
        .iter_errors(event)
        .map(|e| e.to_string())
        .collect()
}
