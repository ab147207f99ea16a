//! Reservations: a member's hold on some seats of one showtime, and what becomes of it.
//!
//! ```text
//!          confirm (paid, hold still live)
//! HELD ───────────────────────────────────▶ CONFIRMED
//!   │
//!   ├── release: buyer cancels ──────────▶ CANCELLED
//!   ├── release: hold ran out ───────────▶ EXPIRED
//!   └── release: payment failed ─────────▶ FAILED
//! ```
//!
//! A reservation is created HELD, in the same transaction that holds its seats, with the price of each seat
//! fixed from the showtime's seat map at that moment (a later price change does not reprice it). A HELD
//! reservation past `holdExpiresAt` reads as EXPIRED ([`Reservation::effective_status`]) even before anything
//! writes EXPIRED, because its seats are already reclaimable by anyone ([`super::seat::can_hold`]) and it can
//! no longer be confirmed ([`super::seat::can_confirm`]): the boundary is the same (`now > holdExpiresAt`).

use super::performance::format_instant;
use super::refund::Quote;
use super::seat::{hold_expires_at, PricingError, SeatId};
use super::showtime::Showtime;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    /// Seats held, waiting for payment until `holdExpiresAt`.
    Held,
    /// Paid; the seats are SOLD to this reservation.
    Confirmed,
    /// Given up by the buyer (or an organizer's cancellation); seats released.
    Cancelled,
    /// The hold ran out before payment; seats released (or reclaimable).
    Expired,
    /// Payment failed or the saga could not complete; seats released.
    Failed,
}

impl ReservationStatus {
    pub const ALL: [ReservationStatus; 5] = [
        ReservationStatus::Held,
        ReservationStatus::Confirmed,
        ReservationStatus::Cancelled,
        ReservationStatus::Expired,
        ReservationStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Held => "HELD",
            ReservationStatus::Confirmed => "CONFIRMED",
            ReservationStatus::Cancelled => "CANCELLED",
            ReservationStatus::Expired => "EXPIRED",
            ReservationStatus::Failed => "FAILED",
        }
    }

    pub fn parse(raw: &str) -> Option<ReservationStatus> {
        ReservationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// The statuses a release may end a hold in (seats given back): CANCELLED, EXPIRED, FAILED.
    pub fn is_release(self) -> bool {
        matches!(
            self,
            ReservationStatus::Cancelled | ReservationStatus::Expired | ReservationStatus::Failed
        )
    }
}

impl std::fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One seat of a reservation, with the grade and price it was held at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReservedSeat {
    pub row: u16,
    pub col: u16,
    pub grade: String,
    /// In minor units of the reservation's currency.
    pub price: u64,
}

impl ReservedSeat {
    pub fn seat_id(&self) -> SeatId {
        SeatId::new(self.row, self.col)
    }
}

/// A reservation as stored. The API shows it as a [`ReservationView`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub id: String,
    pub member_id: String,
    pub performance_id: String,
    pub showtime_id: String,
    /// Sorted row-major, each seat once.
    pub seats: Vec<ReservedSeat>,
    pub total_price: u64,
    pub currency: String,
    pub status: ReservationStatus,
    /// Epoch seconds; the same number is stored on the held seat items (their conditions compare it with
    /// the clock). The hold is live while `now <= holdExpiresAt`.
    pub hold_expires_at: i64,
    /// Incremented on every change.
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Why a FAILED or EXPIRED reservation ended (`card_declined`, `insufficient_points`, `hold_expired`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Seats given back by cancellations (no longer in `seats`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancelled_seats: Vec<ReservedSeat>,
    /// The cancellation under way (its refund and release are the cancellation saga's); at most one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_cancellation: Option<Cancellation>,
    /// Cancellations done or abandoned, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancellations: Vec<Cancellation>,
    /// Who changed or cancelled this reservation, when and why (admins must say why).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// Held under a waiting-room admission: the second it was let in (its token's `iat`). The purchase
    /// finishes that admission, and its place under the room's cap goes back to the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_at: Option<i64>,
    /// A card payment that could not be taken when it was given (the payment provider's circuit breaker was
    /// open): the hold waits for a payment instead, as long as it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<PaymentFallback>,
}

/// What became of a payment given with a hold that could not be taken then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentFallback {
    /// Pay within the hold (`POST /reservations/{id}/payment`), by card once the provider is back or with
    /// wallet points now.
    PayLater,
}

/// Who cancelled or changed a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Actor {
    Buyer,
    Admin,
    Organizer,
}

/// A change to a reservation by someone: seats changed, cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    #[schema(format = DateTime)]
    pub at: String,
    /// The member who made it.
    pub by: String,
    pub actor: Actor,
    /// `SEATS_CHANGED`, `HOLD_CANCELLED`, `CANCELLATION_REQUESTED`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancellationStatus {
    /// Refund and release under way.
    Pending,
    /// Refunded and released.
    Done,
    /// Could not be refunded; nothing was released and the seats stay sold.
    Failed,
}

/// A cancellation of some or all seats of a CONFIRMED reservation, with the quote it refunds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    pub id: String,
    pub seats: Vec<ReservedSeat>,
    /// Whether it ends the reservation (every remaining seat).
    pub whole: bool,
    pub quote: Quote,
    pub by: String,
    pub actor: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub status: CancellationStatus,
    #[schema(format = DateTime)]
    pub requested_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// How often a stalled run of this cancellation was started again (by a later cancel or the repairer);
    /// the run under way is the saga execution [`Cancellation::run_name`].
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resumed: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Cancellation {
    /// The name of the saga execution that runs this cancellation now: its id, then `<id>-<n>` once resumed.
    pub fn run_name(&self) -> String {
        if self.resumed == 0 {
            self.id.clone()
        } else {
            format!("{}-{}", self.id, self.resumed)
        }
    }
}

/// Why a cancellation cannot begin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("reservation is {0}: only a CONFIRMED reservation is cancelled with a refund")]
    NotConfirmed(ReservationStatus),
    #[error("cancellation {0} of this reservation is still under way")]
    InProgress(String),
    #[error("seats {} are not (or no longer) in this reservation", crate::seat::seat_list(.0))]
    SeatsNotInReservation(Vec<SeatId>),
}

/// A member's hold on seats of one showtime, and what became of it, as the API returns it. Prices are in
/// minor units of `currency`; instants are RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Reservation)]
pub struct ReservationView {
    pub id: String,
    pub member_id: String,
    pub performance_id: String,
    pub showtime_id: String,
    pub seats: Vec<ReservedSeat>,
    /// Sum of the seats' prices, in minor units of `currency`.
    pub total_price: u64,
    pub currency: String,
    /// A lapsed hold reads `EXPIRED`.
    pub status: ReservationStatus,
    /// When the hold runs out (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub hold_expires_at: String,
    pub version: u64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Why a FAILED or EXPIRED reservation ended (`card_declined`, `insufficient_points`, `hold_expired`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Seats given back by cancellations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancelled_seats: Vec<ReservedSeat>,
    /// The cancellation under way, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_cancellation: Option<Cancellation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancellations: Vec<Cancellation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// `PAY_LATER`: the card given with the hold was not charged (the payment provider is struggling); pay
    /// within the hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<PaymentFallback>,
}

impl Reservation {
    /// The API's view of this reservation at `now` (epoch seconds): a lapsed hold reads EXPIRED.
    pub fn view(self, now: i64) -> ReservationView {
        ReservationView {
            status: self.effective_status(now),
            hold_expires_at: epoch_to_rfc3339(self.hold_expires_at),
            id: self.id,
            member_id: self.member_id,
            performance_id: self.performance_id,
            showtime_id: self.showtime_id,
            seats: self.seats,
            total_price: self.total_price,
            currency: self.currency,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            failure_reason: self.failure_reason,
            cancelled_seats: self.cancelled_seats,
            pending_cancellation: self.pending_cancellation,
            cancellations: self.cancellations,
            changes: self.changes,
            fallback: self.fallback,
        }
    }
}

/// RFC 3339 (UTC) of an epoch-seconds instant; the number itself if it is out of range.
pub fn epoch_to_rfc3339(epoch_seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(epoch_seconds)
        .map(format_instant)
        .unwrap_or_else(|_| epoch_seconds.to_string())
}

impl Reservation {
    /// A new HELD reservation for `seats` (already validated and sorted by
    /// [`super::seat::validate_seat_selection`]), priced from the showtime's seat map; the hold lasts
    /// `hold_minutes` (clamped to the allowed window, see [`hold_expires_at`]).
    pub fn hold(
        id: String,
        member_id: String,
        showtime: &Showtime,
        seats: &[SeatId],
        hold_minutes: u16,
        now: OffsetDateTime,
    ) -> Result<Reservation, PricingError> {
        let map = &showtime.details.seat_map;
        let mut total: u64 = 0;
        let mut reserved = Vec::with_capacity(seats.len());
        for &seat in seats {
            let grade = map
                .grade_index_of_seat(seat)
                .and_then(|i| map.grades.get(i))
                .ok_or(PricingError::NotOnMap(seat))?;
            total = total
                .checked_add(grade.price)
                .ok_or(PricingError::Overflow)?;
            reserved.push(ReservedSeat {
                row: seat.row,
                col: seat.col,
                grade: grade.grade.clone(),
                price: grade.price,
            });
        }
        let created = format_instant(now);
        Ok(Reservation {
            id,
            member_id,
            performance_id: showtime.performance_id.clone(),
            showtime_id: showtime.id.clone(),
            seats: reserved,
            total_price: total,
            currency: showtime.details.currency.clone(),
            status: ReservationStatus::Held,
            hold_expires_at: hold_expires_at(now, hold_minutes),
            version: 1,
            created_at: created.clone(),
            updated_at: created,
            failure_reason: None,
            cancelled_seats: Vec::new(),
            pending_cancellation: None,
            cancellations: Vec::new(),
            changes: Vec::new(),
            admitted_at: None,
            fallback: None,
        })
    }

    /// This HELD reservation with other `seats` (validated and sorted), priced anew from the showtime's seat
    /// map; the hold keeps its expiry. Next version.
    pub fn with_seats(
        &self,
        showtime: &Showtime,
        seats: &[SeatId],
        now: OffsetDateTime,
    ) -> Result<Reservation, PricingError> {
        let priced = Reservation::hold(
            self.id.clone(),
            self.member_id.clone(),
            showtime,
            seats,
            1,
            now,
        )?;
        Ok(Reservation {
            seats: priced.seats,
            total_price: priced.total_price,
            version: self.version + 1,
            updated_at: format_instant(now),
            ..self.clone()
        })
    }

    /// The status a client should see at `now` (epoch seconds): HELD past its expiry reads as EXPIRED (the seats
    /// are reclaimable by the hold condition itself, and the hold can no longer be confirmed).
    pub fn effective_status(&self, now: i64) -> ReservationStatus {
        match self.status {
            ReservationStatus::Held if self.hold_expires_at < now => ReservationStatus::Expired,
            other => other,
        }
    }

    /// The reserved seats, in stored (row-major) order.
    pub fn seat_ids(&self) -> Vec<SeatId> {
        self.seats.iter().map(ReservedSeat::seat_id).collect()
    }

    /// Whether `other` is the same hold request as this one: same member, showtime and seats (a retried hold with
    /// the same reservation id).
    pub fn is_same_hold(&self, other: &Reservation) -> bool {
        let mut mine = self.seat_ids();
        let mut theirs = other.seat_ids();
        mine.sort_unstable();
        theirs.sort_unstable();
        self.member_id == other.member_id && self.showtime_id == other.showtime_id && mine == theirs
    }

    /// The seats of `wanted` (all remaining ones when `None`) as reserved, for a cancellation: each must be one
    /// of this reservation's current seats.
    pub fn seats_to_cancel(
        &self,
        wanted: Option<&[SeatId]>,
    ) -> Result<Vec<ReservedSeat>, CancelError> {
        let Some(wanted) = wanted else {
            return Ok(self.seats.clone());
        };
        let missing: Vec<SeatId> = wanted
            .iter()
            .filter(|w| !self.seats.iter().any(|s| s.seat_id() == **w))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(CancelError::SeatsNotInReservation(missing));
        }
        Ok(self
            .seats
            .iter()
            .filter(|s| wanted.contains(&s.seat_id()))
            .cloned()
            .collect())
    }

    /// Whether a cancellation may begin now: CONFIRMED and none under way.
    pub fn can_begin_cancellation(&self) -> Result<(), CancelError> {
        if self.status != ReservationStatus::Confirmed {
            return Err(CancelError::NotConfirmed(self.status));
        }
        if let Some(p) = &self.pending_cancellation {
            return Err(CancelError::InProgress(p.id.clone()));
        }
        Ok(())
    }

    /// This reservation once cancellation `c` is done: its seats move to `cancelledSeats`, the total drops by
    /// their price, and with no seat left it is CANCELLED. Next version.
    pub fn after_cancellation(&self, c: &Cancellation, now: OffsetDateTime) -> Reservation {
        let mut next = self.clone();
        let gone: Vec<SeatId> = c.seats.iter().map(ReservedSeat::seat_id).collect();
        next.seats.retain(|s| !gone.contains(&s.seat_id()));
        next.cancelled_seats.extend(c.seats.iter().cloned());
        next.total_price = next.seats.iter().map(|s| s.price).sum();
        if next.seats.is_empty() {
            next.status = ReservationStatus::Cancelled;
        }
        next.pending_cancellation = None;
        next.cancellations.push(Cancellation {
            status: CancellationStatus::Done,
            ..c.clone()
        });
        next.version += 1;
        next.updated_at = format_instant(now);
        next
    }

    /// This reservation after a change to `status` at `now`: next version, `updatedAt = now`.
    pub fn with_status(&self, status: ReservationStatus, now: OffsetDateTime) -> Reservation {
        Reservation {
            status,
            version: self.version + 1,
            updated_at: format_instant(now),
            ..self.clone()
        }
    }
}

/// The one cancellation an organizer's sweep makes of a reservation (so a re-run finds it).
pub fn organizer_cancellation_id(reservation_id: &str) -> String {
    format!("org-{reservation_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::showtime::{Grade, SeatMap, ShowtimeDetails};
    use serde_json::json;
    use time::macros::datetime;
    use utoipa::PartialSchema;

    const NOW: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn showtime() -> Showtime {
        Showtime::new(
            "st-1".into(),
            "perf-1".into(),
            ShowtimeDetails {
                starts_at: datetime!(2026-12-24 10:30 UTC),
                venue_name: "Hall".into(),
                seat_map: SeatMap {
                    rows: 10,
                    cols: 20,
                    grades: vec![
                        Grade {
                            grade: "VIP".into(),
                            from_row: 1,
                            to_row: 2,
                            price: 150_000,
                        },
                        Grade {
                            grade: "S".into(),
                            from_row: 3,
                            to_row: 10,
                            price: 80_000,
                        },
                    ],
                },
                currency: "KRW".into(),
            },
            NOW,
        )
    }

    fn held() -> Reservation {
        let seats = [SeatId::new(1, 1), SeatId::new(1, 2), SeatId::new(5, 3)];
        Reservation::hold("res-1".into(), "m-1".into(), &showtime(), &seats, 10, NOW)
            .expect("priced")
    }

    #[test]
    fn status_names_round_trip() {
        for s in ReservationStatus::ALL {
            assert_eq!(ReservationStatus::parse(s.as_str()), Some(s));
            // The document lists the exact spellings; anything else is a 400.
            assert_eq!(ReservationStatus::parse(&s.as_str().to_lowercase()), None);
            assert_eq!(serde_json::to_value(s).ok(), Some(json!(s.as_str())));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(ReservationStatus::parse("REQUESTED"), None);
        let released: Vec<_> = ReservationStatus::ALL
            .into_iter()
            .filter(|s| s.is_release())
            .collect();
        assert_eq!(
            released,
            [
                ReservationStatus::Cancelled,
                ReservationStatus::Expired,
                ReservationStatus::Failed
            ]
        );
    }

    #[test]
    fn a_hold_is_priced_by_grade_from_the_seat_map() {
        let r = held();
        assert_eq!(r.status, ReservationStatus::Held);
        assert_eq!(r.performance_id, "perf-1");
        assert_eq!(r.showtime_id, "st-1");
        assert_eq!(r.currency, "KRW");
        assert_eq!(r.total_price, 150_000 * 2 + 80_000);
        assert_eq!(r.seats[2].grade, "S");
        assert_eq!(r.seats[2].price, 80_000);
        assert_eq!(r.hold_expires_at, NOW.unix_timestamp() + 600);
        assert_eq!(r.version, 1);
        assert_eq!(r.created_at, "2026-06-01T00:00:00Z");
        assert_eq!(r.updated_at, r.created_at);
        assert_eq!(
            r.seat_ids(),
            [SeatId::new(1, 1), SeatId::new(1, 2), SeatId::new(5, 3)]
        );
    }

    #[test]
    fn pricing_errors_are_reported() {
        let st = showtime();
        let off = [SeatId::new(1, 1), SeatId::new(11, 1)];
        assert_eq!(
            Reservation::hold("r".into(), "m".into(), &st, &off, 10, NOW),
            Err(PricingError::NotOnMap(SeatId::new(11, 1)))
        );
        let mut dear = st.clone();
        dear.details.seat_map.grades[0].price = u64::MAX / 2 + 1;
        let two = [SeatId::new(1, 1), SeatId::new(1, 2)];
        assert_eq!(
            Reservation::hold("r".into(), "m".into(), &dear, &two, 10, NOW),
            Err(PricingError::Overflow)
        );
    }

    #[test]
    fn a_lapsed_hold_reads_expired_at_the_seat_boundary() {
        let r = held();
        let at = r.hold_expires_at;
        assert_eq!(r.effective_status(at - 1), ReservationStatus::Held);
        assert_eq!(
            r.effective_status(at),
            ReservationStatus::Held,
            "at == now is still held"
        );
        assert_eq!(r.effective_status(at + 1), ReservationStatus::Expired);
        let confirmed = r.with_status(ReservationStatus::Confirmed, NOW);
        assert_eq!(
            confirmed.effective_status(at + 1),
            ReservationStatus::Confirmed
        );
        assert_eq!(confirmed.version, 2);
    }

    #[test]
    fn same_hold_means_same_member_showtime_and_seats() {
        let r = held();
        let mut retried = r.clone();
        retried.seats.reverse();
        retried.hold_expires_at += 5;
        assert!(r.is_same_hold(&retried));
        let mut other_member = r.clone();
        other_member.member_id = "m-2".into();
        assert!(!r.is_same_hold(&other_member));
        let mut fewer = r.clone();
        fewer.seats.pop();
        assert!(!r.is_same_hold(&fewer));
    }

    #[test]
    fn the_view_speaks_rfc_3339_and_the_item_keeps_epoch_seconds() {
        let r = held();
        let stored = serde_json::to_value(&r).expect("serializes");
        assert_eq!(stored["holdExpiresAt"], json!(NOW.unix_timestamp() + 600));
        assert_eq!(
            serde_json::from_value::<Reservation>(stored).ok(),
            Some(r.clone())
        );
        let v = serde_json::to_value(r.clone().view(NOW.unix_timestamp())).expect("serializes");
        assert_eq!(v["holdExpiresAt"], json!("2026-06-01T00:10:00Z"));
        assert!(v.get("holdExpiresAtTime").is_none());
        assert_eq!(v["status"], json!("HELD"));
        assert_eq!(v["totalPrice"], json!(380_000));
        assert_eq!(
            v["seats"][0],
            json!({"row": 1, "col": 1, "grade": "VIP", "price": 150000})
        );
        let later = r.view(NOW.unix_timestamp() + 601);
        assert_eq!(later.status, ReservationStatus::Expired);
        assert_eq!(epoch_to_rfc3339(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn the_schema_is_named_reservation_and_documents_the_date_time() {
        assert_eq!(<ReservationView as ToSchema>::name(), "Reservation");
        let schema = serde_json::to_value(ReservationView::schema()).expect("schema serializes");
        assert_eq!(
            schema["properties"]["holdExpiresAt"]["format"],
            json!("date-time"),
            "{schema}"
        );
        assert!(schema["properties"]["memberId"].is_object(), "{schema}");
    }
}
