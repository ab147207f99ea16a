//! Chaos: a mixed sale of 40 buyers (cards, wallet, pay-later, declines, a race for one seat, whole and
//! partial cancellations, an admin's cancellation, an organizer's cancellation of a showtime) while the
//! processes of the saga, publisher, consumer and request functions are SIGKILLed at random instants, as an
//! out-of-memory kill or a lost execution environment ends a Lambda. Clients do what real ones do with a 5xx:
//! retry with the same `Idempotency-Key`. Afterwards the repairer runs; every reservation must be final within
//! a bound, with money and seats reconciled, no answer a 5xx, and my page and the notifications agreeing with
//! each reservation. Bounded: the killer stops with the load, and every wait has a deadline.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ticketing_tests::{
    admin, call, member, on_sale, reconcile, repair_now, settled, showtime, top_up, unique,
    wallet_balance, Member, Reply, EVENT_WAIT_SECS,
};

const BUYERS: usize = 40;
/// The functions whose processes are killed (their deployed names hold these logical-id prefixes).
const VICTIMS: [&str; 10] = [
    "ReservationSagaFunction",
    "EventsPublisherFunction",
    "NotifierFunction",
    "MyPageFunction",
    "AuditFunction",
    "CreateReservationFunctio",
    "PayReservationFunction",
    "CancelReservationFunctio",
    "CancelSeatsFunction",
    "CancelShowtimeFunction",
];
/// Every reservation is final this long after the load ends (the sagas' retry bound is 4 min 17 s; kills
/// cost a run or two, a few seconds each).
const FINAL_WITHIN: Duration = Duration::from_secs(300);

/// Kills a random function process of this stack every 0.3–1.2 s until told to stop; counts per function.
struct Killer {
    stop: Arc<AtomicBool>,
    kills: Arc<Mutex<BTreeMap<String, u64>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Killer {
    fn start() -> Self {
        let outputs = std::env::var("TICKETING_OUTPUTS").expect("TICKETING_OUTPUTS");
        let state = std::path::Path::new(&outputs)
            .parent()
            .expect("the state directory")
            .join("tmp/lambda")
            .to_string_lossy()
            .into_owned();
        let stop = Arc::new(AtomicBool::new(false));
        let kills = Arc::new(Mutex::new(BTreeMap::new()));
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        println!("chaos: killer seed {seed}");
        let (flag, counted) = (stop.clone(), kills.clone());
        let task = tokio::spawn(async move {
            let mut rng = seed;
            let mut next = move || {
                // xorshift64: reproducible from the printed seed.
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            while !flag.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(300 + next() % 900)).await;
                let live = function_processes(&state);
                if live.is_empty() {
                    continue;
                }
                let (pid, victim) = &live[(next() % live.len() as u64) as usize];
                let killed = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .is_ok_and(|s| s.success());
                if killed {
                    *counted
                        .lock()
                        .expect("kills")
                        .entry(victim.clone())
                        .or_insert(0) += 1;
                }
            }
        });
        Killer { stop, kills, task }
    }

    async fn stop(self) -> BTreeMap<String, u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the killer");
        let kills = self.kills.lock().expect("kills").clone();
        kills
    }
}

/// The live processes of the victim functions of this stack: (pid, function).
fn function_processes(state: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.contains(state) {
            continue;
        }
        if let Some(victim) = VICTIMS.iter().find(|v| cmdline.contains(*v)) {
            found.push((pid, victim.to_string()));
        }
    }
    found
}

/// Answers seen, and how many 5xx a client saw (and retried) on the way.
#[derive(Default)]
struct Answers {
    retried_5xx: AtomicU64,
    final_5xx: Mutex<Vec<String>>,
}

/// A request as a real client sends it: a 5xx (a killed function) is retried with the same headers, so the
/// same `Idempotency-Key`, up to 8 times.
async fn send(
    answers: &Answers,
    method: Method,
    path: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut attempt = 0;
    loop {
        let reply = call(method.clone(), path, body, headers).await;
        if reply.status < 500 {
            return reply;
        }
        attempt += 1;
        if attempt >= 8 {
            answers
                .final_5xx
                .lock()
                .expect("answers")
                .push(format!("{method} {path}: {} {}", reply.status, reply.text));
            return reply;
        }
        answers.retried_5xx.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(300 * attempt)).await;
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Plan {
    /// Wallet, then cancelled whole by the buyer.
    WalletThenCancel,
    /// Card for two seats, then one of them cancelled.
    CardThenPartial,
    /// Held, then paid from the wallet.
    PayLater,
    /// A declined card.
    Declined,
    /// Wallet, racing the other racers for one seat (besides its own).
    Racer,
    /// Card, then cancelled by an admin.
    AdminCancels,
    /// Wallet, on the showtime the organizer cancels.
    SweptSale,
    /// A pay-later hold on the showtime the organizer cancels.
    SweptHold,
}

const PLANS: [Plan; 8] = [
    Plan::WalletThenCancel,
    Plan::CardThenPartial,
    Plan::PayLater,
    Plan::Declined,
    Plan::Racer,
    Plan::AdminCancels,
    Plan::SweptSale,
    Plan::SweptHold,
];

fn seat(row: u32, col: u32) -> Value {
    json!({"row": row, "col": col})
}

#[tokio::test]
async fn a_mixed_sale_survives_random_kills_and_ends_reconciled() {
    let (organizer, performance) = on_sale(10).await;
    // A: 5 rows of 10 (rows 1-4: a seat per buyer; row 5: second seats and the raced seat). B: swept.
    let show_a = showtime(&organizer, &performance, 5, 10).await;
    let show_b = showtime(&organizer, &performance, 1, 10).await;
    let admin = admin().await;
    let buyers: Vec<Member> = join_all((0..BUYERS).map(|_| member("USER"))).await;
    join_all(buyers.iter().map(|b| top_up(b, 1_000_000))).await;
    let answers = Answers::default();
    let killer = Killer::start();
    let started = Instant::now();

    // The sale: every buyer at once.
    let sales = buyers.iter().enumerate().map(|(i, buyer)| {
        let (answers, show_a, show_b) = (&answers, &show_a, &show_b);
        async move {
            let plan = PLANS[i % PLANS.len()];
            let own = seat(i as u32 / 10 + 1, i as u32 % 10 + 1);
            let (show, seats, payment) = match plan {
                Plan::WalletThenCancel | Plan::Racer => {
                    (show_a, vec![own], Some(json!({"method": "WALLET"})))
                }
                Plan::CardThenPartial => (
                    show_a,
                    vec![own, seat(5, i as u32 / 8 + 1)],
                    Some(json!({"method": "CARD", "token": "tok_visa"})),
                ),
                Plan::AdminCancels => (
                    show_a,
                    vec![own],
                    Some(json!({"method": "CARD", "token": "tok_mastercard"})),
                ),
                Plan::Declined => (
                    show_a,
                    vec![own],
                    Some(json!({"method": "CARD", "token": "tok_chargeDeclined"})),
                ),
                Plan::PayLater => (show_a, vec![own], None),
                Plan::SweptSale => (
                    show_b,
                    vec![seat(1, i as u32 / 8 + 1)],
                    Some(json!({"method": "WALLET"})),
                ),
                Plan::SweptHold => (show_b, vec![seat(1, i as u32 / 8 + 6)], None),
            };
            let mut ids = Vec::new();
            let mut tries = vec![(show.clone(), seats, payment)];
            if plan == Plan::Racer {
                tries.push((
                    show_a.clone(),
                    vec![seat(5, 10)],
                    Some(json!({"method": "WALLET"})),
                ));
            }
            let auth = buyer.auth();
            for (show, seats, payment) in tries {
                let key = unique();
                let mut body = json!({"showtimeId": show, "seats": seats});
                if let Some(p) = payment {
                    body["payment"] = p;
                }
                let held = send(
                    answers,
                    Method::POST,
                    "/reservations",
                    Some(&body),
                    &[
                        ("authorization", auth.as_str()),
                        ("prefer", "wait=10"),
                        ("idempotency-key", key.as_str()),
                    ],
                )
                .await;
                match held.status {
                    201 | 202 => ids.push(held.json["id"].as_str().expect("id").to_string()),
                    // Lost the race for the raced seat.
                    409 if seats == [seat(5, 10)] => {}
                    other => panic!("{plan:?}: hold answered {other}: {}", held.text),
                }
            }
            if plan == Plan::PayLater {
                let id = ids[0].clone();
                let paid = send(
                    answers,
                    Method::POST,
                    &format!("/reservations/{id}/payment"),
                    Some(&json!({"payment": {"method": "WALLET"}})),
                    &[("authorization", auth.as_str()), ("prefer", "wait=10")],
                )
                .await;
                // 409 "being paid already": a retry of a payment whose first answer was lost.
                assert!(
                    [201, 202, 409].contains(&paid.status),
                    "pay-later payment answered {}: {}",
                    paid.status,
                    paid.text
                );
            }
            (i, plan, ids)
        }
    });
    let sold: Vec<(usize, Plan, Vec<String>)> = join_all(sales).await;
    for (i, plan, ids) in &sold {
        for id in ids {
            // A pay-later hold stays HELD (its saga waits for a payment that never comes).
            let within = if *plan == Plan::SweptHold { 0 } else { 150 };
            let r = settled(&buyers[*i], id, Duration::from_secs(within)).await;
            let want = match plan {
                Plan::Declined => "FAILED",
                Plan::SweptHold => "HELD",
                _ => "CONFIRMED",
            };
            assert_eq!(r["status"], want, "{plan:?} {id}: {r}");
        }
    }
    let racers_won = sold
        .iter()
        .filter(|(_, plan, ids)| *plan == Plan::Racer && ids.len() == 2)
        .count();
    assert!(
        racers_won <= 1,
        "the raced seat was sold {racers_won} times"
    );

    // The cancellations, all at once: whole, partial, an admin's, and the organizer's showtime.
    let cancels = sold.iter().map(|(i, plan, ids)| {
        let (answers, buyer, admin) = (&answers, &buyers[*i], &admin);
        async move {
            let id = &ids[0];
            let key = unique();
            let (who, path, body, method) = match plan {
                Plan::WalletThenCancel => {
                    (buyer, format!("/reservations/{id}"), None, Method::DELETE)
                }
                Plan::AdminCancels => (
                    admin,
                    format!("/reservations/{id}"),
                    Some(json!({"reason": "the buyer asked the box office"})),
                    Method::DELETE,
                ),
                Plan::CardThenPartial => (
                    buyer,
                    format!("/reservations/{id}/cancellations"),
                    Some(json!({"seats": [seat(5, *i as u32 / 8 + 1)]})),
                    Method::POST,
                ),
                _ => return,
            };
            let auth = who.auth();
            let reply = send(
                answers,
                method,
                &path,
                body.as_ref(),
                &[
                    ("authorization", auth.as_str()),
                    ("prefer", "wait=10"),
                    ("idempotency-key", key.as_str()),
                ],
            )
            .await;
            assert!(
                reply.status == 200 || reply.status == 202,
                "{plan:?} cancel of {id}: {} {}",
                reply.status,
                reply.text
            );
        }
    });
    let sweep = async {
        let auth = organizer.auth();
        let reply = send(
            &answers,
            Method::POST,
            &format!("/performances/{performance}/showtimes/{show_b}/cancel"),
            Some(&json!({"reason": "The hall flooded"})),
            &[("authorization", auth.as_str())],
        )
        .await;
        // 409: a retry after the first answer was lost finds the sweep under way.
        assert!(
            reply.status == 202 || reply.status == 409,
            "showtime cancel: {} {}",
            reply.status,
            reply.text
        );
    };
    let (_, ()) = tokio::join!(join_all(cancels), sweep);
    let kills = killer.stop().await;
    let load = started.elapsed();
    println!("chaos: load and cancellations took {load:?}; processes killed: {kills:?}");
    println!(
        "chaos: {} 5xx answers retried by clients",
        answers.retried_5xx.load(Ordering::Relaxed)
    );
    assert!(
        kills.values().sum::<u64>() >= 5,
        "the killer must have killed something: {kills:?}"
    );

    // Every reservation final within the bound, the repairer running meanwhile as its schedule would.
    let expected = |plan: Plan| match plan {
        Plan::WalletThenCancel | Plan::AdminCancels | Plan::SweptSale | Plan::SweptHold => {
            "CANCELLED"
        }
        Plan::Declined => "FAILED",
        _ => "CONFIRMED",
    };
    let deadline = Instant::now() + FINAL_WITHIN;
    let mut repairs = 0u64;
    loop {
        let report = repair_now().await;
        repairs += report["found"].as_u64().unwrap_or(0);
        let mut open = Vec::new();
        for (i, plan, ids) in &sold {
            for id in ids {
                let r = buyers[*i]
                    .call(Method::GET, &format!("/reservations/{id}"), None)
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
                if r.json["status"] != expected(*plan)
                    || r.json.get("pendingCancellation").is_some()
                {
                    open.push(format!("{plan:?} {id}: {}", r.json["status"]));
                }
            }
        }
        if open.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not final {FINAL_WITHIN:?} after the load: {open:?}"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    println!(
        "chaos: every reservation final {:?} after the load; the repairer repaired {repairs}",
        started.elapsed() - load
    );
    let failed = answers.final_5xx.lock().expect("answers").clone();
    assert!(failed.is_empty(), "answers that stayed 5xx: {failed:?}");

    // Money and seats.
    for (show, on_b) in [(&show_a, false), (&show_b, true)] {
        let pairs: Vec<(&Member, Vec<String>)> = sold
            .iter()
            .filter(|(_, plan, _)| matches!(plan, Plan::SweptSale | Plan::SweptHold) == on_b)
            .map(|(i, _, ids)| (&buyers[*i], ids.clone()))
            .collect();
        reconcile(&performance, show, &pairs).await;
    }
    for b in &buyers {
        wallet_balance(b).await;
    }

    // My page and the notifications agree with each reservation: its status, and one notification per
    // event of its timeline.
    let deadline = Instant::now() + Duration::from_secs(EVENT_WAIT_SECS * 2);
    for (i, plan, ids) in &sold {
        let buyer = &buyers[*i];
        for id in ids {
            let status = settled(buyer, id, Duration::from_secs(1)).await["status"].clone();
            loop {
                let page = buyer
                    .call(Method::GET, &format!("/me/reservations/{id}"), None)
                    .await;
                let notes = buyer
                    .call(Method::GET, "/notifications?limit=100", None)
                    .await;
                let mut timeline: Vec<String> = page.json["timeline"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e["type"].as_str().map(str::to_string))
                    .collect();
                let mut told: Vec<String> = notes.json["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|n| n["reservationId"] == id.as_str())
                    .filter_map(|n| n["type"].as_str().map(str::to_string))
                    .collect();
                timeline.sort();
                told.sort();
                let last_event = match status.as_str() {
                    Some("CANCELLED") => "ReservationCancelled",
                    Some("FAILED") => "ReservationFailed",
                    _ => "ReservationConfirmed",
                };
                if page.json["status"] == status
                    && timeline == told
                    && timeline.iter().any(|k| k == last_event)
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{plan:?} {id} is {status}: my page {} / notifications {told:?}",
                    page.text
                );
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
        }
    }
}
