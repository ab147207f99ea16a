//! The card provider fails or slows down, and the sale goes on (issue 24): the circuit breaker opens within its
//! window, card buyers then get pay-later holds without a provider call, wallet payments go on, top-ups and
//! card payments answer 503 with `Retry-After`; once the provider is back, probe payments close it and the held
//! buyers pay in time. The outage is staged from outside with the test-mode provider's fault switch.
//!
//! A binary of its own: the breaker and the fault switch are the whole stack's, so no other test may pay by
//! card meanwhile (cargo runs test binaries one after another). Its tests take turns (`OUTAGE`) and each
//! leaves the switch off and the breaker CLOSED, whatever happened.

use futures::FutureExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing::store::breaker::{ProviderFault, StoredBreaker};
use ticketing::store::Store;
use ticketing_tests::{
    admin, arm_pause, buyer_with, provider_healthy, provider_store, reconcile, release_pause,
    reservation_id, sale, settled, stack, unique, EventTap, Member,
};

/// One staged outage at a time.
static OUTAGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const CARD: &str = "tok_visa";

async fn store() -> Store {
    provider_store().await
}

async fn breaker() -> StoredBreaker {
    store()
        .await
        .breaker(true)
        .await
        .expect("the breaker's state")
}

/// Runs `body` alone among the outage tests, and resets the switch and the breaker after it, even when it
/// panics (so that the tests after this binary pay by card against a healthy provider).
async fn staged<F: std::future::Future<Output = ()>>(body: F) {
    let _turn = OUTAGE.lock().await;
    provider_healthy().await;
    let outcome = std::panic::AssertUnwindSafe(body).catch_unwind().await;
    provider_healthy().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn provider(admin: &Member) -> Value {
    let r = admin
        .call(Method::GET, "/admin/payment-provider", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// Polls `GET /admin/payment-provider` until the breaker reads `state`.
async fn until_state(admin: &Member, state: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let seen = provider(admin).await;
        if seen["state"] == state {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "the breaker never read {state}: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `POST /reservations` of one seat paid by card, without waiting for the outcome: 202 while the saga pays,
/// 201 when the card fell back to pay-later.
async fn hold(
    buyer: &Member,
    show: &str,
    seat: (u32, u32),
    key: Option<&str>,
) -> ticketing_tests::Reply {
    let auth = buyer.auth();
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    let body =
        json!({"showtimeId": show, "seats": [{"row": seat.0, "col": seat.1}], "payment": card()});
    ticketing_tests::call(Method::POST, "/reservations", Some(&body), &headers).await
}

/// `n` new buyers, each holding a seat of `row` by card at once (the saga pays): the buyers and their holds.
async fn card_buyers(n: u32, show: &str, row: u32) -> (Vec<Member>, Vec<String>) {
    let buyers: Vec<Member> =
        futures::future::join_all((0..n).map(|_| ticketing_tests::member("USER"))).await;
    let held = futures::future::join_all(buyers.iter().zip(1..).map(|(buyer, col)| async move {
        let r = hold(buyer, show, (row, col), None).await;
        assert_eq!(r.status, 202, "{}", r.text);
        id_of(&r)
    }))
    .await;
    (buyers, held)
}

fn card() -> Value {
    json!({"method": "CARD", "token": CARD})
}

fn id_of(reply: &ticketing_tests::Reply) -> String {
    reply.json["id"]
        .as_str()
        .expect("a reservation id")
        .to_string()
}

async fn reservation(buyer: &Member, id: &str) -> Value {
    let r = buyer
        .call(Method::GET, &format!("/reservations/{id}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// Pays a waiting hold by card through `POST /reservations/{id}/payment`, trying again while the breaker
/// answers 503 (its cool-down), and waits for the outcome.
async fn pay_by_card_when_open(buyer: &Member, id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let r = buyer
            .call(
                Method::POST,
                &format!("/reservations/{id}/payment"),
                Some(&json!({"payment": card()})),
            )
            .await;
        match r.status {
            201 | 202 => {}
            503 => {
                r.assert_problem(503, "/problems/payment-provider-unavailable");
                assert!(r.header("retry-after").is_some(), "503 without Retry-After");
                assert!(Instant::now() < deadline, "cards never taken again");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            _ => panic!("paying {id}: {} {}", r.status, r.text),
        }
        let done = settled(buyer, id, Duration::from_secs(30)).await;
        if done["status"] == "CONFIRMED" {
            return done;
        }
        // The saga found the breaker still HALF_OPEN with its probes out and deferred it again: the hold waits.
        assert_eq!(done["status"], "HELD", "{done}");
        assert!(Instant::now() < deadline, "{id} never paid: {done}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn an_outage_opens_the_breaker_card_buyers_fall_back_to_pay_later_and_probes_close_it() {
    staged(async {
        let admin = admin().await;
        let (_, performance, show) = sale(3, 10).await;
        let before = breaker().await;

        // Buyers who will come while the provider is down (with wallet points bought before it went down).
        let later: Vec<Member> = futures::future::join_all((0..4).map(|_| buyer_with(500_000))).await;
        // A buyer whose Pay step is held at its start while the outage begins.
        let early = ticketing_tests::member("USER").await;
        let key = unique();
        let early_id = reservation_id(&early, &key);
        arm_pause(&early_id, "pay@before").await;
        let r = hold(&early, &show, (3, 10), Some(&key)).await;
        assert_eq!(r.status, 202, "{}", r.text);

        // The provider goes down: every call fails. Eight card buyers try (each Pay step tries four times).
        store()
            .await
            .set_provider_fault(Some(ProviderFault::Fail))
            .await
            .expect("switch on");
        let started = Instant::now();
        let (unlucky, held) = card_buyers(8, &show, 1).await;
        let open = until_state(&admin, "OPEN", Duration::from_secs(30)).await;
        let opened_after = started.elapsed();
        // Within the window of its settings (the window it shows now starts at the opening).
        let window = open["window"]["seconds"].as_u64().expect("window seconds");
        assert!(opened_after.as_secs() <= window, "opened after {opened_after:?}: {open}");
        assert!(open["retryAfterSeconds"].as_u64().is_some(), "{open}");
        // The held Pay step goes on now: the breaker refuses, so its card falls back and the machine waits.
        release_pause(&early_id, "pay@before").await;
        // Every process trusts the state it read for a second: a call admitted just before the opening may
        // still be on its way. From here on the provider must not be called until it is back.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let calls_when_open = store().await.faulted_calls().await.expect("calls");
        // At least 20 calls in the window (the top-ups before the outage count too), half of them failed.
        assert!(calls_when_open >= 10, "{calls_when_open} failed calls opened it");

        // While it is open (10 s of cool-down on test stacks), a card hold is taken without a provider call:
        // pay-later, with Retry-After; a top-up and a card payment answer 503 with Retry-After.
        let mut tap = EventTap::new(&[&later[0]]).await;
        let fallen: Vec<String> = futures::future::join_all(later.iter().enumerate().map(
            |(i, buyer)| {
                let show = show.clone();
                async move {
                    let r = hold(buyer, &show, (2, i as u32 + 1), None).await;
                    assert_eq!(r.status, 201, "{}", r.text);
                    assert_eq!(r.json["status"], "HELD", "{}", r.text);
                    assert_eq!(r.json["fallback"], "PAY_LATER", "{}", r.text);
                    let retry: u64 = r
                        .header("retry-after")
                        .and_then(|v| v.parse().ok())
                        .expect("Retry-After in seconds");
                    assert!((1..=10).contains(&retry), "Retry-After {retry}");
                    id_of(&r)
                }
            },
        ))
        .await;
        let top_up = later[0]
            .call(
                Method::POST,
                "/wallet/charge",
                Some(&json!({"amount": 1000, "payment": {"token": CARD}})),
            )
            .await;
        top_up.assert_problem(503, "/problems/payment-provider-unavailable");
        assert!(top_up.header("retry-after").is_some(), "{}", top_up.text);
        let by_card = later[0]
            .call(
                Method::POST,
                &format!("/reservations/{}/payment", fallen[0]),
                Some(&json!({"payment": card()})),
            )
            .await;
        by_card.assert_problem(503, "/problems/payment-provider-unavailable");
        assert!(by_card.header("retry-after").is_some(), "{}", by_card.text);

        // The paused buyer's card fell back too, in its Pay step.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = reservation(&early, &early_id).await;
            if r["fallback"] == "PAY_LATER" {
                assert_eq!(r["status"], "HELD", "{r}");
                break;
            }
            assert!(Instant::now() < deadline, "the Pay step never deferred: {r}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // Wallet payments go on.
        let by_wallet = later[3]
            .call(
                Method::POST,
                &format!("/reservations/{}/payment", fallen[3]),
                Some(&json!({"payment": {"method": "WALLET"}})),
            )
            .await;
        assert!(
            by_wallet.status == 201 || by_wallet.status == 202,
            "{}",
            by_wallet.text
        );
        let paid = settled(&later[3], &fallen[3], Duration::from_secs(30)).await;
        assert_eq!(paid["status"], "CONFIRMED", "{paid}");
        // The buyers caught by the outage end FAILED (their retries no longer call it), nothing charged.
        for (buyer, id) in unlucky.iter().zip(&held) {
            let done = settled(buyer, id, Duration::from_secs(60)).await;
            assert_eq!(done["status"], "FAILED", "{done}");
        }
        tap.expect(&fallen[0], &["ReservationHeld", "PaymentDeferred"])
            .await;
        tap.close().await;
        // None of that called the provider.
        assert_eq!(
            store().await.faulted_calls().await.expect("calls"),
            calls_when_open,
            "a provider call while the breaker was open"
        );

        // The provider is back: after the cool-down, probe payments close the breaker and the held buyers pay.
        store()
            .await
            .set_provider_fault(None)
            .await
            .expect("switch off");
        let mut waiting: Vec<(&Member, &String)> = vec![(&early, &early_id)];
        waiting.extend(later.iter().zip(&fallen).take(3));
        for (buyer, id) in &waiting {
            let done = pay_by_card_when_open(buyer, id, Duration::from_secs(90)).await;
            assert_eq!(done["status"], "CONFIRMED", "{done}");
        }
        let closed = until_state(&admin, "CLOSED", Duration::from_secs(10)).await;
        let after = breaker().await;
        // CLOSED → OPEN → HALF_OPEN → CLOSED.
        assert_eq!(after.breaker.version, before.breaker.version + 3, "{closed}");
        // The state item took the transitions and the probes only, whatever the number of payments: three
        // transitions, and for each of the three probes one take and one pass.
        let writes = after.writes - before.writes;
        assert!(writes <= 9, "the state item took {writes} writes");
        println!(
            "breaker: opened {:.1} s after the outage began, {calls_when_open} provider calls met it, \
             the state item took {writes} writes",
            opened_after.as_secs_f64()
        );
        // Each transition is an event, beside the state.
        let kinds = breaker_events(before.breaker.version).await;
        assert!(
            kinds.contains(&"PaymentProviderDegraded".to_string())
                && kinds.contains(&"PaymentProviderRecovered".to_string()),
            "{kinds:?}"
        );

        let mut buyers: Vec<(&Member, Vec<String>)> = unlucky
            .iter()
            .zip(&held)
            .map(|(b, id)| (b, vec![id.clone()]))
            .collect();
        buyers.push((&early, vec![early_id.clone()]));
        buyers.extend(later.iter().zip(&fallen).map(|(b, id)| (b, vec![id.clone()])));
        reconcile(&performance, &show, &buyers).await;
    })
    .await;
}

#[tokio::test]
async fn a_slow_provider_trips_the_breaker_by_timeouts() {
    staged(async {
        let admin = admin().await;
        let (_, performance, show) = sale(1, 10).await;
        // Every call answers after 4 s: past the 3 s timeout of every provider call.
        store()
            .await
            .set_provider_fault(Some(ProviderFault::Delay(4_000)))
            .await
            .expect("switch on");
        let (buyers, held) = card_buyers(10, &show, 1).await;
        let open = until_state(&admin, "OPEN", Duration::from_secs(40)).await;
        assert!(open["retryAfterSeconds"].as_u64().is_some(), "{open}");
        for (buyer, id) in buyers.iter().zip(&held) {
            let done = settled(buyer, id, Duration::from_secs(90)).await;
            assert_eq!(done["status"], "FAILED", "{done}");
        }
        let pairs: Vec<(&Member, Vec<String>)> = buyers
            .iter()
            .zip(&held)
            .map(|(b, id)| (b, vec![id.clone()]))
            .collect();
        reconcile(&performance, &show, &pairs).await;
    })
    .await;
}

/// The types of the breaker's events recorded after generation `since` (the outbox items beside its state).
async fn breaker_events(since: u64) -> Vec<String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let out = stack()
        .dynamodb()
        .await
        .query()
        .table_name(stack().table_name())
        .key_condition_expression("PK = :pk AND begins_with(SK, :evt)")
        .expression_attribute_values(":pk", AttributeValue::S("PSP#BREAKER".into()))
        .expression_attribute_values(":evt", AttributeValue::S("EVT#".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("query the breaker's events");
    out.items()
        .iter()
        .filter_map(|item| {
            let detail: Value = serde_json::from_str(item.get("detail")?.as_s().ok()?).ok()?;
            (detail["data"]["generation"].as_u64()? > since)
                .then(|| detail["type"].as_str().map(str::to_string))
                .flatten()
        })
        .collect()
}
