//! Seat-hold benchmark (not a test): run by `infra/local/bench.sh`, which starts a local stack of its own.
//!
//! Sets up an approved performance on sale with a showtime big enough, signs up buyers, warms the function
//! containers, then sends `--holds` holds of distinct seats through the gateway, `--concurrency` at a time,
//! and prints holds per second, latency percentiles, and DynamoDB calls per hold (counted from LocalStack's
//! request log over the measured window; authorizer calls included). Bounded: a fixed number of requests, and
//! it gives up after `--max-seconds`.

use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use ticketing_tests::bench::{dynamodb_calls, log_len, percentile};
use ticketing_tests::{member, publish, unique, Member};

struct Options {
    holds: usize,
    concurrency: usize,
    seats_per_hold: usize,
    max_seconds: u64,
    localstack_log: Option<String>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        holds: 1000,
        concurrency: 32,
        seats_per_hold: 1,
        max_seconds: 300,
        localstack_log: std::env::var("LOCALSTACK_LOG").ok(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args
            .get(i + 1)
            .ok_or_else(|| format!("{} needs a value", args[i]))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| format!("{} takes a whole number", args[i]))
        };
        match args[i].as_str() {
            "--holds" => o.holds = number()?.clamp(1, 100_000),
            "--concurrency" => o.concurrency = number()?.clamp(1, 512),
            "--seats-per-hold" => o.seats_per_hold = number()?.clamp(1, 10),
            "--max-seconds" => o.max_seconds = number()?.clamp(10, 3600) as u64,
            "--localstack-log" => o.localstack_log = Some(value.clone()),
            other => return Err(format!("unknown option {other}")),
        }
        i += 2;
    }
    Ok(o)
}

async fn hold(buyer: &Member, showtime: &str, seats: &[(usize, usize)]) -> (u16, Duration) {
    let seats: Vec<_> = seats
        .iter()
        .map(|(r, c)| json!({"row": r, "col": c}))
        .collect();
    let started = Instant::now();
    let reply = buyer
        .call(
            Method::POST,
            "/reservations",
            Some(&json!({"showtimeId": showtime, "seats": seats})),
        )
        .await;
    (reply.status, started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("bench-holds: {e}\nusage: bench-holds [--holds N] [--concurrency N] [--seats-per-hold N] [--max-seconds N] [--localstack-log FILE]");
            std::process::exit(2);
        }
    };
    let warmup = o.concurrency;
    let seats_needed = (o.holds + warmup) * o.seats_per_hold;
    let cols = 100usize;
    let rows = seats_needed.div_ceil(cols).max(1);
    eprintln!("setting up: a performance on sale, a showtime of {rows}×{cols} seats, buyers");
    let organizer = member("ORGANIZER").await;
    let performance = publish(
        &organizer,
        &json!({
            "title": format!("Benchmark {}", unique()), "category": "CONCERT",
            "venue": {"name": "Bench Arena", "city": "Seoul"}, "runningTimeMinutes": 120, "ageRating": "ALL",
            "runStartDate": "2027-06-01", "runEndDate": "2027-06-30",
            "saleOpensAt": "2026-01-01T00:00:00Z", "saleClosesAt": "2027-06-30T00:00:00Z"
        }),
    )
    .await;
    let performance_id = performance.json["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let showtime = organizer
        .call(Method::POST, &format!("/performances/{performance_id}/showtimes"), Some(&json!({
            "startsAt": "2027-06-10T19:00:00Z", "venueName": "Main hall",
            "seatMap": {"rows": rows, "cols": cols, "grades": [{"grade": "R", "fromRow": 1, "toRow": rows, "price": 100_000}]}
        })))
        .await;
    assert_eq!(showtime.status, 201, "showtime: {}", showtime.text);
    let showtime_id = showtime.json["id"].as_str().unwrap_or_default().to_string();
    let buyers: Vec<Member> = stream::iter(0..o.concurrency.min(64))
        .map(|_| member("USER"))
        .buffer_unordered(8)
        .collect()
        .await;

    let seat_of = |i: usize| (i / cols + 1, i % cols + 1);
    let request_seats = |n: usize| -> Vec<(usize, usize)> {
        (0..o.seats_per_hold)
            .map(|k| seat_of(n * o.seats_per_hold + k))
            .collect()
    };
    eprintln!("warming {warmup} function containers");
    let _: Vec<_> = stream::iter(0..warmup)
        .map(|n| {
            let (buyer, show, seats) = (
                buyers[n % buyers.len()].clone(),
                showtime_id.clone(),
                request_seats(n),
            );
            async move { hold(&buyer, &show, &seats).await }
        })
        .buffer_unordered(o.concurrency)
        .collect()
        .await;

    let log_offset = log_len(o.localstack_log.as_deref());
    eprintln!(
        "measuring {} holds of {} seat(s), {} at a time",
        o.holds, o.seats_per_hold, o.concurrency
    );
    let deadline = Instant::now() + Duration::from_secs(o.max_seconds);
    let started = Instant::now();
    let results: Vec<(u16, Duration)> = stream::iter(warmup..warmup + o.holds)
        .take_while(|_| futures::future::ready(Instant::now() < deadline))
        .map(|n| {
            let (buyer, show, seats) = (
                buyers[n % buyers.len()].clone(),
                showtime_id.clone(),
                request_seats(n),
            );
            async move { hold(&buyer, &show, &seats).await }
        })
        .buffer_unordered(o.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    // Let LocalStack flush its log lines for the last requests.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut latencies: Vec<Duration> = results.iter().map(|(_, d)| *d).collect();
    latencies.sort();
    let mut statuses = BTreeMap::new();
    for (status, _) in &results {
        *statuses.entry(*status).or_insert(0usize) += 1;
    }
    let held = statuses.get(&201).copied().unwrap_or(0);
    println!("seat holds through the local gateway (LocalStack, debug binaries, this machine)");
    println!(
        "  requests          {} in {:.2} s, concurrency {}, {} seat(s) each",
        results.len(),
        elapsed.as_secs_f64(),
        o.concurrency,
        o.seats_per_hold
    );
    println!("  statuses          {statuses:?}");
    println!(
        "  holds per second  {:.1}",
        held as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency           p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0).as_secs_f64() * 1000.0,
        percentile(&latencies, 99.0).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    match o.localstack_log.as_deref() {
        Some(log) if held > 0 => {
            let calls = dynamodb_calls(log, log_offset);
            let total: usize = calls.values().sum();
            println!(
                "  DynamoDB calls    {:.2} per hold ({total} in the window): {}",
                total as f64 / held as f64,
                calls
                    .iter()
                    .map(|(op, n)| format!("{op} {:.2}", *n as f64 / held as f64))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("                    (TransactWriteItems is the hold itself; the floor is 1 per hold)");
        }
        _ => println!("  DynamoDB calls    not counted (pass --localstack-log)"),
    }
}
