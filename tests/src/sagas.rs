//! Reservations through the saga: holds, payments, waits for what the machines settle, my page.

use crate::*;
use serde_json::{json, Value};

/// Moves a hold's expiry into the past on the reservation and its seat items, as the clock would.
pub async fn rewind_hold(reservation_id: &str, show: &str, seats: &[(u32, u32)]) {
    let client = stack().dynamodb().await;
    let table = stack().table_name();
    let past = time::OffsetDateTime::now_utc().unix_timestamp() - 5;
    let mut keys = vec![(format!("RES#{reservation_id}"), "META".to_string())];
    for (row, col) in seats {
        keys.push((
            format!("SHOW#{show}#B#{}", (row - 1) / 10),
            format!("SEAT#{row:03}-{col:03}"),
        ));
    }
    for (pk, sk) in keys {
        let mut update = client
            .update_item()
            .table_name(&table)
            .key("PK", aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()))
            .key("SK", aws_sdk_dynamodb::types::AttributeValue::S(sk))
            .update_expression("SET holdExpiresAt = :past")
            .expression_attribute_values(
                ":past",
                aws_sdk_dynamodb::types::AttributeValue::N(past.to_string()),
            );
        if pk.starts_with("RES#") {
            // The repair index's due time is the hold's expiry (store/repairs.rs).
            update = update
                .update_expression("SET holdExpiresAt = :past, GSI4SK = :due")
                .expression_attribute_values(
                    ":due",
                    aws_sdk_dynamodb::types::AttributeValue::S(format!(
                        "{past:010}#{reservation_id}"
                    )),
                );
        }
        update
            .condition_expression("attribute_exists(PK)")
            .send()
            .await
            .expect("rewind the hold");
    }
}

/// A reservation paid at once and CONFIRMED.
pub async fn confirmed(buyer: &Member, show: &str, seats: &[(u32, u32)], payment: Value) -> String {
    let r = reserve(buyer, show, seats, Some(payment), None).await;
    assert!(r.status == 201 || r.status == 202, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let done = settled(buyer, &id, std::time::Duration::from_secs(120)).await;
    assert_eq!(done["status"], "CONFIRMED", "{done}");
    id
}

pub async fn top_up(m: &Member, amount: u64) {
    let reply = m
        .call(
            reqwest::Method::POST,
            "/wallet/charge",
            Some(&json!({"amount": amount, "payment": {"token": "tok_visa"}})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

pub async fn reserve(
    buyer: &Member,
    show: &str,
    seats: &[(u32, u32)],
    payment: Option<Value>,
    key: Option<&str>,
) -> Reply {
    let seats: Vec<Value> = seats
        .iter()
        .map(|(row, col)| json!({"row": row, "col": col}))
        .collect();
    let mut body = json!({"showtimeId": show, "seats": seats});
    if let Some(p) = payment {
        body["payment"] = p;
    }
    let auth = buyer.auth();
    let mut headers = vec![("authorization", auth.as_str()), ("prefer", "wait=10")];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    call(
        reqwest::Method::POST,
        "/reservations",
        Some(&body),
        &headers,
    )
    .await
}

/// Polls the reservation until it is no longer HELD (or `within` passes).
pub async fn settled(buyer: &Member, id: &str, within: std::time::Duration) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let r = buyer
            .call(reqwest::Method::GET, &format!("/reservations/{id}"), None)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // A lapsed hold reads EXPIRED at once; the saga's release is what records why (`failureReason`).
        let lapsed = r.json["status"] == "EXPIRED" && r.json.get("failureReason").is_none();
        if (r.json["status"] != "HELD" && !lapsed) || std::time::Instant::now() > deadline {
            return r.json;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

pub async fn payment_of(buyer: &Member, id: &str) -> Reply {
    buyer
        .call(
            reqwest::Method::GET,
            &format!("/reservations/{id}/payment"),
            None,
        )
        .await
}

/// Every execution of these reservations ended (SUCCEEDED: FAILED and EXPIRED reservations are normal ends).
pub async fn executions_ended(ids: &[String]) {
    executions_of_ended("ReservationStateMachineArn", ids).await
}

/// Every execution named in `ids` of the state machine of deploy output `output` ended SUCCEEDED.
pub async fn executions_of_ended(output: &str, ids: &[String]) {
    let (sfn, arn) = stack().sfn_of(output);
    let prefix = arn.replace(":stateMachine:", ":execution:");
    for id in ids {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let out = sfn
                .describe_execution()
                .execution_arn(format!("{prefix}:{id}"))
                .send()
                .await
                .expect("describe the execution");
            let status = out.status().as_str().to_string();
            if status != "RUNNING" {
                assert_eq!(status, "SUCCEEDED", "the saga of {id} ended {status}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the saga of {id} is still running"
            );
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
}

/// My page shows `status` for the reservation, with the timeline `kinds` exactly (each event once).
pub async fn my_page_shows(buyer: &Member, id: &str, status: &str, kinds: &[&str]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(EVENT_WAIT_SECS);
    loop {
        let r = buyer
            .call(
                reqwest::Method::GET,
                &format!("/me/reservations/{id}"),
                None,
            )
            .await;
        assert!(r.status == 200 || r.status == 404, "{}", r.text);
        let timeline: Vec<String> = r.json["timeline"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|e| e["type"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if r.json["status"] == status && timeline.len() >= kinds.len() {
            let mut got = timeline.clone();
            got.sort();
            let mut want: Vec<String> = kinds.iter().map(|k| k.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "my page of {id}: {}", r.text);
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "my page of {id} never showed {status} with {kinds:?}: {}",
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Polls the showtime's cancellation until run `run` is DONE.
pub async fn sweep_done(organizer: &Member, performance: &str, show: &str, run: u64) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        let p = organizer
            .call(
                reqwest::Method::GET,
                &format!("/performances/{performance}/showtimes/{show}/cancellation"),
                None,
            )
            .await;
        assert_eq!(p.status, 200, "{}", p.text);
        if p.json["run"] == run && p.json["status"] == "DONE" {
            return p.json;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sweep did not finish: {}",
            p.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// The reservation once its pending cancellation is gone (within `within`).
pub async fn cancellation_over(buyer: &Member, id: &str, within: std::time::Duration) -> Value {
    let deadline = std::time::Instant::now() + within;
    loop {
        let r = buyer
            .call(reqwest::Method::GET, &format!("/reservations/{id}"), None)
            .await;
        if r.json.get("pendingCancellation").is_none() {
            return r.json;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still cancelling: {}",
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}

/// A buyer (a new USER) whose wallet holds `amount`.
pub async fn buyer_with(amount: u64) -> Member {
    let buyer = member("USER").await;
    top_up(&buyer, amount).await;
    buyer
}
