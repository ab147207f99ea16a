//! Settlement: statements read through the API, and the settlement machine run for a day.

use crate::*;
use serde_json::{json, Value};
use time::{OffsetDateTime, UtcOffset};

const KST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The Korean calendar day `days` from today there, `YYYY-MM-DD`.
pub fn kst_day(days: i64) -> String {
    (OffsetDateTime::now_utc().to_offset(KST).date() + time::Duration::days(days)).to_string()
}

/// The id of `organizer`'s KRW statement of `day`.
pub fn statement_id(organizer: &Member, day: &str) -> String {
    format!("{day}_KRW_{}", organizer.id)
}

/// `GET /organizer/settlements/{id}` as `who`.
pub async fn statement(who: &Member, id: &str) -> Reply {
    who.call(
        reqwest::Method::GET,
        &format!("/organizer/settlements/{id}"),
        None,
    )
    .await
}

/// Polls statement `id` (as `who`) until `ready` holds for it (the consumer books events within moments).
pub async fn statement_when(who: &Member, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(EVENT_WAIT_SECS);
    loop {
        let r = statement(who, id).await;
        if r.status == 200 && ready(&r.json) {
            return r.json;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "statement {id} did not become as expected: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Runs the settlement machine for `day`, closing it before its time (a test stack's `force`), for one
/// organizer's statements only (so that parallel tests keep theirs open); waits for it to succeed.
pub async fn close_day(day: &str, organizer: &Member) {
    let (sfn, arn) = stack().sfn_of("SettlementStateMachineArn");
    let name = format!("settle-{day}-{}", unique());
    sfn.start_execution()
        .state_machine_arn(&arn)
        .name(&name)
        .input(
            json!({"day": day, "organizerId": organizer.id, "force": true, "cursor": ""})
                .to_string(),
        )
        .send()
        .await
        .expect("start the settlement machine");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let status = execution_status("SettlementStateMachineArn", &name).await;
        match status.as_str() {
            "RUNNING" | "MISSING" => {}
            "SUCCEEDED" => return,
            other => panic!("settlement run {name} ended {other}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "settlement run {name} is still running"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
}
