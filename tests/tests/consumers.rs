//! The event consumers, end to end: the saga's and a cancellation's events reach the notifier (stored
//! notifications and SES mail, in the member's language), the my-page projection and the audit log, and the
//! three agree.

use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use ticketing_tests::{
    admin, call, member, on_sale, reconcile, reserve, showtime, stack, top_up, Member,
};

/// Polls `f` every 200 ms until it returns `Some`, for up to 60 s.
async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn get(who: &Member, path: &str) -> Value {
    let r = who.call(Method::GET, path, None).await;
    assert_eq!(r.status, 200, "{path}: {}", r.text);
    r.json
}

/// The mails LocalStack's SES recorded for `to`.
async fn mails_to(to: &str) -> Vec<Value> {
    let all: Value = reqwest::get(format!("{}/_aws/ses", stack().endpoint()))
        .await
        .expect("SES inspection")
        .json()
        .await
        .expect("JSON");
    all["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["Destination"]["ToAddresses"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == to))
        })
        .collect()
}

#[tokio::test]
async fn a_sale_then_a_cancellation_agree_on_my_page_notifications_mail_and_audit() {
    let (organizer, performance) = on_sale(10).await;
    let show = showtime(&organizer, &performance, 1, 4).await;
    let buyer = member("USER").await;
    let english = buyer
        .call(
            Method::PUT,
            &format!("/members/{}", buyer.id),
            Some(&json!({"locale": "en"})),
        )
        .await;
    assert_eq!(english.status, 200, "{}", english.text);
    top_up(&buyer, 1_000_000).await;
    let sold = reserve(
        &buyer,
        &show,
        &[(1, 1), (1, 2)],
        Some(json!({"method": "WALLET"})),
        None,
    )
    .await;
    assert_eq!(sold.status, 201, "{}", sold.text);
    assert_eq!(sold.json["status"], "CONFIRMED", "{}", sold.text);
    let id = sold.json["id"].as_str().expect("id").to_string();
    let auth = buyer.auth();
    let cancelled = call(
        Method::DELETE,
        &format!("/reservations/{id}"),
        None,
        &[("authorization", auth.as_str()), ("prefer", "wait=20")],
    )
    .await;
    assert!(
        cancelled.status == 200 || cancelled.status == 202,
        "{}",
        cancelled.text
    );

    let kinds = [
        "ReservationHeld",
        "PaymentCompleted",
        "ReservationConfirmed",
        "ReservationCancelled",
        "RefundIssued",
    ];
    // My page: the whole timeline, in order, and the amounts.
    let view = eventually("my page", || async {
        // 404 until the projector has seen a reservation event.
        let r = buyer
            .call(Method::GET, &format!("/me/reservations/{id}"), None)
            .await;
        assert!(r.status == 200 || r.status == 404, "{}", r.text);
        let v = r.json;
        (v["timeline"].as_array().map_or(0, Vec::len) == kinds.len()).then_some(v)
    })
    .await;
    let timeline: Vec<&str> = view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    assert_eq!(timeline, kinds, "{view}");
    assert_eq!(view["status"], "CANCELLED", "{view}");
    assert_eq!(view["paid"], sold.json["totalPrice"], "{view}");
    assert_eq!(
        view["refunded"].as_u64().unwrap_or(0) + view["fees"].as_u64().unwrap_or(0),
        view["paid"].as_u64().unwrap_or(0),
        "refund + fee = what was paid: {view}"
    );
    assert!(
        view["performanceTitle"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{view}"
    );
    let list = get(&buyer, "/me/reservations").await;
    assert_eq!(list["items"][0]["reservationId"], id.as_str(), "{list}");

    // Notifications: one per event, newest first, in English, all unread.
    let notes = eventually("notifications", || async {
        let n = get(&buyer, "/notifications").await;
        (n["items"].as_array().map_or(0, Vec::len) == kinds.len()).then_some(n)
    })
    .await;
    assert_eq!(notes["unread"], kinds.len(), "{notes}");
    let mut types: Vec<&str> = notes["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["type"].as_str())
        .collect();
    types.sort_unstable();
    let mut expected = kinds.to_vec();
    expected.sort_unstable();
    assert_eq!(types, expected, "{notes}");
    assert!(
        notes["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|n| n["locale"] == "en"),
        "{notes}"
    );
    let first = notes["items"][0]["id"].as_str().expect("id").to_string();
    let read = buyer
        .call(Method::POST, &format!("/notifications/{first}/read"), None)
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    let again = buyer
        .call(Method::POST, &format!("/notifications/{first}/read"), None)
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(
        get(&buyer, "/notifications").await["unread"],
        kinds.len() - 1
    );

    // Mail: one per notification, with its subject.
    let mails = eventually("mail", || async {
        let m = mails_to(&buyer.email).await;
        (m.len() >= kinds.len()).then_some(m)
    })
    .await;
    assert_eq!(
        mails.len(),
        kinds.len(),
        "one mail per notification: {mails:?}"
    );
    for n in notes["items"].as_array().expect("items") {
        assert!(
            mails.iter().any(|m| m["Subject"] == n["subject"]),
            "no mail for {n}"
        );
    }

    // Audit: every event of the reservation, once, for an admin only.
    let boss = admin().await;
    let audit = eventually("audit", || async {
        let a = get(&boss, &format!("/admin/audit?reservationId={id}")).await;
        (a["items"].as_array().map_or(0, Vec::len) == kinds.len()).then_some(a)
    })
    .await;
    let audited: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(audited.len(), kinds.len(), "{audit}");
    let by_member = get(&boss, &format!("/admin/audit?memberId={}", buyer.id)).await;
    assert_eq!(
        by_member["items"].as_array().map_or(0, Vec::len),
        kinds.len(),
        "{by_member}"
    );
    let refused = buyer
        .call(
            Method::GET,
            &format!("/admin/audit?reservationId={id}"),
            None,
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    reconcile(&performance, &show, &[(&buyer, vec![id.clone()])]).await;
}
