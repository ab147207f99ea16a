//! Seat holds through the local gateway against the real functions and table: contention, expiry, limits,
//! large maps, and who sees which reservation.

use futures::future::join_all;
use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use ticketing::domain::reservation::Reservation;
use ticketing::store::Store;
use ticketing_tests::{
    admin, call, member, on_sale, performance_body, reconcile, rewind_hold, sale, seat_map,
    settled, showtime, stack, unique, Member, Reply,
};

async fn hold(buyer: &Member, showtime: &str, seats: &[(u32, u32)]) -> Reply {
    let seats: Vec<Value> = seats
        .iter()
        .map(|(row, col)| json!({"row": row, "col": col}))
        .collect();
    buyer
        .call(
            Method::POST,
            "/reservations",
            Some(&json!({"showtimeId": showtime, "seats": seats})),
        )
        .await
}

fn seat_set(v: &Value) -> HashSet<(u64, u64)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            (
                s["row"].as_u64().unwrap_or(0),
                s["col"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

async fn store() -> Store {
    let stack = stack();
    Store::new(stack.dynamodb().await, stack.table_name())
}

#[tokio::test]
async fn a_hold_takes_the_seats_and_the_next_buyer_learns_which_are_taken() {
    let (_, performance, show) = sale(4, 5).await;
    let map = seat_map(&performance, &show).await;
    assert_eq!(
        (
            map["available"].as_u64(),
            map["held"].as_u64(),
            map["sold"].as_u64()
        ),
        (Some(20), Some(0), Some(0))
    );
    assert_eq!(map["seatRows"][0]["seats"], "AAAAA");
    assert_eq!(map["grades"][0]["grade"], "VIP");

    let ada = member("USER").await;
    let held = hold(&ada, &show, &[(1, 2), (1, 1)]).await;
    assert_eq!(held.status, 201, "{}", held.text);
    assert_eq!(held.json["status"], "HELD");
    assert_eq!(held.json["totalPrice"], 300_000);
    let expires = held.json["holdExpiresAt"]
        .as_str()
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| t.unix_timestamp())
        .expect("holdExpiresAt is RFC 3339");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (now + 590..=now + 610).contains(&expires),
        "a 10-minute hold: {expires} vs {now}"
    );

    let bob = member("USER").await;
    let refused = hold(&bob, &show, &[(1, 2), (1, 3)]).await;
    let problem = refused.assert_problem(409, "/problems/seats-unavailable");
    assert_eq!(
        seat_set(&problem["unavailableSeats"]),
        HashSet::from([(1, 2)]),
        "{}",
        refused.text
    );
    // All or nothing: seat 1-3 was not held by the refused request.
    let map = seat_map(&performance, &show).await;
    assert_eq!(map["seatRows"][0]["seats"], "HHAAA");
    assert_eq!(
        (map["held"].as_u64(), map["grades"][0]["held"].as_u64()),
        (Some(2), Some(2))
    );

    // The hold is the buyer's: they and admins see it, others do not.
    let id = held.json["id"].as_str().expect("id");
    assert_eq!(
        ada.call(Method::GET, &format!("/reservations/{id}"), None)
            .await
            .status,
        200
    );
    bob.call(Method::GET, &format!("/reservations/{id}"), None)
        .await
        .assert_problem(404, "/problems/not-found");
    assert_eq!(
        admin()
            .await
            .call(Method::GET, &format!("/reservations/{id}"), None)
            .await
            .status,
        200
    );
    let mine = ada.call(Method::GET, "/reservations", None).await;
    assert!(
        mine.json["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|r| r["id"] == id)),
        "{}",
        mine.text
    );
    let bobs = bob.call(Method::GET, "/reservations", None).await;
    assert!(
        bobs.json["items"]
            .as_array()
            .is_some_and(|items| items.is_empty()),
        "{}",
        bobs.text
    );
}

#[tokio::test]
async fn a_retried_hold_with_the_same_idempotency_key_is_one_reservation() {
    let (_, performance, show) = sale(2, 2).await;
    let ada = member("USER").await;
    let key = unique();
    let body = json!({"showtimeId": show, "seats": [{"row": 1, "col": 1}]});
    let auth = ada.auth();
    let headers = [
        ("authorization", auth.as_str()),
        ("idempotency-key", key.as_str()),
    ];
    let first = call(Method::POST, "/reservations", Some(&body), &headers).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = call(Method::POST, "/reservations", Some(&body), &headers).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json["id"], first.json["id"]);
    let map = seat_map(&performance, &show).await;
    assert_eq!(map["held"], 1);
}

/// Requests in flight at once in the contention tests. Each needs two function environments (authorizer and
/// handler), and LocalStack starts one per concurrent invocation: 64 at a time on a loaded 2-core CI machine
/// left some cold starts past the gateway's 30 s integration timeout. 24 at a time still races every request
/// against a couple of dozen others for the same four seats.
const IN_FLIGHT: usize = 24;

/// Hundreds of buyers, four seats: each seat goes to exactly one buyer, every loser hears which seat.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contention_never_holds_a_seat_twice() {
    let (_, performance, show) = sale(2, 2).await;
    let buyers: Vec<Member> = join_all((0..8).map(|_| member("USER"))).await;
    let seats = [(1u32, 1u32), (1, 2), (2, 1), (2, 2)];
    let attempts = (0..200).map(|i| {
        let buyer = buyers[i % buyers.len()].clone();
        let seat = seats[i % seats.len()];
        let show = show.clone();
        async move { (seat, hold(&buyer, &show, &[seat]).await) }
    });
    let results: Vec<_> = stream::iter(attempts)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut winners: HashMap<(u32, u32), usize> = HashMap::new();
    for (seat, reply) in &results {
        match reply.status {
            201 => *winners.entry(*seat).or_default() += 1,
            409 => {
                let problem = reply.assert_problem(409, "/problems/seats-unavailable");
                assert_eq!(
                    seat_set(&problem["unavailableSeats"]),
                    HashSet::from([(u64::from(seat.0), u64::from(seat.1))])
                );
            }
            other => panic!("unexpected {other}: {}", reply.text),
        }
    }
    assert_eq!(winners.len(), 4, "every seat was won: {winners:?}");
    assert!(
        winners.values().all(|n| *n == 1),
        "no seat was held twice: {winners:?}"
    );
    let map = seat_map(&performance, &show).await;
    assert_eq!(
        (map["held"].as_u64(), map["available"].as_u64()),
        (Some(4), Some(0))
    );
}

/// Overlapping multi-seat requests: all or nothing, never a partial hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_multi_seat_holds_are_all_or_nothing() {
    let (_, performance, show) = sale(1, 6).await;
    // Six buyers take turns: one member may send only so many holds per 10 s (the stack's HoldRateLimit).
    let buyers: Vec<Member> = join_all((0..6).map(|_| member("USER"))).await;
    // Pairs over six seats in a row: (1,2) (2,3) ... (5,6), (6,1), (1,4) ... many overlap.
    let pairs: Vec<[(u32, u32); 2]> = (1..=6u32)
        .flat_map(|a| {
            (1..=6u32)
                .filter(move |b| *b != a)
                .map(move |b| [(1, a), (1, b)])
        })
        .collect();
    let attempts = pairs.iter().cycle().take(120).enumerate().map(|(i, pair)| {
        let (buyer, show) = (buyers[i % buyers.len()].clone(), show.clone());
        let pair = *pair;
        async move { (pair, hold(&buyer, &show, &pair).await) }
    });
    let results: Vec<_> = stream::iter(attempts)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut taken: HashMap<(u32, u32), String> = HashMap::new();
    for (pair, reply) in &results {
        if reply.status == 201 {
            let id = reply.json["id"].as_str().expect("id").to_string();
            for seat in pair {
                assert!(
                    taken.insert(*seat, id.clone()).is_none(),
                    "seat {seat:?} held twice"
                );
            }
        } else {
            assert_eq!(reply.status, 409, "{}", reply.text);
        }
    }
    let map = seat_map(&performance, &show).await;
    assert_eq!(
        map["held"].as_u64(),
        Some(taken.len() as u64),
        "held seats are exactly the winners' seats"
    );
    assert_eq!(taken.len() % 2, 0);
    let row = map["seatRows"][0]["seats"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for (i, mark) in row.chars().enumerate() {
        let seat = (1, i as u32 + 1);
        assert_eq!(
            mark == 'H',
            taken.contains_key(&seat),
            "seat {seat:?}: {row}"
        );
    }
}

/// A hold past its expiry is taken by the next buyer, and the old holder can no longer confirm.
#[tokio::test]
async fn an_expired_hold_is_taken_by_the_next_buyer() {
    let (_, performance, show) = sale(1, 3).await;
    let (ada, bob) = (member("USER").await, member("USER").await);
    let first = hold(&ada, &show, &[(1, 1)]).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let ada_id = first.json["id"].as_str().expect("id").to_string();

    // Time passes: move the hold's expiry into the past on the seat and the reservation, as the clock would.
    let store = store().await;
    rewind_hold(&ada_id, &show, &[(1, 1)]).await;
    let expired = ada
        .call(Method::GET, &format!("/reservations/{ada_id}"), None)
        .await;
    assert_eq!(expired.json["status"], "EXPIRED", "{}", expired.text);
    assert_eq!(
        seat_map(&performance, &show).await["seatRows"][0]["seats"],
        "AAA",
        "an expired hold reads available"
    );

    let second = hold(&bob, &show, &[(1, 1)]).await;
    assert_eq!(
        second.status, 201,
        "the next buyer takes the expired seat: {}",
        second.text
    );

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ada_res: Reservation = store
        .get_reservation(&ada_id)
        .await
        .expect("read")
        .expect("exists");
    assert!(
        store
            .confirm_seats(&ada_res, now, |_| Vec::new())
            .await
            .is_err(),
        "the old holder cannot confirm"
    );
    // The new holder pays (through the API and the saga, so the sale has its payment) and the seat is sold.
    let bob_id = second.json["id"].as_str().expect("id").to_string();
    let paid = bob
        .call(
            Method::POST,
            &format!("/reservations/{bob_id}/payment"),
            Some(&json!({"payment": {"method": "CARD", "token": "tok_visa"}})),
        )
        .await;
    assert!(paid.status == 201 || paid.status == 202, "{}", paid.text);
    let confirmed = settled(&bob, &bob_id, std::time::Duration::from_secs(120)).await;
    assert_eq!(confirmed["status"], "CONFIRMED", "{confirmed}");
    assert_eq!(
        seat_map(&performance, &show).await["seatRows"][0]["seats"],
        "SAA"
    );
    reconcile(
        &performance,
        &show,
        &[(&ada, vec![ada_id]), (&bob, vec![bob_id])],
    )
    .await;
}

#[tokio::test]
async fn bad_holds_are_clear_4xx() {
    let (_, _, show) = sale(3, 4).await;
    let ada = member("USER").await;
    // 400: the body breaks what the document states; 422: it matches the document but not this showtime.
    let cases: Vec<(Value, &str, u16)> = vec![
        (
            json!({"showtimeId": uuid::Uuid::now_v7().to_string(), "seats": [{"row": 1, "col": 1}]}),
            "showtimeId",
            422,
        ),
        (
            json!({"showtimeId": "nope", "seats": [{"row": 1, "col": 1}]}),
            "showtimeId",
            400,
        ),
        (json!({"showtimeId": show, "seats": []}), "seats", 400),
        (
            json!({"showtimeId": show, "seats": [{"row": 1, "col": 1}, {"row": 1, "col": 1}]}),
            "seats[1]",
            400,
        ),
        (
            json!({"showtimeId": show, "seats": [{"row": 9, "col": 1}]}),
            "seats[0]",
            422,
        ),
        (
            json!({"showtimeId": show, "seats": (1..=11).map(|c| json!({"row": 1 + c / 5, "col": 1 + c % 4})).collect::<Vec<_>>()}),
            "seats",
            400,
        ),
    ];
    for (body, field, status) in cases {
        let reply = ada.call(Method::POST, "/reservations", Some(&body)).await;
        let kind = if status == 400 {
            "/problems/validation-error"
        } else {
            "/problems/unprocessable"
        };
        let problem = reply.assert_problem(status, kind);
        assert!(
            problem["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
            "{field}: {}",
            reply.text
        );
    }
    let reply = ada
        .call(
            Method::POST,
            "/reservations",
            Some(&json!({"showtimeId": show, "seats": [{"row": 1}]})),
        )
        .await;
    reply.assert_problem(400, "/problems/malformed-body");

    // A cancelled showtime and a showtime that has started take no holds.
    let store = store().await;
    let mut showtime = store
        .get_showtime(&show)
        .await
        .expect("read")
        .expect("exists");
    let previous = showtime.version;
    showtime.details.starts_at = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    showtime.version += 1;
    store
        .replace_showtime(&showtime, previous, &[])
        .await
        .expect("move it into the past");
    hold(&ada, &show, &[(1, 1)])
        .await
        .assert_problem(409, "/problems/conflict");
    let previous = showtime.version;
    showtime.details.starts_at = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    showtime
        .cancel(time::OffsetDateTime::now_utc())
        .expect("cancel");
    store
        .replace_showtime(&showtime, previous, &[])
        .await
        .expect("cancel it");
    hold(&ada, &show, &[(1, 1)])
        .await
        .assert_problem(409, "/problems/conflict");
}

#[tokio::test]
async fn a_fifty_thousand_seat_map_is_created_and_read() {
    let (organizer, performance) = on_sale(10).await;
    let started = std::time::Instant::now();
    let show = showtime(&organizer, &performance, 200, 250).await;
    let created_in = started.elapsed();
    let started = std::time::Instant::now();
    let map = seat_map(&performance, &show).await;
    eprintln!(
        "50,000 seats: created in {created_in:?}, seat map read in {:?}",
        started.elapsed()
    );
    assert_eq!(map["available"], 50_000);
    assert_eq!(map["seatRows"].as_array().map(Vec::len), Some(200));
    assert_eq!(
        map["seatRows"][199]["seats"].as_str().map(str::len),
        Some(250)
    );
    let buyer = member("USER").await;
    let held = hold(&buyer, &show, &[(200, 250), (1, 1)]).await;
    assert_eq!(held.status, 201, "{}", held.text);
    let map = seat_map(&performance, &show).await;
    assert_eq!(
        (map["available"].as_u64(), map["held"].as_u64()),
        (Some(49_998), Some(2))
    );
}

#[tokio::test]
async fn organizers_see_their_sales_and_admins_filter_everything() {
    let (organizer, performance, show) = sale(2, 3).await;
    let ada = member("USER").await;
    let held = hold(&ada, &show, &[(1, 1), (2, 3)]).await;
    assert_eq!(held.status, 201, "{}", held.text);
    let id = held.json["id"].as_str().expect("id").to_string();

    let view = organizer
        .call(
            Method::GET,
            &format!("/performances/{performance}/reservations"),
            None,
        )
        .await;
    assert_eq!(view.status, 200, "{}", view.text);
    let sales = &view.json["showtimes"][0];
    assert_eq!(
        (
            sales["available"].as_u64(),
            sales["held"].as_u64(),
            sales["sold"].as_u64(),
            sales["revenue"].as_u64()
        ),
        (Some(4), Some(2), Some(0), Some(0))
    );
    assert!(view.json["reservations"]["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|r| r["id"] == id.as_str())));
    let rival = member("ORGANIZER").await;
    assert_eq!(
        rival
            .call(
                Method::GET,
                &format!("/performances/{performance}/reservations"),
                None
            )
            .await
            .status,
        403
    );

    let admin = admin().await;
    for query in [
        format!("showtimeId={show}"),
        format!("memberId={}", ada.id),
        format!("performanceId={performance}&status=HELD"),
    ] {
        let page = admin
            .call(Method::GET, &format!("/admin/reservations?{query}"), None)
            .await;
        assert_eq!(page.status, 200, "{query}: {}", page.text);
        assert!(
            page.json["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|r| r["id"] == id.as_str())),
            "{query}: {}",
            page.text
        );
    }
    let confirmed = admin
        .call(
            Method::GET,
            &format!("/admin/reservations?showtimeId={show}&status=CONFIRMED"),
            None,
        )
        .await;
    assert!(
        confirmed.json["items"]
            .as_array()
            .is_some_and(|items| items.is_empty()),
        "{}",
        confirmed.text
    );
    // No filter at all: the document cannot require one of three parameters, so this is a 422.
    admin
        .call(Method::GET, "/admin/reservations", None)
        .await
        .assert_problem(422, "/problems/unprocessable");
    admin
        .call(Method::GET, "/admin/reservations?memberId=nope", None)
        .await
        .assert_problem(400, "/problems/validation-error");
}

/// Holds read the performance through a per-container cache of `PERFORMANCE_TTL`: a sale closed by the
/// organizer stops holds within that bound (and a cancellation at once: it cancels the showtimes, which
/// holds read fresh; saga_cancellations.rs).
#[tokio::test]
async fn closing_the_sale_stops_holds_within_the_cache_bound() {
    let (organizer, performance, show) = sale(1, 60).await;
    // Two buyers take turns: one member may send only so many holds per 10 s (the stack's HoldRateLimit).
    let buyers = [member("USER").await, member("USER").await];
    // Warm: the hold function's containers have read the performance.
    let warm = join_all((1..=4).map(|c| {
        let (buyer, show) = (&buyers[c as usize % 2], &show);
        async move { hold(buyer, show, &[(1, c)]).await }
    }))
    .await;
    assert!(
        warm.iter().all(|r| r.status == 201),
        "{:?}",
        warm.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let closed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let closes = closed_at
        .format(&time::format_description::well_known::Rfc3339)
        .expect("instant");
    let body = performance_body("Closed", "2026-01-01T00:00:00Z", &closes, 10);
    let auth = organizer.auth();
    let changed = call(
        Method::PUT,
        &format!("/performances/{performance}"),
        Some(&body),
        &[("if-match", "\"2\""), ("authorization", &auth)],
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let changed_at = std::time::Instant::now();
    let bound = ticketing::runtime::PERFORMANCE_TTL + std::time::Duration::from_secs(1);
    // Each warm container keeps its own cache, so one 409 does not mean every container has
    // seen the change: keep trying until the bound has passed, and no hold may be taken after it.
    let mut col = 5;
    let mut refused = 0;
    let mut sent_holds = 0usize;
    while changed_at.elapsed() < bound + std::time::Duration::from_secs(1) {
        let sent = changed_at.elapsed();
        sent_holds += 1;
        let r = hold(&buyers[sent_holds % 2], &show, &[(1, col)]).await;
        if r.status == 409 {
            refused += 1;
        } else {
            assert_eq!(r.status, 201, "{}", r.text);
            assert!(
                sent < bound,
                "holds still taken {sent:?} after the sale closed"
            );
            col += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(refused > 0, "no hold was refused after the sale closed");
    // Refused for good from then on, by every container.
    let again = join_all((56..=59).map(|c| {
        let (buyer, show) = (&buyers[c as usize % 2], &show);
        async move { hold(buyer, show, &[(1, c)]).await }
    }))
    .await;
    for r in &again {
        assert_eq!(r.status, 409, "{}", r.text);
    }
}
