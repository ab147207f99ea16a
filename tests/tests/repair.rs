//! What the sagas' own retries cannot cover is repaired: a request that died between its write and its
//! `StartExecution` (a hold, a cancellation, a showtime's sweep without a run), and an execution that ended
//! while its reservation had not (stopped, or its retries used up). Each case crashes a real process with a
//! crash switch (or stops the execution), checks that it is half-done, lets a later request or the deployed
//! repairer find it, and checks the reservation, the payment, the wallet, my page and the reconciliation.

use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use ticketing_tests::{
    arm_crash, arm_crash_in, arm_pause, buyer_with, call, cancellation_over, confirmed,
    crashes_left, crashes_left_in, execution_status, my_page_shows, payment_of, reconcile,
    release_pause, repair_now, reservation_id, reserve, rewind_hold, sale, settled, stack,
    sweep_done, ticketing_admin, unique, wallet_balance, Member,
};

const RESERVATIONS: &str = "ReservationStateMachineArn";
const CANCELLATIONS: &str = "CancellationStateMachineArn";
const SWEEPS: &str = "ShowtimeCancellationStateMachineArn";
const WAIT: Duration = Duration::from_secs(120);
const SOLD: [&str; 3] = [
    "ReservationHeld",
    "PaymentCompleted",
    "ReservationConfirmed",
];

/// Held while a test needs nothing half-done to be repaired behind its back (between a crash and the
/// request that should find it); every repair run of this binary takes it too.
static QUIET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// Every action of every repair run of this binary (only this binary's tests run the repairer while it
/// runs), so each test finds the line of its own repair whichever test's run made it.
static ACTIONS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// One repair run, by turns the deployed function (as its schedule runs it) and the operator's
/// `ticketing-admin repair` (which prints a line per repair, then its counts).
async fn repair() {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let _quiet = QUIET.lock().await;
    let actions: Vec<String> = if RUNS
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        .is_multiple_of(2)
    {
        let report = repair_now().await;
        assert_eq!(
            report["failed"], 0,
            "every repair of this run succeeded: {report}"
        );
        report["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect()
    } else {
        let table = stack().table_name();
        let stage = table.strip_prefix("ticketing-").expect("ticketing-<stage>");
        let out = ticketing_admin(&["repair", "--stage", stage, "--grace-seconds", "0"], &[]).await;
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ticketing-admin repair: {printed} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut lines: Vec<String> = printed.lines().map(str::to_string).collect();
        let summary = lines.pop().unwrap_or_default();
        assert!(
            summary.starts_with("looked at ") && summary.contains(" repaired "),
            "the closing count: {printed}"
        );
        lines
    };
    ACTIONS.lock().expect("actions").extend(actions);
}

/// Runs the repairer until `what` is repaired (a repair run of another test may have done it); the line
/// the repairer printed for it.
async fn repaired(what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        repair().await;
        if let Some(line) = ACTIONS
            .lock()
            .expect("actions")
            .iter()
            .find(|a| a.contains(what) && done(a))
        {
            return line.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the repairer never repaired {what}: {:?}",
            ACTIONS.lock().expect("actions")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn pay(buyer: &Member, id: &str, payment: Value) -> ticketing_tests::Reply {
    let auth = buyer.auth();
    call(
        Method::POST,
        &format!("/reservations/{id}/payment"),
        Some(&json!({ "payment": payment })),
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await
}

async fn cancel(buyer: &Member, id: &str) -> ticketing_tests::Reply {
    let auth = buyer.auth();
    call(
        Method::DELETE,
        &format!("/reservations/{id}"),
        None,
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await
}

#[tokio::test]
async fn a_hold_whose_request_died_before_its_saga_started() {
    let (_, performance, show) = sale(1, 10).await;
    let buyer = buyer_with(1_000_000).await;
    let before = wallet_balance(&buyer).await;
    let wallet = json!({"method": "WALLET"});
    let mut ids = Vec::new();

    // The request dies after the hold's write: the function's crash is a 500, as API Gateway answers it,
    // and no saga runs. The client retries with the same key: the saga starts and the sale completes.
    let quiet = QUIET.lock().await;
    let key = unique();
    let id = reservation_id(&buyer, &key);
    arm_crash_in("api", &id, "hold@written", 1).await;
    let died = reserve(&buyer, &show, &[(1, 1)], Some(wallet.clone()), Some(&key)).await;
    assert_eq!(died.status, 500, "{}", died.text);
    assert_eq!(crashes_left_in("api", &id, "hold@written").await, 0);
    assert_eq!(execution_status(RESERVATIONS, &id).await, "MISSING");
    let again = reserve(&buyer, &show, &[(1, 1)], Some(wallet.clone()), Some(&key)).await;
    assert!(again.status == 201 || again.status == 202, "{}", again.text);
    assert_eq!(settled(&buyer, &id, WAIT).await["status"], "CONFIRMED");
    ids.push(id.clone());

    // A pay-later hold whose request died: its payment starts the saga, with that payment.
    let key = unique();
    let later = reservation_id(&buyer, &key);
    arm_crash_in("api", &later, "hold@written", 1).await;
    let died = reserve(&buyer, &show, &[(1, 2)], None, Some(&key)).await;
    assert_eq!(died.status, 500, "{}", died.text);
    assert_eq!(execution_status(RESERVATIONS, &later).await, "MISSING");
    let paid = pay(&buyer, &later, wallet.clone()).await;
    assert!(paid.status == 201 || paid.status == 202, "{}", paid.text);
    drop(quiet);
    assert_eq!(settled(&buyer, &later, WAIT).await["status"], "CONFIRMED");
    ids.push(later.clone());

    // Nobody retries: once the hold is over the repairer ends it, with its event and my-page entry.
    let key = unique();
    let lost = reservation_id(&buyer, &key);
    arm_crash_in("api", &lost, "hold@written", 1).await;
    let died = reserve(&buyer, &show, &[(1, 3)], Some(wallet.clone()), Some(&key)).await;
    assert_eq!(died.status, 500, "{}", died.text);
    rewind_hold(&lost, &show, &[(1, 3)]).await;
    let line = repaired(&lost, |_| true).await;
    assert!(
        line.contains("never started") && line.contains("ended EXPIRED (hold_expired)"),
        "{line}"
    );
    let ended = settled(&buyer, &lost, WAIT).await;
    assert_eq!(ended["status"], "EXPIRED", "{ended}");
    assert_eq!(ended["failureReason"], "hold_expired", "{ended}");
    ids.push(lost.clone());

    for id in &ids[..2] {
        my_page_shows(&buyer, id, "CONFIRMED", &SOLD).await;
    }
    my_page_shows(
        &buyer,
        &lost,
        "EXPIRED",
        &["ReservationHeld", "ReservationExpired"],
    )
    .await;
    let mut price = 0;
    for id in &ids[..2] {
        price += settled(&buyer, id, WAIT).await["totalPrice"]
            .as_u64()
            .expect("totalPrice");
    }
    assert_eq!(
        wallet_balance(&buyer).await,
        before - price,
        "charged for the two seats sold only"
    );
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}

#[tokio::test]
async fn a_sale_whose_execution_was_stopped_is_ended_and_refunded() {
    let (_, performance, show) = sale(1, 10).await;
    let buyer = buyer_with(1_000_000).await;
    let before = wallet_balance(&buyer).await;
    let (sfn, arn) = stack().sfn_of(RESERVATIONS);

    // Paid, and the execution is stopped before it confirms (an operator's stop, a timeout): the buyer has
    // paid and holds the seats, and nothing runs any more. The Pay step is held at its end (the payment
    // recorded, no answer given) while the stop is asked for: LocalStack takes a stop when the running
    // attempt answers, as ABORTED when it succeeded (a failed attempt ends the execution FAILED instead).
    let key = unique();
    let paid = reservation_id(&buyer, &key);
    arm_pause(&paid, "pay@after").await;
    let held = reserve(
        &buyer,
        &show,
        &[(1, 1)],
        Some(json!({"method": "WALLET"})),
        Some(&key),
    )
    .await;
    assert!(held.status == 201 || held.status == 202, "{}", held.text);
    let deadline = Instant::now() + WAIT;
    while crashes_left(&paid, "pay@after").await > 0 {
        assert!(Instant::now() < deadline, "the payment never ran");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sfn.stop_execution()
        .execution_arn(format!(
            "{}:{paid}",
            arn.replace(":stateMachine:", ":execution:")
        ))
        .send()
        .await
        .expect("stop the execution");
    release_pause(&paid, "pay@after").await;
    let deadline = Instant::now() + WAIT;
    loop {
        match execution_status(RESERVATIONS, &paid).await.as_str() {
            "ABORTED" => break,
            "RUNNING" => {}
            other => panic!("{paid} ended {other}, not ABORTED"),
        }
        assert!(Instant::now() < deadline, "{paid} never stopped");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let pay = payment_of(&buyer, &paid).await;
    assert_eq!(pay.json["status"], "COMPLETED", "{}", pay.text);

    rewind_hold(&paid, &show, &[(1, 1)]).await;
    let line = repaired(&paid, |_| true).await;
    assert!(
        line.contains("ended ABORTED") && line.contains("ended FAILED (saga_interrupted)"),
        "{line}"
    );

    let ended = settled(&buyer, &paid, WAIT).await;
    assert_eq!(ended["status"], "FAILED", "{ended}");
    assert_eq!(ended["failureReason"], "saga_interrupted", "{ended}");
    let pay = payment_of(&buyer, &paid).await;
    assert_eq!(
        pay.json["refundedAmount"], pay.json["amount"],
        "refunded in full: {}",
        pay.text
    );
    assert_eq!(wallet_balance(&buyer).await, before, "nothing kept");
    my_page_shows(
        &buyer,
        &paid,
        "FAILED",
        &[
            "ReservationHeld",
            "PaymentCompleted",
            "RefundIssued",
            "ReservationFailed",
        ],
    )
    .await;
    reconcile(&performance, &show, &[(&buyer, vec![paid])]).await;
}

#[tokio::test]
async fn a_stuck_cancellation_is_resumed_by_a_later_cancel_or_the_repairer() {
    let (_, performance, show) = sale(1, 10).await;
    let buyer = buyer_with(1_000_000).await;
    let before = wallet_balance(&buyer).await;
    let mut ids = Vec::new();
    for col in [1, 2] {
        ids.push(confirmed(&buyer, &show, &[(1, col)], json!({"method": "WALLET"})).await);
    }
    let (first, second) = (ids[0].clone(), ids[1].clone());

    // The cancel request dies after it wrote the pending cancellation: a later cancel finds it stalled,
    // starts its run, and answers 409 saying so; the cancellation then finishes.
    let quiet = QUIET.lock().await;
    arm_crash_in("api", &first, "cancel@written", 1).await;
    let died = cancel(&buyer, &first).await;
    assert_eq!(died.status, 500, "{}", died.text);
    let stuck = buyer
        .call(Method::GET, &format!("/reservations/{first}"), None)
        .await;
    let cid = stuck.json["pendingCancellation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a pending cancellation: {}", stuck.text))
        .to_string();
    assert_eq!(execution_status(CANCELLATIONS, &cid).await, "MISSING");
    let later = cancel(&buyer, &first).await;
    drop(quiet);
    assert_eq!(later.status, 409, "{}", later.text);
    assert!(
        later.json["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("had stalled and has been resumed"),
        "{}",
        later.text
    );
    let done = cancellation_over(&buyer, &first, WAIT).await;
    assert_eq!(done["status"], "CANCELLED", "{done}");

    // The release of the second dies on all 7 runs, after the refund: the execution FAILS with the buyer
    // refunded and the seats still sold. The repairer resumes it as a new run of the same steps.
    arm_crash(&second, "release-cancelled@before", 7).await;
    let asked = cancel(&buyer, &second).await;
    assert!(asked.status == 200 || asked.status == 202, "{}", asked.text);
    let cid = asked.json["cancellation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a cancellation: {}", asked.text))
        .to_string();
    let errors = ticketing_tests::task_errors(CANCELLATIONS, &cid).await;
    assert_eq!(execution_status(CANCELLATIONS, &cid).await, "FAILED");
    assert_eq!(
        errors.iter().filter(|e| *e == "Runtime.ExitError").count(),
        7,
        "{errors:?}"
    );
    let stuck = buyer
        .call(Method::GET, &format!("/reservations/{second}"), None)
        .await;
    assert!(
        stuck.json.get("pendingCancellation").is_some(),
        "{}",
        stuck.text
    );
    let line = repaired(&second, |a| a.contains(&format!("resumed as {cid}-1"))).await;
    assert!(line.contains("ended half-done"), "{line}");
    let done = cancellation_over(&buyer, &second, WAIT).await;
    assert_eq!(done["status"], "CANCELLED", "{done}");
    assert_eq!(crashes_left(&second, "release-cancelled@before").await, 0);

    let mut fees = 0;
    for id in &ids {
        let r = settled(&buyer, id, WAIT).await;
        let c = &r["cancellations"][0];
        assert_eq!(c["status"], "DONE", "{r}");
        fees += c["quote"]["fee"].as_u64().unwrap_or(0);
        let pay = payment_of(&buyer, id).await;
        assert_eq!(
            pay.json["refundedAmount"], c["quote"]["refund"],
            "refunded once: {}",
            pay.text
        );
        my_page_shows(
            &buyer,
            id,
            "CANCELLED",
            &[
                "ReservationHeld",
                "PaymentCompleted",
                "ReservationConfirmed",
                "ReservationCancelled",
                "RefundIssued",
            ],
        )
        .await;
    }
    assert_eq!(wallet_balance(&buyer).await, before - fees);
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}

#[tokio::test]
async fn a_showtime_sweep_whose_start_died_is_resumed_by_the_repairer() {
    let (organizer, performance, show) = sale(1, 4).await;
    let buyer = buyer_with(1_000_000).await;
    let before = wallet_balance(&buyer).await;
    let mut ids = Vec::new();
    for col in [1, 2] {
        ids.push(confirmed(&buyer, &show, &[(1, col)], json!({"method": "WALLET"})).await);
    }
    let held = reserve(&buyer, &show, &[(1, 3)], None, None).await;
    assert_eq!(held.status, 201, "{}", held.text);
    ids.push(held.json["id"].as_str().expect("id").to_string());

    arm_crash_in("api", &show, "sweep@written", 1).await;
    let auth = organizer.auth();
    let died = call(
        Method::POST,
        &format!("/performances/{performance}/showtimes/{show}/cancel"),
        Some(&json!({"reason": "The hall flooded"})),
        &[("authorization", auth.as_str())],
    )
    .await;
    assert_eq!(died.status, 500, "{}", died.text);
    assert_eq!(
        execution_status(SWEEPS, &format!("{show}-1")).await,
        "MISSING"
    );
    let line = repaired(&show, |_| true).await;
    assert!(
        line.contains(&format!("the sweep had never started: started {show}-1")),
        "{line}"
    );
    let progress = sweep_done(&organizer, &performance, &show, 1).await;
    assert_eq!(progress["cancelled"], 2, "{progress}");
    assert_eq!(progress["released"], 1, "{progress}");
    assert_eq!(progress["refunded"], 2, "{progress}");
    for id in &ids {
        assert_eq!(
            settled(&buyer, id, WAIT).await["status"],
            "CANCELLED",
            "{id}"
        );
    }
    assert_eq!(wallet_balance(&buyer).await, before, "refunded in full");
    reconcile(&performance, &show, &[(&buyer, ids)]).await;
}
