//! The waiting room against the local stack: joining (one ticket per member), the inlet letting buyers in
//! at the rate under the cap, admission tokens that `POST /reservations` checks (each refusal with its own
//! problem type), and an admitted buyer's purchase through the saga.

use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing_tests::{member, on_sale, reconcile, reserve, showtime, signing_key, stack, Member};

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// One run of the inlet, as its schedule would make it (in-process, against the stack's table).
async fn inlet() {
    let store = ticketing::store::Store::new(stack().dynamodb().await, stack().table_name());
    ticketing::waiting_room::run_all(&store, now_ms())
        .await
        .expect("inlet run");
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

/// Runs the inlet until `ticket` has a place (its second is over), for up to 20 s.
async fn placed(who: &Member, ticket: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        inlet().await;
        let t = poll(who, ticket).await;
        if t["position"].is_u64() {
            return t;
        }
        assert!(Instant::now() < deadline, "never placed: {t}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
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
    let (organizer, performance) = on_sale(10).await;
    let show = showtime(&organizer, &performance, 1, 4).await;
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
    let first = placed(&ann, &ann_ticket).await;
    let (_, bobs) = join(&bob, &show).await;
    let bob_ticket = bobs["ticketId"].as_str().expect("ticketId").to_string();
    let second = placed(&bob, &bob_ticket).await;
    assert!(
        second["position"].as_u64() > first["position"].as_u64(),
        "{first} {second}"
    );
    inlet().await;
    let admitted = poll(&ann, &ann_ticket).await;
    assert_eq!(admitted["status"], "ADMITTED", "{admitted}");
    let token = admitted["admissionToken"]
        .as_str()
        .expect("token")
        .to_string();
    // The cap is one: Bob waits, however often the inlet runs.
    inlet().await;
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
    reconcile(&performance, &show, &[(&ann, vec![id])]).await;
}
