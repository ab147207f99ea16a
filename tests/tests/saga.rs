//! The reservation saga for real: POST /reservations starts statemachines/reservation.asl.json in LocalStack's
//! Step Functions, whose every step is our reservation-saga function. Each test asserts the final state of the
//! seats, the reservation, the payment and the wallet with its ledger, and ends by reconciling: the payments
//! completed minus refunds equal the price of the seats SOLD, no seat is SOLD twice, and every wallet balance is
//! the sum of its ledger.

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use ticketing_tests::{
    arm_pause, call, crashes_left, executions_ended, member, on_sale, payment_of, reconcile,
    release_pause, reservation_id, reserve, rewind_hold, sale, seat_map, settled, showtime, top_up,
    unique, wallet_balance, EventTap, Member,
};

const SOLD: [&str; 3] = [
    "ReservationHeld",
    "PaymentCompleted",
    "ReservationConfirmed",
];
const REFUSED: [&str; 3] = ["ReservationHeld", "PaymentFailed", "ReservationFailed"];

#[tokio::test]
async fn pay_now_with_wallet_and_with_card() {
    let (_, performance, show) = sale(2, 4).await;
    let ada = member("USER").await;
    let mut tap = EventTap::new(&[&ada]).await;
    top_up(&ada, 400_000).await;

    let by_wallet = reserve(
        &ada,
        &show,
        &[(1, 1), (1, 2)],
        Some(json!({"method": "WALLET"})),
        None,
    )
    .await;
    assert_eq!(
        by_wallet.status, 201,
        "the outcome within Prefer: wait: {}",
        by_wallet.text
    );
    assert_eq!(by_wallet.header("preference-applied"), Some("wait=10"));
    assert_eq!(by_wallet.json["status"], "CONFIRMED", "{}", by_wallet.text);
    let wallet_id = by_wallet.json["id"].as_str().expect("id").to_string();
    let pay = payment_of(&ada, &wallet_id).await;
    assert_eq!(pay.status, 200, "{}", pay.text);
    assert_eq!(pay.json["status"], "COMPLETED");
    assert_eq!(pay.json["method"], "WALLET");
    assert_eq!(pay.json["amount"], 300_000);
    assert_eq!(wallet_balance(&ada).await, 100_000);

    let by_card = reserve(
        &ada,
        &show,
        &[(2, 1)],
        Some(json!({"method": "CARD", "token": "tok_visa"})),
        None,
    )
    .await;
    assert_eq!(by_card.status, 201, "{}", by_card.text);
    assert_eq!(by_card.json["status"], "CONFIRMED", "{}", by_card.text);
    let card_id = by_card.json["id"].as_str().expect("id").to_string();
    let pay = payment_of(&ada, &card_id).await;
    assert_eq!(pay.json["status"], "COMPLETED", "{}", pay.text);
    assert_eq!(pay.json["card"], json!({"brand": "visa", "last4": "4242"}));
    assert!(pay.json["providerReference"]
        .as_str()
        .is_some_and(|r| r.starts_with("ch_test_")));
    assert_eq!(
        wallet_balance(&ada).await,
        100_000,
        "a card payment leaves the wallet alone"
    );

    let map = seat_map(&performance, &show).await;
    assert_eq!(map["seatRows"][0]["seats"], "SSAA");
    assert_eq!(map["seatRows"][1]["seats"], "SAAA");
    tap.expect(&wallet_id, &SOLD).await;
    tap.expect(&card_id, &SOLD).await;
    tap.close().await;
    reconcile(&performance, &show, &[(&ada, vec![wallet_id, card_id])]).await;
}

#[tokio::test]
async fn refused_payments_release_the_seats_with_the_reason() {
    let (_, performance, show) = sale(1, 4).await;
    let bob = member("USER").await;
    let cy = member("USER").await;
    let mut tap = EventTap::new(&[&bob, &cy]).await;
    top_up(&bob, 1_000).await;

    let mut ids = Vec::new();
    for (seat, payment, reason) in [
        (
            (1, 1),
            json!({"method": "CARD", "token": "tok_chargeDeclined"}),
            "card_declined",
        ),
        (
            (1, 2),
            json!({"method": "CARD", "token": "tok_chargeDeclinedInsufficientFunds"}),
            "insufficient_funds",
        ),
        ((1, 3), json!({"method": "WALLET"}), "insufficient_points"),
    ] {
        let r = reserve(&bob, &show, &[seat], Some(payment), None).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.json["status"], "FAILED", "{}", r.text);
        assert_eq!(r.json["failureReason"], reason, "{}", r.text);
        let id = r.json["id"].as_str().expect("id").to_string();
        let pay = payment_of(&bob, &id).await;
        assert_eq!(pay.json["status"], "FAILED", "{}", pay.text);
        ids.push(id);
    }
    assert_eq!(wallet_balance(&bob).await, 1_000, "nothing was spent");
    let map = seat_map(&performance, &show).await;
    assert_eq!(
        map["seatRows"][0]["seats"], "AAAA",
        "the seats are sellable again"
    );
    // And sold to the next buyer.
    let again = reserve(
        &cy,
        &show,
        &[(1, 1)],
        Some(json!({"method": "CARD", "token": "tok_mastercard"})),
        None,
    )
    .await;
    assert_eq!(again.json["status"], "CONFIRMED", "{}", again.text);
    let cy_id = again.json["id"].as_str().expect("id").to_string();
    for id in &ids {
        tap.expect(id, &REFUSED).await;
    }
    tap.expect(&cy_id, &SOLD).await;
    tap.close().await;
    reconcile(&performance, &show, &[(&bob, ids), (&cy, vec![cy_id])]).await;
}

#[tokio::test]
async fn a_transient_card_failure_is_retried_and_charged_once() {
    let (_, performance, show) = sale(1, 2).await;
    let dee = member("USER").await;
    let mut tap = EventTap::new(&[&dee]).await;
    let r = reserve(
        &dee,
        &show,
        &[(1, 1)],
        Some(json!({"method": "CARD", "token": "tok_transient_2"})),
        None,
    )
    .await;
    let id = r.json["id"].as_str().expect("id").to_string();
    let done = settled(&dee, &id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}");
    let pay = payment_of(&dee, &id).await;
    assert_eq!(pay.json["status"], "COMPLETED", "{}", pay.text);
    tap.expect(&id, &SOLD).await;
    tap.close().await;
    reconcile(&performance, &show, &[(&dee, vec![id])]).await;
}

#[tokio::test]
async fn pay_later_within_the_hold() {
    let (_, performance, show) = sale(1, 3).await;
    let eve = member("USER").await;
    let mut tap = EventTap::new(&[&eve]).await;
    top_up(&eve, 500_000).await;
    let held = reserve(&eve, &show, &[(1, 2)], None, None).await;
    assert_eq!(held.status, 201, "{}", held.text);
    assert_eq!(held.json["status"], "HELD");
    let id = held.json["id"].as_str().expect("id").to_string();
    assert_eq!(
        payment_of(&eve, &id).await.status,
        404,
        "no payment before paying"
    );

    let auth = eve.auth();
    let paid = call(
        Method::POST,
        &format!("/reservations/{id}/payment"),
        Some(&json!({"payment": {"method": "WALLET"}})),
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await;
    assert_eq!(paid.status, 201, "{}", paid.text);
    assert_eq!(paid.json["status"], "CONFIRMED", "{}", paid.text);
    assert_eq!(wallet_balance(&eve).await, 500_000 - 150_000);
    // Paying twice is refused, and moves nothing.
    let twice = call(
        Method::POST,
        &format!("/reservations/{id}/payment"),
        Some(&json!({"payment": {"method": "WALLET"}})),
        &[("authorization", auth.as_str())],
    )
    .await;
    twice.assert_problem(409, "/problems/conflict");
    assert_eq!(wallet_balance(&eve).await, 350_000);
    assert_eq!(
        seat_map(&performance, &show).await["seatRows"][0]["seats"],
        "ASA"
    );
    tap.expect(&id, &SOLD).await;
    tap.close().await;
    reconcile(&performance, &show, &[(&eve, vec![id])]).await;
}

#[tokio::test]
async fn an_unpaid_hold_expires_and_its_seats_sell_again() {
    // The shortest hold window a performance may have: one minute.
    let (organizer, performance) = on_sale(1).await;
    let show = showtime(&organizer, &performance, 1, 2).await;
    let fay = member("USER").await;
    let gus = member("USER").await;
    let mut tap = EventTap::new(&[&fay, &gus]).await;
    let held = reserve(&fay, &show, &[(1, 1)], None, None).await;
    assert_eq!(held.json["status"], "HELD", "{}", held.text);
    let id = held.json["id"].as_str().expect("id").to_string();
    let done = settled(&fay, &id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "EXPIRED", "{done}");
    assert_eq!(done["failureReason"], "hold_expired", "{done}");
    // Released for real (not only read as expired): the next buyer buys it.
    let bought = reserve(
        &gus,
        &show,
        &[(1, 1)],
        Some(json!({"method": "CARD", "token": "tok_visa"})),
        None,
    )
    .await;
    assert_eq!(bought.json["status"], "CONFIRMED", "{}", bought.text);
    let gus_id = bought.json["id"].as_str().expect("id").to_string();
    tap.expect(&id, &["ReservationHeld", "ReservationExpired"])
        .await;
    tap.expect(&gus_id, &SOLD).await;
    tap.close().await;
    reconcile(
        &performance,
        &show,
        &[(&fay, vec![id]), (&gus, vec![gus_id])],
    )
    .await;
}

#[tokio::test]
async fn one_idempotency_key_repeated_concurrently_is_one_reservation_and_one_charge() {
    let (_, performance, show) = sale(1, 2).await;
    let hal = member("USER").await;
    let mut tap = EventTap::new(&[&hal]).await;
    top_up(&hal, 200_000).await;
    let key = unique();
    let replies = join_all((0..6).map(|_| {
        reserve(
            &hal,
            &show,
            &[(1, 2)],
            Some(json!({"method": "WALLET"})),
            Some(&key),
        )
    }))
    .await;
    let ids: std::collections::HashSet<_> = replies
        .iter()
        .map(|r| r.json["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let id = ids.into_iter().next().unwrap_or_default();
    let done = settled(&hal, &id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}");
    assert_eq!(
        wallet_balance(&hal).await,
        200_000 - 150_000,
        "charged once"
    );
    tap.expect(&id, &SOLD).await;
    tap.close().await;
    reconcile(&performance, &show, &[(&hal, vec![id])]).await;
}

#[tokio::test]
async fn a_capture_after_the_hold_ran_out_is_refunded_and_fails() {
    let (_, performance, show) = sale(1, 2).await;
    let ivy = member("USER").await;
    let mut tap = EventTap::new(&[&ivy]).await;
    // The card is charged; the Pay step is held at its end (the charge recorded, no answer given yet) while
    // the clock passes the hold's end, so the capture lands after the hold ran out.
    let key = unique();
    let id = reservation_id(&ivy, &key);
    arm_pause(&id, "pay@after").await;
    let auth = ivy.auth();
    let body = json!({"showtimeId": show, "seats": [{"row": 1, "col": 1}], "payment": {"method": "CARD", "token": "tok_visa"}});
    let r = call(
        Method::POST,
        "/reservations",
        Some(&body),
        &[("authorization", auth.as_str()), ("idempotency-key", &key)],
    )
    .await;
    assert_eq!(
        r.status, 202,
        "no Prefer: wait, so the outcome comes later: {}",
        r.text
    );
    assert_eq!(r.json["id"], id.as_str());
    let deadline = Instant::now() + Duration::from_secs(20);
    while crashes_left(&id, "pay@after").await > 0 {
        assert!(Instant::now() < deadline, "the saga never paid");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    rewind_hold(&id, &show, &[(1, 1)]).await;
    release_pause(&id, "pay@after").await;
    let done = settled(&ivy, &id, Duration::from_secs(40)).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["failureReason"], "hold_expired", "{done}");
    let pay = payment_of(&ivy, &id).await;
    assert_eq!(
        pay.json["status"], "CANCELED",
        "charged, then refunded in full: {}",
        pay.text
    );
    assert_eq!(pay.json["refundedAmount"], pay.json["amount"]);
    assert_eq!(
        seat_map(&performance, &show).await["seatRows"][0]["seats"],
        "AA"
    );
    executions_ended(std::slice::from_ref(&id)).await;
    tap.expect(
        &id,
        &[
            "ReservationHeld",
            "PaymentCompleted",
            "RefundIssued",
            "ReservationFailed",
        ],
    )
    .await;
    tap.close().await;
    reconcile(&performance, &show, &[(&ivy, vec![id])]).await;
}

#[tokio::test]
async fn many_buyers_with_declines_timeouts_and_wallet_races_reconcile() {
    // One-minute holds, so the buyers who never pay time out within the test.
    let (organizer, performance) = on_sale(1).await;
    let show = showtime(&organizer, &performance, 4, 5).await;
    let mut buyers = Vec::new();
    for _ in 0..12 {
        buyers.push(member("USER").await);
    }
    // Every fourth buyer has points for exactly one VIP seat and tries two at once.
    for b in buyers.iter().step_by(4) {
        top_up(b, 150_000).await;
    }
    let started = Instant::now();
    let mut attempts = Vec::new();
    for i in 0..buyers.len() {
        let seat = ((i % 4) as u32 + 1, (i / 4) as u32 + 1);
        let payment = match i % 4 {
            0 => Some(json!({"method": "WALLET"})),
            1 => Some(json!({"method": "CARD", "token": "tok_visa"})),
            2 => Some(json!({"method": "CARD", "token": "tok_chargeDeclined"})),
            _ => None,
        };
        attempts.push((i, vec![seat], payment.clone()));
        if i % 4 == 0 {
            // The same buyer's second, simultaneous VIP reservation: the wallet covers only one.
            let k = (i / 4) as u32;
            attempts.push((i, vec![(1 + k % 2, 4 + k / 2)], payment));
        }
        // A rival for the same seat: one of the two gets it, the other a 409.
        if i % 4 == 1 {
            attempts.push((
                (i + 1) % buyers.len(),
                vec![seat],
                Some(json!({"method": "CARD", "token": "tok_mastercard"})),
            ));
        }
    }
    let replies = join_all(
        attempts
            .iter()
            .map(|(i, seats, payment)| reserve(&buyers[*i], &show, seats, payment.clone(), None)),
    )
    .await;
    let mut per_buyer: Vec<Vec<String>> = vec![Vec::new(); buyers.len()];
    for ((i, _, _), reply) in attempts.iter().zip(&replies) {
        match reply.status {
            201 | 202 => per_buyer[*i].push(reply.json["id"].as_str().expect("id").to_string()),
            409 => assert_eq!(
                reply.json["type"], "/problems/seats-unavailable",
                "{}",
                reply.text
            ),
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    // Everything ends: paid, refused, or expired within the window plus a slack.
    let all: Vec<String> = per_buyer.iter().flatten().cloned().collect();
    for (i, ids) in per_buyer.iter().enumerate() {
        for id in ids {
            let done = settled(&buyers[i], id, Duration::from_secs(150)).await;
            assert_ne!(
                done["status"], "HELD",
                "{id} stayed HELD past its window: {done}"
            );
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(170),
        "took {:?}",
        started.elapsed()
    );
    executions_ended(&all).await;
    // The wallet races: each such buyer got at most the one seat their points cover, and spent no more.
    for b in buyers.iter().step_by(4) {
        let balance = wallet_balance(b).await;
        assert!(
            balance == 0 || balance == 150_000,
            "a wallet spent twice or not at all: {balance}"
        );
    }
    let pairs: Vec<(&Member, Vec<String>)> = buyers.iter().zip(per_buyer).collect();
    reconcile(&performance, &show, &pairs).await;
}
