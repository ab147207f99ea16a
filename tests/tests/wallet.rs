//! Wallets through the gateway: top-ups by card through the test-mode provider, idempotency, declines,
//! transient failures, concurrency. Every test ends by reconciling the wallet: its balance equals the sum of
//! its ledger, each line's `balanceAfter` is the running sum, and nothing is negative.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use ticketing_tests::{call, member, unique, Member, Reply};

async fn top_up(m: &Member, amount: u64, token: &str, key: Option<&str>) -> Reply {
    let auth = m.auth();
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    let body = json!({"amount": amount, "payment": {"token": token}});
    call(Method::POST, "/wallet/charge", Some(&body), &headers).await
}

/// The wallet's balance, after checking that the ledger adds up to it line by line.
async fn reconciled_balance(m: &Member) -> (u64, Vec<Value>) {
    let mut lines: Vec<Value> = Vec::new();
    let mut balance = None;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/wallet?limit=7&cursor={c}"),
            None => "/wallet?limit=7".to_string(),
        };
        let page = m.call(Method::GET, &path, None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        balance.get_or_insert(page.json["balance"].as_u64().expect("balance"));
        lines.extend(
            page.json["ledger"]["items"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        match page.json["ledger"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let balance = balance.unwrap_or_default();
    // Newest first on the wire; the running sum goes oldest first.
    let mut running: i64 = 0;
    for line in lines.iter().rev() {
        running += line["amount"].as_i64().expect("amount");
        assert!(running >= 0, "the balance went negative: {lines:?}");
        assert_eq!(
            line["balanceAfter"].as_i64(),
            Some(running),
            "balanceAfter is the running sum: {lines:?}"
        );
    }
    assert_eq!(running, balance as i64, "balance = sum of the ledger");
    let ids: std::collections::BTreeSet<String> =
        lines.iter().map(|l| l["id"].to_string()).collect();
    assert_eq!(ids.len(), lines.len(), "every line once");
    (balance, lines)
}

#[tokio::test]
async fn a_top_up_charges_once_per_key_and_the_ledger_reconciles() {
    let ada = member("USER").await;
    let (balance, lines) = reconciled_balance(&ada).await;
    assert_eq!((balance, lines.len()), (0, 0), "a new wallet is empty");

    let key = format!("topup-{}", unique());
    let first = top_up(&ada, 5_000, "tok_visa", Some(&key)).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.json["balance"], 5_000);
    assert_eq!(first.json["line"]["kind"], "TOPUP");
    assert_eq!(first.json["line"]["amount"], 5_000);
    assert!(first.json["line"]["reference"]
        .as_str()
        .is_some_and(|r| r.starts_with("ch_test_")));

    let again = top_up(&ada, 5_000, "tok_visa", Some(&key)).await;
    assert_eq!(
        again.status, 200,
        "a repeat answers the first top-up: {}",
        again.text
    );
    assert_eq!(again.json["line"]["id"], first.json["line"]["id"]);
    assert_eq!(again.json["balance"], 5_000);
    top_up(&ada, 6_000, "tok_visa", Some(&key))
        .await
        .assert_problem(409, "/problems/conflict");

    let second = top_up(&ada, 2_500, "tok_mastercard", None).await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(second.json["balance"], 7_500);

    let (balance, lines) = reconciled_balance(&ada).await;
    assert_eq!(balance, 7_500);
    assert_eq!(lines.len(), 2, "one line per charge: {lines:?}");
    assert_eq!(lines[0]["amount"], 2_500, "newest first");
}

#[tokio::test]
async fn declines_move_nothing_and_transient_failures_are_retried_once_charged() {
    let bob = member("USER").await;
    for (token, code) in [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_unknownCard", "invalid_token"),
    ] {
        let reply = top_up(&bob, 1_000, token, Some(&unique())).await;
        let problem = reply.assert_problem(402, "/problems/payment-declined");
        assert_eq!(problem["code"], code, "{token}");
    }
    assert_eq!(
        reconciled_balance(&bob).await.0,
        0,
        "a decline moves nothing"
    );

    // Fails twice at the provider, then goes through: the handler retries with the same provider key.
    let key = unique();
    let flaky = top_up(&bob, 1_200, "tok_transient_2", Some(&key)).await;
    assert_eq!(flaky.status, 201, "{}", flaky.text);
    let again = top_up(&bob, 1_200, "tok_transient_2", Some(&key)).await;
    assert_eq!(again.status, 200, "{}", again.text);
    let (balance, lines) = reconciled_balance(&bob).await;
    assert_eq!((balance, lines.len()), (1_200, 1));

    // What the document refuses is a 400, and nothing is charged.
    let invalid = "/problems/validation-error";
    let malformed = "/problems/malformed-body";
    for (body, kind) in [
        (
            json!({"amount": 0, "payment": {"token": "tok_visa"}}),
            invalid,
        ),
        (
            json!({"amount": 10_000_001, "payment": {"token": "tok_visa"}}),
            invalid,
        ),
        (
            json!({"amount": 100, "payment": {"token": "4242424242424242"}}),
            invalid,
        ),
        (
            json!({"amount": 100, "payment": {"token": "tok_visa", "cvc": "123"}}),
            malformed,
        ),
        (
            json!({"amount": 1.5, "payment": {"token": "tok_visa"}}),
            malformed,
        ),
    ] {
        bob.call(Method::POST, "/wallet/charge", Some(&body))
            .await
            .assert_problem(400, kind);
    }
    assert_eq!(reconciled_balance(&bob).await.0, 1_200);
}

#[tokio::test]
async fn concurrent_top_ups_neither_double_charge_nor_lose_points() {
    let cy = member("USER").await;
    // The same top-up sent 10 times at once: one charge, one line.
    let key = unique();
    let replies = join_all((0..10).map(|_| top_up(&cy, 700, "tok_visa", Some(&key)))).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert!(
        replies.iter().all(|r| r.status == 201 || r.status == 200),
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(created, 1, "exactly one of the repeats made the top-up");
    let (balance, lines) = reconciled_balance(&cy).await;
    assert_eq!((balance, lines.len()), (700, 1));

    // 12 different top-ups at once on one wallet: every one lands, none overwrites another.
    let replies = join_all((0..12).map(|i| {
        let cy = cy.clone();
        async move { top_up(&cy, 100 + i, "tok_visa", Some(&unique())).await }
    }))
    .await;
    for r in &replies {
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let expected = 700 + (0..12).map(|i| 100 + i).sum::<u64>();
    let (balance, lines) = reconciled_balance(&cy).await;
    assert_eq!((balance, lines.len()), (expected, 13));
}
