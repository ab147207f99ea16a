//! The waiting room against the local stack: joining (one ticket per member), fair order under concurrent
//! joins, the pre-queue's shuffle at the opening, the inlet letting buyers in at the rate under the cap,
//! capacity coming back when admissions lapse or finish with a purchase, abandoned tickets losing their place,
//! admission tokens that `POST /reservations` checks (each refusal with its own problem type), and an
//! admitted buyer's purchase through the saga.
//!
//! The inlet runs in-process, room by room, with the test's clock (the local stack's schedule is off), and
//! once as the deployed function.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing::inlet::Run;
use ticketing::store::Store;
use ticketing_tests::{
    member, performance_body, publish, reconcile, reserve, sale, showtime, signing_key, stack,
    Member,
};

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

async fn store() -> Store {
    Store::new(stack().dynamodb().await, stack().table_name())
}

/// One inlet run over `show`'s room at `at_ms`, as the scheduled function makes it each second.
async fn inlet_at(show: &str, at_ms: i64) -> Run {
    let store = store().await;
    for _ in 0..10 {
        // `None`: another run moved the room meanwhile; take the next turn.
        if let Some(run) = ticketing::inlet::run_one(&store, show, at_ms)
            .await
            .expect("inlet run")
        {
            return run;
        }
    }
    panic!("the inlet never got a turn at {show}");
}

async fn inlet(show: &str) -> Run {
    inlet_at(show, now_ms()).await
}

async fn opens_at_ms(show: &str) -> i64 {
    store()
        .await
        .get_room(show)
        .await
        .expect("room")
        .expect("a room")
        .opens_at_ms
}

async fn open_room(organizer: &Member, performance: &str, show: &str, body: Value) {
    let r = organizer
        .call(
            Method::PUT,
            &format!("/performances/{performance}/showtimes/{show}/waiting-room"),
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A showtime (one row of two seats) of a performance on sale now, with its waiting room switched on with
/// `body`.
async fn room_on_sale(body: Value) -> String {
    let (organizer, performance, show) = sale(1, 2).await;
    open_room(&organizer, &performance, &show, body).await;
    show
}

async fn join(who: &Member, show: &str) -> (u16, Value) {
    let r = who
        .call(Method::POST, &format!("/showtimes/{show}/queue"), None)
        .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text);
    (r.status, r.json)
}

async fn poll(who: &Member, ticket: &str) -> Value {
    let r = who
        .call(Method::GET, &format!("/queue/{ticket}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

/// Runs the inlet until `ticket` has a place (its second is over), for up to 30 s.
async fn placed(show: &str, who: &Member, ticket: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        inlet(show).await;
        let t = poll(who, ticket).await;
        if t["position"].is_u64() {
            return t;
        }
        assert!(Instant::now() < deadline, "never placed: {t}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Polls `ticket` until its status is `status` (a poll sees the room at most a second late), for up to 5 s.
async fn poll_until(who: &Member, ticket: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let t = poll(who, ticket).await;
        if t["status"] == status {
            return t;
        }
        assert!(Instant::now() < deadline, "never {status}: {t}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn ticket_id(t: &Value) -> String {
    t["ticketId"].as_str().expect("ticketId").to_string()
}

async fn hold_with(
    who: &Member,
    show: &str,
    col: u32,
    token: Option<&str>,
) -> ticketing_tests::Reply {
    let mut body = json!({"showtimeId": show, "seats": [{"row": 1, "col": col}],
                          "payment": {"method": "CARD", "token": "tok_visa"}});
    if let Some(t) = token {
        body["admissionToken"] = json!(t);
    }
    let auth = who.auth();
    ticketing_tests::call(
        Method::POST,
        "/reservations",
        Some(&body),
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await
}

#[tokio::test]
async fn an_admitted_buyer_buys_and_every_other_hold_is_refused_with_its_reason() {
    let (organizer, performance, show) = sale(1, 4).await;
    let other_show = showtime(&organizer, &performance, 1, 2).await;
    // One admitted buyer at a time.
    open_room(
        &organizer,
        &performance,
        &show,
        json!({"admitPerMinute": 600, "maxActive": 1}),
    )
    .await;
    open_room(&organizer, &performance, &other_show, json!({})).await;
    let ann = member("USER").await;
    let bob = member("USER").await;

    reserve(&ann, &show, &[(1, 1)], None, None)
        .await
        .assert_problem(403, "/problems/admission-required");

    let (status, ticket) = join(&ann, &show).await;
    assert_eq!(status, 201, "{ticket}");
    let ann_ticket = ticket["ticketId"].as_str().expect("ticketId").to_string();
    let (again, same) = join(&ann, &show).await;
    assert_eq!(
        (again, &same["ticketId"]),
        (200, &ticket["ticketId"]),
        "one ticket per member"
    );
    // Ann's second is over before Bob joins: she is ahead of him.
    let first = placed(&show, &ann, &ann_ticket).await;
    let (_, bobs) = join(&bob, &show).await;
    let bob_ticket = bobs["ticketId"].as_str().expect("ticketId").to_string();
    let second = placed(&show, &bob, &bob_ticket).await;
    assert!(
        second["position"].as_u64() > first["position"].as_u64(),
        "{first} {second}"
    );
    // The deployed inlet lets Ann in (an event naming the room runs it once).
    let ran = stack()
        .invoke("WaitingRoomInletFunctionName", &json!({"showtimeId": show}))
        .await;
    assert_eq!(ran["serving"], 1, "{ran}");
    let admitted = poll_until(&ann, &ann_ticket, "ADMITTED").await;
    let token = admitted["admissionToken"]
        .as_str()
        .expect("token")
        .to_string();
    // The cap is one: Bob waits, however often the inlet runs.
    inlet(&show).await;
    let waiting = poll(&bob, &bob_ticket).await;
    assert_eq!(waiting["status"], "WAITING", "{waiting}");
    assert!(
        waiting["pollAfterSeconds"].as_u64().is_some_and(|s| s >= 2),
        "{waiting}"
    );

    // Each wrong admission says why, and holds nothing.
    hold_with(&bob, &show, 2, Some(&token))
        .await
        .assert_problem(403, "/problems/admission-other-member");
    let mut forged = token.clone();
    let last = forged
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    forged.push(last);
    hold_with(&ann, &show, 2, Some(&forged))
        .await
        .assert_problem(403, "/problems/admission-invalid");
    hold_with(&ann, &other_show, 1, Some(&token))
        .await
        .assert_problem(403, "/problems/admission-other-showtime");
    let key =
        ticketing::auth::jwt::TokenKey::from_secret(signing_key().await.as_bytes()).expect("key");
    let stale = ticketing::auth::admission::issue(
        &key,
        (&ann.id, &show, &ann_ticket),
        time::OffsetDateTime::now_utc().unix_timestamp() - 3_600,
        600,
    )
    .expect("token");
    hold_with(&ann, &show, 2, Some(&stale))
        .await
        .assert_problem(403, "/problems/admission-expired");

    // The admitted buyer buys through the saga.
    let bought = hold_with(&ann, &show, 3, Some(&token)).await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    assert_eq!(bought.json["status"], "CONFIRMED", "{}", bought.text);
    let id = bought.json["id"].as_str().expect("id").to_string();

    // Her purchase finished her admission long before it lapses: its capacity goes back, and Bob (next,
    // under the cap of one) is let in.
    let deadline = Instant::now() + Duration::from_secs(20);
    let bob_in = loop {
        inlet(&show).await;
        let t = poll(&bob, &bob_ticket).await;
        if t["status"] == "ADMITTED" {
            break t;
        }
        assert_eq!(t["status"], "WAITING", "{t}");
        assert!(Instant::now() < deadline, "Bob was never let in: {t}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let finished = poll(&ann, &ann_ticket).await;
    assert_eq!(finished["status"], "FINISHED", "{finished}");
    assert!(finished.get("admissionToken").is_none(), "{finished}");
    // Her token, still within its lifetime, buys no more, and holds nothing (seat 4 stays free for Bob).
    hold_with(&ann, &show, 4, Some(&token))
        .await
        .assert_problem(403, "/problems/admission-used");
    let bobs_token = bob_in["admissionToken"].as_str().expect("token");
    let bobs = hold_with(&bob, &show, 4, Some(bobs_token)).await;
    assert_eq!(bobs.status, 201, "{}", bobs.text);
    assert_eq!(bobs.json["status"], "CONFIRMED", "{}", bobs.text);
    let bobs_id = bobs.json["id"].as_str().expect("id").to_string();
    // To buy more, she joins again: a new ticket, at the back.
    let (status, again) = join(&ann, &show).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["status"], "COUNTING", "{again}");
    reconcile(
        &performance,
        &show,
        &[(&ann, vec![id]), (&bob, vec![bobs_id])],
    )
    .await;
}

/// `n` buyers, signed up side by side.
async fn buyers(n: usize) -> Vec<Member> {
    join_all((0..n).map(|_| member("USER"))).await
}

#[tokio::test]
async fn concurrent_joins_come_out_in_join_order_within_a_second() {
    let show = room_on_sale(json!({"admitPerMinute": 15000, "maxActive": 100000})).await;
    let warm = buyers(8).await;
    let buyers = buyers(40).await;
    // Warm joins (other members) first, so the measured ones do not wait for new containers.
    let warm_tickets: Vec<String> = join_all(warm.iter().map(|w| join(w, &show)))
        .await
        .iter()
        .map(|(_, t)| ticket_id(t))
        .collect();
    // Joins every 150 ms over six seconds, several in flight at once.
    let t0 = Instant::now();
    let joins = join_all(buyers.iter().enumerate().map(|(i, b)| {
        let show = show.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(150 * i as u64)).await;
            let start = t0.elapsed();
            let (status, t) = join(b, &show).await;
            let end = t0.elapsed();
            assert_eq!(status, 201, "{t}");
            assert_eq!(t["status"], "COUNTING", "{t}");
            (start, end, ticket_id(&t))
        }
    }))
    .await;
    let mut places = Vec::new();
    for (b, (_, _, ticket)) in buyers.iter().zip(&joins) {
        let t = placed(&show, b, ticket).await;
        places.push(t["position"].as_u64().expect("position"));
    }
    let mut sorted = places.clone();
    for (w, ticket) in warm.iter().zip(&warm_tickets) {
        sorted.push(
            placed(&show, w, ticket).await["position"]
                .as_u64()
                .expect("position"),
        );
    }
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (1..=48).collect::<Vec<u64>>(),
        "one place each, none skipped"
    );
    // The stated tolerance: a join answered more than a second before another began is ahead of it.
    let tolerance = Duration::from_millis(1_000);
    let (mut checked, mut swapped_within) = (0, 0);
    for (i, (_, end_i, _)) in joins.iter().enumerate() {
        for (j, (start_j, _, _)) in joins.iter().enumerate() {
            if *end_i + tolerance < *start_j {
                checked += 1;
                assert!(
                    places[i] < places[j],
                    "join {i} (ended {end_i:?}) is behind join {j} (began {start_j:?}): {} > {}",
                    places[i],
                    places[j]
                );
            } else if joins[i].0 < *start_j && places[i] > places[j] {
                swapped_within += 1;
            }
        }
    }
    assert!(checked >= 100, "too few ordered pairs to judge: {checked}");
    println!(
        "{checked} pairs over a second apart all in order; {swapped_within} closer pairs swapped"
    );
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .expect("instant")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

#[tokio::test]
async fn the_pre_queue_is_shuffled_at_the_opening_and_later_arrivals_queue_behind_it() {
    let organizer = member("ORGANIZER").await;
    let early = buyers(30).await;
    let late = member("USER").await;
    // The sale opens in 20 s; everybody in `early` joins before that.
    let opens = (now_ms() / 1000 + 20) * 1000;
    let body = performance_body("Rush", &rfc3339(opens), "2027-03-31T00:00:00Z", 10);
    let performance = publish(&organizer, &body).await.json["id"]
        .as_str()
        .expect("id")
        .to_string();
    let show = showtime(&organizer, &performance, 1, 2).await;
    open_room(&organizer, &performance, &show, json!({})).await;
    assert_eq!(
        opens_at_ms(&show).await,
        opens,
        "the room opens with the sale"
    );
    let mut tickets = Vec::new();
    for b in &early {
        let (status, t) = join(b, &show).await;
        assert_eq!((status, &t["status"]), (201, &json!("COUNTING")), "{t}");
        assert!(
            t.get("position").is_none(),
            "no place before the opening: {t}"
        );
        tickets.push(ticket_id(&t));
    }
    assert!(
        now_ms() < opens,
        "the set-up took past the opening; the test needs a later one"
    );
    let before = poll(&early[0], &tickets[0]).await;
    assert_eq!(before["status"], "COUNTING", "{before}");
    assert!(
        before["pollAfterSeconds"].as_u64().is_some_and(|s| s >= 2),
        "{before}"
    );
    assert_eq!(inlet(&show).await.serving, 0, "nobody is let in early");

    // After the opening: each early ticket gets a place among the first 30.
    let mut places = Vec::new();
    for (b, ticket) in early.iter().zip(&tickets) {
        places.push(
            placed(&show, b, ticket).await["position"]
                .as_u64()
                .expect("position"),
        );
    }
    let (_, t) = join(&late, &show).await;
    let late_place = placed(&show, &late, &ticket_id(&t)).await["position"].clone();
    assert_eq!(late_place, 31, "after the opening, first come first served");
    let mut sorted = places.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=30).collect::<Vec<u64>>());

    // The places are not the order the joins were counted in: the pre-queue was shuffled.
    let store = store().await;
    let counts = store.slot_counts(&show, 0).await.expect("counts");
    assert_eq!(counts.iter().sum::<u64>(), 30);
    let mut unshuffled_fixed = 0;
    for (b, place) in early.iter().zip(&places) {
        let ticket = store
            .get_ticket(&show, &b.id)
            .await
            .expect("ticket")
            .expect("a ticket");
        assert_eq!(ticket.slot, 0, "a pre-queue ticket");
        let counted = ticketing::domain::waiting_room::rank_in_slot(
            &counts,
            ticket.slot_ticket().expect("counted"),
        );
        if counted + 1 == *place {
            unshuffled_fixed += 1;
        }
    }
    // A uniform shuffle of 30 leaves one in place on average; more than 10 has odds below 1e-7.
    assert!(
        unshuffled_fixed <= 10,
        "{unshuffled_fixed} of 30 kept their counted place"
    );
}

#[tokio::test]
async fn the_inlet_never_lets_in_faster_than_the_rate() {
    let show = room_on_sale(json!({"admitPerMinute": 60, "maxActive": 1000})).await;
    let buyers = buyers(16).await;
    let opens = opens_at_ms(&show).await;
    let mut tickets = Vec::new();
    for b in &buyers {
        tickets.push(ticket_id(&join(b, &show).await.1));
    }
    // 60 a minute: by any instant t, at most one a second since the opening, and exactly that while
    // buyers wait (the fraction of a buyer carries over from run to run).
    let allowed = |t: i64| (u64::try_from(t - opens).unwrap_or(0) / 1000).min(16);
    let mut t = now_ms() + ticketing::domain::waiting_room::CLOSE_GRACE_MS + 1_000;
    let mut serving = 0;
    for step in [0, 400, 500, 700, 1_000, 1_600, 2_300, 150, 850] {
        t += step;
        let run = inlet_at(&show, t).await;
        assert_eq!(run.serving, allowed(t), "at {} ms: {run:?}", t - opens);
        assert!(run.serving >= serving);
        serving = run.serving;
    }
    // A run with a clock behind the last one changes nothing.
    assert_eq!(inlet_at(&show, t - 5_000).await.serving, serving);
    // The buyers see it: exactly the first `serving` places are admitted.
    tokio::time::sleep(ticketing::runtime::ROOM_TTL).await;
    let mut admitted = Vec::new();
    for (b, ticket) in buyers.iter().zip(&tickets) {
        let v = poll(b, ticket).await;
        let place = v["position"].as_u64().expect("placed");
        assert_eq!(v["status"] == "ADMITTED", place <= serving, "{v}");
        if v["status"] == "ADMITTED" {
            admitted.push(place);
        }
    }
    assert_eq!(admitted.len() as u64, serving);
}

#[tokio::test]
async fn the_cap_holds_until_admissions_lapse_and_an_abandoned_ticket_loses_its_place() {
    let show = room_on_sale(json!({"admitPerMinute": 6000, "maxActive": 2, "admissionMinutes": 1, "abandonSeconds": 30})).await;
    let four = buyers(4).await;
    let mut tickets = Vec::new();
    for b in &four {
        tickets.push(ticket_id(&join(b, &show).await.1));
    }
    // The inlet's runs from here on may let the first two in: their admissions are at most this old.
    let started = Instant::now();
    let mut placed_four = Vec::new();
    for (b, t) in four.iter().zip(&tickets) {
        placed_four.push(
            placed(&show, b, t).await["position"]
                .as_u64()
                .expect("place"),
        );
    }
    // A fifth joins after them and never polls again.
    let gone = member("USER").await;
    let (_, gone_ticket) = join(&gone, &show).await;
    let gone_ticket = ticket_id(&gone_ticket);
    // Buyers by place.
    let mut order: Vec<usize> = (0..4).collect();
    order.sort_by_key(|i| placed_four[*i]);
    let (first, then) = (&order[..2], &order[2..]);

    // The first two are let in; the cap holds the others back while the admissions live.
    let run = inlet(&show).await;
    assert_eq!(run.serving, 2, "{run:?}");
    let mut tokens = Vec::new();
    for i in first {
        let v = poll_until(&four[*i], &tickets[*i], "ADMITTED").await;
        tokens.push(v["admissionToken"].as_str().expect("token").to_string());
    }
    let lifetime = Duration::from_secs(60);
    loop {
        let run = inlet(&show).await;
        let elapsed = started.elapsed();
        if elapsed < lifetime - Duration::from_secs(1) {
            assert_eq!(run.serving, 2, "past the cap after {elapsed:?}: {run:?}");
        }
        for i in then {
            let v = poll(&four[*i], &tickets[*i]).await;
            if elapsed < lifetime - Duration::from_secs(1) {
                assert_eq!(v["status"], "WAITING", "{v}");
            }
        }
        if run.serving > 2 {
            // Each lapsed admission frees its place (the two may have been let in by different runs).
            assert!(elapsed >= lifetime - Duration::from_secs(1), "{elapsed:?}");
            assert!(run.serving <= 4, "more let in than lapsed: {run:?}");
        }
        if run.serving == 4 {
            break;
        }
        assert!(
            elapsed < lifetime + Duration::from_secs(20),
            "capacity never came back: {run:?}"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    // The lapsed admissions: their tickets say so, their tokens are refused, and they may join anew.
    tokio::time::sleep(ticketing::runtime::ROOM_TTL).await;
    for (i, token) in first.iter().zip(&tokens) {
        let v = poll_until(&four[*i], &tickets[*i], "EXPIRED").await;
        assert!(v.get("admissionToken").is_none(), "{v}");
        hold_with(&four[*i], &show, 1, Some(token))
            .await
            .assert_problem(403, "/problems/admission-expired");
    }
    for i in then {
        poll_until(&four[*i], &tickets[*i], "ADMITTED").await;
    }
    let (status, again) = join(&four[first[0]], &show).await;
    assert_eq!(
        (status, &again["status"]),
        (201, &json!("COUNTING")),
        "{again}"
    );

    // The fifth went unpolled past 30 s: lost, even though its place has not come; joining again puts it
    // at the back.
    let lost = poll(&gone, &gone_ticket).await;
    assert_eq!(lost["status"], "LOST", "{lost}");
    assert_eq!(
        poll(&gone, &gone_ticket).await["status"],
        "LOST",
        "lost stays lost"
    );
    let (status, anew) = join(&gone, &show).await;
    assert_eq!(status, 201, "{anew}");
    let anew = placed(&show, &gone, &ticket_id(&anew)).await;
    assert!(anew["position"].as_u64() > Some(5), "{anew}");
}
