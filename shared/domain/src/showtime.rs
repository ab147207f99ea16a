//! Showtimes: one dated performance of a [`super::performance::Performance`] at a venue, with its seat map and
//! the price of each seat grade.
//!
//! Clients send a [`ShowtimeInput`]; [`ShowtimeInput::validate`] checks every rule at once and returns the
//! normalised [`ShowtimeDetails`] or the list of fields that are wrong. The [`SeatMap`] answers the questions the
//! seat store and the hold flow ask: which grade and price a row has, which seats exist, and which block
//! (DynamoDB partition) a seat lives in.

use super::performance::{format_instant, parse_instant};
use super::seat::SeatId;
use crate::rules::{nullable, Int, Pattern, Text};
use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use time::{OffsetDateTime, UtcOffset};
use utoipa::openapi::schema::{ArrayBuilder, Object};
use utoipa::openapi::{Array, Ref};
use utoipa::ToSchema;

pub const VENUE_NAME: Text = super::performance::VENUE_NAME;
pub const ROWS_MAX: u16 = 500;
pub const COLS_MAX: u16 = 500;
pub const ROWS: Int = Int::new(1, ROWS_MAX as u64);
pub const COLS: Int = Int::new(1, COLS_MAX as u64);
/// The most seats one showtime may have (a 50,000-seat stadium map fits).
pub const CAPACITY_MAX: u32 = 100_000;
pub const GRADES_MAX: usize = 20;
pub const GRADE_NAME_MAX: usize = 20;
/// The most a single seat may cost, in minor units (100,000,000 KRW; 1,000,000.00 in a 2-decimal currency).
pub const PRICE_MAX: u64 = 100_000_000;
pub const PRICE: Int = Int::new(0, PRICE_MAX);
pub const DEFAULT_CURRENCY: &str = "KRW";
/// `VIP`, `R`, `S`, `A`...: 1 to 20 of `A-Z 0-9 _ -` (lower case is accepted and upper-cased).
pub static GRADE_NAME: Pattern = Pattern::new(
    r"^[A-Za-z0-9_-]{1,20}$",
    GRADE_NAME_MAX,
    "must be 1 to 20 of the letters A-Z, digits, '_' and '-'",
);
/// An ISO 4217 code (upper-cased when stored).
pub static CURRENCY: Pattern = Pattern::new(
    r"^[A-Za-z]{3}$",
    3,
    "must be an ISO 4217 code of 3 letters, e.g. KRW",
);

fn venue_name_schema() -> Object {
    VENUE_NAME.schema()
}
fn currency_schema() -> Object {
    nullable(CURRENCY.schema())
}
fn rows_schema() -> Object {
    ROWS.schema()
}
fn cols_schema() -> Object {
    COLS.schema()
}
fn grades_schema() -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name("GradeInput"))
        .min_items(Some(1))
        .max_items(Some(GRADES_MAX))
        .build()
}
fn grade_name_schema() -> Object {
    GRADE_NAME.schema()
}
fn price_schema() -> Object {
    PRICE.schema()
}
fn starts_at_schema() -> Object {
    super::performance::date_time_schema()
}

/// Rows per seat block. Every seat item of a showtime lives in the partition `SHOW#<showId>#B#<block>`, with
/// `block = (row - 1) / ROWS_PER_BLOCK`, so a show's seats spread over `ceil(rows / ROWS_PER_BLOCK)` partitions.
///
/// Why: one DynamoDB partition takes about 1,000 writes/s. When a popular show goes on sale, thousands of holds
/// per second land on one showtime; in a single partition they would be throttled, with blocks they spread over
/// up to 50 partitions (500 rows). Ten rows keep a block small enough to read in one or two `Query` pages
/// (at most 10 × 500 = 5,000 small items) and keep seats that are usually bought together (neighbours in a row)
/// in the same partition. A small hall (≤ 10 rows) has a single block; it never sees that much traffic.
pub const ROWS_PER_BLOCK: u16 = 10;

/// The block (partition suffix) a seat's item lives in; see [`ROWS_PER_BLOCK`].
pub fn block_of(seat: SeatId) -> u16 {
    seat.row.saturating_sub(1) / ROWS_PER_BLOCK
}

/// What a client sends to create a showtime.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShowtimeInput {
    /// When the show starts, RFC 3339 with an offset (`2026-12-24T19:30:00+09:00`); must be in the future (422).
    #[schema(schema_with = starts_at_schema)]
    pub starts_at: String,
    #[schema(schema_with = venue_name_schema)]
    pub venue_name: String,
    pub seat_map: SeatMapInput,
    /// ISO 4217 code of the prices' currency; prices are in its minor units. Defaults to KRW.
    #[serde(default)]
    #[schema(schema_with = currency_schema)]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeatMapInput {
    #[schema(schema_with = rows_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub rows: u16,
    /// Seats per row; rows × cols is at most 100,000 (422).
    #[schema(schema_with = cols_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub cols: u16,
    /// Row ranges with their grade and price; together they must cover every row exactly once, each grade
    /// named once (422).
    #[schema(schema_with = grades_schema)]
    pub grades: Vec<GradeInput>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GradeInput {
    /// `VIP`, `R`, `S`, `A`...: 1 to 20 of `A-Z 0-9 _ -` (lower case is accepted and upper-cased).
    #[schema(schema_with = grade_name_schema)]
    pub grade: String,
    /// First and last row of the grade, 1-based and inclusive; `toRow` not below `fromRow` and not past the
    /// map's last row (422).
    #[schema(schema_with = rows_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub from_row: u16,
    #[schema(schema_with = rows_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub to_row: u16,
    /// Price of one seat in minor units of the currency (won, cents).
    #[schema(schema_with = price_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub price: u64,
}

/// A seat grade: the rows `from_row..=to_row` and the price of each of their seats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Grade {
    pub grade: String,
    pub from_row: u16,
    pub to_row: u16,
    pub price: u64,
}

impl Grade {
    pub fn contains_row(&self, row: u16) -> bool {
        (self.from_row..=self.to_row).contains(&row)
    }
}

/// A validated seat map: `rows` × `cols` seats, 1-based; grades sorted by row, covering every row exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatMap {
    pub rows: u16,
    pub cols: u16,
    pub grades: Vec<Grade>,
}

impl SeatMap {
    pub fn capacity(&self) -> u32 {
        u32::from(self.rows) * u32::from(self.cols)
    }

    pub fn contains(&self, seat: SeatId) -> bool {
        (1..=self.rows).contains(&seat.row) && (1..=self.cols).contains(&seat.col)
    }

    pub fn grade_of_row(&self, row: u16) -> Option<&Grade> {
        self.grade_index_of_row(row).map(|i| &self.grades[i])
    }

    /// The price of every seat in `row`, `None` off the map.
    pub fn price_of(&self, row: u16) -> Option<u64> {
        self.grade_of_row(row).map(|g| g.price)
    }

    /// The price of `seat`, `None` when the seat is not on the map.
    pub fn price_of_seat(&self, seat: SeatId) -> Option<u64> {
        if self.contains(seat) {
            self.price_of(seat.row)
        } else {
            None
        }
    }

    /// The position in [`SeatMap::grades`] of the seat's grade, `None` when the seat is not on the map.
    pub fn grade_index_of_seat(&self, seat: SeatId) -> Option<usize> {
        if self.contains(seat) {
            self.grade_index_of_row(seat.row)
        } else {
            None
        }
    }

    fn grade_index_of_row(&self, row: u16) -> Option<usize> {
        if !(1..=self.rows).contains(&row) {
            return None;
        }
        self.grades.iter().position(|g| g.contains_row(row))
    }

    /// How many seats of the map are in `grade` (its rows that are on the map, times the columns).
    pub fn grade_capacity(&self, grade: &Grade) -> u32 {
        let from = grade.from_row.max(1);
        let to = grade.to_row.min(self.rows);
        if from > to {
            return 0;
        }
        u32::from(to - from + 1) * u32::from(self.cols)
    }

    /// Every seat, row-major: `1-1, 1-2, ..., 1-cols, 2-1, ...`.
    pub fn seats(&self) -> impl Iterator<Item = SeatId> + '_ {
        let cols = self.cols;
        (1..=self.rows).flat_map(move |row| (1..=cols).map(move |col| SeatId::new(row, col)))
    }

    /// The blocks the map's seats live in: `0..ceil(rows / ROWS_PER_BLOCK)`.
    pub fn blocks(&self) -> Range<u16> {
        0..self.rows.div_ceil(ROWS_PER_BLOCK)
    }

    /// The seats of one block, row-major (empty for a block outside [`SeatMap::blocks`]).
    pub fn seats_in_block(&self, block: u16) -> impl Iterator<Item = SeatId> + '_ {
        let first = u32::from(block) * u32::from(ROWS_PER_BLOCK) + 1;
        let last = (first + u32::from(ROWS_PER_BLOCK) - 1).min(u32::from(self.rows));
        let cols = self.cols;
        (first..=last).flat_map(move |row| {
            // `row <= self.rows`, so it fits in u16.
            let row = row as u16;
            (1..=cols).map(move |col| SeatId::new(row, col))
        })
    }
}

/// The validated, normalised editable part of a showtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShowtimeDetails {
    /// In UTC, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: OffsetDateTime,
    pub venue_name: String,
    pub seat_map: SeatMap,
    pub currency: String,
}

/// Whether a showtime is going ahead. A cancelled showtime takes no holds; its reservations are refunded by the
/// cancellation saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShowtimeStatus {
    Scheduled,
    Cancelled,
}

impl ShowtimeStatus {
    pub const ALL: [ShowtimeStatus; 2] = [ShowtimeStatus::Scheduled, ShowtimeStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            ShowtimeStatus::Scheduled => "SCHEDULED",
            ShowtimeStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(raw: &str) -> Option<ShowtimeStatus> {
        ShowtimeStatus::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(raw))
    }
}

/// Why a showtime takes no seat holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HoldRefusal {
    #[error("the showtime is cancelled")]
    Cancelled,
    #[error("the showtime has already started")]
    AlreadyStarted,
}

impl HoldRefusal {
    /// A stable name for API problem types and Step Functions `Catch` matching.
    pub fn name(self) -> &'static str {
        match self {
            HoldRefusal::Cancelled => "ShowtimeCancelled",
            HoldRefusal::AlreadyStarted => "ShowtimeStarted",
        }
    }
}

/// Whether a showtime takes seat holds at `now`: it is scheduled and has not started (`now < starts_at`).
/// Sale windows are the performance's rule and are checked separately.
pub fn accepts_holds(
    status: ShowtimeStatus,
    starts_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), HoldRefusal> {
    if status == ShowtimeStatus::Cancelled {
        Err(HoldRefusal::Cancelled)
    } else if now >= starts_at {
        Err(HoldRefusal::AlreadyStarted)
    } else {
        Ok(())
    }
}

/// A cancellation of a showtime that is already cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the showtime is already cancelled")]
pub struct AlreadyCancelled;

/// A showtime as stored and as returned by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Showtime {
    pub id: String,
    pub performance_id: String,
    #[serde(flatten)]
    pub details: ShowtimeDetails,
    pub status: ShowtimeStatus,
    /// Incremented on every change; returned as the `ETag`, checked against `If-Match`.
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    /// When the time or venue last changed after tickets were sold; buyers from before then may cancel
    /// without a fee until `feeFreeUntil`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub changed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub fee_free_until: Option<String>,
    /// Why the organizer cancelled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<String>,
    /// A waiting room is on: a hold needs an admission token (docs/waiting-room.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waiting_room: bool,
}

impl Showtime {
    pub fn new(
        id: String,
        performance_id: String,
        details: ShowtimeDetails,
        now: OffsetDateTime,
    ) -> Self {
        let now = format_instant(now);
        Showtime {
            id,
            performance_id,
            details,
            status: ShowtimeStatus::Scheduled,
            version: 1,
            created_at: now.clone(),
            updated_at: now,
            changed_at: None,
            fee_free_until: None,
            cancellation_reason: None,
            waiting_room: false,
        }
    }

    /// The window of free cancellation a change of time or venue opened: (changed at, free until).
    pub fn change_window(&self) -> Option<(OffsetDateTime, OffsetDateTime)> {
        let at = super::performance::parse_instant(self.changed_at.as_deref()?)?;
        let until = super::performance::parse_instant(self.fee_free_until.as_deref()?)?;
        Some((at, until))
    }

    /// See [`accepts_holds`].
    pub fn accepts_holds(&self, now: OffsetDateTime) -> Result<(), HoldRefusal> {
        accepts_holds(self.status, self.details.starts_at, now)
    }

    /// The organizer calls the show off. Cancelling twice is refused (the caller may treat it as done).
    pub fn cancel(&mut self, now: OffsetDateTime) -> Result<(), AlreadyCancelled> {
        if self.status == ShowtimeStatus::Cancelled {
            return Err(AlreadyCancelled);
        }
        self.status = ShowtimeStatus::Cancelled;
        self.version += 1;
        self.updated_at = format_instant(now);
        Ok(())
    }
}

/// Formats row numbers as compact ranges: `[3, 4, 5, 9]` → `3-5, 9`.
fn row_ranges(rows: &[u16]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = rows.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end += 1;
            iter.next();
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
    }
    parts.join(", ")
}

fn rows_word(rows: &[u16]) -> &'static str {
    if rows.len() == 1 {
        "row"
    } else {
        "rows"
    }
}

impl SeatMapInput {
    fn validate(self, errors: &mut Vec<FieldError>) -> SeatMap {
        let rows_ok = ROWS.contains(u64::from(self.rows));
        let cols_ok = COLS.contains(u64::from(self.cols));
        if let Err(e) = ROWS.check("seatMap.rows", u64::from(self.rows)) {
            errors.push(e);
        }
        if let Err(e) = COLS.check("seatMap.cols", u64::from(self.cols)) {
            errors.push(e);
        }
        let capacity = u32::from(self.rows) * u32::from(self.cols);
        if rows_ok && cols_ok && capacity > CAPACITY_MAX {
            errors.push(FieldError::rule(
                "seatMap",
                format!(
                    "rows × cols must be at most {CAPACITY_MAX} seats (this map has {capacity})"
                ),
            ));
        }
        if self.grades.is_empty() {
            errors.push(FieldError::new(
                "seatMap.grades",
                "must list at least one grade",
            ));
        } else if self.grades.len() > GRADES_MAX {
            errors.push(FieldError::new(
                "seatMap.grades",
                format!("must list at most {GRADES_MAX} grades"),
            ));
        }

        let mut grades: Vec<Grade> = Vec::with_capacity(self.grades.len());
        for (i, g) in self.grades.into_iter().enumerate() {
            let path = format!("seatMap.grades[{i}]");
            let name = g.grade.to_ascii_uppercase();
            if let Err(e) = GRADE_NAME.check(&format!("{path}.grade"), &g.grade) {
                errors.push(e);
            } else if let Some(j) = grades.iter().position(|other| other.grade == name) {
                errors.push(FieldError::rule(
                    format!("{path}.grade"),
                    format!("grade '{name}' is already defined by seatMap.grades[{j}]"),
                ));
            }
            if let Err(e) = ROWS.check(&format!("{path}.fromRow"), u64::from(g.from_row)) {
                errors.push(e);
            }
            if let Err(e) = ROWS.check(&format!("{path}.toRow"), u64::from(g.to_row)) {
                errors.push(e);
            } else if g.to_row < g.from_row {
                errors.push(FieldError::rule(
                    format!("{path}.toRow"),
                    "must not be less than fromRow",
                ));
            } else if rows_ok && g.to_row > self.rows {
                errors.push(FieldError::rule(
                    format!("{path}.toRow"),
                    format!(
                        "must be at most {} (the map has {} rows)",
                        self.rows, self.rows
                    ),
                ));
            }
            if let Err(e) = PRICE.check(&format!("{path}.price"), g.price) {
                errors.push(e);
            }
            grades.push(Grade {
                grade: name,
                from_row: g.from_row,
                to_row: g.to_row,
                price: g.price,
            });
        }

        if rows_ok && !grades.is_empty() {
            check_coverage(&grades, self.rows, errors);
        }
        grades.sort_by_key(|g| (g.from_row, g.to_row));
        SeatMap {
            rows: self.rows,
            cols: self.cols,
            grades,
        }
    }
}

/// Every row in exactly one grade. Ranges are clipped to the map first, so a range that runs past the last row
/// (already reported on its `toRow`) still counts for the rows it does cover and does not add a second error.
fn check_coverage(grades: &[Grade], rows: u16, errors: &mut Vec<FieldError>) {
    // owner[r] = index of the first grade (in input order) that claims row r (1-based).
    let mut owner: Vec<Option<usize>> = vec![None; usize::from(rows) + 1];
    for (i, g) in grades.iter().enumerate() {
        let from = g.from_row.max(1);
        let to = g.to_row.min(rows);
        if from > to {
            continue;
        }
        // Rows of this grade already claimed, grouped by the grade that claimed them.
        let mut clashes: Vec<(usize, Vec<u16>)> = Vec::new();
        for row in from..=to {
            let slot = &mut owner[usize::from(row)];
            match *slot {
                None => *slot = Some(i),
                Some(j) => match clashes.iter_mut().find(|(k, _)| *k == j) {
                    Some((_, rows)) => rows.push(row),
                    None => clashes.push((j, vec![row])),
                },
            }
        }
        for (j, clash) in clashes {
            // Blame the end of this range that reaches into the other grade.
            let end = if clash.first() == Some(&from) {
                "fromRow"
            } else {
                "toRow"
            };
            errors.push(FieldError::rule(
                format!("seatMap.grades[{i}].{end}"),
                format!(
                    "{} {} already in grade '{}' (seatMap.grades[{j}]); every row must be in exactly one grade",
                    rows_word(&clash),
                    row_ranges(&clash),
                    grades[j].grade,
                ),
            ));
        }
    }
    let uncovered: Vec<u16> = (1..=rows)
        .filter(|&r| owner[usize::from(r)].is_none())
        .collect();
    if !uncovered.is_empty() {
        errors.push(FieldError::rule(
            "seatMap.grades",
            format!(
                "{} {} not in any grade; every row from 1 to {rows} must be in exactly one grade",
                rows_word(&uncovered),
                row_ranges(&uncovered),
            ),
        ));
    }
}

impl ShowtimeInput {
    /// Checks every rule and reports every broken one. `now` decides what "in the future" means.
    pub fn validate(self, now: OffsetDateTime) -> Result<ShowtimeDetails, Vec<FieldError>> {
        let mut errors = Vec::new();
        let starts_at = parse_instant(&self.starts_at);
        match starts_at {
            None => errors.push(FieldError::new(
                "startsAt",
                "must be an RFC 3339 date-time with offset, e.g. 2026-12-24T19:30:00+09:00",
            )),
            Some(t) if t <= now => {
                errors.push(FieldError::rule("startsAt", "must be in the future"));
            }
            Some(_) => {}
        }
        let venue_name = VENUE_NAME.check_into(&mut errors, "venueName", &self.venue_name);
        let currency = self.currency.as_deref().unwrap_or(DEFAULT_CURRENCY);
        if let Err(e) = CURRENCY.check("currency", currency) {
            errors.push(e);
        }
        let currency = currency.to_ascii_uppercase();
        let seat_map = self.seat_map.validate(&mut errors);

        match starts_at {
            Some(t) if errors.is_empty() => Ok(ShowtimeDetails {
                starts_at: t.to_offset(UtcOffset::UTC),
                venue_name,
                seat_map,
                currency,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);

    fn valid() -> serde_json::Value {
        json!({
            "startsAt": "2026-12-24T19:30:00+09:00",
            "venueName": " Charlotte Theater ",
            "seatMap": {
                "rows": 25,
                "cols": 30,
                "grades": [
                    {"grade": "r", "fromRow": 6, "toRow": 15, "price": 130000},
                    {"grade": "VIP", "fromRow": 1, "toRow": 5, "price": 170000},
                    {"grade": "S", "fromRow": 16, "toRow": 25, "price": 90000}
                ]
            }
        })
    }

    fn input(v: serde_json::Value) -> ShowtimeInput {
        serde_json::from_value(v).expect("test input deserializes")
    }

    fn errors(v: serde_json::Value) -> Vec<FieldError> {
        input(v)
            .validate(NOW)
            .expect_err("input should be rejected")
    }

    fn fields(v: serde_json::Value) -> Vec<String> {
        errors(v).into_iter().map(|e| e.field).collect()
    }

    fn details() -> ShowtimeDetails {
        input(valid()).validate(NOW).expect("valid")
    }

    fn grades(v: &mut serde_json::Value, grades: serde_json::Value) {
        v["seatMap"]["grades"] = grades;
    }

    #[test]
    fn valid_input_is_normalised() {
        let d = details();
        assert_eq!(d.starts_at, datetime!(2026-12-24 10:30 UTC));
        assert_eq!(d.venue_name, "Charlotte Theater");
        assert_eq!(d.currency, "KRW");
        let names: Vec<_> = d.seat_map.grades.iter().map(|g| g.grade.as_str()).collect();
        assert_eq!(names, ["VIP", "R", "S"], "sorted by row, upper-cased");
        assert_eq!(d.seat_map.capacity(), 750);
        let json = serde_json::to_value(&d).expect("serializes");
        assert_eq!(json["startsAt"], json!("2026-12-24T10:30:00Z"));
        assert_eq!(json["seatMap"]["grades"][0]["fromRow"], json!(1));
        assert_eq!(
            serde_json::from_value::<ShowtimeDetails>(json).ok(),
            Some(d),
            "round trips through JSON"
        );
    }

    #[test]
    fn currency_is_checked_and_upper_cased() {
        let mut v = valid();
        v["currency"] = json!("usd");
        assert_eq!(input(v).validate(NOW).map(|d| d.currency), Ok("USD".into()));
        for bad in ["US", "USDT", "U$D", "", "원화원"] {
            let mut v = valid();
            v["currency"] = json!(bad);
            assert_eq!(fields(v), ["currency"], "{bad:?}");
        }
    }

    #[test]
    fn starts_at_must_be_a_future_instant() {
        let mut v = valid();
        v["startsAt"] = json!("2026-12-24 19:30");
        assert_eq!(fields(v), ["startsAt"]);
        let mut v = valid();
        v["startsAt"] = json!("2026-06-01T09:00:00+09:00"); // exactly NOW
        assert_eq!(fields(v), ["startsAt"]);
        let mut v = valid();
        v["startsAt"] = json!("2026-06-01T00:00:01Z");
        assert!(input(v).validate(NOW).is_ok());
    }

    #[test]
    fn every_broken_rule_is_reported_by_field() {
        let mut v = valid();
        v["startsAt"] = json!("2020-01-01T00:00:00Z");
        v["venueName"] = json!("  ");
        v["seatMap"]["cols"] = json!(0);
        grades(
            &mut v,
            json!([
                {"grade": "V I P", "fromRow": 1, "toRow": 5, "price": 170000},
                {"grade": "", "fromRow": 6, "toRow": 15, "price": PRICE_MAX + 1},
                {"grade": "S", "fromRow": 16, "toRow": 25, "price": 0}
            ]),
        );
        assert_eq!(
            fields(v),
            [
                "startsAt",
                "venueName",
                "seatMap.cols",
                "seatMap.grades[0].grade",
                "seatMap.grades[1].grade",
                "seatMap.grades[1].price"
            ]
        );
    }

    #[test]
    fn map_size_bounds() {
        for (rows, cols, expect) in [
            (0, 10, vec!["seatMap.rows"]),
            (501, 10, vec!["seatMap.rows"]),
            (10, 501, vec!["seatMap.cols"]),
            (400, 400, vec!["seatMap"]),
        ] {
            let mut v = valid();
            v["seatMap"]["rows"] = json!(rows);
            v["seatMap"]["cols"] = json!(cols);
            let to = if rows == 0 { 1 } else { rows.min(500) };
            grades(
                &mut v,
                json!([{"grade": "A", "fromRow": 1, "toRow": to, "price": 1000}]),
            );
            assert_eq!(fields(v), expect, "{rows}x{cols}");
        }
    }

    #[test]
    fn a_50000_seat_map_is_valid_and_spread_over_blocks() {
        let mut v = valid();
        v["seatMap"]["rows"] = json!(100);
        v["seatMap"]["cols"] = json!(500);
        grades(
            &mut v,
            json!([
                {"grade": "VIP", "fromRow": 1, "toRow": 10, "price": 250000},
                {"grade": "R", "fromRow": 11, "toRow": 100, "price": 99000}
            ]),
        );
        let map = input(v)
            .validate(NOW)
            .expect("50,000 seats are fine")
            .seat_map;
        assert_eq!(map.capacity(), 50_000);
        assert_eq!(map.seats().count(), 50_000);
        assert_eq!(map.blocks(), 0..10);
        let per_block: Vec<usize> = map
            .blocks()
            .map(|b| map.seats_in_block(b).count())
            .collect();
        assert_eq!(per_block, vec![5_000; 10]);
        assert!(map
            .blocks()
            .all(|b| map.seats_in_block(b).all(|s| block_of(s) == b)));

        // The largest maps allowed: 200 × 500 and 500 × 200 (100,000 seats).
        let mut v = valid();
        v["seatMap"]["rows"] = json!(500);
        v["seatMap"]["cols"] = json!(200);
        grades(
            &mut v,
            json!([{"grade": "A", "fromRow": 1, "toRow": 500, "price": 1}]),
        );
        let map = input(v).validate(NOW).expect("100,000 seats").seat_map;
        assert_eq!((map.capacity(), map.blocks()), (100_000, 0..50));
    }

    #[test]
    fn blocks_cover_partial_last_blocks() {
        let map = |rows| SeatMap {
            rows,
            cols: 3,
            grades: vec![Grade {
                grade: "A".into(),
                from_row: 1,
                to_row: rows,
                price: 1,
            }],
        };
        assert_eq!(map(1).blocks(), 0..1);
        assert_eq!(map(10).blocks(), 0..1);
        assert_eq!(map(11).blocks(), 0..2);
        assert_eq!(map(25).blocks(), 0..3);
        assert_eq!(map(25).seats_in_block(2).count(), 5 * 3);
        assert_eq!(map(25).seats_in_block(3).count(), 0);
        assert_eq!(block_of(SeatId::new(1, 1)), 0);
        assert_eq!(block_of(SeatId::new(10, 9)), 0);
        assert_eq!(block_of(SeatId::new(11, 1)), 1);
        assert_eq!(block_of(SeatId::new(500, 500)), 49);
    }

    #[test]
    fn seats_iterate_row_major() {
        let mut v = valid();
        v["seatMap"]["rows"] = json!(2);
        v["seatMap"]["cols"] = json!(3);
        grades(
            &mut v,
            json!([{"grade": "A", "fromRow": 1, "toRow": 2, "price": 1}]),
        );
        let map = input(v).validate(NOW).expect("valid").seat_map;
        let seats: Vec<String> = map.seats().map(|s| s.to_string()).collect();
        assert_eq!(seats, ["1-1", "1-2", "1-3", "2-1", "2-2", "2-3"]);
        let mut sorted: Vec<SeatId> = map.seats().collect();
        sorted.sort();
        assert_eq!(sorted, map.seats().collect::<Vec<_>>());
    }

    #[test]
    fn rows_map_to_grades_and_prices() {
        let map = details().seat_map;
        assert_eq!(map.grade_of_row(1).map(|g| g.grade.as_str()), Some("VIP"));
        assert_eq!(map.grade_of_row(5).map(|g| g.grade.as_str()), Some("VIP"));
        assert_eq!(map.grade_of_row(6).map(|g| g.grade.as_str()), Some("R"));
        assert_eq!(map.price_of(25), Some(90_000));
        assert_eq!(map.price_of(0), None);
        assert_eq!(map.price_of(26), None);
        assert_eq!(map.price_of_seat(SeatId::new(25, 30)), Some(90_000));
        assert_eq!(map.price_of_seat(SeatId::new(25, 31)), None);
        let caps: Vec<u32> = map.grades.iter().map(|g| map.grade_capacity(g)).collect();
        assert_eq!(caps, [150, 300, 300]);
        assert_eq!(caps.iter().sum::<u32>(), map.capacity());
    }

    #[test]
    fn grades_are_required_bounded_and_unique() {
        let mut v = valid();
        grades(&mut v, json!([]));
        // No grades: the "at least one" error; no coverage error on top of it.
        assert_eq!(fields(v), ["seatMap.grades"]);

        let mut v = valid();
        grades(
            &mut v,
            json!([
                {"grade": "VIP", "fromRow": 1, "toRow": 5, "price": 1},
                {"grade": "vip", "fromRow": 6, "toRow": 25, "price": 2}
            ]),
        );
        let errs = errors(v);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "seatMap.grades[1].grade");
        assert!(errs[0].message.contains("seatMap.grades[0]"), "{errs:?}");

        let mut v = valid();
        v["seatMap"]["rows"] = json!(30);
        let many: Vec<_> = (1..=21)
            .map(|i| json!({"grade": format!("G{i}"), "fromRow": i, "toRow": i, "price": 1}))
            .collect();
        grades(&mut v, json!(many));
        assert_eq!(fields(v), ["seatMap.grades", "seatMap.grades"]);

        let mut v = valid();
        grades(
            &mut v,
            json!([
                {"grade": "A".repeat(21), "fromRow": 1, "toRow": 5, "price": 1},
                {"grade": "WHEEL_CHAIR-2", "fromRow": 6, "toRow": 25, "price": 2}
            ]),
        );
        assert_eq!(fields(v), ["seatMap.grades[0].grade"]);
    }

    #[test]
    fn overlapping_grade_rows_are_named() {
        let mut v = valid();
        grades(
            &mut v,
            json!([
                {"grade": "VIP", "fromRow": 1, "toRow": 5, "price": 1},
                {"grade": "R", "fromRow": 4, "toRow": 15, "price": 2},
                {"grade": "S", "fromRow": 16, "toRow": 25, "price": 3},
                {"grade": "A", "fromRow": 10, "toRow": 16, "price": 4}
            ]),
        );
        let errs = errors(v);
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "seatMap.grades[1].fromRow",
                    "rows 4-5 already in grade 'VIP' (seatMap.grades[0]); every row must be in exactly one grade"
                ),
                (
                    "seatMap.grades[3].fromRow",
                    "rows 10-15 already in grade 'R' (seatMap.grades[1]); every row must be in exactly one grade"
                ),
                (
                    "seatMap.grades[3].toRow",
                    "row 16 already in grade 'S' (seatMap.grades[2]); every row must be in exactly one grade"
                ),
            ]
        );
    }

    #[test]
    fn an_overlap_at_the_end_of_a_range_blames_to_row() {
        let mut v = valid();
        grades(
            &mut v,
            json!([
                {"grade": "R", "fromRow": 6, "toRow": 25, "price": 2},
                {"grade": "VIP", "fromRow": 1, "toRow": 7, "price": 1}
            ]),
        );
        let errs = errors(v);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "seatMap.grades[1].toRow");
        assert!(errs[0].message.starts_with("rows 6-7 already in grade 'R'"));
    }

    #[test]
    fn uncovered_rows_are_listed() {
        let mut v = valid();
        grades(
            &mut v,
            json!([
                {"grade": "VIP", "fromRow": 2, "toRow": 5, "price": 1},
                {"grade": "R", "fromRow": 9, "toRow": 15, "price": 2},
                {"grade": "S", "fromRow": 17, "toRow": 23, "price": 3}
            ]),
        );
        let errs = errors(v);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "seatMap.grades");
        assert_eq!(
            errs[0].message,
            "rows 1, 6-8, 16, 24-25 not in any grade; every row from 1 to 25 must be in exactly one grade"
        );
    }

    #[test]
    fn bad_ranges_are_reported_once_on_their_own_fields() {
        let mut v = valid();
        grades(
            &mut v,
            json!([
                {"grade": "VIP", "fromRow": 0, "toRow": 5, "price": 1},
                {"grade": "R", "fromRow": 15, "toRow": 6, "price": 2},
                {"grade": "S", "fromRow": 6, "toRow": 30, "price": 3}
            ]),
        );
        let errs = errors(v);
        let got: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        // fromRow 0 still covers rows 1-5; 6-30 is clipped to 6-25; the reversed range covers nothing but the
        // rows are all covered by the others, so no coverage error is added.
        assert_eq!(
            got,
            [
                "seatMap.grades[0].fromRow",
                "seatMap.grades[1].toRow",
                "seatMap.grades[2].toRow"
            ]
        );
        assert_eq!(errs[2].message, "must be at most 25 (the map has 25 rows)");
    }

    #[test]
    fn unknown_fields_fail_to_parse() {
        let mut v = valid();
        v["seatMap"]["aisles"] = json!([5]);
        assert!(serde_json::from_value::<ShowtimeInput>(v).is_err());
        let mut v = valid();
        v["seatMap"]["grades"][0]["colour"] = json!("gold");
        assert!(serde_json::from_value::<ShowtimeInput>(v).is_err());
        let mut v = valid();
        v["seatMap"]["grades"][0]["price"] = json!(-1);
        assert!(serde_json::from_value::<ShowtimeInput>(v).is_err());
    }

    #[test]
    fn holds_need_a_scheduled_showtime_that_has_not_started() {
        let starts = datetime!(2026-12-24 10:30 UTC);
        let before = starts - time::Duration::SECOND;
        assert_eq!(
            accepts_holds(ShowtimeStatus::Scheduled, starts, before),
            Ok(())
        );
        assert_eq!(
            accepts_holds(ShowtimeStatus::Scheduled, starts, starts),
            Err(HoldRefusal::AlreadyStarted)
        );
        assert_eq!(
            accepts_holds(
                ShowtimeStatus::Scheduled,
                starts,
                starts + time::Duration::DAY
            ),
            Err(HoldRefusal::AlreadyStarted)
        );
        assert_eq!(
            accepts_holds(ShowtimeStatus::Cancelled, starts, before),
            Err(HoldRefusal::Cancelled)
        );
        assert_eq!(HoldRefusal::Cancelled.name(), "ShowtimeCancelled");
        assert_eq!(HoldRefusal::AlreadyStarted.name(), "ShowtimeStarted");
    }

    #[test]
    fn showtimes_start_scheduled_and_cancel_once() {
        let mut s = Showtime::new("s1".into(), "p1".into(), details(), NOW);
        assert_eq!((s.status, s.version), (ShowtimeStatus::Scheduled, 1));
        assert_eq!(s.accepts_holds(NOW), Ok(()));
        let later = NOW + time::Duration::HOUR;
        s.cancel(later).expect("scheduled can be cancelled");
        assert_eq!((s.status, s.version), (ShowtimeStatus::Cancelled, 2));
        assert_eq!(s.updated_at, "2026-06-01T01:00:00Z");
        assert_eq!(s.accepts_holds(NOW), Err(HoldRefusal::Cancelled));
        assert_eq!(s.cancel(later), Err(AlreadyCancelled));
        assert_eq!(s.version, 2, "a refused cancel changes nothing");

        let json = serde_json::to_value(&s).expect("serializes");
        assert_eq!(json["performanceId"], json!("p1"));
        assert_eq!(json["status"], json!("CANCELLED"));
        assert_eq!(
            json["venueName"],
            json!("Charlotte Theater"),
            "details flattened"
        );
        assert_eq!(serde_json::from_value::<Showtime>(json).ok(), Some(s));
    }

    #[test]
    fn status_parse_is_case_insensitive() {
        for st in ShowtimeStatus::ALL {
            assert_eq!(ShowtimeStatus::parse(&st.as_str().to_lowercase()), Some(st));
            assert_eq!(serde_json::to_value(st).ok(), Some(json!(st.as_str())));
        }
        assert_eq!(ShowtimeStatus::parse("POSTPONED"), None);
    }

    #[test]
    fn row_ranges_compact_runs() {
        assert_eq!(row_ranges(&[]), "");
        assert_eq!(row_ranges(&[7]), "7");
        assert_eq!(row_ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
    }
}
