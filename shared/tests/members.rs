//! In-process tests of the member routes and the authorizer: every path that is answered before any I/O
//! (bad input, missing or wrong caller, forbidden changes, tokens that do not verify). The store points at a
//! closed port, so a handler that reached DynamoDB would answer 500 and fail the test. Paths that need the
//! table and Secrets Manager run against the local stack in `tests/`.

use lambda_http::Request;
use serde_json::{json, Value};
use ticketing::auth::jwt;
use ticketing::auth::SigningKeys;
use ticketing::domain::ids::new_id;
use ticketing::domain::member::Role;
use ticketing::handlers::authorizer::{self, AuthorizerState, Decision};
use ticketing::handlers::members::{self, LoginState};
use ticketing::runtime::AppState;

const SECRET: &[u8] = b"in-process-test-secret-0123456789abcdef";

mod support;
use support::{assert_problem, store, Event};

fn state() -> AppState {
    AppState::new(store(), None)
}

fn keys() -> SigningKeys {
    SigningKeys::fixed(SECRET).expect("test key")
}

fn login_state() -> LoginState {
    LoginState {
        store: store(),
        keys: keys(),
        access_token_ttl_seconds: 3600,
    }
}

fn authorizer_state() -> AuthorizerState {
    AuthorizerState {
        store: store(),
        keys: keys(),
    }
}

fn request(
    method: &str,
    path: &str,
    route: &str,
    params: Value,
    caller: Option<Value>,
    body: Option<&str>,
) -> Request {
    Event {
        params,
        caller,
        body,
        headers: json!({"content-type": "application/json"}),
        ..Event::new(method, path, route)
    }
    .request()
}

fn caller_ctx(member_id: &str, role: Role) -> Value {
    json!({
        "memberId": member_id, "role": role.as_str(),
        "tokenId": "8c1d7a4e-0000-4000-8000-000000000000", "tokenExpiresAt": 1_900_000_000
    })
}

fn member_request(method: &str, id: &str, caller: Option<Value>, body: Option<&str>) -> Request {
    request(
        method,
        &format!("/members/{id}"),
        "/members/{memberId}",
        json!({ "memberId": id }),
        caller,
        body,
    )
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn signup(body: Value) -> Request {
    request(
        "POST",
        "/signup",
        "/signup",
        json!(null),
        None,
        Some(&body.to_string()),
    )
}

fn login(body: &str) -> Request {
    request("POST", "/login", "/login", json!(null), None, Some(body))
}

#[tokio::test]
async fn signup_names_every_invalid_field() {
    let res = members::signup(
        state(),
        signup(json!({"email": "not-an-email", "password": "too-short", "name": "", "role": "ORGANIZER"})),
    )
    .await;
    let problem = assert_problem(&res, 400, "/problems/validation-error");
    assert_eq!(fields(&problem), ["email", "name", "password"]);
}

#[tokio::test]
async fn signup_refuses_the_admin_role() {
    let res = members::signup(
        state(),
        signup(json!({"email": "a@example.com", "password": "Good-password-1", "name": "A", "role": "ADMIN"})),
    )
    .await;
    let problem = assert_problem(&res, 400, "/problems/validation-error");
    assert_eq!(fields(&problem), ["role"]);
    assert!(problem["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("USER, ORGANIZER"));
}

#[tokio::test]
async fn signup_refuses_malformed_bodies_naming_the_field() {
    for (body, needle) in [
        (
            json!({"email": "a@example.com", "password": "Good-password-1"}),
            "missing field `name`",
        ),
        (
            json!({"email": 5, "password": "Good-password-1", "name": "A"}),
            "email: invalid type",
        ),
        (
            json!({"email": "a@example.com", "password": "Good-password-1", "name": "A", "passwordHash": "x"}),
            "unknown field `passwordHash`",
        ),
    ] {
        let res = members::signup(state(), signup(body.clone())).await;
        let problem = assert_problem(&res, 400, "/problems/malformed-body");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "{body}: {detail}");
    }
}

#[tokio::test]
async fn login_refuses_empty_fields_by_name() {
    let res = members::login(login_state(), login(r#"{"email": " ", "password": ""}"#)).await;
    let problem = assert_problem(&res, 400, "/problems/validation-error");
    assert_eq!(fields(&problem), ["email", "password"]);
    let res = members::login(login_state(), login(r#"{"email": "a@example.com"}"#)).await;
    assert_problem(&res, 400, "/problems/malformed-body");
}

#[tokio::test]
async fn login_with_an_email_that_cannot_exist_is_the_plain_401() {
    // No lookup (the store is unreachable, so a lookup would be a 500), and the same problem as a wrong
    // password: type, title, detail.
    for email in ["not-an-email", "a@localhost", "x".repeat(254).as_str()] {
        let body = json!({"email": email, "password": "Whatever-123"}).to_string();
        let res = members::login(login_state(), login(&body)).await;
        let problem = assert_problem(&res, 401, "/problems/invalid-credentials");
        assert_eq!(problem["detail"], "the email or password is incorrect");
        assert!(problem.get("errors").is_none());
    }
}

#[tokio::test]
async fn protected_routes_without_a_caller_are_401() {
    let id = new_id();
    let responses = [
        members::get(state(), member_request("GET", &id, None, None)).await,
        members::update(
            state(),
            member_request("PUT", &id, None, Some(r#"{"name": "B"}"#)),
        )
        .await,
        members::delete(state(), member_request("DELETE", &id, None, None)).await,
        members::logout(
            state(),
            request("POST", "/logout", "/logout", json!(null), None, None),
        )
        .await,
    ];
    for res in responses {
        assert_problem(&res, 401, "/problems/unauthorized");
    }
}

#[tokio::test]
async fn logout_without_a_token_in_the_context_is_401() {
    let ctx = json!({"memberId": new_id(), "role": "USER"});
    let res = members::logout(
        state(),
        request("POST", "/logout", "/logout", json!(null), Some(ctx), None),
    )
    .await;
    assert_problem(&res, 401, "/problems/unauthorized");
}

#[tokio::test]
async fn other_members_are_forbidden_before_any_read() {
    let me = new_id();
    let other = new_id();
    for role in [Role::User, Role::Organizer] {
        let ctx = || Some(caller_ctx(&me, role));
        let responses = [
            members::get(state(), member_request("GET", &other, ctx(), None)).await,
            members::update(
                state(),
                member_request("PUT", &other, ctx(), Some(r#"{"name": "B"}"#)),
            )
            .await,
            members::delete(state(), member_request("DELETE", &other, ctx(), None)).await,
        ];
        for res in responses {
            assert_problem(&res, 403, "/problems/forbidden");
        }
    }
    // A non-admin naming something that is not even an id: the same 403.
    let res = members::get(
        state(),
        member_request("GET", "MEMBER%23x", Some(caller_ctx(&me, Role::User)), None),
    )
    .await;
    assert_problem(&res, 403, "/problems/forbidden");
    // An admin naming something that is not an id: 404, without touching the table.
    let res = members::get(
        state(),
        member_request(
            "GET",
            "MEMBER%23x",
            Some(caller_ctx(&me, Role::Admin)),
            None,
        ),
    )
    .await;
    assert_problem(&res, 404, "/problems/not-found");
}

#[tokio::test]
async fn only_admins_change_roles() {
    let me = new_id();
    for role in [Role::User, Role::Organizer] {
        let res = members::update(
            state(),
            member_request(
                "PUT",
                &me,
                Some(caller_ctx(&me, role)),
                Some(r#"{"role": "ADMIN"}"#),
            ),
        )
        .await;
        assert_problem(&res, 403, "/problems/forbidden");
    }
}

#[tokio::test]
async fn update_checks_its_body_before_any_io() {
    let me = new_id();
    let ctx = || Some(caller_ctx(&me, Role::User));
    // What the document states is a 400; nothing to change, or a missing current password for one's own
    // sign-in details, is a rule beyond it (422).
    let cases = [
        (r#"{}"#, vec!["body"], 422),
        (
            r#"{"name": "", "email": "nope", "password": "short"}"#,
            vec!["name", "email", "password"],
            400,
        ),
        (
            r#"{"password": "New-password-1"}"#,
            vec!["currentPassword"],
            422,
        ),
        (
            r#"{"email": "new@example.com"}"#,
            vec!["currentPassword"],
            422,
        ),
    ];
    for (body, expected, status) in cases {
        let res = members::update(state(), member_request("PUT", &me, ctx(), Some(body))).await;
        let kind = if status == 400 {
            "/problems/validation-error"
        } else {
            "/problems/unprocessable"
        };
        let problem = assert_problem(&res, status, kind);
        assert_eq!(fields(&problem), expected, "{body}");
    }
    let res = members::update(
        state(),
        member_request("PUT", &me, ctx(), Some(r#"{"role": "KING"}"#)),
    )
    .await;
    // A non-admin sending any role is refused before the value is looked at.
    assert_problem(&res, 403, "/problems/forbidden");
    let res = members::update(
        state(),
        member_request(
            "PUT",
            &me,
            Some(caller_ctx(&me, Role::Admin)),
            Some(r#"{"role": "KING"}"#),
        ),
    )
    .await;
    let problem = assert_problem(&res, 400, "/problems/validation-error");
    assert_eq!(fields(&problem), ["role"]);
}

// ---- the authorizer ----

fn authorizer_event(authorization: Option<&str>) -> authorizer::Request {
    // The event the local gateway (and API Gateway) sends: the request without body, plus type, routeArn
    // and identitySource.
    let mut headers = json!({"host": "127.0.0.1:3000", "x-forwarded-proto": "http"});
    if let Some(a) = authorization {
        headers["authorization"] = json!(a);
    }
    let event = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": "arn:aws:execute-api:us-east-1:000000000000:local/$default/GET/members/x",
        "identitySource": authorization.map(|a| vec![a]),
        "routeKey": "GET /members/{memberId}",
        "rawPath": "/members/x",
        "rawQueryString": "",
        "headers": headers,
        "pathParameters": {"memberId": "x"},
        "requestContext": {
            "accountId": "000000000000", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "127.0.0.1",
            "http": {"method": "GET", "path": "/members/x", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "r-1", "routeKey": "GET /members/{memberId}", "stage": "$default",
            "time": "23/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_000_000_000u64
        }
    });
    serde_json::from_value(event).expect("authorizer event deserializes")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn token(secret: &[u8], iat: i64, ttl: u64) -> String {
    let keys = SigningKeys::fixed(secret).expect("key");
    let key = keys.get().await.expect("fixed key");
    jwt::issue(key, &new_id(), Role::User, iat, ttl)
        .expect("issues")
        .token
}

#[tokio::test]
async fn authorizer_denies_bad_tokens_without_io() {
    let state = authorizer_state();
    let expired = token(SECRET, now() - 7200, 3600).await;
    let foreign = token(b"some-other-secret-some-other-secret!!", now(), 3600).await;
    let valid = token(SECRET, now(), 3600).await;
    let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
    parts[2] = parts[2].chars().rev().collect();
    let tampered = parts.join(".");
    let cases = [
        None,
        Some("".to_string()),
        Some("Basic dXNlcjpwYXNz".to_string()),
        Some("Bearer".to_string()),
        Some("Bearer not.a.jwt".to_string()),
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {foreign}")),
        Some(format!("Bearer {tampered}")),
        Some(valid.clone()), // no scheme
    ];
    for auth in cases {
        let event = authorizer_event(auth.as_deref());
        let decision = authorizer::decide(&state, &event).await;
        assert!(
            matches!(decision, Ok(Decision::Deny(_))),
            "{auth:?}: {decision:?}"
        );
        let response = authorizer::handle(&state, &event).await.expect("no error");
        let out = serde_json::to_value(&response).expect("serializes");
        assert_eq!(out, json!({"isAuthorized": false, "context": {}}));
    }
}

#[tokio::test]
async fn authorizer_fails_loudly_when_the_table_is_unreachable() {
    // A good token gets as far as the table; the table being down is an error (500), not a denial.
    let state = authorizer_state();
    let valid = token(SECRET, now(), 3600).await;
    let event = authorizer_event(Some(&format!("Bearer {valid}")));
    assert!(authorizer::decide(&state, &event).await.is_err());
    let err = authorizer::handle(&state, &event)
        .await
        .expect_err("dependency failure");
    assert_eq!(err.error_type, "AuthorizerError");
    assert!(!err.error_message.contains(&valid));
}

#[test]
fn allow_response_shape() {
    let ctx = ticketing::auth::AuthorizerContext::new("m-1", Role::Organizer, "j-1", 1_900_000_000);
    let out = serde_json::to_value(Decision::Allow(ctx).into_response()).expect("serializes");
    assert_eq!(
        out,
        json!({"isAuthorized": true, "context": {
            "memberId": "m-1", "role": "ORGANIZER", "tokenId": "j-1", "tokenExpiresAt": 1_900_000_000
        }})
    );
}

#[test]
fn caller_and_token_are_read_back_from_the_context() {
    let id = new_id();
    let req = member_request("GET", &id, Some(caller_ctx(&id, Role::Organizer)), None);
    let caller = ticketing::auth::caller(&req).expect("caller");
    assert_eq!(caller.member_id, id);
    assert_eq!(caller.role, Role::Organizer);
    let token = ticketing::auth::token_of(&req).expect("token");
    assert_eq!(token.id, "8c1d7a4e-0000-4000-8000-000000000000");
    assert_eq!(token.expires_at, 1_900_000_000);
}
