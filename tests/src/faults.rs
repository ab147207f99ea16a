//! Fault and crash switches (test stacks run with `FaultInjection=on`), the repairer, execution histories.

use crate::*;
use serde_json::{json, Value};

/// Makes the next `times` attempts of `function` (`publisher`, `notifier`, `my-page`, `audit`) at `who`'s
/// events fail (test stacks run with `FaultInjection=on`); `0` clears the fault.
pub async fn inject_fault(function: &str, who: &Member, times: u32) {
    arm_fault(function, &who.id, times).await
}

/// How many more attempts the fault of `function` at `who` fails.
pub async fn fault_remaining(function: &str, who: &Member) -> u64 {
    faults_left(function, &who.id).await
}

/// The fault item `FAULT#<function>`/`<key>` with `remaining = times`.
async fn arm_fault(function: &str, key: &str, times: u32) {
    use aws_sdk_dynamodb::types::AttributeValue;
    stack()
        .dynamodb()
        .await
        .put_item()
        .table_name(stack().table_name())
        .item("PK", AttributeValue::S(format!("FAULT#{function}")))
        .item("SK", AttributeValue::S(key.to_string()))
        .item("type", AttributeValue::S("Fault".into()))
        .item("remaining", AttributeValue::N(times.to_string()))
        .send()
        .await
        .expect("arm the fault");
}

/// Arms a pause at switch `point` of `key` for the saga's next pass: the process that takes it waits there
/// until [`release_pause`] (at most 20 s), then goes on. While it waits the test knows where the execution
/// stands and that nothing later of it has run.
pub async fn arm_pause(key: &str, point: &str) {
    arm_crash(key, point, 1).await;
    use aws_sdk_dynamodb::types::AttributeValue;
    stack()
        .dynamodb()
        .await
        .update_item()
        .table_name(stack().table_name())
        .key("PK", AttributeValue::S("FAULT#saga".into()))
        .key("SK", AttributeValue::S(format!("{key}#{point}")))
        .update_expression("SET pause = :t, passThrough = :t")
        .expression_attribute_values(":t", AttributeValue::Bool(true))
        .send()
        .await
        .expect("arm the pause");
}

/// Lets the process paused at switch `point` of `key` go on (see [`arm_pause`]).
pub async fn release_pause(key: &str, point: &str) {
    set_pause(key, point, false).await;
}

async fn set_pause(key: &str, point: &str, pause: bool) {
    use aws_sdk_dynamodb::types::AttributeValue;
    stack()
        .dynamodb()
        .await
        .update_item()
        .table_name(stack().table_name())
        .key("PK", AttributeValue::S("FAULT#saga".into()))
        .key("SK", AttributeValue::S(format!("{key}#{point}")))
        .update_expression("SET pause = :p")
        .expression_attribute_values(":p", AttributeValue::Bool(pause))
        .send()
        .await
        .expect("set the switch's pause");
}

/// What is left of fault item `FAULT#<function>`/`<key>`.
async fn faults_left(function: &str, key: &str) -> u64 {
    use aws_sdk_dynamodb::types::AttributeValue;
    let item = stack()
        .dynamodb()
        .await
        .get_item()
        .table_name(stack().table_name())
        .key("PK", AttributeValue::S(format!("FAULT#{function}")))
        .key("SK", AttributeValue::S(key.to_string()))
        .consistent_read(true)
        .send()
        .await
        .expect("read the fault")
        .item
        .expect("the fault item");
    match item.get("remaining") {
        Some(AttributeValue::N(n)) => n.parse().expect("a number"),
        other => panic!("remaining is {other:?}"),
    }
}

/// The id `POST /reservations` gives the hold `who` makes with `Idempotency-Key: key` (a UUID v5 of the
/// member and the key), known before the request is sent.
pub fn reservation_id(who: &Member, key: &str) -> String {
    let name = format!("ticketing:reservation:{}:{key}", who.id);
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string()
}

/// Arms the crash switch `point` (`<action>@before`, `<action>@after`, `pay@moved`, `refund@moved`) of the
/// saga function for `key` (a reservation id; a showtime id for the sweep's own steps): its next `times`
/// passes end the process there.
pub async fn arm_crash(key: &str, point: &str, times: u32) {
    arm_crash_in("saga", key, point, times).await
}

/// [`arm_crash`] of `function`: `saga`, or `api` (the request functions: `hold@written`, `cancel@written`
/// keyed by the reservation id, `sweep@written` by the showtime id).
pub async fn arm_crash_in(function: &str, key: &str, point: &str, times: u32) {
    arm_fault(function, &format!("{key}#{point}"), times).await
}

/// How many more passes of crash switch `point` of `key` end the process.
pub async fn crashes_left(key: &str, point: &str) -> u64 {
    crashes_left_in("saga", key, point).await
}

/// [`crashes_left`] of `function`.
pub async fn crashes_left_in(function: &str, key: &str, point: &str) -> u64 {
    faults_left(function, &format!("{key}#{point}")).await
}

/// Runs the deployed repairer once over everything due now (grace 0), as its schedule does; its report.
pub async fn repair_now() -> Value {
    stack()
        .invoke("RepairerFunctionName", &json!({"graceSeconds": 0}))
        .await
}

/// Where execution `name` of the state machine of deploy output `output` stands: `RUNNING`, `SUCCEEDED`,
/// ..., or `MISSING` (never started).
pub async fn execution_status(output: &str, name: &str) -> String {
    let (sfn, arn) = stack().sfn_of(output);
    match sfn
        .describe_execution()
        .execution_arn(format!(
            "{}:{name}",
            arn.replace(":stateMachine:", ":execution:")
        ))
        .send()
        .await
    {
        Ok(out) => out.status().as_str().to_string(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_execution_does_not_exist()) =>
        {
            "MISSING".to_string()
        }
        Err(e) => panic!("describe {name}: {e:?}"),
    }
}

/// The error names of the failed tasks in the history of execution `name` of the state machine of deploy
/// output `output` (a crashed step is `Runtime.ExitError`), once the execution has ended.
pub async fn task_errors(output: &str, name: &str) -> Vec<String> {
    let (sfn, arn) = stack().sfn_of(output);
    let execution = format!("{}:{name}", arn.replace(":stateMachine:", ":execution:"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let out = sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .expect("describe the execution");
        if out.status().as_str() != "RUNNING" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "execution {name} is still running"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let mut errors = Vec::new();
    let mut token = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(&execution)
            .set_next_token(token)
            .max_results(1000)
            .send()
            .await
            .expect("the execution's history");
        errors.extend(page.events().iter().filter_map(|e| {
            e.task_failed_event_details()
                .and_then(|d| d.error().map(str::to_string))
        }));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return errors;
        }
    }
}

/// The card provider's side of a test stack: the test-mode provider's fault switch (BK7) and the breaker.
pub async fn provider_store() -> ticketing::store::Store {
    ticketing::store::Store::new(stack().dynamodb().await, stack().table_name())
}

/// Test stacks only: the provider's fault switch off and its breaker CLOSED (a new generation), as an outage
/// test or benchmark finds the stack and leaves it.
pub async fn provider_healthy() {
    use ticketing::domain::breaker::{Breaker, State};
    let store = provider_store().await;
    store
        .set_provider_fault(None)
        .await
        .expect("switch the fault off");
    for _ in 0..10 {
        let seen = store.breaker(true).await.expect("breaker").breaker;
        if seen.state == State::Closed {
            return;
        }
        let closed = Breaker {
            state: State::Closed,
            since: time::OffsetDateTime::now_utc().unix_timestamp(),
            probes_left: 0,
            probes_passed: 0,
            version: seen.version + 1,
        };
        if store
            .transition_breaker(&seen, &closed, &[])
            .await
            .expect("close the breaker")
        {
            // Every process trusts its copy of the state for a second.
            tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
            return;
        }
    }
    panic!("the breaker could not be reset");
}
