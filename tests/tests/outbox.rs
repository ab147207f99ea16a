//! The transactional outbox: an event is written with its change and reaches the bus through the table's
//! stream and the publisher, even when the publisher crashes after the write and before the publish.

use aws_sdk_dynamodb::types::AttributeValue;
use ticketing_tests::{member, on_sale, reserve, showtime, stack, EventTap, Member};

/// Makes the next `times` attempts of `function` at `who`'s events crash (test stacks run with
/// `FaultInjection=on`).
async fn inject_fault(function: &str, who: &Member, times: u32) {
    stack()
        .dynamodb()
        .await
        .put_item()
        .table_name(stack().table_name())
        .item("PK", AttributeValue::S(format!("FAULT#{function}")))
        .item("SK", AttributeValue::S(who.id.clone()))
        .item("type", AttributeValue::S("Fault".into()))
        .item("remaining", AttributeValue::N(times.to_string()))
        .send()
        .await
        .expect("inject the fault");
}

async fn fault_remaining(function: &str, who: &Member) -> u64 {
    let item = stack()
        .dynamodb()
        .await
        .get_item()
        .table_name(stack().table_name())
        .key("PK", AttributeValue::S(format!("FAULT#{function}")))
        .key("SK", AttributeValue::S(who.id.clone()))
        .consistent_read(true)
        .send()
        .await
        .expect("read the fault")
        .item
        .expect("the fault item");
    match item.get("remaining") {
        Some(AttributeValue::N(n)) => n.parse().expect("a number"),
        other => panic!("remaining is {other:?}"),
    }
}

#[tokio::test]
async fn a_publisher_crash_between_the_write_and_the_publish_still_delivers_the_event() {
    let (organizer, performance) = on_sale(10).await;
    let show = showtime(&organizer, &performance, 1, 2).await;
    let buyer = member("USER").await;
    let mut tap = EventTap::new(&[&buyer]).await;
    // The hold commits with its ReservationHeld item; the publisher then dies twice on it.
    inject_fault("publisher", &buyer, 2).await;
    let held = reserve(&buyer, &show, &[(1, 1)], None, None).await;
    assert_eq!(held.status, 201, "{}", held.text);
    let id = held.json["id"].as_str().expect("id").to_string();
    tap.expect(&id, &["ReservationHeld"]).await;
    assert_eq!(
        fault_remaining("publisher", &buyer).await,
        0,
        "the publisher crashed on the event twice before it went out"
    );
    assert_eq!(
        tap.copies(&id, "ReservationHeld"),
        1,
        "a crash before the publish sends the event once"
    );
    tap.close().await;
}
