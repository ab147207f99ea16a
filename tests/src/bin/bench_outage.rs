//! Card buyers under a staged provider outage (not a test): run by `infra/local/bench.sh outage`, which runs it
//! on a stack with the payment breaker enabled, then again with it disabled, and prints both.
//!
//! Switches the test-mode provider's fault on (every call fails, or answers after `--delay-ms`), then sends
//! `--buyers` card holds of one seat each, `--concurrency` at a time, each with `Prefer: wait=10`, and waits
//! for each outcome: paid now (CONFIRMED), fell back (HELD with `fallback: PAY_LATER`) or failed (FAILED).
//! Prints the counts and the p50/p99 of `POST /reservations`, the provider calls the outage received, and
//! checks that no money moved for a failed or fallen-back buyer. The switch is off and the breaker CLOSED
//! again at the end. Bounded: a fixed number of buyers, each outcome awaited at most 60 s.
use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing::store::breaker::ProviderFault;
use ticketing_tests::bench::{arg, percentile};
use ticketing_tests::{
    call, member, provider_healthy, provider_store, reconcile, sale, settled, Member,
};

struct Options {
    buyers: usize,
    concurrency: usize,
    fault: ProviderFault,
}

fn options() -> Options {
    let delayed = std::env::args().any(|a| a == "--delay-ms");
    Options {
        buyers: arg("--buyers", 100, 2_000),
        concurrency: arg("--concurrency", 16, 128),
        fault: if delayed {
            ProviderFault::Delay(arg("--delay-ms", 4_000, 20_000) as u64)
        } else {
            ProviderFault::Fail
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Paid,
    FellBack,
    Failed,
}

/// One card buyer: the reservation, its outcome, how long `POST /reservations` took, and how long until the
/// buyer knew the outcome (paid, told to pay later, or failed).
async fn buy(
    buyer: &Member,
    show: &str,
    seat: (usize, usize),
) -> (String, Outcome, Duration, Duration) {
    let auth = buyer.auth();
    let body = json!({"showtimeId": show, "seats": [{"row": seat.0, "col": seat.1}],
        "payment": {"method": "CARD", "token": "tok_visa"}});
    let started = Instant::now();
    let r = call(
        Method::POST,
        "/reservations",
        Some(&body),
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await;
    let took = started.elapsed();
    assert!(r.status == 201 || r.status == 202, "{}", r.text);
    let id = r.json["id"].as_str().unwrap_or_default().to_string();
    let mut seen: Value = r.json;
    if seen["status"] == "HELD" && seen["fallback"] != "PAY_LATER" {
        seen = settled(buyer, &id, Duration::from_secs(60)).await;
    }
    let outcome = match (seen["status"].as_str(), seen["fallback"].as_str()) {
        (Some("CONFIRMED"), _) => Outcome::Paid,
        (Some("HELD"), Some("PAY_LATER")) => Outcome::FellBack,
        _ => Outcome::Failed,
    };
    (id, outcome, took, started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let o = options();
    let store = provider_store().await;
    provider_healthy().await;
    let cols = 50usize;
    let rows = o.buyers.div_ceil(cols).max(1);
    eprintln!(
        "setting up: a showtime of {rows}×{cols} seats, {} buyers",
        o.buyers
    );
    let (_, performance, show) = sale(rows as u32, cols as u32).await;
    let buyers: Vec<Member> = stream::iter(0..o.buyers)
        .map(|_| member("USER"))
        .buffer_unordered(8)
        .collect()
        .await;
    // bench.sh deploys the stack with this setting.
    let breaker_on = std::env::var("PAYMENT_BREAKER").unwrap_or_else(|_| "ENABLED".into());
    store
        .set_provider_fault(Some(o.fault))
        .await
        .expect("switch the fault on");
    eprintln!("outage staged ({:?}): {} card buyers", o.fault, o.buyers);
    let started = Instant::now();
    let results: Vec<(usize, String, Outcome, Duration, Duration)> =
        stream::iter(buyers.iter().enumerate())
            .map(|(i, buyer)| {
                let show = show.clone();
                async move {
                    let (id, outcome, took, known) =
                        buy(buyer, &show, (i / cols + 1, i % cols + 1)).await;
                    (i, id, outcome, took, known)
                }
            })
            .buffer_unordered(o.concurrency)
            .collect()
            .await;
    let elapsed = started.elapsed();
    let calls = store.faulted_calls().await.unwrap_or(0);
    let state = store.breaker(true).await.expect("breaker").breaker.state;
    provider_healthy().await;

    let count = |k: Outcome| results.iter().filter(|r| r.2 == k).count();
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.3).collect();
    latencies.sort();
    let mut known: Vec<Duration> = results.iter().map(|r| r.4).collect();
    known.sort();
    println!(
        "outage ({:?}), payment breaker {}: {} card buyers in {:.1} s: paid now {}, fell back to pay-later {}, failed {}; \
         POST /reservations p50 {} ms, p99 {} ms; the buyer knew the outcome after p50 {} ms, p99 {} ms; \
         the provider received {} calls; breaker {} at the end",
        o.fault,
        breaker_on,
        results.len(),
        elapsed.as_secs_f64(),
        count(Outcome::Paid),
        count(Outcome::FellBack),
        count(Outcome::Failed),
        percentile(&latencies, 50.0).as_millis(),
        percentile(&latencies, 99.0).as_millis(),
        percentile(&known, 50.0).as_millis(),
        percentile(&known, 99.0).as_millis(),
        calls,
        state,
    );
    // Money reconciles: nothing was charged for a buyer who failed or fell back.
    let pairs: Vec<(&Member, Vec<String>)> = results
        .iter()
        .map(|r| (&buyers[r.0], vec![r.1.clone()]))
        .collect();
    reconcile(&performance, &show, &pairs).await;
    println!("reconciled: completed payments equal the seats sold, no fallback or failure charged");
}
