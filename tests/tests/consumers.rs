//! The event consumers, end to end: the saga's and a cancellation's events reach the notifier (stored
//! notifications and SES mail, in the member's language), the my-page projection and the audit log, and the
//! three agree. Every event type reaches the consumers it concerns; a duplicate is applied once and an event
//! before its predecessor ends right; a failing notifier's events wait in its dead-letter queue until an
//! operator redrives them; my page is rebuilt from the event history by the operator tool.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use ticketing_tests::{
    admin, call, event_schema_errors, fault_remaining, inject_fault, member, on_sale, reconcile,
    reserve, sale, settled, showtime, stack, ticketing_admin, top_up, EventTap, Member,
    EVENT_WAIT_SECS,
};

const SOLD: [&str; 3] = [
    "ReservationHeld",
    "PaymentCompleted",
    "ReservationConfirmed",
];

/// Polls `f` every 200 ms until it returns `Some`, for up to `EVENT_WAIT_SECS`.
async fn eventually<T, F, Fut>(what: &str, f: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(EVENT_WAIT_SECS);
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
    let (_, performance, show) = sale(1, 4).await;
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

    // Stored so that its bytes grow with the events, not their square: each event is an item of its own,
    // written once; the view keeps only their ids.
    let db = stack().dynamodb().await;
    let partition = AttributeValue::S(format!("MYPAGE#{}", buyer.id));
    let kept = db
        .query()
        .table_name(stack().table_name())
        .consistent_read(true)
        .key_condition_expression("PK = :pk AND begins_with(SK, :evt)")
        .expression_attribute_values(":pk", partition.clone())
        .expression_attribute_values(":evt", AttributeValue::S(format!("EVT#{id}#")))
        .send()
        .await
        .expect("the view's events");
    assert_eq!(kept.count(), kinds.len() as i32, "one item per event");
    let stored = db
        .get_item()
        .table_name(stack().table_name())
        .key("PK", partition)
        .key("SK", AttributeValue::S(format!("RES#{id}")))
        .consistent_read(true)
        .send()
        .await
        .expect("the view item")
        .item
        .expect("a view item");
    assert!(
        !stored.contains_key("events"),
        "the view no longer carries the events"
    );
    let folded: Vec<String> = serde_json::from_str(
        stored
            .get("folded")
            .and_then(|f| f.as_s().ok())
            .expect("folded"),
    )
    .expect("folded ids");
    assert_eq!(folded.len(), kinds.len(), "{folded:?}");

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

    // The documented rebuild: the view gone (as after a projector bug), then rebuilt from the events.
    stack()
        .dynamodb()
        .await
        .delete_item()
        .table_name(stack().table_name())
        .key("PK", AttributeValue::S(format!("MYPAGE#{}", buyer.id)))
        .key("SK", AttributeValue::S(format!("RES#{id}")))
        .send()
        .await
        .expect("delete the view");
    let gone = buyer
        .call(Method::GET, &format!("/me/reservations/{id}"), None)
        .await;
    assert_eq!(gone.status, 404, "{}", gone.text);
    let rebuilt = ticketing_admin(
        &[
            "rebuild-my-page",
            "--table",
            &stack().table_name(),
            "--member",
            &buyer.id,
        ],
        &[],
    )
    .await;
    let out = String::from_utf8_lossy(&rebuilt.stdout);
    assert!(
        rebuilt.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert!(out.contains("rebuilt 1 my-page view"), "{out}");
    assert_eq!(
        get(&buyer, &format!("/me/reservations/{id}")).await,
        view,
        "the rebuilt view is the projected one"
    );
    reconcile(&performance, &show, &[(&buyer, vec![id.clone()])]).await;
}

/// The (reservation, type) pairs of a member's notifications (all of them, every page).
async fn notified(who: &Member) -> BTreeSet<(String, String)> {
    let page = get(who, "/notifications?limit=100").await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            (
                n["reservationId"].as_str().unwrap_or_default().to_string(),
                n["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The (reservation, type) pairs of a member's audit entries.
async fn audited(boss: &Member, who: &Member) -> Vec<(String, String)> {
    let page = get(boss, &format!("/admin/audit?memberId={}&limit=100", who.id)).await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["correlationId"].as_str().unwrap_or_default().to_string(),
                e["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The event types of a my-page view's timeline, in order (empty while there is no view).
async fn timeline(who: &Member, reservation_id: &str) -> Vec<String> {
    let r = who
        .call(
            Method::GET,
            &format!("/me/reservations/{reservation_id}"),
            None,
        )
        .await;
    assert!(r.status == 200 || r.status == 404, "{}", r.text);
    r.json["timeline"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|e| e["type"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until a consumer's queue holds nothing, visible or in flight, on two reads in a row (so every
/// message that was in it before has been handled).
async fn drained(queue_output: &str) {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let sqs = stack().sqs();
    let url = sqs
        .get_queue_url()
        .queue_name(stack().output(queue_output))
        .send()
        .await
        .expect("queue url")
        .queue_url
        .expect("url");
    let deadline = Instant::now() + Duration::from_secs(EVENT_WAIT_SECS);
    let mut quiet = 0;
    while quiet < 2 {
        assert!(Instant::now() < deadline, "{queue_output} never drained");
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("attributes")
            .attributes
            .unwrap_or_default();
        let empty = [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .all(|a| attrs.get(a).map(String::as_str) == Some("0"));
        quiet = if empty { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The card reservation of `seat`, settled (with `Prefer: wait`); its id and status.
async fn card(buyer: &Member, show: &str, seat: (u32, u32), token: &str) -> (String, String) {
    let r = reserve(
        buyer,
        show,
        &[seat],
        Some(json!({"method": "CARD", "token": token})),
        None,
    )
    .await;
    // 202 when the outcome took longer than the wait (a loaded machine): it is followed to its end.
    assert!(r.status == 201 || r.status == 202, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let done = settled(buyer, &id, std::time::Duration::from_secs(120)).await;
    let status = done["status"].as_str().unwrap_or_default().to_string();
    (id, status)
}

#[tokio::test]
async fn every_event_type_reaches_the_consumers_it_concerns() {
    // One-minute holds: the shortest a performance may have, so one of them expires within the test.
    let (organizer, performance) = on_sale(1).await;
    let show = showtime(&organizer, &performance, 1, 6).await;
    let bea = member("USER").await;
    let english = bea
        .call(
            Method::PUT,
            &format!("/members/{}", bea.id),
            Some(&json!({"locale": "en"})),
        )
        .await;
    assert_eq!(english.status, 200, "{}", english.text);
    let dan = member("USER").await; // Korean, the default
    let mut tap = EventTap::new(&[&bea, &dan, &organizer]).await;

    // Sold; declined; held, changed and left to expire; and Dan's, sold.
    let (sold, status) = card(&bea, &show, (1, 1), "tok_visa").await;
    assert_eq!(status, "CONFIRMED");
    let (declined, status) = card(&bea, &show, (1, 2), "tok_chargeDeclined").await;
    assert_eq!(status, "FAILED");
    let held = reserve(&bea, &show, &[(1, 3)], None, None).await;
    assert_eq!(held.json["status"], "HELD", "{}", held.text);
    let expiring = held.json["id"].as_str().expect("id").to_string();
    let changed = bea
        .call(
            Method::PUT,
            &format!("/reservations/{expiring}"),
            Some(&json!({"seats": [{"row": 1, "col": 4}]})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let (dans, status) = card(&dan, &show, (1, 5), "tok_visa").await;
    assert_eq!(status, "CONFIRMED");
    // The organizer moves the show (both sold reservations are affected), then Bea cancels hers.
    let mut body = ticketing_tests::showtime_body(1, 6);
    body["venueName"] = json!("Small hall");
    let moved = organizer
        .call(
            Method::PUT,
            &format!("/performances/{performance}/showtimes/{show}"),
            Some(&body),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.text);
    let auth = bea.auth();
    let cancelled = call(
        Method::DELETE,
        &format!("/reservations/{sold}"),
        None,
        &[("authorization", auth.as_str()), ("prefer", "wait=20")],
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let expired = settled(&bea, &expiring, Duration::from_secs(120)).await;
    assert_eq!(expired["status"], "EXPIRED", "{expired}");
    // Last, the organizer cancels the showtime: Dan's reservation is cancelled and refunded.
    let called_off = organizer
        .call(
            Method::POST,
            &format!("/performances/{performance}/showtimes/{show}/cancel"),
            Some(&json!({"reason": "the hall is flooded"})),
        )
        .await;
    assert_eq!(called_off.status, 202, "{}", called_off.text);

    // What was published: every one of the eleven event types.
    let mine: [(&str, &[&str]); 4] = [
        (
            &sold,
            &[
                "ReservationHeld",
                "PaymentCompleted",
                "ReservationConfirmed",
                "ReservationCancelled",
                "RefundIssued",
            ],
        ),
        (
            &declined,
            &["ReservationHeld", "PaymentFailed", "ReservationFailed"],
        ),
        (
            &expiring,
            &[
                "ReservationHeld",
                "ReservationChanged",
                "ReservationExpired",
            ],
        ),
        (
            &dans,
            &[
                "ReservationHeld",
                "PaymentCompleted",
                "ReservationConfirmed",
                "ReservationCancelled",
                "RefundIssued",
            ],
        ),
    ];
    for (id, kinds) in mine {
        tap.expect(id, kinds).await;
    }
    let change = tap
        .expect_showtime(&show, "ShowtimeChanged", |e| {
            e["data"]["affectedReservations"]
                .as_array()
                .is_some_and(|a| a.len() == 2)
        })
        .await;
    tap.expect_showtime(&show, "ShowtimeCancelled", |_| true)
        .await;
    let at = |e: &Value| e["occurredAt"].as_str().unwrap_or_default().to_string();
    let kind = |e: &Value| e["type"].as_str().unwrap_or_default().to_string();
    // Each reservation's history: its own events and, for the two the move affected, the showtime's
    // change, in the order they happened.
    let mut history: Vec<(&Member, String, Vec<String>)> = Vec::new();
    for (who, id) in [
        (&bea, &sold),
        (&bea, &declined),
        (&bea, &expiring),
        (&dan, &dans),
    ] {
        let mut all: Vec<(String, String)> =
            tap.events(id).iter().map(|e| (at(e), kind(e))).collect();
        if *id == sold || *id == dans {
            all.push((at(&change), kind(&change)));
        }
        all.sort_by_key(|(t, k)| ticketing::events::order_key(t, k));
        history.push((who, id.clone(), all.into_iter().map(|(_, k)| k).collect()));
    }
    tap.close().await;

    // My page: every reservation with its whole timeline, in order.
    for (who, id, kinds) in &history {
        eventually(&format!("the timeline of {id}"), || async {
            (timeline(who, id).await == *kinds).then_some(())
        })
        .await;
    }
    let moved_view = get(&dan, &format!("/me/reservations/{dans}")).await;
    assert_eq!(moved_view["venueName"], "Small hall", "{moved_view}");
    assert_eq!(moved_view["status"], "CANCELLED", "{moved_view}");
    let expired_view = get(&bea, &format!("/me/reservations/{expiring}")).await;
    assert_eq!(expired_view["status"], "EXPIRED", "{expired_view}");

    // Notifications: one per event of each reservation (the move included), none for the showtime's
    // cancellation itself (its buyers hear of it through their own cancellation).
    let boss = admin().await;
    for who in [&bea, &dan] {
        let mine: Vec<(String, String)> = history
            .iter()
            .filter(|(m, _, _)| m.id == who.id)
            .flat_map(|(_, id, kinds)| kinds.iter().map(|k| (id.clone(), k.clone())))
            .collect();
        let expected: BTreeSet<(String, String)> = mine.iter().cloned().collect();
        eventually(&format!("the notifications of {}", who.id), || async {
            (notified(who).await == expected).then_some(())
        })
        .await;
        // Audit: every reservation and payment event once; the showtime's are not reservation events.
        let mut audit_expected: Vec<(String, String)> = mine
            .iter()
            .filter(|(_, k)| !k.starts_with("Showtime"))
            .cloned()
            .collect();
        audit_expected.sort();
        eventually(&format!("the audit log of {}", who.id), || async {
            let mut got = audited(&boss, who).await;
            got.sort();
            (got == audit_expected).then_some(())
        })
        .await;
        // Mail: one per notification.
        eventually(&format!("the mail of {}", who.id), || async {
            (mails_to(&who.email).await.len() == expected.len()).then_some(())
        })
        .await;
    }
    assert!(audited(&boss, &organizer).await.is_empty());
    // In each member's language; Dan's cancellation names the organizer.
    let subjects = |mails: Vec<Value>| -> Vec<String> {
        mails
            .iter()
            .filter_map(|m| m["Subject"].as_str().map(str::to_string))
            .collect()
    };
    let bea_mail = subjects(mails_to(&bea.email).await);
    assert!(
        bea_mail.iter().any(|s| s.ends_with("Your show was moved")),
        "{bea_mail:?}"
    );
    assert!(
        bea_mail.iter().any(|s| s.ends_with("Refund issued")),
        "{bea_mail:?}"
    );
    let dan_mail = subjects(mails_to(&dan.email).await);
    assert!(
        dan_mail.iter().any(|s| s.ends_with("환불되었습니다")),
        "{dan_mail:?}"
    );
    let dan_notes = get(&dan, "/notifications?limit=100").await;
    let by_organizer = dan_notes["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|n| n["type"] == "ReservationCancelled")
        .expect("Dan's cancellation notice");
    assert!(
        by_organizer["body"]
            .as_str()
            .is_some_and(|b| b.contains("주최자가")),
        "{by_organizer}"
    );
    reconcile(
        &performance,
        &show,
        &[
            (&bea, vec![sold.clone(), declined.clone(), expiring.clone()]),
            (&dan, vec![dans.clone()]),
        ],
    )
    .await;
}

/// Publishes `events` on the bus as the outbox publisher does (one entry each, in one call).
async fn put_events(events: &[&Value]) {
    let mut request = stack().eventbridge().put_events();
    for e in events {
        request = request.entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(stack().event_bus_name())
                .source("ticketing.reservations")
                .detail_type(e["type"].as_str().unwrap_or_default())
                .detail(e.to_string())
                .build(),
        );
    }
    let out = request.send().await.expect("PutEvents");
    assert_eq!(out.failed_entry_count, 0, "{out:?}");
}

#[tokio::test]
async fn a_duplicate_is_applied_once_and_a_confirmation_before_its_hold_ends_right() {
    let (_, performance, show) = sale(1, 2).await;
    let ann = member("USER").await;
    let ben = member("USER").await;
    let mut tap = EventTap::new(&[&ann]).await;
    let (real, status) = card(&ann, &show, (1, 1), "tok_visa").await;
    assert_eq!(status, "CONFIRMED");
    tap.expect(&real, &SOLD).await;
    // Ann's real events, replayed as a reservation of Ben's the consumers have never seen: the same
    // shapes (each valid against its schema), delivered twice and out of order.
    let id = uuid::Uuid::now_v7().to_string();
    let replayed: Vec<Value> = tap
        .events(&real)
        .iter()
        .map(|e| {
            let text = e.to_string().replace(&real, &id).replace(&ann.id, &ben.id);
            serde_json::from_str(&text).expect("JSON")
        })
        .collect();
    tap.close().await;
    for e in &replayed {
        let kind = e["type"].as_str().unwrap_or_default();
        assert!(event_schema_errors(kind, e).is_empty(), "{e}");
    }
    let [held, paid, confirmed] = [0, 1, 2].map(|i| &replayed[i]);
    assert_eq!(confirmed["type"], "ReservationConfirmed");

    // The confirmation first, twice.
    put_events(&[confirmed, confirmed]).await;
    let early = eventually("the view from the confirmation alone", || async {
        let r = ben
            .call(Method::GET, &format!("/me/reservations/{id}"), None)
            .await;
        (r.status == 200).then_some(r.json)
    })
    .await;
    assert_eq!(early["status"], "CONFIRMED", "{early}");
    // Then the payment and the hold (twice), in one call.
    put_events(&[paid, held, held]).await;
    let view = eventually("the whole timeline", || async {
        let v = get(&ben, &format!("/me/reservations/{id}")).await;
        (v["timeline"].as_array().map_or(0, Vec::len) >= SOLD.len()).then_some(v)
    })
    .await;
    let real_view = get(&ann, &format!("/me/reservations/{real}")).await;
    let boss = admin().await;
    let expected: BTreeSet<(String, String)> =
        SOLD.iter().map(|k| (id.clone(), k.to_string())).collect();
    eventually("Ben's notifications", || async {
        (notified(&ben).await == expected).then_some(())
    })
    .await;
    eventually("Ben's audit entries", || async {
        (audited(&boss, &ben).await.len() >= SOLD.len()).then_some(())
    })
    .await;
    // Every copy handled: the duplicates were in the consumers' queues with the originals (one PutEvents
    // call each), and the queues are now empty.
    for queue in ["NotifierQueueName", "MyPageQueueName", "AuditQueueName"] {
        drained(queue).await;
    }
    let view_after = get(&ben, &format!("/me/reservations/{id}")).await;
    assert_eq!(
        view_after, view,
        "nothing changed once the copies were handled"
    );
    assert_eq!(timeline(&ben, &id).await, SOLD, "{view}");
    for field in ["status", "paid", "seats", "totalPrice", "performanceTitle"] {
        assert_eq!(
            view[field], real_view[field],
            "{field}: {view} vs {real_view}"
        );
    }
    let notes = get(&ben, "/notifications?limit=100").await;
    assert_eq!(
        notes["items"].as_array().map_or(0, Vec::len),
        SOLD.len(),
        "{notes}"
    );
    assert_eq!(notes["unread"], SOLD.len(), "{notes}");
    let mut audit = audited(&boss, &ben).await;
    audit.sort();
    assert_eq!(
        audit,
        expected.iter().cloned().collect::<Vec<_>>(),
        "one audit entry per event"
    );
    assert_eq!(
        mails_to(&ben.email).await.len(),
        SOLD.len(),
        "one mail per event"
    );
    reconcile(&performance, &show, &[(&ann, vec![real])]).await;
}

/// The lines `ticketing-admin dlq` prints for the dead-letter queue `output` that name `reservation_id`.
async fn dead_letters(output: &str, reservation_id: &str) -> Vec<String> {
    let listed = ticketing_admin(&["dlq", "--queue", &stack().output(output)], &[]).await;
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(
        listed.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    text.lines()
        .filter(|l| l.contains(&format!("reservation={reservation_id}")))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_failing_notifier_dead_letters_its_events_and_a_redrive_delivers_them_once() {
    let (_, performance, show) = sale(1, 2).await;
    let cy = member("USER").await;
    // The notifier fails at every attempt at Cy's events (as with a broken mail provider).
    inject_fault("notifier", &cy, 1000).await;
    let (id, status) = card(&cy, &show, (1, 1), "tok_visa").await;
    assert_eq!(
        status, "CONFIRMED",
        "the sale does not wait for its notifications"
    );

    // Retried (maxReceiveCount 3), then dead-lettered: all three events.
    let parked = eventually("the notifier's dead letters", || async {
        let lines = dead_letters("NotifierDeadLetterQueueName", &id).await;
        (lines.len() >= SOLD.len()).then_some(lines)
    })
    .await;
    for kind in SOLD {
        assert!(
            parked.iter().any(|l| l.contains(&format!("\t{kind}\t"))),
            "{kind} not in {parked:?}"
        );
    }
    for line in &parked {
        let receives: u32 = line
            .split('\t')
            .find_map(|f| f.strip_prefix("receives="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(receives >= 3, "retried before it was parked: {line}");
    }
    let attempts = 1000 - fault_remaining("notifier", &cy).await;
    assert!(
        attempts >= 3 * SOLD.len() as u64,
        "{attempts} attempts at 3 events"
    );
    // The reservation is untouched, and the other consumers are not held back.
    let r = cy
        .call(Method::GET, &format!("/reservations/{id}"), None)
        .await;
    assert_eq!(r.json["status"], "CONFIRMED", "{}", r.text);
    eventually("my page beside the failing notifier", || async {
        (timeline(&cy, &id).await == SOLD).then_some(())
    })
    .await;
    assert!(notified(&cy).await.is_empty());
    assert!(mails_to(&cy.email).await.is_empty());

    // The cause is fixed; the operator redrives the queue.
    inject_fault("notifier", &cy, 0).await;
    let redriven = ticketing_admin(
        &[
            "redrive",
            "--queue",
            &stack().output("NotifierDeadLetterQueueName"),
        ],
        &[],
    )
    .await;
    let out = String::from_utf8_lossy(&redriven.stdout);
    assert!(
        redriven.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&redriven.stderr)
    );
    assert!(out.contains("moved "), "{out}");
    let expected: BTreeSet<(String, String)> =
        SOLD.iter().map(|k| (id.clone(), k.to_string())).collect();
    eventually("the redriven notifications", || async {
        (notified(&cy).await == expected).then_some(())
    })
    .await;
    drained("NotifierQueueName").await;
    assert_eq!(notified(&cy).await, expected);
    assert_eq!(mails_to(&cy.email).await.len(), SOLD.len(), "one mail each");
    assert!(dead_letters("NotifierDeadLetterQueueName", &id)
        .await
        .is_empty());
    reconcile(&performance, &show, &[(&cy, vec![id])]).await;
}
