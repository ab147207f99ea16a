//! The transactional outbox: an event is written with its change and reaches the bus through the table's
//! stream and the publisher, even when the publisher crashes after the write and before the publish.

use ticketing_tests::{fault_remaining, inject_fault, member, reserve, sale, EventTap};

#[tokio::test]
async fn a_publisher_crash_between_the_write_and_the_publish_still_delivers_the_event() {
    let (_, _, show) = sale(1, 2).await;
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
