//! Saga benchmark (not a test): run by `infra/local/bench.sh saga`, which starts a local stack of its own.
//!
//! Sends `--reservations` pay-now reservations (one seat each, a test card) through the gateway with
//! `Prefer: wait=10`, `--concurrency` at a time, and prints confirmed reservations per second end to end, the
//! p50/p99 latency of the POST (hold + saga + wait), and the state transitions per reservation (counted from
//! the execution histories of a sample). Bounded: a fixed number of requests, and it stops after
//! `--max-seconds`. It measures the local stack (LocalStack in one Python process, debug binaries, 2 cores),
//! not AWS.

use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};
use ticketing_tests::bench::{arg, percentile};
use ticketing_tests::{call, member, on_sale, showtime, stack, Member};

async fn reserve(buyer: &Member, show: &str, row: usize, col: usize) -> (u16, String, Duration) {
    let body = json!({"showtimeId": show, "seats": [{"row": row, "col": col}],
                      "payment": {"method": "CARD", "token": "tok_visa"}});
    let auth = buyer.auth();
    let started = Instant::now();
    let reply = call(
        Method::POST,
        "/reservations",
        Some(&body),
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await;
    let status = reply.json["status"].as_str().unwrap_or("?").to_string();
    (reply.status, status, started.elapsed())
}

#[tokio::main]
async fn main() {
    let reservations = arg("--reservations", 100, 2_000);
    let concurrency = arg("--concurrency", 8, 64);
    let max_seconds = arg("--max-seconds", 300, 3_600) as u64;
    let cols = 20;
    let rows = reservations.div_ceil(cols).max(1);
    let (organizer, performance) = on_sale(10).await;
    let show = showtime(&organizer, &performance, rows as u32, cols as u32).await;
    let buyers: Vec<Member> = stream::iter(0..concurrency)
        .then(|_| member("USER"))
        .collect()
        .await;
    // Warm the function containers and the state machine once.
    let _ = reserve(&buyers[0], &show, rows, cols).await;

    let deadline = Instant::now() + Duration::from_secs(max_seconds);
    let started = Instant::now();
    let results: Vec<(u16, String, Duration)> = stream::iter(0..reservations.saturating_sub(1))
        .map(|i| {
            let buyer = &buyers[i % buyers.len()];
            let (row, col) = (i / cols + 1, i % cols + 1);
            let show = show.clone();
            async move {
                if Instant::now() > deadline {
                    return (0, "skipped".to_string(), Duration::ZERO);
                }
                reserve(buyer, &show, row, col).await
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let confirmed = results.iter().filter(|(_, s, _)| s == "CONFIRMED").count();
    let mut latencies: Vec<Duration> = results
        .iter()
        .filter(|(code, _, _)| *code != 0)
        .map(|(_, _, d)| *d)
        .collect();
    latencies.sort();

    // Transitions per reservation: StateEntered events of a sample of executions.
    let (sfn, arn) = stack().sfn();
    let executions = sfn
        .list_executions()
        .state_machine_arn(&arn)
        .max_results(10)
        .send()
        .await
        .map(|o| o.executions)
        .unwrap_or_default();
    let mut transitions = Vec::new();
    for e in executions
        .iter()
        .filter(|e| e.status().as_str() == "SUCCEEDED")
    {
        if let Ok(history) = sfn
            .get_execution_history()
            .execution_arn(e.execution_arn())
            .max_results(1000)
            .send()
            .await
        {
            let entered = history
                .events()
                .iter()
                .filter(|ev| ev.r#type().as_str().ends_with("StateEntered"))
                .count();
            transitions.push(entered);
        }
    }
    let mean_transitions =
        transitions.iter().sum::<usize>() as f64 / transitions.len().max(1) as f64;

    println!("saga benchmark (local stack: LocalStack on one Python process, debug binaries)");
    println!(
        "  reservations      {} sent, {} CONFIRMED, {} other",
        results.len(),
        confirmed,
        results.len() - confirmed
    );
    println!(
        "  throughput        {:.1} confirmed reservations/s over {:.1} s ({} at a time)",
        confirmed as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        concurrency
    );
    println!(
        "  POST latency      p50 {:.0} ms, p99 {:.0} ms (hold + saga + Prefer: wait)",
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0
    );
    println!(
        "  transitions       {:.1} states entered per reservation (sample of {})",
        mean_transitions,
        transitions.len()
    );
}
