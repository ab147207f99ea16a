//! The performance catalog through the local gateway, against the real functions and table.

use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use ticketing_tests::{admin, call, member, publish, unique, Member, Reply};

fn performance(title: &str, start: &str, end: &str) -> Value {
    json!({
        "title": title,
        "description": "An evening of music.",
        "category": "CONCERT",
        "venue": {"name": "Olympic Hall", "city": "Seoul", "address": "424 Olympic-ro"},
        "runningTimeMinutes": 120,
        "ageRating": "ALL",
        "posterUrl": "https://cdn.example.com/poster.jpg",
        "runStartDate": start,
        "runEndDate": end,
        "saleOpensAt": "2026-11-01T10:00:00+09:00",
        "saleClosesAt": format!("{end}T18:00:00+09:00")
    })
}

#[tokio::test]
async fn create_get_update_round_trip() {
    let organizer = member("ORGANIZER").await;
    let title = format!("Round trip {}", unique());
    let created = organizer
        .call(
            Method::POST,
            "/performances",
            Some(&performance(&title, "2027-05-01", "2027-05-03")),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["id"].as_str().expect("id").to_string();
    assert_eq!(
        created.header("location"),
        Some(format!("/performances/{id}").as_str())
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.json["title"], title);
    assert_eq!(created.json["status"], "PENDING_APPROVAL");
    assert_eq!(created.json["organizerId"], organizer.id.as_str());
    assert_eq!(
        created.json["saleOpensAt"], "2026-11-01T01:00:00Z",
        "datetimes are normalised to UTC"
    );

    // Not public until an admin approves it.
    call(Method::GET, &format!("/performances/{id}"), None, &[])
        .await
        .assert_problem(404, "/problems/not-found");
    let approved = admin()
        .await
        .call(
            Method::POST,
            &format!("/admin/performances/{id}/approve"),
            None,
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.json["status"], "APPROVED");
    assert_eq!(approved.header("etag"), Some("\"2\""));

    let fetched = call(Method::GET, &format!("/performances/{id}"), None, &[]).await;
    assert_eq!(fetched.status, 200, "{}", fetched.text);
    assert_eq!(fetched.json, approved.json);

    let mut changed = performance(&format!("{title} (extended)"), "2027-05-01", "2027-05-10");
    changed.as_object_mut().expect("object").remove("posterUrl");
    let auth = organizer.auth();
    let updated = call(
        Method::PUT,
        &format!("/performances/{id}"),
        Some(&changed),
        &[("if-match", "\"2\""), ("authorization", &auth)],
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json["version"], 3);
    assert_eq!(
        updated.json["status"], "APPROVED",
        "revising an approved performance keeps it listed"
    );
    assert_eq!(updated.json["runEndDate"], "2027-05-10");
    assert_eq!(updated.json["createdAt"], created.json["createdAt"]);
    assert!(
        updated.json.get("posterUrl").is_none(),
        "an omitted optional field is removed"
    );
    assert_eq!(updated.header("etag"), Some("\"3\""));

    // A write based on an old version is refused, and nothing changes.
    let stale = call(
        Method::PUT,
        &format!("/performances/{id}"),
        Some(&performance("stale", "2027-05-01", "2027-05-03")),
        &[("if-match", "\"1\""), ("authorization", &auth)],
    )
    .await;
    stale.assert_problem(412, "/problems/precondition-failed");
    let after = call(Method::GET, &format!("/performances/{id}"), None, &[]).await;
    assert_eq!(after.json, updated.json);
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let organizer = member("ORGANIZER").await;
    let id = uuid::Uuid::now_v7().to_string();
    call(Method::GET, &format!("/performances/{id}"), None, &[])
        .await
        .assert_problem(404, "/problems/not-found");
    organizer
        .call(
            Method::PUT,
            &format!("/performances/{id}"),
            Some(&performance("x", "2027-01-01", "2027-01-02")),
        )
        .await
        .assert_problem(404, "/problems/not-found");
    call(Method::GET, "/performances/not-an-id", None, &[])
        .await
        .assert_problem(404, "/problems/not-found");
}

#[tokio::test]
async fn bad_input_is_400_naming_the_field() {
    let organizer = member("ORGANIZER").await;
    let mut body = performance("", "2027-01-01", "2027-01-02");
    body["posterUrl"] = json!("ftp://example.com/x.png");
    let reply = organizer
        .call(Method::POST, "/performances", Some(&body))
        .await;
    let problem = reply.assert_problem(400, "/problems/validation-error");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["title", "posterUrl"]);

    let mut body = performance("Typo", "2027-01-01", "2027-01-02");
    body["runingTimeMinutes"] = json!(90);
    let reply = organizer
        .call(Method::POST, "/performances", Some(&body))
        .await;
    let problem = reply.assert_problem(400, "/problems/malformed-body");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("runingTimeMinutes"),
        "{}",
        reply.text
    );

    call(Method::GET, "/performances?limit=1000", None, &[])
        .await
        .assert_problem(400, "/problems/validation-error");
    // A cursor of the documented shape that names no position of this listing: 422; not of that shape: 400.
    call(
        Method::GET,
        "/performances?cursor=eyJQSyI6IlgifQ",
        None,
        &[],
    )
    .await
    .assert_problem(422, "/problems/unprocessable");
    call(Method::GET, "/performances?cursor=a%2Bb", None, &[])
        .await
        .assert_problem(400, "/problems/validation-error");
    admin()
        .await
        .call(Method::GET, "/admin/performances?status=SOLD_OUT", None)
        .await
        .assert_problem(400, "/problems/validation-error");
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_makes_one_performance() {
    let organizer = member("ORGANIZER").await;
    let key = unique();
    let auth = organizer.auth();
    let headers = [
        ("idempotency-key", key.as_str()),
        ("authorization", auth.as_str()),
    ];
    let body = performance(&format!("Idempotent {key}"), "2027-06-01", "2027-06-02");
    let first = call(Method::POST, "/performances", Some(&body), &headers).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = call(Method::POST, "/performances", Some(&body), &headers).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.json["id"], first.json["id"]);
    let other = performance("Something else", "2027-06-01", "2027-06-02");
    call(Method::POST, "/performances", Some(&other), &headers)
        .await
        .assert_problem(409, "/problems/conflict");
    // Another organizer using the same key makes their own performance.
    let second = member("ORGANIZER").await;
    let auth2 = second.auth();
    let theirs = call(
        Method::POST,
        "/performances",
        Some(&body),
        &[
            ("idempotency-key", key.as_str()),
            ("authorization", auth2.as_str()),
        ],
    )
    .await;
    assert_eq!(theirs.status, 201, "{}", theirs.text);
    assert_ne!(theirs.json["id"], first.json["id"]);
}

#[tokio::test]
async fn an_organizer_cannot_change_another_organizers_performance() {
    let owner = member("ORGANIZER").await;
    let rival = member("ORGANIZER").await;
    let body = performance(&format!("Owned {}", unique()), "2027-07-01", "2027-07-02");
    // Pending: the rival cannot even see it.
    let pending = owner.call(Method::POST, "/performances", Some(&body)).await;
    assert_eq!(pending.status, 201, "{}", pending.text);
    let pending_id = pending.json["id"].as_str().expect("id").to_string();
    let hijack = performance("Hijacked", "2027-07-01", "2027-07-02");
    rival
        .call(
            Method::PUT,
            &format!("/performances/{pending_id}"),
            Some(&hijack),
        )
        .await
        .assert_problem(404, "/problems/not-found");
    // Approved: public, but still not theirs to change.
    let approved = publish(&owner, &body).await;
    let id = approved.json["id"].as_str().expect("id").to_string();
    rival
        .call(Method::PUT, &format!("/performances/{id}"), Some(&hijack))
        .await
        .assert_problem(403, "/problems/forbidden");
    let after = call(Method::GET, &format!("/performances/{id}"), None, &[]).await;
    assert_eq!(after.json, approved.json, "nothing changed");
    // An admin may.
    let fixed = admin()
        .await
        .call(Method::PUT, &format!("/performances/{id}"), Some(&hijack))
        .await;
    assert_eq!(fixed.status, 200, "{}", fixed.text);
    assert_eq!(
        fixed.json["organizerId"],
        owner.id.as_str(),
        "ownership stays with the organizer"
    );
}

#[tokio::test]
async fn pending_and_rejected_performances_are_not_public() {
    let organizer = member("ORGANIZER").await;
    let admin = admin().await;
    let title = format!("Review {}", unique());
    let created = organizer
        .call(
            Method::POST,
            "/performances",
            Some(&performance(&title, "2027-08-01", "2027-08-02")),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["id"].as_str().expect("id").to_string();

    let in_queue = |page: &Reply| {
        page.json["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|p| p["id"] == id.as_str()))
    };
    let catalog = call(
        Method::GET,
        "/performances?limit=100&category=CONCERT",
        None,
        &[],
    )
    .await;
    assert!(!in_queue(&catalog), "a pending performance is not listed");
    assert!(
        in_queue(&queue(&admin, "PENDING_APPROVAL", &id).await),
        "it waits in the admins' queue"
    );
    let mine = organizer
        .call(Method::GET, "/organizer/performances?limit=100", None)
        .await;
    assert!(in_queue(&mine), "the organizer sees it: {}", mine.text);

    // One performance, read by everyone: its organizer and admins see it with its status, nobody else does
    // (not even another organizer, or a token that does not verify).
    let path = format!("/performances/{id}");
    for (who, expected) in [
        (Some(&organizer), 200),
        (Some(&admin), 200),
        (Some(&member("ORGANIZER").await), 404),
        (None, 404),
    ] {
        let reply = match who {
            Some(m) => m.call(Method::GET, &path, None).await,
            None => call(Method::GET, &path, None, &[]).await,
        };
        assert_eq!(reply.status, expected, "{}", reply.text);
        if expected == 200 {
            assert_eq!(reply.json["status"], "PENDING_APPROVAL", "{}", reply.text);
        }
        let showtimes = match who {
            Some(m) => {
                m.call(Method::GET, &format!("{path}/showtimes"), None)
                    .await
            }
            None => call(Method::GET, &format!("{path}/showtimes"), None, &[]).await,
        };
        assert_eq!(showtimes.status, expected, "{}", showtimes.text);
    }
    let forged = call(
        Method::GET,
        &path,
        None,
        &[("authorization", "Bearer not-a-token")],
    )
    .await;
    assert_eq!(forged.status, 404, "{}", forged.text);

    // Rejected with a reason the organizer can read; still not public.
    admin
        .call(
            Method::POST,
            &format!("/admin/performances/{id}/reject"),
            Some(&json!({"reason": " "})),
        )
        .await
        .assert_problem(400, "/problems/validation-error");
    let rejected = admin
        .call(
            Method::POST,
            &format!("/admin/performances/{id}/reject"),
            Some(&json!({"reason": "The poster is missing."})),
        )
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_eq!(rejected.json["status"], "REJECTED");
    call(Method::GET, &format!("/performances/{id}"), None, &[])
        .await
        .assert_problem(404, "/problems/not-found");
    let mine = organizer
        .call(Method::GET, "/organizer/performances?limit=100", None)
        .await;
    let entry = mine.json["items"]
        .as_array()
        .and_then(|items| items.iter().find(|p| p["id"] == id.as_str()).cloned());
    assert_eq!(
        entry.as_ref().map(|p| p["rejectionReason"].clone()),
        Some(json!("The poster is missing."))
    );
    assert!(in_queue(&queue(&admin, "REJECTED", &id).await));
    assert!(!in_queue(&queue(&admin, "PENDING_APPROVAL", &id).await));
    // Approving a rejected performance is not a valid transition.
    admin
        .call(
            Method::POST,
            &format!("/admin/performances/{id}/approve"),
            None,
        )
        .await
        .assert_problem(409, "/problems/conflict");

    // The organizer revises it: back in the queue, reason cleared; then approved and public.
    let revised = organizer
        .call(
            Method::PUT,
            &format!("/performances/{id}"),
            Some(&performance(&title, "2027-08-01", "2027-08-03")),
        )
        .await;
    assert_eq!(revised.status, 200, "{}", revised.text);
    assert_eq!(revised.json["status"], "PENDING_APPROVAL");
    assert!(revised.json.get("rejectionReason").is_none());
    let approved = admin
        .call(
            Method::POST,
            &format!("/admin/performances/{id}/approve"),
            None,
        )
        .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(
        call(Method::GET, &format!("/performances/{id}"), None, &[])
            .await
            .status,
        200
    );
    assert!(in_queue(&queue(&admin, "APPROVED", &id).await));
}

/// Pages through the admins' listing of a status until `id` shows up (or the listing ends).
async fn queue(admin: &Member, status: &str, id: &str) -> Reply {
    let mut path = format!("/admin/performances?status={status}&limit=100");
    loop {
        let page = admin.call(Method::GET, &path, None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let found = page.json["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|p| p["id"] == id));
        match page.json["nextCursor"].as_str() {
            Some(next) if !found => {
                path = format!("/admin/performances?status={status}&limit=100&cursor={next}")
            }
            _ => return page,
        }
    }
}

#[tokio::test]
async fn the_catalog_pages_through_every_performance_once() {
    // Five performances in a year no other test uses, then page through the whole catalog two at a time.
    let organizer = member("ORGANIZER").await;
    let year = 3000 + (uuid::Uuid::new_v4().as_u128() % 5000) as u32;
    let mut mine = HashSet::new();
    let mut created_in_date_order = Vec::new();
    for day in 1..=5 {
        let start = format!("{year}-01-{day:02}");
        let reply = publish(
            &organizer,
            &performance(&format!("Paged {day}"), &start, &start),
        )
        .await;
        let id = reply.json["id"].as_str().expect("id").to_string();
        mine.insert(id.clone());
        created_in_date_order.push(id);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let path = match &cursor {
            Some(c) => format!("/performances?limit=2&cursor={c}"),
            None => "/performances?limit=2".to_string(),
        };
        let page = call(Method::GET, &path, None, &[]).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.json["items"].as_array().expect("items");
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .filter_map(|p| p["id"].as_str().map(str::to_string)),
        );
        match page.json["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let unique_seen: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(
        unique_seen.len(),
        seen.len(),
        "no performance appears on two pages"
    );
    assert!(
        mine.is_subset(&unique_seen),
        "every new performance is listed"
    );
    // Ordered by the first day of the run: ours come out in the order of their dates.
    let order: Vec<_> = seen
        .iter()
        .filter(|id| mine.contains(*id))
        .cloned()
        .collect();
    assert_eq!(order, created_in_date_order);

    let concerts = call(
        Method::GET,
        "/performances?category=CONCERT&limit=100",
        None,
        &[],
    )
    .await;
    assert_eq!(concerts.status, 200, "{}", concerts.text);
    let items = concerts.json["items"].as_array().expect("items");
    assert!(items.iter().all(|p| p["category"] == "CONCERT"));
    let opera = call(
        Method::GET,
        "/performances?category=OPERA&limit=100",
        None,
        &[],
    )
    .await;
    assert!(opera.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|p| !mine.contains(p["id"].as_str().unwrap_or_default())));
}

#[tokio::test]
async fn health_and_unknown_routes() {
    let health = call(Method::GET, "/health", None, &[]).await;
    assert_eq!(health.status, 200, "{}", health.text);
    assert_eq!(health.json["status"], "ok");
    // Not a route of the template: the $default route's 404 problem (API Gateway alone would say
    // {"message": "Not Found"}).
    let missing = call(Method::GET, "/no-such-route", None, &[]).await;
    missing.assert_problem(404, "/problems/not-found");
    // A path of the API with a method it does not take: 405 naming the methods it does.
    for (method, path, allow) in [
        (Method::DELETE, "/performances".to_string(), "GET, POST"),
        (
            Method::PATCH,
            format!("/performances/{}", uuid::Uuid::now_v7()),
            "GET, PUT",
        ),
        (Method::PUT, "/health".to_string(), "GET"),
    ] {
        let reply = call(method.clone(), &path, None, &[]).await;
        reply.assert_problem(405, "/problems/method-not-allowed");
        let got = reply.headers.get("allow").and_then(|v| v.to_str().ok());
        assert_eq!(got, Some(allow), "{method} {path}");
    }
}
