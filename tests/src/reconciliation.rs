//! Money and seats reconcile: wallets against their ledgers, a showtime's payments against its seats.

use crate::*;

/// The wallet's balance after checking it is the sum of its ledger.
pub async fn wallet_balance(m: &Member) -> u64 {
    let w = m
        .call(reqwest::Method::GET, "/wallet?limit=100", None)
        .await;
    assert_eq!(w.status, 200, "{}", w.text);
    let lines = w.json["ledger"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sum: i64 = lines
        .iter()
        .map(|l| l["amount"].as_i64().unwrap_or(0))
        .sum();
    let balance = w.json["balance"].as_u64().expect("balance");
    assert_eq!(
        sum, balance as i64,
        "wallet = sum of its ledger: {}",
        w.text
    );
    balance
}

/// Money and seats of one showtime reconcile: every CONFIRMED reservation's remaining seats are SOLD (and no
/// others), no seat is SOLD twice, and what the payments kept (charged minus refunded) equals the price of the
/// seats sold plus the cancellation fees kept.
pub async fn reconcile(performance: &str, show: &str, buyers: &[(&Member, Vec<String>)]) {
    let map = seat_map(performance, show).await;
    let sold_on_map: u64 = map["sold"].as_u64().expect("sold");
    let mut sold_seats = std::collections::HashSet::new();
    let mut sold_price = 0u64;
    let mut fees = 0u64;
    let mut kept = 0u64;
    for (buyer, ids) in buyers {
        for id in ids {
            let r = settled(buyer, id, std::time::Duration::from_secs(1)).await;
            assert!(
                r.get("pendingCancellation").is_none(),
                "reservation {id} is still being cancelled: {r}"
            );
            let pay = payment_of(buyer, id).await;
            if pay.status == 200 {
                let amount = pay.json["amount"].as_u64().unwrap_or(0);
                let refunded = pay.json["refundedAmount"].as_u64().unwrap_or(0);
                if ["COMPLETED", "PART_CANCELED", "CANCELED"]
                    .contains(&pay.json["status"].as_str().unwrap_or(""))
                {
                    kept += amount - refunded;
                }
            }
            for c in r["cancellations"].as_array().into_iter().flatten() {
                if c["status"] == "DONE" {
                    fees += c["quote"]["fee"].as_u64().unwrap_or(0);
                }
            }
            if r["status"] == "CONFIRMED" {
                for seat in r["seats"].as_array().into_iter().flatten() {
                    assert!(
                        sold_seats.insert((seat["row"].clone(), seat["col"].clone())),
                        "a seat SOLD twice: {seat}"
                    );
                    sold_price += seat["price"].as_u64().unwrap_or(0);
                }
            }
        }
    }
    assert_eq!(
        sold_seats.len() as u64,
        sold_on_map,
        "SOLD on the map = seats of CONFIRMED reservations"
    );
    assert_eq!(
        kept,
        sold_price + fees,
        "payments kept = price of the seats SOLD + fees kept"
    );
}
