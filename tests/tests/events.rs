//! The saga's events reach the bus: a rule of the test's own routes the buyer's events to a queue of its own,
//! and the events of two real reservations (one confirmed, one declined) are read back in order, each valid
//! against its schema in docs/events/. (Every saga test checks its events the same way; this one also checks
//! that the schemas catch a broken event.)

use reqwest::Method;
use serde_json::json;
use ticketing_tests::{call, event_schema_errors, member, sale, EventTap};

#[tokio::test]
async fn the_saga_publishes_versioned_events_that_match_their_schemas() {
    let (_, _, show) = sale(1, 2).await;
    let buyer = member("USER").await;
    let mut tap = EventTap::new(&[&buyer]).await;
    let auth = buyer.auth();
    for (col, token, kinds) in [
        (
            1,
            "tok_visa",
            [
                "ReservationHeld",
                "PaymentCompleted",
                "ReservationConfirmed",
            ],
        ),
        (
            2,
            "tok_chargeDeclined",
            ["ReservationHeld", "PaymentFailed", "ReservationFailed"],
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
        tap.expect(reply.json["id"].as_str().expect("id"), &kinds)
            .await;
    }
    tap.close().await;

    // The schemas are not a formality: an event without its correlation id, or of another version, fails.
    let broken = json!({"eventId": "r:ReservationConfirmed", "type": "ReservationConfirmed", "version": 2,
                        "memberId": "m", "occurredAt": "2026-12-01T00:00:00Z", "data": {}});
    assert!(event_schema_errors("ReservationConfirmed", &broken).len() >= 2);
}
