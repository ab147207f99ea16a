//! The nightly reconciliation for real: a test stack's table with two breaks put in it by hand (one wallet
//! ledger line changed, one seat marked SOLD to a reservation that does not exist); the scheduled machine
//! (Step Functions, the saga function's steps, a segmented scan) and the operator's `ticketing-admin
//! reconcile` each name both; a clean sale beside them is not named. The breaks are taken out again, so the
//! whole-table run `infra/local/test.sh` makes after every test finds none.

use aws_sdk_dynamodb::types::AttributeValue;
use reqwest::Method;
use serde_json::{json, Value};
use ticketing_tests::{
    buyer_with, confirmed, execution_status, sale, stack, ticketing_admin, unique,
};

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The report of the machine's run `name`, read from the table (`RECON#<run>` / `REPORT`).
async fn machine_report(name: &str) -> Value {
    let db = stack().dynamodb().await;
    let out = db
        .get_item()
        .table_name(stack().table_name())
        .key("PK", s(format!("RECON#{name}")))
        .key("SK", s("REPORT"))
        .consistent_read(true)
        .send()
        .await
        .expect("read the report");
    let mut item = out
        .item
        .unwrap_or_else(|| panic!("run {name} wrote no report"));
    item.remove("PK");
    item.remove("SK");
    serde_dynamo::from_item(item).expect("a report")
}

fn named(report: &Value, kind: &str, subject: &str) -> bool {
    report["breaks"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|b| b["kind"] == kind && b["subject"].as_str().is_some_and(|s| s.contains(subject)))
}

fn mentions(report: &Value, id: &str) -> bool {
    report["breaks"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|b| b.to_string().contains(id))
}

#[tokio::test]
async fn the_reconciliation_names_a_changed_ledger_line_and_a_seat_sold_to_nobody() {
    let db = stack().dynamodb().await;
    let table = stack().table_name();
    // A clean sale beside the breaks: a wallet payment of two seats.
    let (_, _, show) = sale(2, 4).await;
    let clean = buyer_with(500_000).await;
    let sold = confirmed(
        &clean,
        &show,
        &[(1, 1), (1, 2)],
        json!({"method": "WALLET"}),
    )
    .await;

    // Break 1: a member's ledger line changed behind the wallet's back.
    let victim = buyer_with(50_000).await;
    let lines = db
        .query()
        .table_name(&table)
        .key_condition_expression("PK = :pk AND begins_with(SK, :ledger)")
        .expression_attribute_values(":pk", s(format!("MEMBER#{}", victim.id)))
        .expression_attribute_values(":ledger", s("LEDGER#"))
        .consistent_read(true)
        .send()
        .await
        .expect("the ledger");
    let line = lines.items().first().cloned().expect("a ledger line");
    let sk = line["SK"].as_s().expect("SK").clone();
    let amount = line["amount"].as_n().expect("amount").clone();
    let set_amount = |value: String| {
        db.update_item()
            .table_name(&table)
            .key("PK", s(format!("MEMBER#{}", victim.id)))
            .key("SK", s(sk.clone()))
            .update_expression("SET amount = :a")
            .expression_attribute_values(":a", AttributeValue::N(value))
            .send()
    };
    set_amount("49999".into()).await.expect("change the line");

    // Break 2: a seat SOLD to a reservation that does not exist.
    let ghost = uuid::Uuid::new_v4().to_string();
    let ghost_show = uuid::Uuid::new_v4().to_string();
    let seat_pk = format!("SHOW#{ghost_show}#B#0");
    db.put_item()
        .table_name(&table)
        .item("PK", s(seat_pk.clone()))
        .item("SK", s("SEAT#001-007"))
        .item("type", s("Seat"))
        .item("status", s("SOLD"))
        .item("holder", s(ghost.clone()))
        .send()
        .await
        .expect("a seat sold to nobody");

    // The scheduled machine, as the schedule starts it (4 segments here).
    let (sfn, arn) = stack().sfn_of("ReconciliationStateMachineArn");
    let name = format!("reconcile-{}", unique());
    sfn.start_execution()
        .state_machine_arn(&arn)
        .name(&name)
        .input(json!({"total": 4, "segments": [0, 1, 2, 3]}).to_string())
        .send()
        .await
        .expect("start the reconciliation");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    loop {
        match execution_status("ReconciliationStateMachineArn", &name)
            .await
            .as_str()
        {
            "SUCCEEDED" => break,
            "RUNNING" | "MISSING" => {}
            other => panic!("reconciliation run {name} ended {other}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "run {name} is still running"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let report = machine_report(&name).await;

    // The operator's run on demand: the same two, printed, exit status 5.
    let out = ticketing_admin(&["reconcile", "--table", &table, "--segments", "3"], &[]).await;
    // Taken out again before anything is asserted (a failed assertion leaves no break behind for the
    // whole-table run after every test): the wallet adds up, the seat is gone.
    set_amount(amount).await.expect("restore the line");
    db.delete_item()
        .table_name(&table)
        .key("PK", s(seat_pk))
        .key("SK", s("SEAT#001-007"))
        .send()
        .await
        .expect("delete the seat");
    assert!(named(&report, "WALLET", &victim.id), "{report}");
    assert!(
        named(&report, "SEAT_WITHOUT_RESERVATION", &ghost_show),
        "{report}"
    );
    assert!(
        !mentions(&report, &sold) && !mentions(&report, &clean.id),
        "{report}"
    );
    assert!(
        report["counts"]["items"].as_u64().unwrap_or(0) > 0,
        "{report}"
    );

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_str(
        stdout
            .rsplit_once("\n}")
            .map(|(json, _)| format!("{json}\n}}"))
            .as_deref()
            .unwrap_or(""),
    )
    .unwrap_or_else(|e| panic!("the printed report: {e}\n{stdout}"));
    assert!(named(&printed, "WALLET", &victim.id), "{stdout}");
    assert!(
        named(&printed, "SEAT_WITHOUT_RESERVATION", &ghost_show),
        "{stdout}"
    );
    assert!(stdout.contains(" breaks"), "a summary line: {stdout}");

    let w = victim.call(Method::GET, "/wallet", None).await;
    assert_eq!(w.json["balance"], 50_000, "{}", w.text);
}
