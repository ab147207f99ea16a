//! Seats and seat holds: the rules that keep a seat from ever being sold twice.
//!
//! Every seat of a showtime is one item (see the ARCHITECTURE table: `SHOW#<showId>#B#<block>` /
//! `SEAT#<row>-<col>`) holding a [`SeatState`]. A seat changes hands only through a conditional write, and the
//! conditions are the functions in this module: [`can_hold`], [`can_confirm`] and [`can_release`] say, in Rust,
//! exactly what the DynamoDB `ConditionExpression` next to each one says, and [`hold`], [`confirm`] and
//! [`release`] give the state the matching `UpdateExpression` writes. Times are epoch seconds (`i64`), the unit
//! stored in `holdExpiresAt` and passed as `:now`, so the Rust rule and the condition compare the same numbers.
//!
//! ```text
//!             hold (AVAILABLE, or HELD and expired)
//! AVAILABLE ─────────────────────────────────────────▶ HELD(res, expiresAt)
//!     ▲  ◀──── release (HELD by res) ─────────────────    │
//!     │                                                   │ confirm (HELD by res, expiresAt >= now)
//!     └── (never: SOLD is only undone by a refund flow)   ▼
//!                                                       SOLD(res)
//! ```
//!
//! The expiry boundary is shared and has no overlap: at `now == holdExpiresAt` the hold is still the holder's
//! (it may confirm, nobody else may hold); from `now == holdExpiresAt + 1` anyone may take the seat and the old
//! holder may no longer confirm. So at no instant can two reservations both succeed on one seat.

use super::showtime::SeatMap;
use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The most seats one hold request may take. One hold is one `TransactWriteItems` touching every seat item.
pub const MAX_SEATS_PER_HOLD: usize = 10;

/// DynamoDB's limit on the number of items in one `TransactWriteItems` (raised from 25 to 100 in 2022).
pub const DYNAMODB_MAX_TRANSACTION_ITEMS: usize = 100;

/// Items a hold transaction writes besides the seats: the reservation item (idempotency comes from the
/// reservation id itself), plus one spare for a future item of the same transaction.
pub const HOLD_TRANSACTION_OTHER_ITEMS: usize = 2;

// A full hold must always fit in one transaction, whatever MAX_SEATS_PER_HOLD is later changed to.
const _: () =
    assert!(MAX_SEATS_PER_HOLD + HOLD_TRANSACTION_OTHER_ITEMS <= DYNAMODB_MAX_TRANSACTION_ITEMS);

/// How long a hold lasts unless the performance says otherwise.
pub const DEFAULT_HOLD_MINUTES: u16 = 10;
/// Bounds of the per-performance hold window.
pub const HOLD_MINUTES_MIN: u16 = 1;
pub const HOLD_MINUTES_MAX: u16 = 60;
pub const HOLD_MINUTES: crate::rules::Int =
    crate::rules::Int::new(HOLD_MINUTES_MIN as u64, HOLD_MINUTES_MAX as u64);

const _: () =
    assert!(HOLD_MINUTES_MIN <= DEFAULT_HOLD_MINUTES && DEFAULT_HOLD_MINUTES <= HOLD_MINUTES_MAX);

/// A seat, 1-based: row 1 is the front row, col 1 the first seat of a row.
///
/// Displayed and parsed as `<row>-<col>` (`12-7`), the form used in the seat item's sort key `SEAT#12-7`;
/// serialised in JSON as `{"row": 12, "col": 7}`. Ordering is row-major (row, then col), the order in which
/// multi-seat transactions list their items.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct SeatId {
    /// 1-based; a seat off the showtime's map is a 422.
    #[schema(schema_with = seat_row_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub row: u16,
    #[schema(schema_with = seat_col_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub col: u16,
}

fn seat_row_schema() -> utoipa::openapi::schema::Object {
    crate::showtime::ROWS.schema()
}
fn seat_col_schema() -> utoipa::openapi::schema::Object {
    crate::showtime::COLS.schema()
}

impl SeatId {
    pub const fn new(row: u16, col: u16) -> Self {
        SeatId { row, col }
    }

    /// Parses the canonical `<row>-<col>` form. Both numbers are decimal, at least 1, without sign or leading
    /// zeros, so every seat has exactly one textual form (and one sort key).
    pub fn parse(raw: &str) -> Option<SeatId> {
        let (row, col) = raw.split_once('-')?;
        Some(SeatId {
            row: parse_index(row)?,
            col: parse_index(col)?,
        })
    }
}

fn parse_index(raw: &str) -> Option<u16> {
    if raw.is_empty() || raw.starts_with('0') || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

/// `1-1, 1-2`: seats as a message names them.
pub fn seat_list(seats: &[SeatId]) -> String {
    seats
        .iter()
        .map(SeatId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for SeatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.row, self.col)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeatStatus {
    Available,
    Held,
    Sold,
}

impl SeatStatus {
    pub const ALL: [SeatStatus; 3] = [SeatStatus::Available, SeatStatus::Held, SeatStatus::Sold];

    pub fn as_str(self) -> &'static str {
        match self {
            SeatStatus::Available => "AVAILABLE",
            SeatStatus::Held => "HELD",
            SeatStatus::Sold => "SOLD",
        }
    }

    pub fn parse(raw: &str) -> Option<SeatStatus> {
        SeatStatus::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(raw))
    }
}

/// The mutable part of a seat item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatState {
    pub status: SeatStatus,
    /// The reservation id that holds (HELD) or bought (SOLD) the seat; absent when AVAILABLE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Epoch seconds; the hold is valid while `now <= holdExpiresAt`. Only set when HELD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_expires_at: Option<i64>,
}

impl SeatState {
    /// A fresh seat item.
    pub fn available() -> Self {
        SeatState {
            status: SeatStatus::Available,
            holder: None,
            hold_expires_at: None,
        }
    }

    /// The status a buyer should see at `now`: a HELD seat whose hold has run out is AVAILABLE, because
    /// [`can_hold`] lets anyone take it at once (nothing has to sweep it first).
    pub fn effective_status(&self, now: i64) -> SeatStatus {
        match self.status {
            SeatStatus::Held if hold_is_expired(self, now) => SeatStatus::Available,
            other => other,
        }
    }
}

impl Default for SeatState {
    fn default() -> Self {
        SeatState::available()
    }
}

/// A seat write the seat's current state does not allow; for a hold this means "someone else has the seat".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("seat cannot be {action}: it is {}", .status.as_str())]
pub struct SeatConflict {
    pub status: SeatStatus,
    pub action: &'static str,
}

fn hold_is_expired(state: &SeatState, now: i64) -> bool {
    // A HELD item without holdExpiresAt never satisfies `holdExpiresAt < :now` (the attribute is missing), so
    // it is treated as not expired here too.
    state.hold_expires_at.is_some_and(|at| at < now)
}

/// Whether a new hold may take the seat at `now`: it is free, or its hold has expired (expired holds are
/// reclaimable immediately; no sweeper has to release them first).
///
/// Condition expression:
/// `#status = :available OR (#status = :held AND holdExpiresAt < :now)`
pub fn can_hold(state: &SeatState, now: i64) -> bool {
    match state.status {
        SeatStatus::Available => true,
        SeatStatus::Held => hold_is_expired(state, now),
        SeatStatus::Sold => false,
    }
}

/// Whether `reservation_id` may turn its hold into a sale at `now`: the seat is held by it and the hold has not
/// expired (`now == holdExpiresAt` still counts as held).
///
/// Condition expression:
/// `#status = :held AND holder = :reservationId AND holdExpiresAt >= :now`
pub fn can_confirm(state: &SeatState, reservation_id: &str, now: i64) -> bool {
    state.status == SeatStatus::Held
        && state.holder.as_deref() == Some(reservation_id)
        && state.hold_expires_at.is_some_and(|at| at >= now)
}

/// Whether `reservation_id` may give the seat back: it still holds it (expired or not). A SOLD seat is never
/// released this way; a seat someone else has since taken is not touched (a compensation that finds the
/// condition failing has nothing left to release and counts as done).
///
/// Condition expression:
/// `#status = :held AND holder = :reservationId`
pub fn can_release(state: &SeatState, reservation_id: &str) -> bool {
    state.status == SeatStatus::Held && state.holder.as_deref() == Some(reservation_id)
}

/// Whether the seat is, at `now`, validly held by `reservation_id`. A hold step retried after a lost response
/// finds its own seats HELD (so [`can_hold`] refuses); this tells it the earlier attempt succeeded.
pub fn is_held_by(state: &SeatState, reservation_id: &str, now: i64) -> bool {
    can_confirm(state, reservation_id, now)
}

/// Whether the seat was sold to `reservation_id` (an already-applied, retried confirm).
pub fn is_sold_to(state: &SeatState, reservation_id: &str) -> bool {
    state.status == SeatStatus::Sold && state.holder.as_deref() == Some(reservation_id)
}

/// The state after `reservation_id` holds the seat until `expires_at` (epoch seconds).
///
/// Update: `SET #status = :held, holder = :reservationId, holdExpiresAt = :expiresAt`
/// under the [`can_hold`] condition.
pub fn hold(
    state: &SeatState,
    reservation_id: &str,
    expires_at: i64,
    now: i64,
) -> Result<SeatState, SeatConflict> {
    if !can_hold(state, now) {
        return Err(SeatConflict {
            status: state.status,
            action: "held",
        });
    }
    Ok(SeatState {
        status: SeatStatus::Held,
        holder: Some(reservation_id.to_string()),
        hold_expires_at: Some(expires_at),
    })
}

/// The state after `reservation_id` buys the seat it holds.
///
/// Update: `SET #status = :sold REMOVE holdExpiresAt` (the holder stays: it names the buying reservation)
/// under the [`can_confirm`] condition.
pub fn confirm(
    state: &SeatState,
    reservation_id: &str,
    now: i64,
) -> Result<SeatState, SeatConflict> {
    if !can_confirm(state, reservation_id, now) {
        return Err(SeatConflict {
            status: state.status,
            action: "confirmed",
        });
    }
    Ok(SeatState {
        status: SeatStatus::Sold,
        holder: Some(reservation_id.to_string()),
        hold_expires_at: None,
    })
}

/// The state after `reservation_id` gives its hold back.
///
/// Update: `SET #status = :available REMOVE holder, holdExpiresAt` under the [`can_release`] condition.
pub fn release(state: &SeatState, reservation_id: &str) -> Result<SeatState, SeatConflict> {
    if !can_release(state, reservation_id) {
        return Err(SeatConflict {
            status: state.status,
            action: "released",
        });
    }
    Ok(SeatState::available())
}

/// Checks a per-performance hold window in minutes ([`HOLD_MINUTES_MIN`]..=[`HOLD_MINUTES_MAX`]).
pub fn validate_hold_minutes(field: &str, minutes: u32) -> Result<u16, FieldError> {
    match u16::try_from(minutes) {
        Ok(m) if (HOLD_MINUTES_MIN..=HOLD_MINUTES_MAX).contains(&m) => Ok(m),
        _ => Err(FieldError::new(
            field,
            format!("must be from {HOLD_MINUTES_MIN} to {HOLD_MINUTES_MAX} minutes"),
        )),
    }
}

/// When a hold taken at `now` runs out, in epoch seconds. `hold_minutes` is clamped to
/// [`HOLD_MINUTES_MIN`]..=[`HOLD_MINUTES_MAX`] so a bad setting can neither make a hold that is born expired
/// nor lock seats for hours.
pub fn hold_expires_at(now: OffsetDateTime, hold_minutes: u16) -> i64 {
    let minutes = hold_minutes.clamp(HOLD_MINUTES_MIN, HOLD_MINUTES_MAX);
    now.unix_timestamp() + i64::from(minutes) * 60
}

/// Checks the seats of a hold request and returns them sorted row-major with duplicates refused.
///
/// Rules: at least one seat; at most `max_per_request` (never more than [`MAX_SEATS_PER_HOLD`], whatever is
/// passed, so a hold always fits in one transaction); no seat twice; every seat on `map`. Errors name the
/// offending entries as `seats[i]`. A request over the size limit is refused on its size alone, so an oversized
/// body never produces an oversized error list.
///
/// The result is sorted by (row, col) so that concurrent multi-seat transactions list shared items in the same
/// order.
pub fn validate_seat_selection(
    seats: &[SeatId],
    map: &SeatMap,
    max_per_request: usize,
) -> Result<Vec<SeatId>, Vec<FieldError>> {
    let max = max_per_request.clamp(1, MAX_SEATS_PER_HOLD);
    if seats.is_empty() {
        return Err(vec![FieldError::new(
            "seats",
            "must name at least one seat",
        )]);
    }
    if seats.len() > max {
        return Err(vec![FieldError::new(
            "seats",
            format!("at most {max} seats per hold (got {})", seats.len()),
        )]);
    }
    let mut errors = Vec::new();
    let mut first_index: HashMap<SeatId, usize> = HashMap::with_capacity(seats.len());
    for (i, seat) in seats.iter().enumerate() {
        let field = format!("seats[{i}]");
        if let Some(&first) = first_index.get(seat) {
            errors.push(FieldError::new(
                field,
                format!("seat {seat} is listed twice (also seats[{first}])"),
            ));
            continue;
        }
        first_index.insert(*seat, i);
        if !map.contains(*seat) {
            errors.push(FieldError::rule(
                field,
                format!(
                    "seat {seat} is not on the seat map (rows 1-{}, cols 1-{})",
                    map.rows, map.cols
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut sorted = seats.to_vec();
    sorted.sort_unstable();
    Ok(sorted)
}

/// Why a set of seats has no price.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("seat {0} is not on the seat map")]
    NotOnMap(SeatId),
    #[error("the total price overflows")]
    Overflow,
}

/// The sum of the seats' grade prices, in the showtime's currency's minor units.
pub fn total_price(seats: &[SeatId], map: &SeatMap) -> Result<u64, PricingError> {
    seats.iter().try_fold(0u64, |total, &seat| {
        let price = map
            .price_of_seat(seat)
            .ok_or(PricingError::NotOnMap(seat))?;
        total.checked_add(price).ok_or(PricingError::Overflow)
    })
}

/// Per-grade availability for the seat-map view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GradeCounts {
    pub grade: String,
    pub price: u64,
    pub available: u32,
    pub held: u32,
    pub sold: u32,
}

/// Counts the seats of each grade of `map` (in the map's grade order) by their status at `now`.
///
/// Expired holds count as available ([`SeatState::effective_status`]). Seats missing from `seats` count as
/// available too: seat items are created AVAILABLE, so a caller may pass only the taken seats (a projection);
/// seats off the map are ignored. Each seat should appear at most once.
pub fn grade_counts<I>(map: &SeatMap, seats: I, now: i64) -> Vec<GradeCounts>
where
    I: IntoIterator<Item = (SeatId, SeatState)>,
{
    let mut taken = vec![(0u32, 0u32); map.grades.len()];
    for (seat, state) in seats {
        let Some(index) = map.grade_index_of_seat(seat) else {
            continue;
        };
        match state.effective_status(now) {
            SeatStatus::Available => {}
            SeatStatus::Held => taken[index].0 += 1,
            SeatStatus::Sold => taken[index].1 += 1,
        }
    }
    map.grades
        .iter()
        .zip(taken)
        .map(|(grade, (held, sold))| GradeCounts {
            grade: grade.grade.clone(),
            price: grade.price,
            available: map.grade_capacity(grade).saturating_sub(held + sold),
            held,
            sold,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::showtime::{Grade, SeatMap};
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn held(by: &str, until: i64) -> SeatState {
        SeatState {
            status: SeatStatus::Held,
            holder: Some(by.into()),
            hold_expires_at: Some(until),
        }
    }

    fn sold(to: &str) -> SeatState {
        SeatState {
            status: SeatStatus::Sold,
            holder: Some(to.into()),
            hold_expires_at: None,
        }
    }

    /// 10 rows × 20 cols: rows 1-2 VIP 150,000, rows 3-5 R 110,000, rows 6-10 S 80,000.
    fn map() -> SeatMap {
        SeatMap {
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
                    grade: "R".into(),
                    from_row: 3,
                    to_row: 5,
                    price: 110_000,
                },
                Grade {
                    grade: "S".into(),
                    from_row: 6,
                    to_row: 10,
                    price: 80_000,
                },
            ],
        }
    }

    fn s(row: u16, col: u16) -> SeatId {
        SeatId::new(row, col)
    }

    #[test]
    fn seat_ids_display_parse_and_serialize() {
        assert_eq!(s(12, 7).to_string(), "12-7");
        assert_eq!(SeatId::parse("12-7"), Some(s(12, 7)));
        assert_eq!(SeatId::parse("500-500"), Some(s(500, 500)));
        for bad in [
            "", "12", "12-", "-7", "0-7", "12-0", "012-7", "+12-7", "12-7-1", "a-b", "12 -7",
            "70000-1",
        ] {
            assert_eq!(SeatId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(
            serde_json::to_value(s(12, 7)).ok(),
            Some(json!({"row": 12, "col": 7}))
        );
        assert_eq!(
            serde_json::from_value::<SeatId>(json!({"row": 3, "col": 4})).ok(),
            Some(s(3, 4))
        );
        assert!(serde_json::from_value::<SeatId>(json!({"row": 3, "col": 4, "x": 1})).is_err());
        assert!(serde_json::from_value::<SeatId>(json!({"row": -1, "col": 4})).is_err());
    }

    #[test]
    fn seat_ids_order_row_major() {
        let mut seats = vec![s(2, 1), s(1, 10), s(1, 2), s(10, 1)];
        seats.sort();
        assert_eq!(seats, [s(1, 2), s(1, 10), s(2, 1), s(10, 1)]);
    }

    #[test]
    fn seat_state_serializes_camel_case_and_status_round_trips() {
        assert_eq!(
            serde_json::to_value(held("res1", NOW)).ok(),
            Some(json!({"status": "HELD", "holder": "res1", "holdExpiresAt": NOW}))
        );
        assert_eq!(
            serde_json::to_value(SeatState::available()).ok(),
            Some(json!({"status": "AVAILABLE"}))
        );
        for st in SeatStatus::ALL {
            assert_eq!(SeatStatus::parse(&st.as_str().to_lowercase()), Some(st));
            assert_eq!(serde_json::to_value(st).ok(), Some(json!(st.as_str())));
        }
        assert_eq!(SeatStatus::parse("RESERVED"), None);
    }

    #[test]
    fn available_seats_can_be_held() {
        assert!(can_hold(&SeatState::available(), NOW));
        let state = hold(&SeatState::available(), "res1", NOW + 600, NOW).expect("free seat");
        assert_eq!(state, held("res1", NOW + 600));
    }

    #[test]
    fn live_holds_and_sold_seats_cannot_be_held() {
        assert!(!can_hold(&held("res1", NOW + 1), NOW));
        assert!(!can_hold(&sold("res1"), NOW));
        assert!(!can_hold(&sold("res1"), i64::MAX));
        assert_eq!(
            hold(&held("res1", NOW + 1), "res2", NOW + 600, NOW),
            Err(SeatConflict {
                status: SeatStatus::Held,
                action: "held"
            })
        );
        // Not even by the same reservation: a retried hold is recognised with is_held_by instead.
        assert!(!can_hold(&held("res1", NOW + 1), NOW));
        assert!(is_held_by(&held("res1", NOW + 1), "res1", NOW));
        assert!(!is_held_by(&held("res1", NOW + 1), "res2", NOW));
    }

    #[test]
    fn hold_expiry_at_exactly_now_still_belongs_to_the_holder() {
        let state = held("res1", NOW);
        assert!(!can_hold(&state, NOW), "expires_at == now is not expired");
        assert!(can_confirm(&state, "res1", NOW));
        assert_eq!(state.effective_status(NOW), SeatStatus::Held);
        // One second later it is anyone's, and the old holder can no longer confirm.
        assert!(can_hold(&state, NOW + 1));
        assert!(!can_confirm(&state, "res1", NOW + 1));
        assert_eq!(state.effective_status(NOW + 1), SeatStatus::Available);
        let taken = hold(&state, "res2", NOW + 601, NOW + 1).expect("expired hold is reclaimable");
        assert_eq!(taken.holder.as_deref(), Some("res2"));
    }

    #[test]
    fn hold_and_confirm_never_both_succeed_for_two_reservations() {
        let state = held("res1", NOW);
        for now in NOW - 3..=NOW + 3 {
            assert!(
                !(can_hold(&state, now) && can_confirm(&state, "res1", now)),
                "overlap at {now}"
            );
            assert!(
                can_hold(&state, now) || can_confirm(&state, "res1", now),
                "gap at {now}: the seat would be stuck"
            );
        }
    }

    #[test]
    fn a_held_item_without_expiry_is_neither_reclaimable_nor_confirmable() {
        // Mirrors DynamoDB: a comparison with a missing attribute is false.
        let state = SeatState {
            status: SeatStatus::Held,
            holder: Some("res1".into()),
            hold_expires_at: None,
        };
        assert!(!can_hold(&state, NOW));
        assert!(!can_confirm(&state, "res1", NOW));
        assert!(can_release(&state, "res1"));
        assert_eq!(state.effective_status(NOW), SeatStatus::Held);
    }

    #[test]
    fn confirm_needs_the_holder_and_a_live_hold() {
        let state = held("res1", NOW + 60);
        assert!(!can_confirm(&state, "res2", NOW));
        assert!(!can_confirm(&SeatState::available(), "res1", NOW));
        assert!(!can_confirm(&sold("res1"), "res1", NOW));
        let bought = confirm(&state, "res1", NOW).expect("holder confirms");
        assert_eq!(bought, sold("res1"));
        assert!(is_sold_to(&bought, "res1"));
        assert!(!is_sold_to(&bought, "res2"));
        assert_eq!(
            confirm(&state, "res2", NOW),
            Err(SeatConflict {
                status: SeatStatus::Held,
                action: "confirmed"
            })
        );
        assert_eq!(
            confirm(&state, "res1", NOW + 61).map(|_| ()),
            Err(SeatConflict {
                status: SeatStatus::Held,
                action: "confirmed"
            })
        );
    }

    #[test]
    fn release_gives_back_only_the_holders_hold_and_never_a_sale() {
        assert!(can_release(&held("res1", NOW + 60), "res1"));
        // An expired hold may still be released by its holder (compensation after timeout).
        assert_eq!(
            release(&held("res1", NOW - 60), "res1"),
            Ok(SeatState::available())
        );
        assert!(!can_release(&held("res1", NOW + 60), "res2"));
        assert!(!can_release(&SeatState::available(), "res1"));
        assert_eq!(
            release(&sold("res1"), "res1"),
            Err(SeatConflict {
                status: SeatStatus::Sold,
                action: "released"
            })
        );
        assert_eq!(
            SeatConflict {
                status: SeatStatus::Sold,
                action: "released"
            }
            .to_string(),
            "seat cannot be released: it is SOLD"
        );
    }

    #[test]
    fn hold_windows_are_bounded() {
        let now = OffsetDateTime::from_unix_timestamp(NOW).expect("valid timestamp");
        assert_eq!(hold_expires_at(now, DEFAULT_HOLD_MINUTES), NOW + 10 * 60);
        assert_eq!(hold_expires_at(now, 0), NOW + 60, "clamped up to 1 minute");
        assert_eq!(hold_expires_at(now, 1_000), NOW + 60 * 60, "clamped to 60");
        assert_eq!(validate_hold_minutes("holdMinutes", 1), Ok(1));
        assert_eq!(validate_hold_minutes("holdMinutes", 60), Ok(60));
        for bad in [0, 61, 70_000] {
            let err = validate_hold_minutes("holdMinutes", bad).expect_err("out of range");
            assert_eq!(err.field, "holdMinutes");
        }
    }

    fn fields(result: Result<Vec<SeatId>, Vec<FieldError>>) -> Vec<String> {
        result
            .expect_err("selection should be refused")
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn selections_are_returned_sorted() {
        let picked = [s(3, 2), s(1, 20), s(3, 1), s(1, 3)];
        assert_eq!(
            validate_seat_selection(&picked, &map(), MAX_SEATS_PER_HOLD),
            Ok(vec![s(1, 3), s(1, 20), s(3, 1), s(3, 2)])
        );
    }

    #[test]
    fn empty_selections_are_refused() {
        assert_eq!(
            fields(validate_seat_selection(&[], &map(), MAX_SEATS_PER_HOLD)),
            ["seats"]
        );
    }

    #[test]
    fn duplicates_are_named() {
        let picked = [s(1, 1), s(2, 2), s(1, 1), s(2, 2), s(1, 1)];
        let errors =
            validate_seat_selection(&picked, &map(), MAX_SEATS_PER_HOLD).expect_err("duplicates");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["seats[2]", "seats[3]", "seats[4]"]);
        assert_eq!(
            errors[0].message,
            "seat 1-1 is listed twice (also seats[0])"
        );
        assert_eq!(
            errors[1].message,
            "seat 2-2 is listed twice (also seats[1])"
        );
    }

    #[test]
    fn seats_off_the_map_are_named() {
        let picked = [s(1, 1), s(11, 1), s(1, 21), s(0, 5), s(10, 20), s(3, 0)];
        let errors =
            validate_seat_selection(&picked, &map(), MAX_SEATS_PER_HOLD).expect_err("off map");
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["seats[1]", "seats[2]", "seats[3]", "seats[5]"]);
        assert_eq!(
            errors[0].message,
            "seat 11-1 is not on the seat map (rows 1-10, cols 1-20)"
        );
    }

    #[test]
    fn eleven_seats_are_refused_and_ten_accepted() {
        let ten: Vec<_> = (1..=10).map(|c| s(4, c)).collect();
        assert_eq!(
            validate_seat_selection(&ten, &map(), MAX_SEATS_PER_HOLD).map(|v| v.len()),
            Ok(10)
        );
        let eleven: Vec<_> = (1..=11).map(|c| s(4, c)).collect();
        let errors =
            validate_seat_selection(&eleven, &map(), MAX_SEATS_PER_HOLD).expect_err("too many");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "seats");
        assert_eq!(errors[0].message, "at most 10 seats per hold (got 11)");
    }

    #[test]
    fn a_lower_per_request_limit_applies_but_never_a_higher_one() {
        let four: Vec<_> = (1..=4).map(|c| s(4, c)).collect();
        assert_eq!(fields(validate_seat_selection(&four, &map(), 3)), ["seats"]);
        let eleven: Vec<_> = (1..=11).map(|c| s(4, c)).collect();
        assert_eq!(
            fields(validate_seat_selection(&eleven, &map(), 1_000)),
            ["seats"],
            "capped at MAX_SEATS_PER_HOLD so a hold fits one transaction"
        );
    }

    #[test]
    fn prices_add_up_by_grade() {
        let m = map();
        assert_eq!(total_price(&[], &m), Ok(0));
        assert_eq!(
            total_price(&[s(1, 1), s(2, 20), s(5, 3), s(10, 10)], &m),
            Ok(150_000 * 2 + 110_000 + 80_000)
        );
        assert_eq!(
            total_price(&[s(1, 1), s(11, 1)], &m),
            Err(PricingError::NotOnMap(s(11, 1)))
        );
        let mut expensive = m.clone();
        expensive.grades[0].price = u64::MAX / 2 + 1;
        assert_eq!(
            total_price(&[s(1, 1), s(1, 2)], &expensive),
            Err(PricingError::Overflow)
        );
    }

    #[test]
    fn grade_counts_treat_expired_holds_and_missing_seats_as_available() {
        let m = map();
        let seats = vec![
            (s(1, 1), sold("a")),
            (s(1, 2), held("b", NOW)), // expires exactly now: still held
            (s(1, 3), held("c", NOW - 1)), // expired: available
            (s(4, 1), held("d", NOW + 60)),
            (s(4, 2), SeatState::available()),
            (s(7, 7), sold("e")),
            (s(99, 1), sold("f")), // off the map: ignored
        ];
        let counts = grade_counts(&m, seats, NOW);
        assert_eq!(
            counts,
            [
                GradeCounts {
                    grade: "VIP".into(),
                    price: 150_000,
                    available: 40 - 2,
                    held: 1,
                    sold: 1,
                },
                GradeCounts {
                    grade: "R".into(),
                    price: 110_000,
                    available: 60 - 1,
                    held: 1,
                    sold: 0,
                },
                GradeCounts {
                    grade: "S".into(),
                    price: 80_000,
                    available: 100 - 1,
                    held: 0,
                    sold: 1,
                },
            ]
        );
        let total: u32 = counts.iter().map(|c| c.available + c.held + c.sold).sum();
        assert_eq!(total, m.capacity());
        assert_eq!(
            serde_json::to_value(&counts[0]).ok(),
            Some(json!({"grade": "VIP", "price": 150000, "available": 38, "held": 1, "sold": 1}))
        );
    }

    #[test]
    fn the_hold_limit_fits_one_transaction() {
        // Also enforced at compile time; kept here so the rule is visible in the test list.
        let items = MAX_SEATS_PER_HOLD + HOLD_TRANSACTION_OTHER_ITEMS;
        assert!(items <= DYNAMODB_MAX_TRANSACTION_ITEMS, "{items}");
    }
}
