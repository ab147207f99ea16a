//! What a cancellation costs: the fee schedule of a performance, and the quote it gives for some seats at
//! some instant. The quote shown before a cancellation is the one the cancellation then refunds (both come
//! from [`quote`] at the moment of the request, and the cancellation keeps it).
//!
//! Days before the show are counted in calendar days in Korean time (UTC+9, no daylight saving), as Korean
//! ticketing terms count them: a show on the 20th is "10 days before" all day on the 10th.
//!
//! The default schedule ([`RefundPolicy::default`]) follows the common Korean terms:
//!
//! | days before the showtime | fee |
//! |---|---|
//! | 10 or more | none |
//! | 9 to 7 | 10% |
//! | 6 to 3 | 20% |
//! | 2 to 1 | 30% |
//! | the day of the show, or after it starts | no cancellation by the buyer |
//!
//! and a booking cancelled within `graceHours` (24) of being made is free while the show is at least
//! `graceMinDaysBefore` (7) days away. An organizer may set another schedule per performance.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset};
use utoipa::ToSchema;

/// Korean Standard Time: the clock the schedule's days are counted in.
pub const KST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// How many days after a change of time or venue a buyer may cancel without a fee.
pub const CHANGE_FREE_DAYS: i64 = 7;

/// From `daysBefore` days before the show on, cancelling costs `feePercent` of the seats' price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeeTier {
    /// Calendar days before the show (Korean time) from which this fee applies; 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    #[serde(deserialize_with = "super::rules::whole")]
    pub days_before: u16,
    /// 0 to 100.
    #[schema(minimum = 0, maximum = 100)]
    #[serde(deserialize_with = "super::rules::whole")]
    pub fee_percent: u8,
}

/// A performance's cancellation terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundPolicy {
    /// 1 to 10 tiers, by strictly decreasing `daysBefore`. Closer to the show than the last tier's
    /// `daysBefore`, the buyer can no longer cancel.
    #[schema(min_items = 1, max_items = 10)]
    pub tiers: Vec<FeeTier>,
    /// A booking cancelled within this many hours of being made is free (0 turns the grace off); 0 to 168.
    #[schema(minimum = 0, maximum = 168)]
    #[serde(deserialize_with = "super::rules::whole")]
    pub grace_hours: u16,
    /// ... provided the show is at least this many days away; 0 to 365.
    #[schema(minimum = 0, maximum = 365)]
    #[serde(deserialize_with = "super::rules::whole")]
    pub grace_min_days_before: u16,
}

impl Default for RefundPolicy {
    fn default() -> Self {
        let tier = |days_before, fee_percent| FeeTier {
            days_before,
            fee_percent,
        };
        RefundPolicy {
            tiers: vec![tier(10, 0), tier(7, 10), tier(3, 20), tier(1, 30)],
            grace_hours: 24,
            grace_min_days_before: 7,
        }
    }
}

impl RefundPolicy {
    /// Every broken rule of an organizer's schedule, under `field`.
    pub fn validate(&self, field: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.tiers.is_empty() || self.tiers.len() > 10 {
            errors.push(FieldError::new(
                format!("{field}.tiers"),
                "must have 1 to 10 tiers",
            ));
        }
        for (i, t) in self.tiers.iter().enumerate() {
            if !(1..=365).contains(&t.days_before) {
                errors.push(FieldError::new(
                    format!("{field}.tiers[{i}].daysBefore"),
                    "must be 1 to 365",
                ));
            }
            if t.fee_percent > 100 {
                errors.push(FieldError::new(
                    format!("{field}.tiers[{i}].feePercent"),
                    "must be 0 to 100",
                ));
            }
        }
        if self
            .tiers
            .windows(2)
            .any(|w| w[0].days_before <= w[1].days_before)
        {
            errors.push(FieldError::rule(
                format!("{field}.tiers"),
                "tiers must be ordered by strictly decreasing daysBefore",
            ));
        }
        if self.grace_hours > 168 {
            errors.push(FieldError::new(
                format!("{field}.graceHours"),
                "must be 0 to 168",
            ));
        }
        if self.grace_min_days_before > 365 {
            errors.push(FieldError::new(
                format!("{field}.graceMinDaysBefore"),
                "must be 0 to 365",
            ));
        }
        errors
    }

    /// The fee percent `days` calendar days before the show; `None` when the buyer may no longer cancel.
    pub fn fee_percent(&self, days: i64) -> Option<u8> {
        self.tiers
            .iter()
            .find(|t| days >= i64::from(t.days_before))
            .map(|t| t.fee_percent)
    }
}

/// Calendar days (Korean time) from `now` to `starts_at`: 0 on the day of the show, negative after it.
pub fn days_before(starts_at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    let show = starts_at.to_offset(KST).date();
    let today = now.to_offset(KST).date();
    (show - today).whole_days()
}

/// Who cancels, which decides which rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canceller {
    /// The buyer, under the schedule.
    Buyer,
    /// An admin; `waive_fee` refunds in full, and lets the admin cancel when the buyer no longer could.
    Admin { waive_fee: bool },
    /// The organizer called the show off: a full refund, whenever.
    Organizer,
}

/// Why the fee is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeeBasis {
    /// The performance's fee schedule.
    Schedule,
    /// Free: cancelled within the grace period after booking.
    Grace,
    /// Free: the showtime's time or venue changed after this booking.
    ShowtimeChanged,
    /// Free: the organizer cancelled the showtime.
    OrganizerCancelled,
    /// Free: an admin waived the fee.
    Waived,
}

/// What a cancellation of some seats would cost now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// The price of the seats cancelled, in minor units.
    pub amount: u64,
    pub fee_percent: u8,
    /// Kept by the seller: `amount × feePercent / 100`, rounded down.
    pub fee: u64,
    /// Given back: `amount - fee`.
    pub refund: u64,
    pub basis: FeeBasis,
    /// Calendar days before the show, Korean time (0 on the day, negative after).
    pub days_before: i64,
    /// Until when (RFC 3339) this quote holds, at the latest: the next change of day or the grace's end.
    #[schema(format = DateTime)]
    pub valid_until: String,
}

/// Why a cancellation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefusal {
    #[error("the show has started; it can no longer be cancelled")]
    Started,
    #[error(
        "a buyer can cancel until {last_day} day(s) before the show; it is {days} day(s) away"
    )]
    TooLate { days: i64, last_day: u16 },
}

/// The facts a quote depends on.
#[derive(Debug, Clone, Copy)]
pub struct QuoteInput<'a> {
    pub policy: &'a RefundPolicy,
    pub starts_at: OffsetDateTime,
    /// When the reservation was made.
    pub booked_at: OffsetDateTime,
    /// When the showtime's time or venue last changed, and until when that lets its earlier buyers cancel
    /// for free.
    pub changed: Option<(OffsetDateTime, OffsetDateTime)>,
    /// The price of the seats to cancel.
    pub amount: u64,
}

/// The quote for cancelling `input.amount` worth of seats at `now` by `who`.
pub fn quote(
    input: QuoteInput<'_>,
    who: Canceller,
    now: OffsetDateTime,
) -> Result<Quote, CancelRefusal> {
    let days = days_before(input.starts_at, now);
    let next_day = (now.to_offset(KST).date().midnight().assume_offset(KST) + Duration::days(1))
        .min(input.starts_at);
    let free = |basis: FeeBasis, until: OffsetDateTime| Quote {
        amount: input.amount,
        fee_percent: 0,
        fee: 0,
        refund: input.amount,
        basis,
        days_before: days,
        valid_until: super::performance::format_instant(until),
    };
    match who {
        Canceller::Organizer => return Ok(free(FeeBasis::OrganizerCancelled, input.starts_at)),
        Canceller::Admin { waive_fee: true } => {
            return Ok(free(FeeBasis::Waived, now.max(input.starts_at)))
        }
        Canceller::Admin { waive_fee: false } | Canceller::Buyer => {}
    }
    if now >= input.starts_at {
        return Err(CancelRefusal::Started);
    }
    let Some(percent) = input.policy.fee_percent(days) else {
        return Err(CancelRefusal::TooLate {
            days,
            last_day: input.policy.tiers.last().map_or(0, |t| t.days_before),
        });
    };
    if let Some((changed_at, free_until)) = input.changed {
        if input.booked_at < changed_at && now <= free_until {
            return Ok(free(
                FeeBasis::ShowtimeChanged,
                free_until.min(input.starts_at),
            ));
        }
    }
    let grace_end = input.booked_at + Duration::hours(i64::from(input.policy.grace_hours));
    if now < grace_end && days >= i64::from(input.policy.grace_min_days_before) && percent > 0 {
        return Ok(free(FeeBasis::Grace, grace_end.min(next_day)));
    }
    let fee = fee_of(input.amount, percent);
    Ok(Quote {
        amount: input.amount,
        fee_percent: percent,
        fee,
        refund: input.amount - fee,
        basis: FeeBasis::Schedule,
        days_before: days,
        valid_until: super::performance::format_instant(next_day),
    })
}

/// `amount × percent / 100`, rounded down (the buyer keeps the fraction), never above `amount`.
pub fn fee_of(amount: u64, percent: u8) -> u64 {
    let fee = u128::from(amount) * u128::from(percent.min(100)) / 100;
    u64::try_from(fee).unwrap_or(amount).min(amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// 19:30 in Seoul on 2027-03-20.
    const SHOW: OffsetDateTime = datetime!(2027-03-20 10:30 UTC);
    const BOOKED: OffsetDateTime = datetime!(2027-01-01 00:00 UTC);

    fn input(policy: &RefundPolicy) -> QuoteInput<'_> {
        QuoteInput {
            policy,
            starts_at: SHOW,
            booked_at: BOOKED,
            changed: None,
            amount: 150_000,
        }
    }

    /// `days` before the show at 12:00 Seoul time.
    fn at_noon(days: i64) -> OffsetDateTime {
        datetime!(2027-03-20 03:00 UTC) - Duration::days(days)
    }

    #[test]
    fn days_are_counted_in_korean_calendar_days() {
        // 23:59 and 00:00 Seoul time on either side of a day boundary.
        assert_eq!(days_before(SHOW, datetime!(2027-03-10 14:59 UTC)), 10);
        assert_eq!(days_before(SHOW, datetime!(2027-03-10 15:00 UTC)), 9);
        assert_eq!(days_before(SHOW, datetime!(2027-03-19 15:00 UTC)), 0);
        assert_eq!(days_before(SHOW, datetime!(2027-03-21 00:00 UTC)), -1);
    }

    #[test]
    fn the_default_schedule_at_every_boundary() {
        let policy = RefundPolicy::default();
        let cases = [
            (30, Some(0)),
            (10, Some(0)),
            (9, Some(10)),
            (7, Some(10)),
            (6, Some(20)),
            (3, Some(20)),
            (2, Some(30)),
            (1, Some(30)),
            (0, None),
            (-1, None),
        ];
        for (days, percent) in cases {
            let q = quote(input(&policy), Canceller::Buyer, at_noon(days));
            match percent {
                Some(p) => {
                    let q = q.expect("cancellable");
                    assert_eq!((q.days_before, q.fee_percent), (days, p), "{days} days");
                    assert_eq!(q.fee, 150_000 * u64::from(p) / 100);
                    assert_eq!(q.fee + q.refund, q.amount);
                    assert_eq!(q.basis, FeeBasis::Schedule);
                }
                None => assert!(q.is_err(), "{days} days: {q:?}"),
            }
        }
        assert_eq!(
            quote(input(&policy), Canceller::Buyer, at_noon(0)),
            Err(CancelRefusal::TooLate {
                days: 0,
                last_day: 1
            })
        );
        assert_eq!(
            quote(input(&policy), Canceller::Buyer, SHOW),
            Err(CancelRefusal::Started)
        );
        // The boundary is the Korean midnight, not 24 hours before the show.
        let last_minute_of_day_7 = datetime!(2027-03-13 14:59 UTC);
        assert_eq!(
            quote(input(&policy), Canceller::Buyer, last_minute_of_day_7).map(|q| q.fee_percent),
            Ok(10)
        );
        assert_eq!(
            quote(
                input(&policy),
                Canceller::Buyer,
                last_minute_of_day_7 + Duration::minutes(1)
            )
            .map(|q| q.fee_percent),
            Ok(20)
        );
    }

    #[test]
    fn a_quote_holds_until_the_next_korean_midnight() {
        let policy = RefundPolicy::default();
        let q = quote(input(&policy), Canceller::Buyer, at_noon(8)).expect("cancellable");
        assert_eq!(q.valid_until, "2027-03-12T15:00:00Z");
        // The last day's quote holds until the show at the latest.
        let q = quote(input(&policy), Canceller::Buyer, at_noon(1)).expect("cancellable");
        assert_eq!(q.valid_until, "2027-03-19T15:00:00Z");
    }

    #[test]
    fn the_grace_period_is_free_while_the_show_is_far_off() {
        let policy = RefundPolicy::default();
        let booked = at_noon(8);
        let inside = QuoteInput {
            booked_at: booked,
            ..input(&policy)
        };
        let q = quote(inside, Canceller::Buyer, booked + Duration::hours(2)).expect("ok");
        assert_eq!((q.fee, q.basis), (0, FeeBasis::Grace));
        assert_eq!(
            q.valid_until, "2027-03-12T15:00:00Z",
            "the grace ends at midnight here"
        );
        let q = quote(inside, Canceller::Buyer, booked + Duration::hours(24)).expect("ok");
        assert_eq!(
            q.basis,
            FeeBasis::Schedule,
            "24 h later the day changed: 7 days"
        );
        assert_eq!(q.fee_percent, 10);
        // Booked 5 days before: no grace (the show is not 7 days away).
        let close = QuoteInput {
            booked_at: at_noon(5),
            ..input(&policy)
        };
        let q = quote(close, Canceller::Buyer, at_noon(5) + Duration::hours(1)).expect("ok");
        assert_eq!((q.fee_percent, q.basis), (20, FeeBasis::Schedule));
        // No grace configured.
        let strict = RefundPolicy {
            grace_hours: 0,
            ..RefundPolicy::default()
        };
        let q = quote(
            QuoteInput {
                booked_at: booked,
                ..input(&strict)
            },
            Canceller::Buyer,
            booked + Duration::minutes(1),
        )
        .expect("ok");
        assert_eq!(q.fee_percent, 10);
    }

    #[test]
    fn a_changed_showtime_lets_earlier_buyers_cancel_free_for_a_while() {
        let policy = RefundPolicy::default();
        let changed_at = at_noon(6);
        let until = changed_at + Duration::days(CHANGE_FREE_DAYS);
        let earlier = QuoteInput {
            changed: Some((changed_at, until)),
            booked_at: at_noon(20),
            ..input(&policy)
        };
        let q = quote(earlier, Canceller::Buyer, at_noon(2)).expect("ok");
        assert_eq!((q.fee, q.basis), (0, FeeBasis::ShowtimeChanged));
        // Booked after the change: the schedule.
        let later = QuoteInput {
            booked_at: at_noon(5),
            ..earlier
        };
        assert_eq!(
            quote(later, Canceller::Buyer, at_noon(2)).map(|q| q.fee_percent),
            Ok(30)
        );
        // The day of the show is still too late.
        assert!(quote(earlier, Canceller::Buyer, at_noon(0)).is_err());
    }

    #[test]
    fn organizers_and_waiving_admins_refund_in_full() {
        let policy = RefundPolicy::default();
        let q = quote(input(&policy), Canceller::Organizer, at_noon(0)).expect("ok");
        assert_eq!(
            (q.fee, q.refund, q.basis),
            (0, 150_000, FeeBasis::OrganizerCancelled)
        );
        let q = quote(
            input(&policy),
            Canceller::Admin { waive_fee: true },
            SHOW + Duration::hours(1),
        )
        .expect("ok");
        assert_eq!((q.fee, q.basis), (0, FeeBasis::Waived));
        let q = quote(
            input(&policy),
            Canceller::Admin { waive_fee: false },
            at_noon(4),
        )
        .expect("ok");
        assert_eq!((q.fee_percent, q.basis), (20, FeeBasis::Schedule));
        assert!(quote(
            input(&policy),
            Canceller::Admin { waive_fee: false },
            at_noon(0)
        )
        .is_err());
    }

    #[test]
    fn fees_round_down_and_never_exceed_the_amount() {
        assert_eq!(fee_of(99_999, 10), 9_999);
        assert_eq!(fee_of(1, 30), 0);
        assert_eq!(fee_of(u64::MAX, 100), u64::MAX);
        assert_eq!(fee_of(100, 200), 100);
    }

    #[test]
    fn an_organizers_schedule_is_checked() {
        assert!(RefundPolicy::default().validate("refundPolicy").is_empty());
        let bad = RefundPolicy {
            tiers: vec![
                FeeTier {
                    days_before: 3,
                    fee_percent: 10,
                },
                FeeTier {
                    days_before: 3,
                    fee_percent: 101,
                },
                FeeTier {
                    days_before: 0,
                    fee_percent: 50,
                },
            ],
            grace_hours: 200,
            grace_min_days_before: 0,
        };
        let fields: Vec<String> = bad
            .validate("refundPolicy")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "refundPolicy.tiers[1].feePercent",
                "refundPolicy.tiers[2].daysBefore",
                "refundPolicy.tiers",
                "refundPolicy.graceHours"
            ]
        );
        let custom = RefundPolicy {
            tiers: vec![FeeTier {
                days_before: 2,
                fee_percent: 50,
            }],
            grace_hours: 0,
            grace_min_days_before: 0,
        };
        assert_eq!(custom.fee_percent(2), Some(50));
        assert_eq!(custom.fee_percent(1), None);
    }
}
