//! Event lag benchmark (not a test): run by `infra/local/bench.sh events`, which starts a local stack of its
//! own.
//!
//! Sends a burst of `--reservations` reservations (one seat each) through the gateway, `--concurrency` at a
//! time: holds to pay later by default, or paid by card with `--pay` (three events each instead of one).
//! Then it waits for every reservation's my-page view and prints the lag from event to projection, p50/p99
//! and the largest: from the `occurredAt` of the newest event in the view to the instant the projector wrote
//! it (`projectedAtMs`). Both clocks are this host's. Bounded: a fixed number of requests, and it stops after
//! `--max-seconds`. It measures the local stack (LocalStack in one Python process, debug binaries, 2 cores),
//! not AWS.

use aws_sdk_dynamodb::types::AttributeValue;
use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing_tests::bench::{arg, percentile};
use ticketing_tests::{call, member, on_sale, showtime, stack, Member};

/// The instant of an RFC 3339 string in milliseconds since the epoch.
fn millis(at: &str) -> Option<i128> {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos() / 1_000_000)
}

/// The lag of one view (ms) once it holds `events` events: projection instant minus the newest event's.
async fn lag(
    client: &aws_sdk_dynamodb::Client,
    member: &str,
    id: &str,
    events: usize,
) -> Option<i128> {
    let item = client
        .get_item()
        .table_name(stack().table_name())
        .key("PK", AttributeValue::S(format!("MYPAGE#{member}")))
        .key("SK", AttributeValue::S(format!("RES#{id}")))
        .consistent_read(true)
        .send()
        .await
        .ok()?
        .item?;
    let folded: Vec<Value> = serde_json::from_str(item.get("events")?.as_s().ok()?).ok()?;
    if folded.len() < events {
        return None;
    }
    let newest = folded
        .iter()
        .filter_map(|e| millis(e["occurredAt"].as_str()?))
        .max()?;
    let projected: i128 = item.get("projectedAtMs")?.as_n().ok()?.parse().ok()?;
    Some(projected - newest)
}

#[tokio::main]
async fn main() {
    let reservations = arg("--reservations", 200, 5_000);
    let concurrency = arg("--concurrency", 16, 64);
    let max_seconds = arg("--max-seconds", 300, 3_600) as u64;
    let pay = std::env::args().any(|a| a == "--pay");
    let cols = 20;
    let rows = reservations.div_ceil(cols).max(1);
    let (organizer, performance) = on_sale(10).await;
    let show = showtime(&organizer, &performance, rows as u32, cols as u32).await;
    let buyers: Vec<Member> = stream::iter(0..concurrency)
        .then(|_| member("USER"))
        .collect()
        .await;
    let deadline = Instant::now() + Duration::from_secs(max_seconds);

    let started = Instant::now();
    let made: Vec<(String, String)> = stream::iter(0..reservations)
        .map(|i| {
            let buyer = &buyers[i % buyers.len()];
            let (row, col) = (i / cols + 1, i % cols + 1);
            let mut body = json!({"showtimeId": show, "seats": [{"row": row, "col": col}]});
            if pay {
                body["payment"] = json!({"method": "CARD", "token": "tok_visa"});
            }
            async move {
                if Instant::now() > deadline {
                    return None;
                }
                let auth = buyer.auth();
                let reply = call(
                    Method::POST,
                    "/reservations",
                    Some(&body),
                    &[("authorization", auth.as_str()), ("prefer", "wait=10")],
                )
                .await;
                let wanted = if pay { "CONFIRMED" } else { "HELD" };
                if reply.status != 201 || reply.json["status"] != wanted {
                    return None;
                }
                let id = reply.json["id"].as_str()?.to_string();
                Some((buyer.id.clone(), id))
            }
        })
        .buffer_unordered(concurrency)
        .filter_map(|r| async move { r })
        .collect()
        .await;
    let burst = started.elapsed();

    // Every view, as soon as it holds all of its reservation's events.
    let client = stack().dynamodb().await;
    let events = if pay { 3 } else { 1 };
    let mut pending = made.clone();
    let mut lags: Vec<Duration> = Vec::with_capacity(made.len());
    while !pending.is_empty() && Instant::now() < deadline {
        let mut still = Vec::new();
        for (member, id) in pending {
            match lag(&client, &member, &id, events).await {
                Some(ms) => lags.push(Duration::from_millis(ms.max(0) as u64)),
                None => still.push((member, id)),
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let settled = started.elapsed();
    lags.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;

    println!("event lag benchmark (local stack: LocalStack on one Python process, debug binaries)");
    println!(
        "  burst             {} reservations ({}) in {:.1} s, {:.1}/s, {} at a time",
        made.len(),
        if pay { "paid by card" } else { "held" },
        burst.as_secs_f64(),
        made.len() as f64 / burst.as_secs_f64(),
        concurrency
    );
    println!(
        "  event -> my page  p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} views; {} not projected in time)",
        ms(percentile(&lags, 50.0)),
        ms(percentile(&lags, 99.0)),
        ms(lags.last().copied().unwrap_or_default()),
        lags.len(),
        pending.len()
    );
    println!(
        "  all projected     {:.1} s after the burst began",
        settled.as_secs_f64()
    );
    if !pending.is_empty() {
        std::process::exit(1);
    }
}
