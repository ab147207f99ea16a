//! In-process handler tests: requests built exactly as the Lambda runtime builds them from an API Gateway
//! HTTP API (payload 2.0) event. These cover every path that must be answered before any I/O (bad input,
//! unknown ids); the store points at a closed port, so a handler that reached DynamoDB here would answer
//! 500 and fail the test. Paths that need the table run against the local stack in `tests/`.

use lambda_http::Request;
use serde_json::{json, Value};
use ticketing::handlers::{health, performances};
use ticketing::runtime::AppState;

mod support;
use support::{assert_problem, json_of, Event};

fn state() -> AppState {
    AppState::new(support::store(), None)
}

/// The authorizer's context for an organizer, as API Gateway passes it to the function.
const ORGANIZER: &str = "0190d5a0-0000-7000-8000-000000000001";

fn request(
    method: &str,
    path: &str,
    route: &str,
    params: Value,
    query: &str,
    headers: Value,
    body: Option<&str>,
) -> Request {
    Event {
        params,
        query,
        headers,
        body,
        caller: Some(json!({"memberId": ORGANIZER, "role": "ORGANIZER"})),
        ..Event::new(method, path, route)
    }
    .request()
}

fn valid_body() -> Value {
    json!({
        "title": "Hamlet",
        "category": "THEATER",
        "venue": {"name": "National Theatre", "city": "London"},
        "runningTimeMinutes": 180,
        "ageRating": "12+",
        "runStartDate": "2027-01-10",
        "runEndDate": "2027-03-01",
        "saleOpensAt": "2026-12-01T09:00:00Z",
        "saleClosesAt": "2027-03-01T18:00:00Z"
    })
}

fn create(headers: Value, body: &str) -> Request {
    request(
        "POST",
        "/performances",
        "/performances",
        json!(null),
        "",
        headers,
        Some(body),
    )
}

#[tokio::test]
async fn health_answers_ok() {
    let res = health::get(request(
        "GET",
        "/health",
        "/health",
        json!(null),
        "",
        json!({}),
        None,
    ))
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(json_of(&res)["status"], "ok");
}

#[tokio::test]
async fn create_names_every_invalid_field() {
    let mut body = valid_body();
    body["title"] = json!("");
    body["runningTimeMinutes"] = json!(0);
    body["saleClosesAt"] = json!("2026-11-01T00:00:00Z");
    let res = performances::create(
        state(),
        create(
            json!({"content-type": "application/json"}),
            &body.to_string(),
        ),
    )
    .await;
    let problem = assert_problem(&res, 400, "/problems/validation-error");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors list")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["title", "runningTimeMinutes", "saleClosesAt"]);
}

#[tokio::test]
async fn create_refuses_malformed_bodies_naming_the_field() {
    let cases = [
        ("", "empty"),
        ("{not json", "key must be a string"),
        (r#"{"title": 5}"#, "title"),
        (r#"[1,2,3]"#, "invalid type"),
    ];
    for (body, needle) in cases {
        let res = performances::create(
            state(),
            create(json!({"content-type": "application/json"}), body),
        )
        .await;
        let problem = assert_problem(&res, 400, "/problems/malformed-body");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "{body:?}: {detail}");
    }
    let mut extra = valid_body();
    extra["venue"]["capacity"] = json!(3000);
    let res = performances::create(state(), create(json!({}), &extra.to_string())).await;
    let problem = assert_problem(&res, 400, "/problems/malformed-body");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("venue.capacity: unknown field `capacity`"),
        "{detail}"
    );
    let mut bad_enum = valid_body();
    bad_enum["category"] = json!("PODCAST");
    let res = performances::create(state(), create(json!({}), &bad_enum.to_string())).await;
    let problem = assert_problem(&res, 400, "/problems/malformed-body");
    assert!(problem["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("category: unknown variant"));
}

#[tokio::test]
async fn create_refuses_other_media_types_and_bad_idempotency_keys() {
    let body = valid_body().to_string();
    let res = performances::create(
        state(),
        create(json!({"content-type": "text/plain"}), &body),
    )
    .await;
    assert_problem(&res, 415, "/problems/unsupported-media-type");
    let res = performances::create(
        state(),
        create(json!({"idempotency-key": "x".repeat(300)}), &body),
    )
    .await;
    let problem = assert_problem(&res, 400, "/problems/validation-error");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn malformed_ids_are_not_found_without_touching_the_table() {
    for raw in ["nope", "PERF%23x", "1234"] {
        let path = format!("/performances/{raw}");
        let params = json!({"performanceId": raw});
        let res = performances::get(
            state(),
            request(
                "GET",
                &path,
                "/performances/{performanceId}",
                params.clone(),
                "",
                json!({}),
                None,
            ),
        )
        .await;
        assert_problem(&res, 404, "/problems/not-found");
        let res = performances::update(
            state(),
            request(
                "PUT",
                &path,
                "/performances/{performanceId}",
                params,
                "",
                json!({}),
                Some(&valid_body().to_string()),
            ),
        )
        .await;
        assert_problem(&res, 404, "/problems/not-found");
    }
}

#[tokio::test]
async fn update_refuses_a_bad_if_match() {
    let id = ticketing::domain::ids::new_id();
    let res = performances::update(
        state(),
        request(
            "PUT",
            &format!("/performances/{id}"),
            "/performances/{performanceId}",
            json!({"performanceId": id}),
            "",
            json!({"if-match": "\"abc\""}),
            Some(&valid_body().to_string()),
        ),
    )
    .await;
    let problem = assert_problem(&res, 400, "/problems/validation-error");
    assert_eq!(problem["errors"][0]["field"], "If-Match");
}

#[tokio::test]
async fn list_refuses_bad_parameters() {
    // What the document states is a 400; a cursor of the right shape that names no position is a 422.
    for (query, field, status, kind) in [
        ("limit=0", "limit", 400, "/problems/validation-error"),
        ("limit=101", "limit", 400, "/problems/validation-error"),
        ("limit=ten", "limit", 400, "/problems/validation-error"),
        (
            "category=PODCAST",
            "category",
            400,
            "/problems/validation-error",
        ),
        (
            "category=concert",
            "category",
            400,
            "/problems/validation-error",
        ),
        ("cursor=", "cursor", 400, "/problems/validation-error"),
        (
            "cursor=not%20base64",
            "cursor",
            400,
            "/problems/validation-error",
        ),
        ("cursor=garbage", "cursor", 422, "/problems/unprocessable"),
    ] {
        let res = performances::list(
            state(),
            request(
                "GET",
                "/performances",
                "/performances",
                json!(null),
                query,
                json!({}),
                None,
            ),
        )
        .await;
        let problem = assert_problem(&res, status, kind);
        assert_eq!(problem["errors"][0]["field"], field, "{query}");
    }
}
