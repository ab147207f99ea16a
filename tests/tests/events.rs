//! The saga's events reach the bus: a rule of this test's own routes every `ticketing.reservations` event to a
//! queue of its own, and the events of two real reservations (one confirmed, one declined) are read back, in
//! order per reservation, each valid against its schema in docs/events/.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use ticketing_tests::{call, member, on_sale, showtime, stack, unique};

fn schema(kind: &str) -> jsonschema::Validator {
    let path = format!(
        "{}/../docs/events/{kind}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn the_saga_publishes_versioned_events_that_match_their_schemas() {
    let stack = stack();
    let sqs = stack.sqs();
    let events = stack.eventbridge();
    let name = format!("events-test-{}", unique());
    let queue_url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    let queue_arn = format!("arn:aws:sqs:us-east-1:000000000000:{name}");
    let bus = stack.event_bus_name();
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&bus)
        .event_pattern(json!({"source": ["ticketing.reservations"]}).to_string())
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
                .arn(&queue_arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("target");

    let (organizer, performance) = on_sale(10).await;
    let show = showtime(&organizer, &performance, 1, 2).await;
    let buyer = member("USER").await;
    let auth = buyer.auth();
    let mut expected: HashMap<String, Vec<&str>> = HashMap::new();
    for (col, token, kinds) in [
        (
            1,
            "tok_visa",
            vec![
                "ReservationHeld",
                "PaymentCompleted",
                "ReservationConfirmed",
            ],
        ),
        (
            2,
            "tok_chargeDeclined",
            vec!["ReservationHeld", "PaymentFailed", "ReservationFailed"],
        ),
    ] {
        let body = json!({"showtimeId": show, "seats": [{"row": 1, "col": col}], "payment": {"method": "CARD", "token": token}});
        let reply = call(
            Method::POST,
            "/reservations",
            Some(&body),
            &[("authorization", auth.as_str()), ("prefer", "wait=10")],
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        expected.insert(reply.json["id"].as_str().expect("id").to_string(), kinds);
    }

    // Read the queue until every expected event of these two reservations has come (other tests' events
    // share the bus and are skipped).
    let mut seen: HashMap<String, Vec<Value>> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let complete = |seen: &HashMap<String, Vec<Value>>| {
        expected
            .iter()
            .all(|(id, kinds)| seen.get(id).map_or(0, Vec::len) >= kinds.len())
    };
    while !complete(&seen) && Instant::now() < deadline {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
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
            if expected.contains_key(&id) {
                assert_eq!(envelope["source"], "ticketing.reservations");
                assert_eq!(envelope["detail-type"], detail["type"]);
                seen.entry(id).or_default().push(detail);
            }
        }
    }
    let _ = events
        .remove_targets()
        .rule(&name)
        .event_bus_name(&bus)
        .ids("queue")
        .send()
        .await;
    let _ = events
        .delete_rule()
        .name(&name)
        .event_bus_name(&bus)
        .send()
        .await;
    let _ = sqs.delete_queue().queue_url(&queue_url).send().await;

    for (id, kinds) in &expected {
        let got = seen.get(id).cloned().unwrap_or_default();
        let types: Vec<&str> = got.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(&types, kinds, "the events of {id}, in order");
        for event in &got {
            let kind = event["type"].as_str().unwrap_or_default();
            let validator = schema(kind);
            let errors: Vec<String> = validator
                .iter_errors(event)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{kind} does not match its schema: {errors:?}\n{event}"
            );
            assert_eq!(event["eventId"], format!("{id}:{kind}"));
            assert_eq!(event["correlationId"], id.as_str());
        }
    }
}
