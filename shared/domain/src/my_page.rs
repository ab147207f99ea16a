//! My page: a member's reservations as the events told them (the CQRS read model), plain Rust.
//!
//! A view is a pure function of the set of events it has seen: [`MyReservation::fold`] orders them by
//! [`order_key`](crate::events::order_key) and applies them one by one. Applying an event twice, or events
//! in any arrival order, gives the same view, so the projector needs no sequence numbers from the bus: it
//! keeps the events with the view and folds again when a new one arrives.

use crate::events::{order_key, Event, EventType};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a performance and its showtime are called, read once by the projector when a view starts (so a
/// read of my page joins nothing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShowInfo {
    pub performance_title: Option<String>,
    pub starts_at: Option<String>,
    pub venue_name: Option<String>,
}

/// One step of a reservation's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub event_id: String,
    /// The event type (`ReservationHeld`, `PaymentCompleted`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    /// What the step was, in a few words (English).
    pub summary: String,
    /// The money of the step, when it moved some (a payment, a refund, a fee kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<u64>,
}

/// A member's reservation, as my page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyReservation {
    pub reservation_id: String,
    pub member_id: String,
    pub performance_id: String,
    pub showtime_id: String,
    pub performance_title: Option<String>,
    pub starts_at: Option<String>,
    pub venue_name: Option<String>,
    /// The seats held or bought (`row`, `col`, `grade`, `price`); cancelled ones are in `cancelledSeats`.
    #[schema(value_type = Vec<Object>)]
    pub seats: Vec<Value>,
    #[schema(value_type = Vec<Object>)]
    pub cancelled_seats: Vec<Value>,
    pub total_price: u64,
    pub currency: String,
    /// HELD, CONFIRMED, CANCELLED, EXPIRED or FAILED.
    pub status: String,
    /// Charged by the payment (0 before it).
    pub paid: u64,
    /// Given back by refunds.
    pub refunded: u64,
    /// Cancellation fees kept.
    pub fees: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Every step, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

fn amount(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

impl MyReservation {
    /// The view of one reservation from the events seen about it (any order, duplicates allowed), or `None`
    /// while none of them says what the reservation is (e.g. only a `PaymentCompleted` has arrived so far:
    /// the view appears when a reservation event does).
    pub fn fold(events: &[Event], show: &ShowInfo) -> Option<MyReservation> {
        let mut sorted: Vec<&Event> = Vec::with_capacity(events.len());
        for e in events {
            if !sorted.iter().any(|s| s.event_id == e.event_id) {
                sorted.push(e);
            }
        }
        sorted.sort_by_key(|e| {
            (
                order_key(&e.occurred_at, e.kind.as_str()),
                e.event_id.clone(),
            )
        });
        let first = sorted
            .iter()
            .find(|e| e.data.get("reservation").is_some_and(Value::is_object))?;
        let r = &first.data["reservation"];
        let mut view = MyReservation {
            reservation_id: text(&r["reservationId"]).unwrap_or_default(),
            member_id: text(&r["memberId"]).unwrap_or_default(),
            performance_id: text(&r["performanceId"]).unwrap_or_default(),
            showtime_id: text(&r["showtimeId"]).unwrap_or_default(),
            performance_title: show.performance_title.clone(),
            starts_at: show.starts_at.clone(),
            venue_name: show.venue_name.clone(),
            seats: Vec::new(),
            cancelled_seats: Vec::new(),
            total_price: 0,
            currency: String::new(),
            status: String::new(),
            paid: 0,
            refunded: 0,
            fees: 0,
            hold_expires_at: None,
            failure_reason: None,
            created_at: first.occurred_at.clone(),
            updated_at: first.occurred_at.clone(),
            timeline: Vec::new(),
        };
        for e in sorted {
            view.apply(e);
        }
        Some(view)
    }

    /// The view after one more event, when that event comes after every event folded so far (events mostly
    /// arrive in order): exactly `fold` of them all, without them. `None` when it does not (an event that
    /// arrived late, or a first view): then only a fold of every event gives the view.
    pub fn followed_by(&self, e: &Event) -> Option<MyReservation> {
        let last = self.timeline.last()?;
        let key = |at: &str, kind: &str, id: &str| (order_key(at, kind), id.to_string());
        if key(&e.occurred_at, e.kind.as_str(), &e.event_id)
            <= key(&last.at, &last.kind, &last.event_id)
        {
            return None;
        }
        let mut next = self.clone();
        next.apply(e);
        Some(next)
    }

    fn apply(&mut self, e: &Event) {
        let d = &e.data;
        if let Some(r) = d.get("reservation").filter(|r| r.is_object()) {
            self.seats = r["seats"].as_array().cloned().unwrap_or_default();
            self.total_price = amount(&r["totalPrice"]);
            self.currency = text(&r["currency"]).unwrap_or_default();
            self.status = text(&r["status"]).unwrap_or_default();
        }
        let (summary, money) = match e.kind {
            EventType::ReservationHeld => {
                self.created_at = e.occurred_at.clone();
                self.hold_expires_at = text(&d["holdExpiresAt"]);
                (format!("{} seat(s) held", self.seats.len()), None)
            }
            EventType::PaymentCompleted => {
                self.paid = amount(&d["amount"]);
                self.currency = text(&d["currency"]).unwrap_or(self.currency.clone());
                (
                    format!("paid by {}", text(&d["method"]).unwrap_or_default()),
                    Some(self.paid),
                )
            }
            EventType::PaymentDeferred => (
                format!(
                    "card not charged (the payment service is struggling): pay by {}",
                    text(&d["holdExpiresAt"]).unwrap_or_default()
                ),
                None,
            ),
            EventType::PaymentFailed => (
                format!(
                    "payment refused: {}",
                    text(&d["failureReason"]).unwrap_or_default()
                ),
                None,
            ),
            EventType::ReservationConfirmed => {
                self.hold_expires_at = None;
                ("tickets confirmed".to_string(), None)
            }
            EventType::ReservationFailed | EventType::ReservationExpired => {
                self.failure_reason = text(&d["reason"]);
                self.hold_expires_at = None;
                let what = if e.kind == EventType::ReservationExpired {
                    "hold expired"
                } else {
                    "reservation failed"
                };
                (
                    format!(
                        "{what}: {}",
                        self.failure_reason.clone().unwrap_or_default()
                    ),
                    None,
                )
            }
            EventType::ReservationChanged => (
                format!("seats changed to {} seat(s)", self.seats.len()),
                None,
            ),
            EventType::ReservationCancelled => {
                let seats = d["seats"].as_array().cloned().unwrap_or_default();
                let n = seats.len();
                for s in seats {
                    if !self.cancelled_seats.contains(&s) {
                        self.cancelled_seats.push(s);
                    }
                }
                let fee = amount(&d["fee"]);
                self.fees += fee;
                let by = text(&d["actor"])
                    .map(|role| role.to_ascii_lowercase())
                    .unwrap_or_else(|| "buyer".into());
                (
                    format!("{n} seat(s) cancelled by the {by}, fee {fee}"),
                    Some(fee),
                )
            }
            EventType::RefundIssued => {
                let refunded = amount(&d["amount"]);
                self.refunded = d["payment"]["refundedAmount"]
                    .as_u64()
                    .unwrap_or(self.refunded + refunded);
                ("refund issued".to_string(), Some(refunded))
            }
            EventType::ShowtimeChanged => {
                self.starts_at = text(&d["startsAt"]).or(self.starts_at.clone());
                self.venue_name = text(&d["venueName"]).or(self.venue_name.clone());
                (
                    format!(
                        "the organizer moved the show to {} at {}",
                        self.starts_at.clone().unwrap_or_default(),
                        self.venue_name.clone().unwrap_or_default()
                    ),
                    None,
                )
            }
            EventType::ShowtimeCancelled => ("the organizer cancelled the show".into(), None),
            // Not about a reservation (the bus does not route them here).
            EventType::PaymentProviderDegraded | EventType::PaymentProviderRecovered => return,
        };
        self.updated_at = e.occurred_at.clone();
        self.timeline.push(TimelineEntry {
            event_id: e.event_id.clone(),
            kind: e.kind.as_str().to_string(),
            at: e.occurred_at.clone(),
            summary,
            amount: money,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reservation(status: &str) -> Value {
        json!({"reservationId": "r1", "memberId": "m1", "performanceId": "p1", "showtimeId": "s1",
               "seats": [{"row": 1, "col": 1, "grade": "R", "price": 100}, {"row": 1, "col": 2, "grade": "R", "price": 100}],
               "totalPrice": 200, "currency": "KRW", "status": status})
    }

    fn events() -> Vec<Event> {
        vec![
            Event::new(
                EventType::ReservationHeld,
                "r1",
                "m1",
                "2026-12-01T10:00:00.1Z",
                json!({"reservation": reservation("HELD"), "holdExpiresAt": "2026-12-01T10:10:00Z"}),
            ),
            Event::new(
                EventType::PaymentCompleted,
                "r1",
                "m1",
                "2026-12-01T10:00:01Z",
                json!({"amount": 200, "currency": "KRW", "method": "WALLET", "refundedAmount": 0}),
            ),
            Event::new(
                EventType::ReservationConfirmed,
                "r1",
                "m1",
                "2026-12-01T10:00:01Z",
                json!({"reservation": reservation("CONFIRMED")}),
            ),
            Event::keyed(
                EventType::ReservationCancelled,
                "r1",
                "c1",
                "m1",
                "2026-12-01T11:00:00Z",
                json!({"reservation": reservation("CANCELLED"), "seats": reservation("x")["seats"], "fee": 20, "actor": "BUYER"}),
            ),
            Event::keyed(
                EventType::RefundIssued,
                "r1",
                "c1",
                "m1",
                "2026-12-01T11:00:00Z",
                json!({"amount": 180, "payment": {"refundedAmount": 180}}),
            ),
        ]
    }

    #[test]
    fn an_event_after_the_last_extends_the_view_as_a_fold_of_all_would() {
        let all = events();
        for n in 1..all.len() {
            let Some(before) = MyReservation::fold(&all[..n], &ShowInfo::default()) else {
                continue;
            };
            let next = before.followed_by(&all[n]).expect("in order");
            assert_eq!(
                Some(next),
                MyReservation::fold(&all[..=n], &ShowInfo::default())
            );
            // An event that sorts before the last one folded is not appended.
            if n >= 2 {
                assert_eq!(before.followed_by(&all[0]), None);
            }
        }
    }

    #[test]
    fn any_order_and_duplicates_give_the_same_view() {
        let show = ShowInfo {
            performance_title: Some("Hamlet".into()),
            ..ShowInfo::default()
        };
        let in_order = MyReservation::fold(&events(), &show).expect("view");
        let mut shuffled = events();
        shuffled.reverse();
        shuffled.push(events()[2].clone());
        shuffled.insert(0, events()[0].clone());
        assert_eq!(
            MyReservation::fold(&shuffled, &show),
            Some(in_order.clone())
        );
        assert_eq!(in_order.status, "CANCELLED");
        assert_eq!(
            (in_order.paid, in_order.refunded, in_order.fees),
            (200, 180, 20)
        );
        assert_eq!(in_order.cancelled_seats.len(), 2);
        let kinds: Vec<&str> = in_order.timeline.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "ReservationHeld",
                "PaymentCompleted",
                "ReservationConfirmed",
                "ReservationCancelled",
                "RefundIssued"
            ]
        );
        assert_eq!(in_order.performance_title.as_deref(), Some("Hamlet"));
    }

    #[test]
    fn confirmed_before_held_ends_confirmed() {
        let all = events();
        let late_first = vec![all[2].clone(), all[1].clone()];
        let early = MyReservation::fold(&late_first, &ShowInfo::default()).expect("view");
        assert_eq!(early.status, "CONFIRMED");
        let then_held = vec![all[2].clone(), all[1].clone(), all[0].clone()];
        let view = MyReservation::fold(&then_held, &ShowInfo::default()).expect("view");
        assert_eq!(view.status, "CONFIRMED");
        assert_eq!(view.timeline[0].kind, "ReservationHeld");
        assert_eq!(view.created_at, "2026-12-01T10:00:00.1Z");
    }

    #[test]
    fn a_payment_alone_is_no_view_yet() {
        assert_eq!(
            MyReservation::fold(&events()[1..2], &ShowInfo::default()),
            None
        );
    }
}
