//! The per-member ticket limit (`maxTicketsPerMember`): held and confirmed seats of one member on one
//! showtime never pass it, however many holds race for it, and every way seats go back (a hold released, a
//! payment that failed, a cancellation of some seats) gives them back to the count.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use ticketing_tests::{
    buyer_with, call, member, performance_body, publish, reconcile, reserve, settled, showtime,
    Member, Reply,
};

const WAIT: Duration = Duration::from_secs(120);

/// A performance on sale now allowing `limit` tickets per member per showtime, and a 5 x 10 showtime of it.
async fn limited_sale(limit: u32) -> (Member, String, String) {
    let organizer = member("ORGANIZER").await;
    let mut body = performance_body(
        "Limited",
        "2026-01-01T00:00:00Z",
        "2027-03-31T00:00:00Z",
        10,
    );
    body["maxTicketsPerMember"] = json!(limit);
    let approved = publish(&organizer, &body).await;
    assert_eq!(
        approved.json["maxTicketsPerMember"], limit,
        "{}",
        approved.text
    );
    let performance = approved.json["id"].as_str().expect("id").to_string();
    let show = showtime(&organizer, &performance, 5, 10).await;
    (organizer, performance, show)
}

fn id_of(reply: &Reply) -> String {
    reply.json["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {}", reply.text))
        .to_string()
}

/// The refusal of a hold over the limit: 409 `/problems/ticket-limit` naming the member's count and the limit.
fn assert_over_limit(reply: &Reply, current: u64, limit: u64) {
    assert_eq!(reply.status, 409, "{}", reply.text);
    assert_eq!(
        reply.json["type"], "/problems/ticket-limit",
        "{}",
        reply.text
    );
    assert_eq!(reply.json["current"], current, "{}", reply.text);
    assert_eq!(reply.json["limit"], limit, "{}", reply.text);
}

/// Seats `who` holds or owns on `show`, from their own reservations.
async fn seats_of(who: &Member, show: &str) -> u64 {
    let mine = who.call(Method::GET, "/reservations?limit=100", None).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    mine.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| {
            r["showtimeId"] == show && (r["status"] == "HELD" || r["status"] == "CONFIRMED")
        })
        .map(|r| r["seats"].as_array().map_or(0, |s| s.len() as u64))
        .sum()
}

async fn release(who: &Member, id: &str) {
    let auth = who.auth();
    let reply = call(
        Method::DELETE,
        &format!("/reservations/{id}"),
        None,
        &[("authorization", auth.as_str())],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn twenty_concurrent_holds_of_one_member_stop_at_the_limit_and_a_release_makes_room() {
    let (_, performance, show) = limited_sale(4).await;
    let buyer = buyer_with(1_000_000).await;

    // 20 holds of 2 seats each, all at once, each on seats of its own: only the limit can refuse them.
    let pairs: Vec<[(u32, u32); 2]> = (0..20u32)
        .map(|i| [(1 + i / 5, 1 + 2 * (i % 5)), (1 + i / 5, 2 + 2 * (i % 5))])
        .collect();
    let replies = join_all(
        pairs
            .iter()
            .map(|pair| reserve(&buyer, &show, pair, None, None)),
    )
    .await;
    let held: Vec<String> = replies
        .iter()
        .filter(|r| r.status == 201)
        .map(id_of)
        .collect();
    for refused in replies.iter().filter(|r| r.status != 201) {
        assert_eq!(refused.status, 409, "{}", refused.text);
        assert_eq!(
            refused.json["type"], "/problems/ticket-limit",
            "{}",
            refused.text
        );
        assert_eq!(refused.json["limit"], 4, "{}", refused.text);
    }
    assert_eq!(held.len(), 2, "two holds of two seats fill a limit of 4");
    assert_eq!(seats_of(&buyer, &show).await, 4);

    // One of them is paid: a sale keeps counting, so a fifth seat is still refused.
    let paid = buyer
        .call(
            Method::POST,
            &format!("/reservations/{}/payment", held[0]),
            Some(&json!({"payment": {"method": "WALLET"}})),
        )
        .await;
    assert!(paid.status == 201 || paid.status == 202, "{}", paid.text);
    assert_eq!(settled(&buyer, &held[0], WAIT).await["status"], "CONFIRMED");
    assert_over_limit(&reserve(&buyer, &show, &[(5, 10)], None, None).await, 4, 4);

    // The other hold of 2 is released: exactly 2 more can be held, and not a third.
    release(&buyer, &held[1]).await;
    let again = reserve(&buyer, &show, &[(5, 1), (5, 2)], None, None).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_over_limit(&reserve(&buyer, &show, &[(5, 3)], None, None).await, 4, 4);
    assert_eq!(seats_of(&buyer, &show).await, 4);

    // Someone else is not limited by this member's seats.
    let other = member("USER").await;
    let theirs = reserve(&other, &show, &[(5, 5), (5, 6), (5, 7), (5, 8)], None, None).await;
    assert_eq!(theirs.status, 201, "{}", theirs.text);

    release(&buyer, &id_of(&again)).await;
    release(&other, &id_of(&theirs)).await;
    reconcile(
        &performance,
        &show,
        &[
            (
                &buyer,
                vec![held[0].clone(), held[1].clone(), id_of(&again)],
            ),
            (&other, vec![id_of(&theirs)]),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_failed_payment_a_seat_change_and_a_partial_cancellation_keep_the_count() {
    let (_, performance, show) = limited_sale(4).await;
    let buyer = buyer_with(1_000_000).await;

    // A declined card ends the hold FAILED: its 3 seats go back.
    let declined = reserve(
        &buyer,
        &show,
        &[(1, 1), (1, 2), (1, 3)],
        Some(json!({"method": "CARD", "token": "tok_chargeDeclined"})),
        None,
    )
    .await;
    assert!(
        declined.status == 201 || declined.status == 202,
        "{}",
        declined.text
    );
    let declined = id_of(&declined);
    assert_eq!(settled(&buyer, &declined, WAIT).await["status"], "FAILED");

    // Two holds of 2: the limit is full. Changing one to 3 seats would pass it; to 1 seat is fine, and
    // leaves room for exactly one more.
    let first = reserve(&buyer, &show, &[(2, 1), (2, 2)], None, None).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let first = id_of(&first);
    let second = reserve(&buyer, &show, &[(2, 3), (2, 4)], None, None).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let second = id_of(&second);
    let change = |seats: Value| {
        let buyer = &buyer;
        let first = first.clone();
        async move {
            buyer
                .call(
                    Method::PUT,
                    &format!("/reservations/{first}"),
                    Some(&json!({"seats": seats})),
                )
                .await
        }
    };
    let wider =
        change(json!([{"row": 3, "col": 1}, {"row": 3, "col": 2}, {"row": 3, "col": 3}])).await;
    assert_over_limit(&wider, 4, 4);
    let narrower = change(json!([{"row": 3, "col": 1}])).await;
    assert_eq!(narrower.status, 200, "{}", narrower.text);
    let third = reserve(&buyer, &show, &[(3, 5)], None, None).await;
    assert_eq!(third.status, 201, "{}", third.text);
    let third = id_of(&third);
    assert_over_limit(&reserve(&buyer, &show, &[(3, 6)], None, None).await, 4, 4);

    // The 2-seat hold is paid, then one of its seats cancelled: that seat can be held again.
    let paid = buyer
        .call(
            Method::POST,
            &format!("/reservations/{second}/payment"),
            Some(&json!({"payment": {"method": "WALLET"}})),
        )
        .await;
    assert!(paid.status == 201 || paid.status == 202, "{}", paid.text);
    assert_eq!(settled(&buyer, &second, WAIT).await["status"], "CONFIRMED");
    let auth = buyer.auth();
    let cancelled = call(
        Method::POST,
        &format!("/reservations/{second}/cancellations"),
        Some(&json!({"seats": [{"row": 2, "col": 4}]})),
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await;
    assert!(
        cancelled.status == 200 || cancelled.status == 202,
        "{}",
        cancelled.text
    );
    let deadline = std::time::Instant::now() + WAIT;
    let fourth = loop {
        // The seat comes back when the cancellation saga gives it back.
        let reply = reserve(&buyer, &show, &[(4, 1)], None, None).await;
        if reply.status == 201 || std::time::Instant::now() > deadline {
            break reply;
        }
        assert_over_limit(&reply, 4, 4);
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(fourth.status, 201, "{}", fourth.text);
    assert_over_limit(&reserve(&buyer, &show, &[(4, 2)], None, None).await, 4, 4);
    assert_eq!(seats_of(&buyer, &show).await, 4);

    let fourth = id_of(&fourth);
    for id in [&first, &third, &fourth] {
        release(&buyer, id).await;
    }
    reconcile(
        &performance,
        &show,
        &[(&buyer, vec![declined, first, second, third, fourth])],
    )
    .await;
}
