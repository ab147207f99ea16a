//! Benchmark: the nightly reconciliation over a table of `--items` items (default 100,000). Seeds a
//! consistent table straight through BatchWriteItem (sales: a confirmed reservation, its payment, its two
//! SOLD seats and its booked money; wallets with their ledgers; one closed statement per organizer), then runs
//! the reconciliation in this process over `--segments` parallel segments (default 8) and prints its time,
//! DynamoDB calls and items read per item. Ends by requiring no break: the seeded table reconciles.
//!
//! Run through `infra/local/bench.sh reconcile [--items N] [--segments N]` (a stack of its own).

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;
use ticketing::app::reconciliation::{run, Options};
use ticketing::domain::settlement::{lines, totals, Money, MoneyKind, SettlementStatus};
use ticketing::store::settlements::Statement;
use ticketing::store::Store;
use ticketing_tests::bench::arg;
use ticketing_tests::stack;

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn keyed(value: serde_json::Value, pk: String, sk: String, kind: &str) -> Item {
    let mut item: Item = serde_dynamo::to_item(value).expect("an item");
    item.insert("PK".into(), s(pk));
    item.insert("SK".into(), s(sk));
    item.insert("type".into(), s(kind));
    item
}

const ORGANIZERS: usize = 100;
const PRICE: u64 = 50_000;

fn seed(items: usize) -> Vec<Item> {
    let sales = items * 85 / 100 / 6;
    let wallets = items * 15 / 100 / 4;
    let day = "2026-12-01";
    let then = "2026-12-01T03:00:00Z";
    let organizers: Vec<String> = (0..ORGANIZERS)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let shows: Vec<String> = (0..ORGANIZERS)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let performances: Vec<String> = (0..ORGANIZERS)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let mut out = Vec::with_capacity(items + ORGANIZERS);
    let mut money: Vec<Vec<Money>> = vec![Vec::new(); ORGANIZERS];
    for u in 0..sales {
        let o = u % ORGANIZERS;
        let k = u / ORGANIZERS;
        let (row, col) = ((2 * k / 100) as u16 + 1, (2 * k % 100) as u16 + 1);
        let id = uuid::Uuid::new_v4().to_string();
        let buyer = uuid::Uuid::new_v4().to_string();
        let seats = json!([
            {"row": row, "col": col, "grade": "R", "price": PRICE},
            {"row": row, "col": col + 1, "grade": "R", "price": PRICE}
        ]);
        out.push(keyed(
            json!({
                "id": id, "memberId": buyer, "performanceId": performances[o], "showtimeId": shows[o],
                "seats": seats, "totalPrice": 2 * PRICE, "currency": "KRW", "status": "CONFIRMED",
                "holdExpiresAt": 0, "version": 3, "createdAt": then, "updatedAt": then
            }),
            format!("RES#{id}"),
            "META".into(),
            "Reservation",
        ));
        out.push(keyed(
            json!({
                "id": format!("pay-{id}"), "reservationId": id, "memberId": buyer, "method": "WALLET",
                "status": "COMPLETED", "amount": 2 * PRICE, "refundedAmount": 0,
                "performanceId": performances[o], "showtimeId": shows[o], "currency": "KRW",
                "version": 2, "createdAt": then, "updatedAt": then
            }),
            format!("RES#{id}"),
            format!("PAY#pay-{id}"),
            "Payment",
        ));
        for c in [col, col + 1] {
            out.push(keyed(
                json!({"status": "SOLD", "holder": id}),
                format!("SHOW#{}#B#{}", shows[o], (row - 1) / 10),
                format!("SEAT#{row:03}-{c:03}"),
                "Seat",
            ));
        }
        let statement = format!("{day}_KRW_{}", organizers[o]);
        let event = format!("{id}:PaymentCompleted");
        let m = Money {
            event_id: event.clone(),
            performance_id: performances[o].clone(),
            showtime_id: shows[o].clone(),
            kind: MoneyKind::Sale,
            amount: 2 * PRICE,
            adjustment_of: None,
            booked_at: then.into(),
        };
        out.push(keyed(
            serde_json::to_value(&m).expect("money"),
            format!("STMT#{statement}"),
            format!("MONEY#{event}"),
            "SETTLEMENT_MONEY",
        ));
        out.push(keyed(
            json!({"settlementId": statement}),
            format!("SETTLED#{event}"),
            "SETTLED".into(),
            "SETTLED",
        ));
        money[o].push(m);
    }
    for (o, organizer) in organizers.iter().enumerate() {
        let lines = lines(&money[o], 1_000);
        let st = Statement {
            settlement_id: format!("{day}_KRW_{organizer}"),
            organizer_id: organizer.clone(),
            day: day.into(),
            currency: "KRW".into(),
            status: SettlementStatus::Closed,
            opened_at: then.into(),
            commission_rate_bps: Some(1_000),
            closed_at: Some(then.into()),
            totals: Some(totals(&lines)),
            lines,
            payout_reference: None,
            paid_at: None,
            paid_by: None,
        };
        out.push(keyed(
            serde_json::to_value(&st).expect("statement"),
            format!("STMT#{}", st.settlement_id),
            "META".into(),
            "SETTLEMENT",
        ));
    }
    for _ in 0..wallets {
        let member = uuid::Uuid::new_v4().to_string();
        let amounts = [30_000i64, -10_000, 5_000];
        out.push(keyed(
            json!({"balance": amounts.iter().sum::<i64>(), "version": 3}),
            format!("MEMBER#{member}"),
            "WALLET".into(),
            "WALLET",
        ));
        for (i, a) in amounts.iter().enumerate() {
            out.push(keyed(
                json!({"amount": a}),
                format!("MEMBER#{member}"),
                format!("LEDGER#{:012}", i + 1),
                "LEDGER_LINE",
            ));
        }
    }
    out
}

#[tokio::main]
async fn main() {
    let items = arg("--items", 100_000, 1_000_000);
    let segments = arg("--segments", 8, 64) as u32;
    let db = stack().dynamodb().await;
    let table = stack().table_name();
    let seeded = seed(items);
    println!("seeding {} items into {table} ...", seeded.len());
    let began = Instant::now();
    let chunks: Vec<Vec<Item>> = seeded.chunks(25).map(<[Item]>::to_vec).collect();
    let mut running = futures::stream::iter(chunks.into_iter().map(|chunk| {
        let (db, table) = (db.clone(), table.clone());
        async move {
            let mut pending: Vec<WriteRequest> = chunk
                .into_iter()
                .map(|item| {
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item))
                                .build()
                                .expect("put"),
                        )
                        .build()
                })
                .collect();
            while !pending.is_empty() {
                let out = db
                    .batch_write_item()
                    .request_items(&table, pending)
                    .send()
                    .await
                    .expect("BatchWriteItem");
                pending = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&table))
                    .unwrap_or_default();
            }
        }
    }))
    .buffer_unordered(8);
    while running.next().await.is_some() {}
    drop(running);
    println!("seeded in {:.1} s", began.elapsed().as_secs_f64());

    let store = Store::new(db, table);
    let options = Options {
        budget: std::time::Duration::from_secs(3_600),
        ..Options::default()
    };
    let began = Instant::now();
    let report = run(
        &store,
        &format!("bench-{}", uuid::Uuid::new_v4()),
        segments,
        options,
    )
    .await
    .expect("the reconciliation ran");
    let elapsed = began.elapsed().as_secs_f64();
    let c = report.counts;
    println!();
    println!("reconciliation over {} items, {segments} segments", c.items);
    println!(
        "  time               {elapsed:.1} s ({:.0} items/s)",
        c.items as f64 / elapsed
    );
    println!(
        "  checked            {} reservations, {} payments, {} seats sold, {} wallets ({} ledger lines), {} money events, {} closed statements",
        c.reservations, c.payments, c.seats_sold, c.wallets, c.ledger_lines, c.money_events, c.statements
    );
    println!(
        "  DynamoDB           {} calls ({:.3} per item), {} items read ({:.2} per item)",
        c.calls,
        c.calls as f64 / c.items.max(1) as f64,
        c.reads,
        c.reads as f64 / c.items.max(1) as f64
    );
    println!("  breaks             {}", report.break_count);
    assert_eq!(
        report.break_count,
        0,
        "the seeded table reconciles: {:?}",
        report.breaks.first()
    );
}
