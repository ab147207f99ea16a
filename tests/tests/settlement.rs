//! Settlement for real: the settlement consumer books the money events of a day of sales (card and wallet
//! payments, a partial cancellation that keeps a fee, an organizer's showtime cancellation) in the
//! organizer's statement; the settlement machine closes the day (twice: one statement, the same figures); a
//! refund that lands after the close is an adjustment on the next open statement; the CSV says what the JSON
//! says; an admin records the payout once; nobody else reads the statement. Ends by reconciling money and
//! seats.

use reqwest::Method;
use serde_json::{json, Value};
use ticketing_tests::{
    admin, close_day, confirmed, kst_day, member, publish, reconcile, statement, statement_id,
    statement_when, sweep_done, top_up, unique, Member,
};

/// An approved performance whose cancellations keep 10% at any time before the show (no grace), and its
/// organizer.
async fn performance_with_fee() -> (Member, String) {
    let organizer = member("ORGANIZER").await;
    let body = json!({
        "title": format!("Settlement {}", unique()),
        "category": "CONCERT",
        "venue": {"name": "Arena", "city": "Seoul"},
        "runningTimeMinutes": 120,
        "ageRating": "ALL",
        "runStartDate": kst_day(0),
        "runEndDate": kst_day(40),
        "saleOpensAt": "2026-01-01T00:00:00Z",
        "saleClosesAt": format!("{}T00:00:00Z", kst_day(40)),
        "holdMinutes": 10,
        "refundPolicy": {
            "tiers": [{"daysBefore": 1, "feePercent": 10}],
            "graceHours": 0,
            "graceMinDaysBefore": 0
        }
    });
    let approved = publish(&organizer, &body).await;
    let id = approved.json["id"].as_str().expect("id").to_string();
    (organizer, id)
}

/// A 1×4 showtime (VIP, 150,000 a seat) 20 days from now.
async fn showtime(organizer: &Member, performance: &str) -> String {
    let body = json!({
        "startsAt": format!("{}T12:00:00+09:00", kst_day(20)),
        "venueName": "Main hall",
        "seatMap": {"rows": 1, "cols": 4, "grades": [{"grade": "VIP", "fromRow": 1, "toRow": 1, "price": 150_000}]}
    });
    let reply = organizer
        .call(
            Method::POST,
            &format!("/performances/{performance}/showtimes"),
            Some(&body),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json["id"].as_str().expect("id").to_string()
}

/// Cancels `seats` of reservation `id` and waits for the cancellation to be done.
async fn cancel_seats(who: &Member, id: &str, seats: &[(u32, u32)]) {
    let seats: Vec<Value> = seats
        .iter()
        .map(|(row, col)| json!({"row": row, "col": col}))
        .collect();
    let auth = who.auth();
    let reply = ticketing_tests::call(
        Method::POST,
        &format!("/reservations/{id}/cancellations"),
        Some(&json!({ "seats": seats })),
        &[("authorization", auth.as_str()), ("prefer", "wait=10")],
    )
    .await;
    assert!(reply.status == 200 || reply.status == 202, "{}", reply.text);
    ticketing_tests::cancellation_over(who, id, std::time::Duration::from_secs(120)).await;
}

/// The line of `show` (not an adjustment) in a statement.
fn line<'a>(st: &'a Value, show: &str) -> &'a Value {
    st["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["showtimeId"] == show && l.get("adjustmentOf").is_none())
        .unwrap_or_else(|| panic!("no line of {show}: {st}"))
}

fn figures(l: &Value) -> [i64; 5] {
    ["gross", "refunds", "feesKept", "commission", "netPayable"]
        .map(|k| l[k].as_i64().unwrap_or(i64::MIN))
}

/// The CSV's data rows as maps of header → field (the fields here hold no commas or quotes).
fn csv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut rows = text.split("\r\n").filter(|r| !r.is_empty());
    let header: Vec<&str> = rows.next().expect("a header row").split(',').collect();
    rows.map(|r| {
        header
            .iter()
            .map(|h| h.to_string())
            .zip(r.split(',').map(str::to_string))
            .collect()
    })
    .collect()
}

#[tokio::test]
async fn a_day_of_sales_closes_into_one_statement_and_a_late_refund_adjusts_the_next() {
    let today = kst_day(0);
    let (organizer, performance) = performance_with_fee().await;
    let (a, b) = (
        showtime(&organizer, &performance).await,
        showtime(&organizer, &performance).await,
    );
    let ana = member("USER").await;
    let ben = member("USER").await;
    top_up(&ben, 150_000).await;
    let card = json!({"method": "CARD", "token": "tok_visa"});
    let ana_id = confirmed(&ana, &a, &[(1, 1), (1, 2)], card).await;
    let ben_id = confirmed(&ben, &b, &[(1, 1)], json!({"method": "WALLET"})).await;
    // A partial cancellation keeps 10% of its seat; the organizer calls showtime B off (refunded in full).
    cancel_seats(&ana, &ana_id, &[(1, 2)]).await;
    let called_off = organizer
        .call(
            Method::POST,
            &format!("/performances/{performance}/showtimes/{b}/cancel"),
            Some(&json!({"reason": "the hall is flooded"})),
        )
        .await;
    assert_eq!(called_off.status, 202, "{}", called_off.text);
    sweep_done(&organizer, &performance, &b, 1).await;
    if kst_day(0) != today {
        eprintln!("the Korean date changed during the test; the statement's day moved: skipped");
        return;
    }

    // The open statement shows its figures so far, at the stack's default rate (10%).
    let id = statement_id(&organizer, &today);
    let open = statement_when(&organizer, &id, |st| {
        st["lines"].as_array().map(Vec::len) == Some(2)
            && st["totals"]["refunds"] == 135_000 + 150_000
            && st["totals"]["feesKept"] == 15_000
    })
    .await;
    assert_eq!(open["status"], "OPEN", "{open}");
    assert_eq!(
        figures(line(&open, &a)),
        [300_000, 135_000, 15_000, 16_500, 148_500]
    );
    assert_eq!(figures(line(&open, &b)), [150_000, 150_000, 0, 0, 0]);

    // Closed, and closed again: one statement, the same figures.
    close_day(&today, &organizer).await;
    let closed = statement(&organizer, &id).await;
    assert_eq!(closed.status, 200, "{}", closed.text);
    assert_eq!(closed.json["status"], "CLOSED", "{}", closed.text);
    assert_eq!(closed.json["lines"], open["lines"]);
    assert_eq!(closed.json["totals"], open["totals"]);
    assert_eq!(closed.json["commissionRateBps"], 1_000);
    close_day(&today, &organizer).await;
    let again = statement(&organizer, &id).await;
    assert_eq!(again.json, closed.json, "a second close changes nothing");
    let listed = organizer
        .call(
            Method::GET,
            &format!("/organizer/settlements?from={today}&to={today}"),
            None,
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let items = listed.json["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "one statement for the day: {}", listed.text);
    assert_eq!(items[0]["settlementId"], id.as_str());
    assert!(
        items[0].get("lines").is_none(),
        "listings leave the lines out"
    );

    // The CSV says what the JSON says.
    let csv = ticketing_tests::call(
        Method::GET,
        &format!("/organizer/settlements/{id}"),
        None,
        &[
            ("authorization", organizer.auth().as_str()),
            ("accept", "text/csv"),
        ],
    )
    .await;
    assert_eq!(csv.status, 200, "{}", csv.text);
    assert!(csv
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    let rows = csv_rows(&csv.text);
    let lines = closed.json["lines"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), lines.len(), "{}", csv.text);
    for (row, l) in rows.iter().zip(&lines) {
        assert_eq!(row["settlementId"], id);
        assert_eq!(row["status"], "CLOSED");
        assert_eq!(
            row["showtimeId"],
            l["showtimeId"].as_str().unwrap_or_default()
        );
        for (column, field) in [
            ("gross", "gross"),
            ("refunds", "refunds"),
            ("feesKept", "feesKept"),
            ("commission", "commission"),
            ("netPayable", "netPayable"),
        ] {
            assert_eq!(row[column], l[field].to_string(), "{column} of {l}");
        }
    }

    // Ana cancels her last seat after the close: its refund and kept fee are adjustments on the next open
    // statement (tomorrow's: today's is closed), each naming the event and the day it belongs to.
    cancel_seats(&ana, &ana_id, &[(1, 1)]).await;
    let next = statement_id(&organizer, &kst_day(1));
    let adjusted = statement_when(&organizer, &next, |st| {
        st["lines"].as_array().map(Vec::len) == Some(2)
    })
    .await;
    let mut adjustments: Vec<(String, i64, i64)> = adjusted["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            assert_eq!(l["adjustmentOf"]["day"], today.as_str(), "{l}");
            let event = l["adjustmentOf"]["eventId"].as_str().unwrap_or_default();
            assert!(event.starts_with(&format!("{ana_id}:")), "{l}");
            (
                event.split(':').nth(1).unwrap_or_default().to_string(),
                l["refunds"].as_i64().unwrap_or(-1),
                l["feesKept"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    adjustments.sort();
    assert_eq!(
        adjustments,
        [
            ("RefundIssued".to_string(), 135_000, 0),
            ("ReservationCancelled".to_string(), 0, 15_000)
        ]
    );
    assert_eq!(adjusted["totals"]["netPayable"], -135_000 + 13_500);
    // Today's closed statement did not move.
    assert_eq!(statement(&organizer, &id).await.json, closed.json);

    // Nobody else reads it: to another organizer it does not exist; a buyer may read no statement.
    let rival = member("ORGANIZER").await;
    statement(&rival, &id)
        .await
        .assert_problem(404, "/problems/not-found");
    statement(&ana, &id)
        .await
        .assert_problem(403, "/problems/forbidden");
    let foreign = rival
        .call(
            Method::GET,
            &format!("/organizer/settlements?from={today}&to={today}"),
            None,
        )
        .await;
    assert_eq!(foreign.json["items"], json!([]), "{}", foreign.text);
    ana.call(Method::GET, "/organizer/settlements", None)
        .await
        .assert_problem(403, "/problems/forbidden");

    // The payout is recorded once; an open statement cannot be paid.
    let boss = admin().await;
    let queue = boss
        .call(
            Method::GET,
            &format!(
                "/admin/settlements?organizerId={}&from={today}&to={today}",
                organizer.id
            ),
            None,
        )
        .await;
    assert_eq!(queue.json["items"][0]["status"], "CLOSED", "{}", queue.text);
    let reference = format!("wire {}", unique());
    let paid = boss
        .call(
            Method::POST,
            &format!("/admin/settlements/{id}/payout"),
            Some(&json!({ "reference": reference })),
        )
        .await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    assert_eq!(paid.json["status"], "PAID");
    assert_eq!(paid.json["payoutReference"], reference.as_str());
    assert_eq!(paid.json["totals"], closed.json["totals"]);
    boss.call(
        Method::POST,
        &format!("/admin/settlements/{id}/payout"),
        Some(&json!({"reference": "again"})),
    )
    .await
    .assert_problem(409, "/problems/conflict");
    boss.call(
        Method::POST,
        &format!("/admin/settlements/{next}/payout"),
        Some(&json!({"reference": "too soon"})),
    )
    .await
    .assert_problem(409, "/problems/conflict");
    organizer
        .call(
            Method::POST,
            &format!("/admin/settlements/{id}/payout"),
            Some(&json!({"reference": "mine"})),
        )
        .await
        .assert_problem(403, "/problems/forbidden");

    reconcile(&performance, &a, &[(&ana, vec![ana_id])]).await;
    reconcile(&performance, &b, &[(&ben, vec![ben_id])]).await;
}

#[tokio::test]
async fn an_organizers_own_rate_prices_the_statements_closed_after_it() {
    let today = kst_day(0);
    let (organizer, performance) = performance_with_fee().await;
    let show = showtime(&organizer, &performance).await;
    let boss = admin().await;
    let set = boss
        .call(
            Method::PUT,
            &format!("/admin/organizers/{}/commission", organizer.id),
            Some(&json!({"rateBps": 250})),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(
        set.json,
        json!({"organizerId": organizer.id, "rateBps": 250})
    );
    // A buyer has no rate; a rate over 100% is refused.
    let buyer = member("USER").await;
    boss.call(
        Method::PUT,
        &format!("/admin/organizers/{}/commission", buyer.id),
        Some(&json!({"rateBps": 250})),
    )
    .await
    .assert_problem(422, "/problems/unprocessable");
    boss.call(
        Method::PUT,
        &format!("/admin/organizers/{}/commission", organizer.id),
        Some(&json!({"rateBps": 10_001})),
    )
    .await
    .assert_problem(400, "/problems/validation-error");

    let id = confirmed(
        &buyer,
        &show,
        &[(1, 3)],
        json!({"method": "CARD", "token": "tok_visa"}),
    )
    .await;
    if kst_day(0) != today {
        eprintln!("the Korean date changed during the test: skipped");
        return;
    }
    let sid = statement_id(&organizer, &today);
    statement_when(&organizer, &sid, |st| st["totals"]["gross"] == 150_000).await;
    close_day(&today, &organizer).await;
    let closed = statement(&organizer, &sid).await;
    assert_eq!(closed.json["status"], "CLOSED", "{}", closed.text);
    assert_eq!(closed.json["commissionRateBps"], 250);
    assert_eq!(
        figures(line(&closed.json, &show)),
        [150_000, 0, 0, 3_750, 146_250]
    );
    reconcile(&performance, &show, &[(&buyer, vec![id])]).await;
}
