//! On-sale rush benchmark (not a test): run by `infra/local/bench.sh rush`, which starts a local stack of
//! its own and then measures cold starts (infra/local/coldstart.py) in the same run.
//!
//! A showtime with its waiting room on; `--buyers` buyers join (`--concurrency` at a time: joins/s), the
//! inlet places and admits them, they poll `--polls` times (polls/s), and `--holds` of them hold a seat each
//! with their admission token (holds/s). For each: latency p50/p99 and DynamoDB calls per request, counted
//! from LocalStack's request log (authorizer included; for the holds also the saga's first steps and the
//! event consumers they set off). Then `--holds-alone` more holds, one at a time, count the hot path's own
//! calls exactly (those answered from the request's start to the StartExecution that ends the route). Ends
//! by reconciling the showtime. Bounded: fixed request counts, and it stops after `--max-seconds`. It
//! measures the local stack (LocalStack in one Python process, debug binaries, 2 cores), not AWS.

use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing_tests::bench::{
    arg, dynamodb_calls, dynamodb_calls_within, dynamodb_quiet, first_logged, log_len, per_unit,
    percentile,
};
use ticketing_tests::{call, member, on_sale, reconcile, showtime, stack, Member, Reply};

struct Measured {
    ok: usize,
    statuses: std::collections::BTreeMap<u16, usize>,
    elapsed: Duration,
    latencies: Vec<Duration>,
    calls: String,
}

impl Measured {
    fn print(&self, what: &str, n: usize) {
        println!(
            "  {what:6} {n} in {:.2} s: {:.1}/s, {} ok {:?}, p50 {:.1} ms, p99 {:.1} ms; DynamoDB calls per request {}",
            self.elapsed.as_secs_f64(),
            self.ok as f64 / self.elapsed.as_secs_f64(),
            self.ok,
            self.statuses,
            percentile(&self.latencies, 50.0).as_secs_f64() * 1000.0,
            percentile(&self.latencies, 99.0).as_secs_f64() * 1000.0,
            self.calls
        );
    }
}

/// Runs `requests` (each answers `(ok, reply)`), `concurrency` at a time, until `deadline`.
async fn measure<F, Fut>(
    n: usize,
    concurrency: usize,
    deadline: Instant,
    log: Option<&str>,
    request: F,
) -> (Measured, Vec<Value>)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = (u16, bool, Value)>,
{
    let from = log_len(log);
    let started = Instant::now();
    let results: Vec<(bool, Value, Duration, u16)> = stream::iter(0..n)
        .take_while(|_| futures::future::ready(Instant::now() < deadline))
        .map(|i| {
            let fut = request(i);
            async move {
                let t = Instant::now();
                let (status, ok, v) = fut.await;
                (ok, v, t.elapsed(), status)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    // LocalStack writes its request lines a moment after answering.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.2).collect();
    latencies.sort();
    let ok = results.iter().filter(|r| r.0).count();
    let mut statuses = std::collections::BTreeMap::new();
    for r in &results {
        *statuses.entry(r.3).or_insert(0) += 1;
    }
    let calls = match log {
        Some(log) => per_unit(&dynamodb_calls(log, from), results.len()),
        None => "not counted (no --localstack-log)".into(),
    };
    (
        Measured {
            ok,
            statuses,
            elapsed,
            latencies,
            calls,
        },
        results.into_iter().map(|r| r.1).collect(),
    )
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let n = arg("--buyers", 200, 5_000);
    let polls = arg("--polls", 1_000, 100_000);
    let holds = arg("--holds", 50, 5_000).min(n);
    let alone = arg("--holds-alone", 10, 100).min(n - holds);
    let concurrency = arg("--concurrency", 32, 256);
    let max_seconds = arg("--max-seconds", 600, 3_600) as u64;
    let log = std::env::args()
        .skip_while(|a| a != "--localstack-log")
        .nth(1);
    let log = log.as_deref();
    let deadline = Instant::now() + Duration::from_secs(max_seconds);

    eprintln!("setting up: a showtime with its waiting room on, {n} buyers");
    let (organizer, performance) = on_sale(10).await;
    let cols = 50usize;
    let show = showtime(
        &organizer,
        &performance,
        (holds + alone).div_ceil(cols) as u32 + 1,
        cols as u32,
    )
    .await;
    let room = organizer
        .call(
            Method::PUT,
            &format!("/performances/{performance}/showtimes/{show}/waiting-room"),
            Some(&json!({"admitPerMinute": 15_000, "maxActive": 100_000})),
        )
        .await;
    assert_eq!(room.status, 200, "{}", room.text);
    let warm: Vec<Member> = stream::iter(0..concurrency.min(32))
        .map(|_| member("USER"))
        .buffer_unordered(8)
        .collect()
        .await;
    let buyers: Vec<Member> = stream::iter(0..n)
        .map(|_| member("USER"))
        .buffer_unordered(16)
        .collect()
        .await;
    eprintln!("warming the join and poll functions");
    let _ = join_all_of(&warm, &show).await;

    eprintln!("measuring {n} joins, {concurrency} at a time");
    let (joins, joined) = measure(n, concurrency, deadline, log, |i| {
        let (b, show) = (&buyers[i], show.clone());
        async move {
            let r = b
                .call(Method::POST, &format!("/showtimes/{show}/queue"), None)
                .await;
            (r.status, r.status == 201, json!({"i": i, "ticket": r.json}))
        }
    })
    .await;
    // Answers come in completion order: put each ticket back with its buyer.
    let mut tickets = vec![String::new(); n];
    for j in &joined {
        if let (Some(i), Some(id)) = (j["i"].as_u64(), j["ticket"]["ticketId"].as_str()) {
            tickets[i as usize] = id.to_string();
        }
    }

    eprintln!("running the inlet until every ticket has its place");
    let store = ticketing::store::Store::new(stack().dynamodb().await, stack().table_name());
    let total = n + warm.len();
    loop {
        let _ = ticketing::inlet::run_one(&store, &show, now_ms()).await;
        let placed = store
            .get_room(&show)
            .await
            .ok()
            .flatten()
            .map_or(0, |r| r.positions_before);
        if placed as usize >= total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(ticketing::runtime::ROOM_TTL).await;

    eprintln!("measuring {polls} polls, {concurrency} at a time");
    let (polled, answers) = measure(polls, concurrency, deadline, log, |i| {
        let (b, t) = (&buyers[i % n], tickets[i % n].clone());
        async move {
            let r = b.call(Method::GET, &format!("/queue/{t}"), None).await;
            (
                r.status,
                r.status == 200,
                json!({"i": i % n, "ticket": r.json}),
            )
        }
    })
    .await;
    let mut tokens: Vec<Option<String>> = vec![None; n];
    for a in &answers {
        if let (Some(i), Some(token)) = (a["i"].as_u64(), a["ticket"]["admissionToken"].as_str()) {
            tokens[i as usize] = Some(token.to_string());
        }
    }
    let admitted = tokens.iter().filter(|t| t.is_some()).count();

    eprintln!("measuring {holds} holds by admitted buyers, {concurrency} at a time");
    let (held, reservations) = measure(holds, concurrency, deadline, log, |i| {
        let (b, token, show) = (&buyers[i], tokens[i].clone(), show.clone());
        async move {
            let r = hold(b, &show, i, cols, token).await;
            (
                r.status,
                r.status == 201,
                json!({"i": i, "id": r.json["id"], "problem": r.json["type"]}),
            )
        }
    })
    .await;

    // The hot path's DynamoDB calls, exactly: one hold at a time, each once everything earlier has settled,
    // counting only the calls LocalStack answered between the request's start and the StartExecution that ends
    // the route (the saga's steps and the event consumers they set off come after).
    let mut alone_calls = std::collections::BTreeMap::new();
    let mut alone_held = Vec::new();
    if let Some(log) = log {
        eprintln!("counting the DynamoDB calls of {alone} holds, one at a time");
        for i in holds..holds + alone {
            let Some(token) = tokens[i].clone() else {
                continue;
            };
            dynamodb_quiet(log, Duration::from_millis(1500)).await;
            let from = log_len(Some(log));
            let local = || {
                let t = time::OffsetDateTime::now_utc();
                time::PrimitiveDateTime::new(t.date(), t.time())
            };
            let start = local();
            let r = hold(&buyers[i], &show, i, cols, Some(token)).await;
            let end = local();
            assert_eq!(r.status, 201, "a hold alone: {}", r.text);
            dynamodb_quiet(log, Duration::from_millis(1500)).await;
            // The route's last call starts the saga; what the saga's first step did before the answer reached
            // us is not the route's.
            let end = first_logged(log, from, "AWS stepfunctions.StartExecution")
                .map_or(end, |started| started.min(end));
            for (op, c) in dynamodb_calls_within(log, from, Some((start, end))) {
                *alone_calls.entry(op).or_insert(0) += c;
            }
            if let Some(id) = r.json["id"].as_str() {
                alone_held.push((i, id.to_string()));
            }
        }
    }

    println!("waiting room through the local gateway (LocalStack, debug binaries, this machine)");
    joins.print("joins", n);
    polled.print("polls", polls);
    println!("         {admitted} of {n} buyers saw their admission");
    held.print("holds", holds);
    if !alone_held.is_empty() {
        println!(
            "  a hold alone ({} holds, one at a time, calls up to its StartExecution): DynamoDB calls per hold {}",
            alone_held.len(),
            per_unit(&alone_calls, alone_held.len())
        );
    }
    let mut by_buyer: Vec<(&Member, Vec<String>)> = Vec::new();
    for r in &reservations {
        if let (Some(i), Some(id)) = (r["i"].as_u64(), r["id"].as_str()) {
            by_buyer.push((&buyers[i as usize], vec![id.to_string()]));
        }
    }
    for (i, id) in &alone_held {
        by_buyer.push((&buyers[*i], vec![id.clone()]));
    }
    reconcile(&performance, &show, &by_buyer).await;
    println!(
        "  reconciled: {} holds, seats and money agree",
        by_buyer.len()
    );
}

/// Buyer `i` holds seat `i` (row by row, `cols` to a row) with their admission token, if they have one.
async fn hold(buyer: &Member, show: &str, i: usize, cols: usize, token: Option<String>) -> Reply {
    let body = json!({"showtimeId": show, "seats": [{"row": i / cols + 1, "col": i % cols + 1}],
                      "admissionToken": token});
    let auth = buyer.auth();
    call(
        Method::POST,
        "/reservations",
        Some(&body),
        &[("authorization", auth.as_str())],
    )
    .await
}

async fn join_all_of(members: &[Member], show: &str) -> Vec<u16> {
    futures::future::join_all(members.iter().map(|m| async move {
        m.call(Method::POST, &format!("/showtimes/{show}/queue"), None)
            .await
            .status
    }))
    .await
}
