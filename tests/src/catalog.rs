//! The catalog: performances published and approved, showtimes, seat maps.

use crate::*;
use serde_json::{json, Value};

/// A new performance's body: a concert in Seoul running through March 2027 titled `title` and a unique
/// suffix, on sale from `opens` to `closes` (RFC 3339), with a hold window of `hold_minutes`.
pub fn performance_body(title: &str, opens: &str, closes: &str, hold_minutes: u32) -> Value {
    json!({
        "title": format!("{title} {}", unique()),
        "category": "CONCERT",
        "venue": {"name": "Arena", "city": "Seoul"},
        "runningTimeMinutes": 120,
        "ageRating": "ALL",
        "runStartDate": "2027-03-01",
        "runEndDate": "2027-03-31",
        "saleOpensAt": opens,
        "saleClosesAt": closes,
        "holdMinutes": hold_minutes
    })
}

/// An approved performance on sale now, with a hold window of `hold_minutes`, and its organizer.
pub async fn on_sale(hold_minutes: u32) -> (Member, String) {
    let organizer = member("ORGANIZER").await;
    let body = performance_body(
        "Holds",
        "2026-01-01T00:00:00Z",
        "2027-03-31T00:00:00Z",
        hold_minutes,
    );
    let approved = publish(&organizer, &body).await;
    let id = approved.json["id"].as_str().expect("id").to_string();
    (organizer, id)
}

pub fn showtime_body(rows: u32, cols: u32) -> Value {
    let vip_rows = (rows / 2).max(1);
    let mut grades =
        vec![json!({"grade": "VIP", "fromRow": 1, "toRow": vip_rows, "price": 150_000})];
    if rows > vip_rows {
        grades.push(json!({"grade": "R", "fromRow": vip_rows + 1, "toRow": rows, "price": 90_000}));
    }
    json!({
        "startsAt": "2027-03-10T19:30:00+09:00",
        "venueName": "Main hall",
        "seatMap": {"rows": rows, "cols": cols, "grades": grades}
    })
}

pub async fn showtime(organizer: &Member, performance: &str, rows: u32, cols: u32) -> String {
    let reply = organizer
        .call(
            reqwest::Method::POST,
            &format!("/performances/{performance}/showtimes"),
            Some(&showtime_body(rows, cols)),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json["id"].as_str().expect("id").to_string()
}

/// The public seat map of a showtime.
pub async fn seat_map(performance: &str, showtime: &str) -> Value {
    let reply = call(
        reqwest::Method::GET,
        &format!("/performances/{performance}/showtimes/{showtime}/seats"),
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json
}

/// A sale: an approved performance on sale now with a 10-minute hold window, its organizer, and a showtime
/// of `rows` x `cols` seats (the set-up most seat and saga tests start from).
pub async fn sale(rows: u32, cols: u32) -> (Member, String, String) {
    let (organizer, performance) = on_sale(10).await;
    let show = showtime(&organizer, &performance, rows, cols).await;
    (organizer, performance, show)
}
