//! The local DynamoDB must be at least as strict as DynamoDB, or the no-oversell tests prove nothing.
//! These run against the table of the deployed stack, on items of their own.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use futures::future::join_all;
use std::collections::HashMap;
use ticketing_tests::{stack, unique};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn key(pk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("PK".to_string(), s(pk)), ("SK".to_string(), s("COUNTER"))])
}

async fn decrement(client: &Client, table: &str, pk: &str) -> bool {
    client
        .update_item()
        .table_name(table)
        .set_key(Some(key(pk)))
        .update_expression("SET n = n - :one")
        .condition_expression("n > :zero")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(":zero", AttributeValue::N("0".into()))
        .send()
        .await
        .is_ok()
}

/// 200 concurrent conditional decrements of a counter at 100: exactly 100 succeed, every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_conditional_writes_to_one_item_are_linearizable() {
    let stack = stack();
    let table = stack.table_name();
    let client = stack.dynamodb().await;
    for round in 0..10 {
        let pk = format!("TEST#counter#{}", unique());
        let mut item = key(&pk);
        item.insert("n".into(), AttributeValue::N("100".into()));
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(item))
            .send()
            .await
            .expect("seed counter");
        let attempts = (0..200).map(|_| {
            let (client, table, pk) = (client.clone(), table.clone(), pk.clone());
            tokio::spawn(async move { decrement(&client, &table, &pk).await })
        });
        let wins = join_all(attempts)
            .await
            .into_iter()
            .filter(|r| matches!(r, Ok(true)))
            .count();
        let left = client
            .get_item()
            .table_name(&table)
            .set_key(Some(key(&pk)))
            .consistent_read(true)
            .send()
            .await
            .expect("read counter");
        let n = left
            .item
            .and_then(|i| i.get("n").and_then(|v| v.as_n().ok().cloned()));
        assert_eq!((wins, n.as_deref()), (100, Some("0")), "round {round}");
    }
}

/// A transaction whose last condition fails writes nothing; overlapping transactions never interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn transactions_are_atomic() {
    let stack = stack();
    let table = stack.table_name();
    let client = stack.dynamodb().await;
    let run = unique();
    let slot = |i: usize| format!("TEST#slot#{run}#{i}");
    let claim = |pk: String, owner: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .set_item(Some(HashMap::from([
                        ("PK".to_string(), s(&pk)),
                        ("SK".to_string(), s("COUNTER")),
                        ("owner".to_string(), s(owner)),
                    ])))
                    .condition_expression("attribute_not_exists(PK)")
                    .build()
                    .expect("put"),
            )
            .build()
    };

    // Slot 2 is taken: a transaction over slots 0..3 must leave 0 and 1 untouched.
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(HashMap::from([
            ("PK".to_string(), s(&slot(2))),
            ("SK".to_string(), s("COUNTER")),
            ("owner".to_string(), s("early")),
        ])))
        .send()
        .await
        .expect("seed");
    let result = client
        .transact_write_items()
        .set_transact_items(Some((0..3).map(|i| claim(slot(i), "late")).collect()))
        .send()
        .await;
    assert!(
        result.is_err(),
        "the transaction must fail on the taken slot"
    );
    for i in 0..2 {
        let got = client
            .get_item()
            .table_name(&table)
            .set_key(Some(key(&slot(i))))
            .consistent_read(true)
            .send()
            .await
            .expect("read");
        assert!(
            got.item.is_none(),
            "slot {i} was written by a failed transaction"
        );
    }

    // 40 buyers each try to claim the same 5 slots (10..15) in one transaction: one wins all, no mixing.
    let contenders = (0..40).map(|b| {
        let client = client.clone();
        let items: Vec<_> = (10..15)
            .map(|i| claim(slot(i), &format!("buyer{b}")))
            .collect();
        tokio::spawn(async move {
            client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .is_ok()
        })
    });
    let winners = join_all(contenders)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    assert_eq!(winners, 1);
    let mut owners = std::collections::HashSet::new();
    for i in 10..15 {
        let got = client
            .get_item()
            .table_name(&table)
            .set_key(Some(key(&slot(i))))
            .consistent_read(true)
            .send()
            .await
            .expect("read");
        owners.insert(
            got.item
                .and_then(|i| i.get("owner").and_then(|o| o.as_s().ok().cloned())),
        );
    }
    assert_eq!(
        owners.len(),
        1,
        "all five slots have the same owner: {owners:?}"
    );

    // An Update inside a transaction is conditional too: decrementing below zero fails atomically.
    let counter = format!("TEST#counter#{run}");
    let mut item = key(&counter);
    item.insert("n".into(), AttributeValue::N("1".into()));
    client
        .put_item()
        .table_name(&table)
        .set_item(Some(item))
        .send()
        .await
        .expect("seed");
    let dec = || {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&table)
                    .set_key(Some(key(&counter)))
                    .update_expression("SET n = n - :one")
                    .condition_expression("n > :zero")
                    .expression_attribute_values(":one", AttributeValue::N("1".into()))
                    .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                    .build()
                    .expect("update"),
            )
            .build()
    };
    assert!(client
        .transact_write_items()
        .transact_items(dec())
        .send()
        .await
        .is_ok());
    assert!(client
        .transact_write_items()
        .transact_items(dec())
        .send()
        .await
        .is_err());
}
