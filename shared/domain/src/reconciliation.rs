//! The reconciliation's rules: every invariant the system promises, checked one item at a time (so the whole
//! table is never held at once), and what a break says (docs/reconciliation.md).
//!
//! - **Money**: for each reservation, what its payment kept (charged − refunded) equals the price of its seats
//!   SOLD plus the fees its cancellations kept. Summed over the table: completed payments minus refunds equal
//!   the price of the seats SOLD plus the fees kept.
//! - **Seats**: every seat SOLD belongs to a CONFIRMED reservation that lists it, and every seat of a CONFIRMED
//!   reservation is SOLD to it. A seat item has one holder, so together: no seat is SOLD twice.
//! - **Wallets**: every balance equals the sum of its ledger.
//! - **Settlement**: every money event of a payment is booked once, for its amount, and every closed statement
//!   adds up to the money booked in it; so each day's statements add up to that day's payments and refunds.

use crate::payment::{Payment, PaymentStatus};
use crate::reservation::{CancellationStatus, Reservation, ReservationStatus};
use crate::settlement::MoneyKind;
use serde::{Deserialize, Serialize};

/// What kind of promise an item broke.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BreakKind {
    /// A payment kept other than the price of the seats sold plus the fees kept.
    Money,
    /// A seat of a CONFIRMED reservation that is not SOLD to it.
    SeatNotSold,
    /// A seat SOLD to no CONFIRMED reservation that lists it.
    SeatWithoutReservation,
    /// A wallet whose balance is not the sum of its ledger.
    Wallet,
    /// A money event of a payment not booked in any statement, or booked for another amount.
    Unsettled,
    /// A closed statement whose lines or totals are not the sum of its money.
    Statement,
}

/// One broken promise, with the ids that locate it.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Break {
    pub kind: BreakKind,
    /// The item it is about: a reservation, `<showtimeId>/<row>-<col>`, a member, a statement, an event.
    pub subject: String,
    /// What was found against what was promised.
    pub detail: String,
}

/// What a run looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Items the scan read.
    pub items: u64,
    pub reservations: u64,
    /// Reservations left for the next run: a hold, a payment or a cancellation under way.
    pub in_flight: u64,
    pub payments: u64,
    pub seats_sold: u64,
    pub wallets: u64,
    pub ledger_lines: u64,
    pub money_events: u64,
    pub statements: u64,
    /// DynamoDB requests the run made, and the items they read (the scan's included).
    pub calls: u64,
    pub reads: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.items += o.items;
        self.reservations += o.reservations;
        self.in_flight += o.in_flight;
        self.payments += o.payments;
        self.seats_sold += o.seats_sold;
        self.wallets += o.wallets;
        self.ledger_lines += o.ledger_lines;
        self.money_events += o.money_events;
        self.statements += o.statements;
        self.calls += o.calls;
        self.reads += o.reads;
    }
}

/// What a payment kept: charged minus refunded once it completed; nothing otherwise.
pub fn kept(p: Option<&Payment>) -> u64 {
    match p {
        Some(p)
            if matches!(
                p.status,
                PaymentStatus::Completed | PaymentStatus::PartCanceled | PaymentStatus::Canceled
            ) =>
        {
            p.amount.saturating_sub(p.refunded_amount)
        }
        _ => 0,
    }
}

/// The fees the reservation's finished cancellations kept.
pub fn fees_kept(r: &Reservation) -> u64 {
    r.cancellations
        .iter()
        .filter(|c| c.status == CancellationStatus::Done)
        .map(|c| c.quote.fee)
        .sum()
}

/// Whether a reservation is still changing (a live hold, a payment under way, a cancellation pending): its
/// money and seats are checked by a later run.
pub fn in_flight(r: &Reservation, p: Option<&Payment>, now: i64) -> bool {
    r.effective_status(now) == ReservationStatus::Held
        || r.status == ReservationStatus::Held
        || r.pending_cancellation.is_some()
        || p.is_some_and(|p| p.status == PaymentStatus::Waiting)
}

/// The money promise of one settled reservation: `None` when it holds.
pub fn money_break(r: &Reservation, p: Option<&Payment>) -> Option<Break> {
    let sold: u64 = if r.status == ReservationStatus::Confirmed {
        r.seats.iter().map(|s| s.price).sum()
    } else {
        0
    };
    let expected = sold + fees_kept(r);
    let kept = kept(p);
    (kept != expected).then(|| Break {
        kind: BreakKind::Money,
        subject: r.id.clone(),
        detail: format!(
            "the payment kept {kept} ({}); the seats SOLD cost {sold} and the cancellations kept {} in fees",
            p.map(|p| format!("{} of {}, {} refunded", p.status.as_str(), p.amount, p.refunded_amount))
                .unwrap_or_else(|| "no payment".into()),
            fees_kept(r)
        ),
    })
}

/// The money events a settled reservation's payment gave the settlement, each with its kind; with
/// [`expected_sums`] what they add up to.
pub fn money_events(r: &Reservation, p: &Payment) -> Vec<(String, MoneyKind)> {
    if !matches!(
        p.status,
        PaymentStatus::Completed | PaymentStatus::PartCanceled | PaymentStatus::Canceled
    ) {
        return Vec::new();
    }
    let mut events = vec![(format!("{}:PaymentCompleted", r.id), MoneyKind::Sale)];
    for refund in &p.refund_ids {
        let key = refund.strip_prefix("refund-").unwrap_or(refund);
        let id = if key == format!("{}-full", r.id) {
            format!("{}:RefundIssued", r.id)
        } else {
            format!("{}:RefundIssued:{key}", r.id)
        };
        events.push((id, MoneyKind::Refund));
    }
    for c in &r.cancellations {
        if c.status == CancellationStatus::Done && c.quote.fee > 0 {
            events.push((
                format!("{}:ReservationCancelled:{}", r.id, c.id),
                MoneyKind::FeeKept,
            ));
        }
    }
    events
}

/// What a settled reservation's money events add up to: sales, refunds, fees kept (nothing for a payment
/// that never completed: a declined card, too few points).
pub fn expected_sums(r: &Reservation, p: &Payment) -> (u64, u64, u64) {
    if money_events(r, p).is_empty() {
        return (0, 0, 0);
    }
    (p.amount, p.refunded_amount, fees_kept(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payment::PaymentMethod;
    use crate::refund::{FeeBasis, Quote};
    use crate::reservation::{Actor, Cancellation, ReservedSeat};

    fn seat(col: u16, price: u64) -> ReservedSeat {
        serde_json::from_value(
            serde_json::json!({"row": 1, "col": col, "grade": "VIP", "price": price}),
        )
        .unwrap()
    }

    fn reservation(status: ReservationStatus, seats: Vec<ReservedSeat>) -> Reservation {
        serde_json::from_value(serde_json::json!({
            "id": "r1", "memberId": "m", "performanceId": "p", "showtimeId": "s",
            "seats": seats, "totalPrice": 0, "currency": "KRW", "status": status,
            "holdExpiresAt": 0, "version": 1, "createdAt": "2026-12-01T00:00:00Z", "updatedAt": "2026-12-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn payment(status: PaymentStatus, amount: u64, refunded: u64, refunds: &[&str]) -> Payment {
        Payment {
            id: "pay-r1".into(),
            reservation_id: "r1".into(),
            member_id: "m".into(),
            method: PaymentMethod::Card,
            status,
            amount,
            refunded_amount: refunded,
            refund_ids: refunds.iter().map(|s| s.to_string()).collect(),
            performance_id: "p".into(),
            showtime_id: "s".into(),
            currency: "KRW".into(),
            provider_reference: None,
            card: None,
            failure_reason: None,
            version: 1,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn done(id: &str, fee: u64, refund: u64) -> Cancellation {
        let quote: Quote = serde_json::from_value(serde_json::json!({
            "amount": fee + refund, "fee": fee, "refund": refund, "feePercent": 10,
            "basis": FeeBasis::Schedule, "daysBefore": 20, "validUntil": "2026-12-31T00:00:00Z"
        }))
        .unwrap();
        Cancellation {
            id: id.into(),
            seats: Vec::new(),
            whole: false,
            quote,
            by: "m".into(),
            actor: Actor::Buyer,
            reason: None,
            status: CancellationStatus::Done,
            requested_at: String::new(),
            failure_reason: None,
            resumed: 0,
        }
    }

    #[test]
    fn a_partly_cancelled_sale_keeps_its_seats_and_its_fee() {
        let mut r = reservation(ReservationStatus::Confirmed, vec![seat(1, 150_000)]);
        r.cancellations.push(done("c1", 15_000, 135_000));
        let p = payment(
            PaymentStatus::PartCanceled,
            300_000,
            135_000,
            &["refund-c1"],
        );
        assert_eq!(money_break(&r, Some(&p)), None);
        // A refund recorded twice would keep too little: a break naming the reservation.
        let twice = payment(
            PaymentStatus::PartCanceled,
            300_000,
            270_000,
            &["refund-c1"],
        );
        let b = money_break(&r, Some(&twice)).expect("a break");
        assert_eq!((b.kind, b.subject.as_str()), (BreakKind::Money, "r1"));
        assert_eq!(
            money_events(&r, &p),
            [
                ("r1:PaymentCompleted".to_string(), MoneyKind::Sale),
                ("r1:RefundIssued:c1".to_string(), MoneyKind::Refund),
                ("r1:ReservationCancelled:c1".to_string(), MoneyKind::FeeKept),
            ]
        );
        assert_eq!(expected_sums(&r, &p), (300_000, 135_000, 15_000));
    }

    #[test]
    fn a_failed_sale_refunded_in_full_keeps_nothing() {
        let r = reservation(ReservationStatus::Failed, vec![seat(1, 150_000)]);
        let p = payment(
            PaymentStatus::Canceled,
            150_000,
            150_000,
            &["refund-r1-full"],
        );
        assert_eq!(money_break(&r, Some(&p)), None);
        assert_eq!(
            money_events(&r, &p)[1],
            ("r1:RefundIssued".to_string(), MoneyKind::Refund)
        );
        // Seats sold without a payment: a break.
        let sold = reservation(ReservationStatus::Confirmed, vec![seat(1, 150_000)]);
        assert!(money_break(&sold, None).is_some());
        // A declined card: no money, no events.
        let declined = payment(PaymentStatus::Failed, 150_000, 0, &[]);
        assert_eq!(money_break(&r, Some(&declined)), None);
        assert!(money_events(&r, &declined).is_empty());
        assert_eq!(expected_sums(&r, &declined), (0, 0, 0), "nothing to book");
    }

    #[test]
    fn holds_payments_and_cancellations_under_way_wait_for_a_later_run() {
        let held = reservation(ReservationStatus::Held, vec![seat(1, 1)]);
        assert!(in_flight(&held, None, 0));
        let confirmed = reservation(ReservationStatus::Confirmed, vec![seat(1, 1)]);
        assert!(!in_flight(&confirmed, None, 0));
        assert!(in_flight(
            &confirmed,
            Some(&payment(PaymentStatus::Waiting, 1, 0, &[])),
            0
        ));
    }
}
