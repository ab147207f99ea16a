//! Members through the local gateway: signup uniqueness (also under concurrency), login answers that leak
//! nothing, logout that takes effect at once, profile access.

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;
use ticketing_tests::{admin, call, login, member, unique};

fn signup_body(email: &str, role: &str) -> serde_json::Value {
    json!({"email": email, "password": "correct horse battery", "name": "Ada", "role": role})
}

#[tokio::test]
async fn a_taken_email_gives_one_member_even_under_concurrency() {
    let email = format!("dup-{}@example.com", unique());
    let first = call(
        Method::POST,
        "/signup",
        Some(&signup_body(&email, "USER")),
        &[],
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(
        first.json.get("password").is_none() && first.json.get("passwordHash").is_none(),
        "{}",
        first.text
    );
    // Same email in other case: still taken.
    let again = call(
        Method::POST,
        "/signup",
        Some(&signup_body(&email.to_uppercase(), "ORGANIZER")),
        &[],
    )
    .await;
    again.assert_problem(409, "/problems/conflict");

    // 20 concurrent signups with one new email: exactly one member.
    let email = format!("race-{}@example.com", unique());
    let attempts = (0..20).map(|_| {
        let body = signup_body(&email, "USER");
        async move { call(Method::POST, "/signup", Some(&body), &[]).await }
    });
    let replies = join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, 19),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(!login(&email, "correct horse battery").await.is_empty());
}

#[tokio::test]
async fn signup_refuses_bad_input_and_the_admin_role() {
    for (body, field) in [
        (
            json!({"email": "not-an-email", "password": "correct horse battery", "name": "A", "role": "USER"}),
            "email",
        ),
        (
            json!({"email": format!("{}@example.com", unique()), "password": "short", "name": "A", "role": "USER"}),
            "password",
        ),
        (
            json!({"email": format!("{}@example.com", unique()), "password": "correct horse battery", "name": "A", "role": "ADMIN"}),
            "role",
        ),
    ] {
        let reply = call(Method::POST, "/signup", Some(&body), &[]).await;
        assert_eq!(reply.status, 400, "{body}: {}", reply.text);
        assert!(reply.text.contains(field), "{field}: {}", reply.text);
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_email_answer_the_same() {
    let m = member("USER").await;
    let wrong = call(
        Method::POST,
        "/login",
        Some(&json!({"email": m.email, "password": "wrong password!"})),
        &[],
    )
    .await;
    let unknown = call(Method::POST, "/login", Some(&json!({"email": format!("nobody-{}@example.com", unique()), "password": "wrong password!"})), &[]).await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert_eq!((wrong.status, &wrong.json), (unknown.status, &unknown.json));
}

#[tokio::test]
async fn logout_revokes_that_token_at_once_and_only_that_one() {
    let m = member("USER").await;
    let other_session = m.login_again().await;
    let me = format!("/members/{}", m.id);
    assert_eq!(m.call(Method::GET, &me, None).await.status, 200);
    let out = m.call(Method::POST, "/logout", None).await;
    assert!(matches!(out.status, 200 | 204), "{}", out.text);
    let after = m.call(Method::GET, &me, None).await;
    assert!(matches!(after.status, 401 | 403), "{}", after.text);
    let other = call(
        Method::GET,
        &me,
        None,
        &[("authorization", &format!("Bearer {other_session}"))],
    )
    .await;
    assert_eq!(
        other.status, 200,
        "another session of the same member still works: {}",
        other.text
    );
}

#[tokio::test]
async fn members_see_and_change_only_themselves_and_admins_see_all() {
    let ada = member("USER").await;
    let bob = member("USER").await;
    let admin = admin().await;
    let ada_path = format!("/members/{}", ada.id);
    let mine = ada.call(Method::GET, &ada_path, None).await;
    assert_eq!(
        (mine.status, mine.json["email"].as_str()),
        (200, Some(ada.email.as_str())),
        "{}",
        mine.text
    );
    bob.call(Method::GET, &ada_path, None)
        .await
        .assert_problem(403, "/problems/forbidden");
    bob.call(Method::PUT, &ada_path, Some(&json!({"name": "Mallory"})))
        .await
        .assert_problem(403, "/problems/forbidden");
    bob.call(Method::DELETE, &ada_path, None)
        .await
        .assert_problem(403, "/problems/forbidden");
    assert_eq!(admin.call(Method::GET, &ada_path, None).await.status, 200);

    let renamed = ada
        .call(
            Method::PUT,
            &ada_path,
            Some(&json!({"name": "Ada Lovelace"})),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.json["name"], "Ada Lovelace");
    // Only an admin changes roles; the change applies to the member's existing token at once.
    ada.call(Method::PUT, &ada_path, Some(&json!({"role": "ORGANIZER"})))
        .await
        .assert_problem(403, "/problems/forbidden");
    let promoted = admin
        .call(Method::PUT, &ada_path, Some(&json!({"role": "ORGANIZER"})))
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    let mine = ada.call(Method::GET, "/organizer/performances", None).await;
    assert_eq!(
        mine.status, 200,
        "the promoted member's token carries the new role: {}",
        mine.text
    );

    // Deleting a member ends their sessions and frees their email.
    let gone = bob
        .call(Method::DELETE, &format!("/members/{}", bob.id), None)
        .await;
    assert!(matches!(gone.status, 200 | 204), "{}", gone.text);
    let after = bob
        .call(Method::GET, &format!("/members/{}", bob.id), None)
        .await;
    assert!(matches!(after.status, 401 | 403), "{}", after.text);
    let reuse = call(
        Method::POST,
        "/signup",
        Some(&signup_body(&bob.email, "USER")),
        &[],
    )
    .await;
    assert_eq!(reuse.status, 201, "{}", reuse.text);
}
