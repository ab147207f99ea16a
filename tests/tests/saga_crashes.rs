//! Every step of the sagas survives the death of its process, before its write and after it: the saga
//! function's crash switches (`FAULT#saga` items, honoured on test stacks) end the process at a chosen point,
//! as an out-of-memory kill or a lost execution environment ends a Lambda, and the state machine runs the
//! step again (or, once its runs are used up, compensates). Each case proves the crash happened (the switch
//! was taken and the execution's history holds a `Runtime.ExitError`), then checks the reservation's final
//! state, the payment, the wallet, my page, and ends with the reconciliation of money and seats.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing_tests::{
    arm_crash, arm_pause, buyer_with, confirmed, crashes_left, my_page_shows, payment_of,
    reconcile, release_pause, reservation_id, reserve, rewind_hold, sale, settled, showtime,
    task_errors, unique, wallet_balance, Member,
};

const RESERVATIONS: &str = "ReservationStateMachineArn";
const CANCELLATIONS: &str = "CancellationStateMachineArn";
const SWEEPS: &str = "ShowtimeCancellationStateMachineArn";
/// How long a case may take: a step that dies on every run is run 7 times, with up to 47 s of waits.
const WAIT: Duration = Duration::from_secs(120);

/// One hold of `seat` by `buyer`, paid with `payment`, with crash switch `point` armed `times` for it
/// before the request is sent. Returns the reservation id once the saga has ended.
async fn sale_with_crash(
    buyer: &Member,
    show: &str,
    seat: (u32, u32),
    payment: Value,
    (point, times): (&str, u32),
) -> (String, Value) {
    let key = unique();
    let id = reservation_id(buyer, &key);
    arm_crash(&id, point, times).await;
    let held = reserve(buyer, show, &[seat], Some(payment), Some(&key)).await;
    assert!(
        held.status == 201 || held.status == 202,
        "{point}: {}",
        held.text
    );
    assert_eq!(held.json["id"], id.as_str(), "{point}: the id is the key's");
    let done = settled(buyer, &id, WAIT).await;
    (id, done)
}

/// The crash happened (`times` taken from the switch, `Runtime.ExitError` in the history) and the execution
/// still ended SUCCEEDED.
async fn crashed(output: &str, execution: &str, key: &str, point: &str, taken: u64, armed: u64) {
    let errors = task_errors(output, execution).await;
    assert_eq!(
        crashes_left(key, point).await,
        armed - taken,
        "{point}: the switch was taken {taken} times"
    );
    let exits = errors.iter().filter(|e| *e == "Runtime.ExitError").count() as u64;
    assert!(
        exits >= taken,
        "{point}: {taken} crashes reported as Lambda reports them, got {errors:?}"
    );
    let (sfn, arn) = ticketing_tests::stack().sfn_of(output);
    let status = sfn
        .describe_execution()
        .execution_arn(format!(
            "{}:{execution}",
            arn.replace(":stateMachine:", ":execution:")
        ))
        .send()
        .await
        .expect("describe")
        .status()
        .as_str()
        .to_string();
    assert_eq!(status, "SUCCEEDED", "{point}: the execution ended {status}");
}

const SOLD: [&str; 3] = [
    "ReservationHeld",
    "PaymentCompleted",
    "ReservationConfirmed",
];

#[tokio::test]
async fn a_sale_survives_a_crash_before_and_after_every_step() {
    let (_, performance, show) = sale(3, 10).await;
    let buyer = buyer_with(2_000_000).await;
    let before = wallet_balance(&buyer).await;
    let wallet = json!({"method": "WALLET"});
    let card = json!({"method": "CARD", "token": "tok_visa"});
    let cases = [
        ("reserve@before", &wallet),
        ("reserve@after", &wallet),
        ("pay@before", &wallet),
        ("pay@moved", &wallet),
        ("pay@after", &wallet),
        ("pay@moved", &card),
        ("pay@after", &card),
        ("confirm@before", &wallet),
        ("confirm@after", &wallet),
    ];
    let runs = cases.iter().enumerate().map(|(i, (point, payment))| {
        let (buyer, show) = (&buyer, &show);
        async move {
            let (id, done) = sale_with_crash(
                buyer,
                show,
                (1, i as u32 + 1),
                (*payment).clone(),
                (point, 1),
            )
            .await;
            assert_eq!(done["status"], "CONFIRMED", "{point}: {done}");
            crashed(RESERVATIONS, &id, &id, point, 1, 1).await;
            let pay = payment_of(buyer, &id).await;
            assert_eq!(pay.json["status"], "COMPLETED", "{point}: {}", pay.text);
            assert_eq!(pay.json["amount"], done["totalPrice"], "{point}");
            assert_eq!(pay.json["refundedAmount"], 0, "{point}");
            my_page_shows(buyer, &id, "CONFIRMED", &SOLD).await;
            (
                id,
                done["totalPrice"].as_u64().unwrap_or(0),
                payment["method"] == "WALLET",
            )
        }
    });
    let sold = join_all(runs).await;
    let by_wallet: u64 = sold.iter().filter(|s| s.2).map(|s| s.1).sum();
    assert_eq!(
        wallet_balance(&buyer).await,
        before - by_wallet,
        "each wallet sale debited once"
    );
    let ids: Vec<String> = sold.into_iter().map(|s| s.0).collect();
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}

#[tokio::test]
async fn a_failed_sale_ends_consistent_whatever_crashes_and_however_often() {
    let (_, performance, show) = sale(3, 10).await;
    let buyer = buyer_with(2_000_000).await;
    let before = wallet_balance(&buyer).await;
    let declined = json!({"method": "CARD", "token": "tok_chargeDeclined"});
    let wallet = json!({"method": "WALLET"});

    // A declined card: its release crashes before and after its write.
    let declines = ["release@before", "release@after"]
        .into_iter()
        .enumerate()
        .map(|(i, point)| {
            let (buyer, show, declined) = (&buyer, &show, &declined);
            async move {
                let (id, done) =
                    sale_with_crash(buyer, show, (1, i as u32 + 1), declined.clone(), (point, 1))
                        .await;
                assert_eq!(done["status"], "FAILED", "{point}: {done}");
                assert_eq!(done["failureReason"], "card_declined", "{point}: {done}");
                crashed(RESERVATIONS, &id, &id, point, 1, 1).await;
                let pay = payment_of(buyer, &id).await;
                assert_eq!(pay.json["status"], "FAILED", "{point}: {}", pay.text);
                my_page_shows(
                    buyer,
                    &id,
                    "FAILED",
                    &["ReservationHeld", "PaymentFailed", "ReservationFailed"],
                )
                .await;
                id
            }
        });

    // Paid after the hold ran out: the refund crashes before its write, after moving the money, and after
    // recording it.
    let late = ["refund@before", "refund@moved", "refund@after"]
        .into_iter()
        .enumerate()
        .map(|(i, point)| {
            let (buyer, show) = (&buyer, &show);
            async move {
                let seat = (2, i as u32 + 1);
                let key = unique();
                let id = reservation_id(buyer, &key);
                arm_crash(&id, point, 1).await;
                // The Pay step is held at its end (the card charged and recorded) while the clock passes the
                // hold's end, so the confirm finds the hold over: no race with the card's speed.
                arm_pause(&id, "pay@after").await;
                let auth = buyer.auth();
                let body = json!({"showtimeId": show, "seats": [{"row": seat.0, "col": seat.1}],
                    "payment": {"method": "CARD", "token": "tok_visa"}});
                let r = ticketing_tests::call(
                    Method::POST,
                    "/reservations",
                    Some(&body),
                    &[("authorization", auth.as_str()), ("idempotency-key", &key)],
                )
                .await;
                assert_eq!(r.status, 202, "{}", r.text);
                let deadline = Instant::now() + Duration::from_secs(30);
                while crashes_left(&id, "pay@after").await > 0 {
                    assert!(Instant::now() < deadline, "the saga never paid");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                rewind_hold(&id, show, &[seat]).await;
                release_pause(&id, "pay@after").await;
                let done = settled(buyer, &id, WAIT).await;
                assert_eq!(done["status"], "FAILED", "{point}: {done}");
                assert_eq!(done["failureReason"], "hold_expired", "{point}: {done}");
                crashed(RESERVATIONS, &id, &id, point, 1, 1).await;
                let pay = payment_of(buyer, &id).await;
                assert_eq!(pay.json["status"], "CANCELED", "{point}: {}", pay.text);
                assert_eq!(pay.json["refundedAmount"], pay.json["amount"], "{point}");
                my_page_shows(
                    buyer,
                    &id,
                    "FAILED",
                    &[
                        "ReservationHeld",
                        "PaymentCompleted",
                        "RefundIssued",
                        "ReservationFailed",
                    ],
                )
                .await;
                id
            }
        });

    // A step that dies on every run (7) until its retries are used up: the machine compensates. The
    // confirm never commits (the money comes back); the wallet's debit is made and never recorded (the
    // payment is settled from the ledger, then refunded).
    let exhausted = [("confirm@before", 9u64), ("pay@moved", 9u64)]
        .into_iter()
        .enumerate()
        .map(|(i, (point, armed))| {
            let (buyer, show, wallet) = (&buyer, &show, &wallet);
            async move {
                let (id, done) = sale_with_crash(
                    buyer,
                    show,
                    (3, i as u32 + 1),
                    wallet.clone(),
                    (point, armed as u32),
                )
                .await;
                assert_eq!(done["status"], "FAILED", "{point}: {done}");
                crashed(RESERVATIONS, &id, &id, point, 7, armed).await;
                let pay = payment_of(buyer, &id).await;
                assert_eq!(pay.json["status"], "CANCELED", "{point}: {}", pay.text);
                assert_eq!(pay.json["refundedAmount"], pay.json["amount"], "{point}");
                my_page_shows(
                    buyer,
                    &id,
                    "FAILED",
                    &[
                        "ReservationHeld",
                        "PaymentCompleted",
                        "RefundIssued",
                        "ReservationFailed",
                    ],
                )
                .await;
                id
            }
        });

    let (a, b, c) = futures::join!(join_all(declines), join_all(late), join_all(exhausted));
    assert_eq!(
        wallet_balance(&buyer).await,
        before,
        "every debit of a failed sale came back"
    );
    let ids: Vec<String> = a.into_iter().chain(b).chain(c).collect();
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}

/// `DELETE /reservations/{id}`, followed until the cancellation is no longer pending.
async fn cancelled(buyer: &Member, id: &str) -> Value {
    let auth = buyer.auth();
    let reply = ticketing_tests::call(
        Method::DELETE,
        &format!("/reservations/{id}"),
        None,
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await;
    assert!(reply.status == 200 || reply.status == 202, "{}", reply.text);
    ticketing_tests::cancellation_over(buyer, id, WAIT).await
}

#[tokio::test]
async fn a_cancellation_survives_a_crash_before_and_after_every_step() {
    let (_, performance, show) = sale(3, 10).await;
    let buyer = buyer_with(2_000_000).await;
    let before = wallet_balance(&buyer).await;
    let cases = [
        ("refund-cancellation@before", 1u64, 1u64),
        ("refund@moved", 1, 1),
        ("refund-cancellation@after", 1, 1),
        ("release-cancelled@before", 1, 1),
        ("release-cancelled@after", 1, 1),
        // The refund moves the money and dies before recording it on all 7 runs: Abandon finds the refund
        // made and finishes the cancellation instead of leaving the buyer refunded with the seats (its own
        // first 2 runs die at the same point while recording it).
        ("refund@moved", 9, 9),
    ];
    let runs = cases.iter().enumerate().map(|(i, &(point, armed, taken))| {
        let buyer = &buyer;
        let show = &show;
        async move {
            let sold = reserve(
                buyer,
                show,
                &[(1 + i as u32 / 5, 1 + i as u32 % 5 * 2)],
                Some(json!({"method": "WALLET"})),
                None,
            )
            .await;
            let id = sold.json["id"].as_str().expect("id").to_string();
            let sold = settled(buyer, &id, WAIT).await;
            assert_eq!(sold["status"], "CONFIRMED", "{sold}");
            arm_crash(&id, point, armed as u32).await;
            let done = cancelled(buyer, &id).await;
            assert_eq!(done["status"], "CANCELLED", "{point}: {done}");
            let c = &done["cancellations"][0];
            assert_eq!(c["status"], "DONE", "{point}: {done}");
            let execution = c["id"].as_str().expect("cancellation id").to_string();
            crashed(CANCELLATIONS, &execution, &id, point, taken, armed).await;
            let pay = payment_of(buyer, &id).await;
            assert_eq!(
                pay.json["refundedAmount"], c["quote"]["refund"],
                "{point}: refunded once: {}",
                pay.text
            );
            my_page_shows(
                buyer,
                &id,
                "CANCELLED",
                &[
                    "ReservationHeld",
                    "PaymentCompleted",
                    "ReservationConfirmed",
                    "ReservationCancelled",
                    "RefundIssued",
                ],
            )
            .await;
            (id, c["quote"]["fee"].as_u64().unwrap_or(0))
        }
    });
    let done = join_all(runs).await;
    let fees: u64 = done.iter().map(|d| d.1).sum();
    assert_eq!(
        wallet_balance(&buyer).await,
        before - fees,
        "each cancellation refunded once (fees kept: {fees})"
    );
    let ids: Vec<String> = done.into_iter().map(|d| d.0).collect();
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}

#[tokio::test]
async fn an_organizers_sweep_survives_a_crash_before_and_after_every_step() {
    let (organizer, performance, show) = sale(1, 6).await;
    let buyer = buyer_with(2_000_000).await;
    let before = wallet_balance(&buyer).await;
    let mut ids = Vec::new();
    for col in 1..=3 {
        ids.push(confirmed(&buyer, &show, &[(1, col)], json!({"method": "WALLET"})).await);
    }
    let held = reserve(&buyer, &show, &[(1, 4)], None, None).await;
    assert_eq!(held.status, 201, "{}", held.text);
    ids.push(held.json["id"].as_str().expect("id").to_string());
    // The sweep's own steps are keyed by the showtime, each reservation's by the reservation.
    let own = [
        "list-showtime-reservations@before",
        "list-showtime-reservations@after",
        "finish-sweep@before",
        "finish-sweep@after",
    ];
    for point in own {
        arm_crash(&show, point, 1).await;
    }
    let per_reservation = [
        "cancel-for-showtime@before",
        "refund@moved",
        "cancel-for-showtime@after",
    ];
    for (id, point) in ids.iter().zip(per_reservation.iter().cycle()) {
        arm_crash(id, point, 1).await;
    }
    arm_crash(&ids[3], "cancel-for-showtime@after", 1).await;
    let auth = organizer.auth();
    let started = ticketing_tests::call(
        Method::POST,
        &format!("/performances/{performance}/showtimes/{show}/cancel"),
        Some(&json!({"reason": "The hall flooded"})),
        &[("authorization", auth.as_str())],
    )
    .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let progress = ticketing_tests::sweep_done(&organizer, &performance, &show, 1).await;
    // Counted once each, whatever died after its write.
    assert_eq!(progress["cancelled"], 3, "{progress}");
    assert_eq!(progress["released"], 1, "{progress}");
    assert_eq!(progress["refunded"], 3, "{progress}");
    assert_eq!(progress["failed"], 0, "{progress}");
    for point in own {
        assert_eq!(crashes_left(&show, point).await, 0, "{point} was taken");
    }
    for (id, point) in ids.iter().zip(per_reservation.iter().cycle()) {
        assert_eq!(
            crashes_left(id, point).await,
            0,
            "{point} of {id} was taken"
        );
    }
    let errors = task_errors(SWEEPS, &format!("{show}-1")).await;
    assert!(
        errors.iter().filter(|e| *e == "Runtime.ExitError").count() >= own.len(),
        "the sweep's own crashes, as Lambda reports them: {errors:?}"
    );
    for id in &ids {
        assert_eq!(settled(&buyer, id, WAIT).await["status"], "CANCELLED");
        let pay = payment_of(&buyer, id).await;
        if pay.status == 200 {
            assert_eq!(
                pay.json["refundedAmount"], pay.json["amount"],
                "refunded in full, once: {}",
                pay.text
            );
        }
    }
    assert_eq!(
        wallet_balance(&buyer).await,
        before,
        "every sale refunded once"
    );
    for id in &ids[..3] {
        my_page_shows(
            &buyer,
            id,
            "CANCELLED",
            &[
                "ReservationHeld",
                "PaymentCompleted",
                "ReservationConfirmed",
                "ReservationCancelled",
                "RefundIssued",
            ],
        )
        .await;
    }
    my_page_shows(
        &buyer,
        &ids[3],
        "CANCELLED",
        &["ReservationHeld", "ReservationCancelled"],
    )
    .await;
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}

#[tokio::test]
async fn a_pay_later_wait_survives_a_crash_before_and_after_it_keeps_its_token() {
    let (_, performance, show) = sale(1, 4).await;
    let buyer = buyer_with(1_000_000).await;
    let mut ids = Vec::new();
    for (col, point) in [(1, "await-payment@before"), (2, "await-payment@after")] {
        let key = unique();
        let id = reservation_id(&buyer, &key);
        arm_crash(&id, point, 1).await;
        let held = reserve(&buyer, &show, &[(1, col)], None, Some(&key)).await;
        assert_eq!(held.status, 201, "{point}: {}", held.text);
        // The wait keeps its token once its step has run again; until then the route says to retry.
        let auth = buyer.auth();
        let deadline = Instant::now() + WAIT;
        loop {
            let paid = ticketing_tests::call(
                Method::POST,
                &format!("/reservations/{id}/payment"),
                Some(&json!({"payment": {"method": "WALLET"}})),
                &[("authorization", auth.as_str()), ("prefer", "wait=10")],
            )
            .await;
            if paid.status == 201 || paid.status == 202 {
                break;
            }
            assert!(
                paid.status == 409 && paid.text.contains("not waiting for a payment yet"),
                "{point}: {}",
                paid.text
            );
            assert!(Instant::now() < deadline, "{point}: never waited for it");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let done = settled(&buyer, &id, WAIT).await;
        assert_eq!(done["status"], "CONFIRMED", "{point}: {done}");
        crashed(RESERVATIONS, &id, &id, point, 1, 1).await;
        my_page_shows(&buyer, &id, "CONFIRMED", &SOLD).await;
        ids.push(id);
    }
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}

#[tokio::test]
async fn the_compensations_of_a_failed_cancellation_and_a_failed_sweep_item_survive_crashes() {
    let (organizer, performance, show) = sale(1, 6).await;
    let swept = showtime(&organizer, &performance, 1, 4).await;
    let buyer = buyer_with(2_000_000).await;
    let before = wallet_balance(&buyer).await;
    let buy = |show: String, col: u32| {
        let buyer = &buyer;
        async move {
            let sold = reserve(
                buyer,
                &show,
                &[(1, col)],
                Some(json!({"method": "WALLET"})),
                None,
            )
            .await;
            let id = sold.json["id"].as_str().expect("id").to_string();
            assert_eq!(settled(buyer, &id, WAIT).await["status"], "CONFIRMED");
            id
        }
    };

    // Bought first: the sweep's second pass looks again at reservations made shortly before it.
    let failing = buy(swept.clone(), 1).await;
    let fine = buy(swept.clone(), 2).await;

    // The refund dies on all 7 runs before it moves anything: Abandon records the cancellation FAILED
    // (the seats stay sold, nothing refunded), and Abandon itself dies before or after its write.
    let abandoned = ["abandon-cancellation@before", "abandon-cancellation@after"]
        .into_iter()
        .enumerate()
        .map(|(i, point)| {
            let (buyer, show, buy) = (&buyer, &show, &buy);
            async move {
                let id = buy(show.clone(), i as u32 + 1).await;
                arm_crash(&id, "refund-cancellation@before", 7).await;
                arm_crash(&id, point, 1).await;
                let done = cancelled(buyer, &id).await;
                assert_eq!(done["status"], "CONFIRMED", "{point}: {done}");
                let c = &done["cancellations"][0];
                assert_eq!(c["status"], "FAILED", "{point}: {done}");
                let execution = c["id"].as_str().expect("cancellation id").to_string();
                crashed(CANCELLATIONS, &execution, &id, point, 1, 1).await;
                let pay = payment_of(buyer, &id).await;
                assert_eq!(pay.json["status"], "COMPLETED", "{point}: {}", pay.text);
                id
            }
        });
    let ids: Vec<String> = join_all(abandoned).await;

    // An organizer's sweep that cannot cancel one reservation (it dies on all 7 runs) counts the failure
    // once, though the count dies before and after its write; a second run cancels it.
    arm_crash(&failing, "cancel-for-showtime@before", 7).await;
    arm_crash(&failing, "count-sweep-failure@before", 1).await;
    arm_crash(&failing, "count-sweep-failure@after", 1).await;
    let auth = organizer.auth();
    let path = format!("/performances/{performance}/showtimes/{swept}/cancel");
    let reason = json!({"reason": "The hall flooded"});
    let headers = [("authorization", auth.as_str())];
    let cancel_show = || ticketing_tests::call(Method::POST, &path, Some(&reason), &headers);
    let first = cancel_show().await;
    assert_eq!(first.status, 202, "{}", first.text);
    let progress = ticketing_tests::sweep_done(&organizer, &performance, &swept, 1).await;
    assert_eq!(progress["failed"], 1, "counted once: {progress}");
    assert_eq!(progress["cancelled"], 1, "{progress}");
    assert_eq!(
        crashes_left(&failing, "count-sweep-failure@before").await,
        0
    );
    assert_eq!(crashes_left(&failing, "count-sweep-failure@after").await, 0);
    assert_eq!(
        settled(&buyer, &failing, WAIT).await["status"],
        "CONFIRMED",
        "not cancelled by the first run"
    );
    let second = cancel_show().await;
    assert_eq!(second.status, 202, "{}", second.text);
    let progress = ticketing_tests::sweep_done(&organizer, &performance, &swept, 2).await;
    assert_eq!(progress["failed"], 0, "{progress}");
    assert_eq!(progress["cancelled"], 2, "{progress}");
    for id in [&failing, &fine] {
        assert_eq!(settled(&buyer, id, WAIT).await["status"], "CANCELLED");
    }
    let kept: u64 = {
        let mut sum = 0;
        for id in &ids {
            sum += settled(&buyer, id, WAIT).await["totalPrice"]
                .as_u64()
                .expect("totalPrice");
        }
        sum
    };
    assert_eq!(
        wallet_balance(&buyer).await,
        before - kept,
        "the swept sales refunded once, the abandoned ones kept"
    );
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
    reconcile(&performance, &swept, &[(&buyer, vec![failing, fine])]).await;
}
