//! Performances: the catalog entries organizers publish (a concert, a musical run, a play).
//!
//! Clients send a [`PerformanceInput`]; [`PerformanceInput::validate`] checks every rule at once and returns
//! the normalised [`PerformanceDetails`] or the list of fields that are wrong.

use crate::rules::{formatted, nullable, Int, Pattern, Text};
use crate::FieldError;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};
use utoipa::openapi::schema::{KnownFormat, Object};
use utoipa::ToSchema;

pub const TITLE: Text = Text::line(200);
pub const DESCRIPTION: Text = Text::multiline(5_000);
pub const VENUE_NAME: Text = Text::line(200);
pub const CITY: Text = Text::line(100);
pub const ADDRESS: Text = Text::optional_line(300);
pub const RUNNING_TIME_MAX_MINUTES: u32 = 24 * 60;
pub const RUNNING_TIME: Int = Int::new(1, RUNNING_TIME_MAX_MINUTES as u64);
/// An absolute https URL of a plain shape: host labels, then an optional path and query of URL-safe
/// characters (no spaces, no percent-escapes, no port).
pub static POSTER_URL: Pattern = Pattern::new(
    r"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@/?-]*)?$",
    2_048,
    "must be an absolute https URL (https://host/path), at most 2048 characters",
);
pub const REJECTION_REASON: Text = Text::line(1_000);

fn title_schema() -> Object {
    TITLE.schema()
}
fn description_schema() -> Object {
    DESCRIPTION.schema()
}
fn venue_name_schema() -> Object {
    VENUE_NAME.schema()
}
fn city_schema() -> Object {
    CITY.schema()
}
fn address_schema() -> Object {
    nullable(ADDRESS.schema())
}
fn running_time_schema() -> Object {
    RUNNING_TIME.schema()
}
fn poster_url_schema() -> Object {
    nullable(POSTER_URL.schema())
}
fn hold_minutes_schema() -> Object {
    nullable(crate::seat::HOLD_MINUTES.schema())
}
fn max_tickets_schema() -> Object {
    nullable(crate::ticket_limit::MAX_TICKETS_PER_MEMBER.schema())
}
fn date_schema() -> Object {
    formatted(KnownFormat::Date)
}
pub(crate) fn date_time_schema() -> Object {
    formatted(KnownFormat::DateTime)
}
fn rejection_reason_schema() -> Object {
    REJECTION_REASON.schema()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    Concert,
    Musical,
    Theater,
    Classical,
    Opera,
    Dance,
    Comedy,
    Family,
    Exhibition,
    Other,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Concert,
        Category::Musical,
        Category::Theater,
        Category::Classical,
        Category::Opera,
        Category::Dance,
        Category::Comedy,
        Category::Family,
        Category::Exhibition,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Concert => "CONCERT",
            Category::Musical => "MUSICAL",
            Category::Theater => "THEATER",
            Category::Classical => "CLASSICAL",
            Category::Opera => "OPERA",
            Category::Dance => "DANCE",
            Category::Comedy => "COMEDY",
            Category::Family => "FAMILY",
            Category::Exhibition => "EXHIBITION",
            Category::Other => "OTHER",
        }
    }

    pub fn parse(raw: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// Minimum audience age, as printed on tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AgeRating {
    #[serde(rename = "ALL")]
    All,
    #[serde(rename = "7+")]
    Age7,
    #[serde(rename = "12+")]
    Age12,
    #[serde(rename = "15+")]
    Age15,
    #[serde(rename = "18+")]
    Age18,
}

/// Where a performance is in review. Only `Approved` performances are in the public catalog.
///
/// ```text
/// create ──▶ PENDING_APPROVAL ──approve──▶ APPROVED
///                 │    ▲
///            reject    └──── organizer revises a rejected performance (resubmission)
///                 ▼    │
///              REJECTED
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PerformanceStatus {
    PendingApproval,
    Approved,
    Rejected,
}

impl PerformanceStatus {
    pub const ALL: [PerformanceStatus; 3] = [
        PerformanceStatus::PendingApproval,
        PerformanceStatus::Approved,
        PerformanceStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PerformanceStatus::PendingApproval => "PENDING_APPROVAL",
            PerformanceStatus::Approved => "APPROVED",
            PerformanceStatus::Rejected => "REJECTED",
        }
    }

    pub fn parse(raw: &str) -> Option<PerformanceStatus> {
        PerformanceStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// A review decision an admin takes; see [`Performance::review`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    Approve,
    Reject { reason: String },
}

pub const REJECTION_REASON_MAX: usize = 1_000;

/// A transition the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a performance that is {} cannot be {action}", .from.as_str())]
pub struct InvalidTransition {
    pub from: PerformanceStatus,
    pub action: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Venue {
    #[schema(schema_with = venue_name_schema)]
    pub name: String,
    #[schema(schema_with = city_schema)]
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = address_schema)]
    pub address: Option<String>,
}

/// What a client sends to create or replace a performance.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerformanceInput {
    #[schema(schema_with = title_schema)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = description_schema)]
    pub description: String,
    pub category: Category,
    pub venue: Venue,
    #[schema(schema_with = running_time_schema)]
    #[serde(deserialize_with = "crate::rules::whole")]
    pub running_time_minutes: u32,
    pub age_rating: AgeRating,
    #[serde(default)]
    #[schema(schema_with = poster_url_schema)]
    pub poster_url: Option<String>,
    /// First and last day of the run, `YYYY-MM-DD`; the last not before the first (422).
    #[schema(schema_with = date_schema)]
    pub run_start_date: String,
    #[schema(schema_with = date_schema)]
    pub run_end_date: String,
    /// When tickets go on sale and stop being sold, RFC 3339 with an offset; sales close after they open
    /// and open before the run ends (422).
    #[schema(schema_with = date_time_schema)]
    pub sale_opens_at: String,
    #[schema(schema_with = date_time_schema)]
    pub sale_closes_at: String,
    /// How long a buyer's seats stay held while they pay, in minutes (1 to 60; default 10).
    #[serde(default, deserialize_with = "crate::rules::optional_whole")]
    #[schema(schema_with = hold_minutes_schema)]
    pub hold_minutes: Option<u32>,
    /// At most this many seats held or bought per member on each showtime, across all their reservations
    /// (1 to 100); without it, no limit beyond 10 seats a hold.
    #[serde(default, deserialize_with = "crate::rules::optional_whole")]
    #[schema(schema_with = max_tickets_schema)]
    pub max_tickets_per_member: Option<u32>,
    /// The cancellation fee schedule; without it, the default (Korean ticketing terms: free from 10 days before
    /// the show, 10% from 9 days, 20% from 6, 30% from 2, no buyer cancellation on the day).
    #[serde(default)]
    pub refund_policy: Option<crate::refund::RefundPolicy>,
}

/// `POST /admin/performances/{performanceId}/reject` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// Shown to the organizer: what to change.
    #[schema(schema_with = rejection_reason_schema)]
    pub reason: String,
}

/// The validated, normalised editable part of a performance (dates canonical, datetimes in UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceDetails {
    pub title: String,
    pub description: String,
    pub category: Category,
    pub venue: Venue,
    pub running_time_minutes: u32,
    pub age_rating: AgeRating,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster_url: Option<String>,
    pub run_start_date: String,
    pub run_end_date: String,
    pub sale_opens_at: String,
    pub sale_closes_at: String,
    /// How long a buyer's seats stay held while they pay, in minutes.
    #[serde(default = "default_hold_minutes")]
    pub hold_minutes: u16,
    /// At most this many seats held or bought per member on each showtime (none: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tickets_per_member: Option<u32>,
    /// The cancellation fee schedule.
    #[serde(default)]
    pub refund_policy: crate::refund::RefundPolicy,
}

fn default_hold_minutes() -> u16 {
    crate::seat::DEFAULT_HOLD_MINUTES
}

impl PerformanceDetails {
    /// Whether tickets are on sale at `now` (the sale window, inclusive).
    pub fn on_sale(&self, now: OffsetDateTime) -> bool {
        match (
            parse_instant(&self.sale_opens_at),
            parse_instant(&self.sale_closes_at),
        ) {
            (Some(opens), Some(closes)) => opens <= now && now <= closes,
            _ => false,
        }
    }
}

/// A performance as stored and as returned by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    pub id: String,
    /// The member (an ORGANIZER, or an ADMIN acting for one) who owns it.
    pub organizer_id: String,
    #[serde(flatten)]
    pub details: PerformanceDetails,
    pub status: PerformanceStatus,
    /// Why an admin rejected it; shown to the organizer. Cleared when it is approved or resubmitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    /// Incremented on every change; returned as the `ETag`, checked against `If-Match`.
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

impl Performance {
    /// A new performance waits for an admin's approval before it is listed.
    pub fn new(
        id: String,
        organizer_id: String,
        details: PerformanceDetails,
        now: OffsetDateTime,
    ) -> Self {
        let now = format_instant(now);
        Performance {
            id,
            organizer_id,
            details,
            status: PerformanceStatus::PendingApproval,
            rejection_reason: None,
            reviewed_at: None,
            reviewed_by: None,
            version: 1,
            created_at: now.clone(),
            updated_at: now,
        }
    }

    /// Whether the public may see it.
    pub fn is_public(&self) -> bool {
        self.status == PerformanceStatus::Approved
    }

    /// The organizer replaces the details. A rejected performance goes back into the review queue.
    pub fn revise(&mut self, details: PerformanceDetails, now: OffsetDateTime) {
        self.details = details;
        if self.status == PerformanceStatus::Rejected {
            self.status = PerformanceStatus::PendingApproval;
            self.rejection_reason = None;
        }
        self.touch(now);
    }

    /// An admin approves or rejects a performance waiting for review.
    pub fn review(
        &mut self,
        decision: Review,
        admin_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), InvalidTransition> {
        let action = match decision {
            Review::Approve => "approved",
            Review::Reject { .. } => "rejected",
        };
        if self.status != PerformanceStatus::PendingApproval {
            return Err(InvalidTransition {
                from: self.status,
                action,
            });
        }
        match decision {
            Review::Approve => {
                self.status = PerformanceStatus::Approved;
                self.rejection_reason = None;
            }
            Review::Reject { reason } => {
                self.status = PerformanceStatus::Rejected;
                self.rejection_reason = Some(reason);
            }
        }
        self.reviewed_at = Some(format_instant(now));
        self.reviewed_by = Some(admin_id.to_string());
        self.touch(now);
        Ok(())
    }

    fn touch(&mut self, now: OffsetDateTime) {
        self.version += 1;
        self.updated_at = format_instant(now);
    }
}

/// Checks a rejection reason: required, at most 1,000 characters ([`REJECTION_REASON`]).
pub fn rejection_reason(raw: &str) -> Result<String, FieldError> {
    REJECTION_REASON.check("reason", raw)
}

pub fn format_instant(t: OffsetDateTime) -> String {
    t.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub fn parse_date(raw: &str) -> Option<Date> {
    Date::parse(raw, format_description!("[year]-[month]-[day]")).ok()
}

pub fn parse_instant(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw, &Rfc3339).ok()
}

impl PerformanceInput {
    /// Checks every rule and reports every broken one.
    pub fn validate(self) -> Result<PerformanceDetails, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = TITLE.check_into(&mut errors, "title", &self.title);
        let description = DESCRIPTION.check_into(&mut errors, "description", &self.description);
        let venue = Venue {
            name: VENUE_NAME.check_into(&mut errors, "venue.name", &self.venue.name),
            city: CITY.check_into(&mut errors, "venue.city", &self.venue.city),
            address: self
                .venue
                .address
                .as_deref()
                .map(|a| ADDRESS.check_into(&mut errors, "venue.address", a))
                .filter(|a| !a.is_empty()),
        };
        if let Err(e) =
            RUNNING_TIME.check("runningTimeMinutes", u64::from(self.running_time_minutes))
        {
            errors.push(e);
        }
        let poster_url = self.poster_url.as_deref();
        if let Some(raw) = poster_url {
            if let Err(e) = POSTER_URL.check("posterUrl", raw) {
                errors.push(e);
            }
        }

        let start = parse_date(&self.run_start_date);
        let end = parse_date(&self.run_end_date);
        if start.is_none() {
            errors.push(FieldError::new(
                "runStartDate",
                "must be a date as YYYY-MM-DD",
            ));
        }
        if end.is_none() {
            errors.push(FieldError::new(
                "runEndDate",
                "must be a date as YYYY-MM-DD",
            ));
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                errors.push(FieldError::rule(
                    "runEndDate",
                    "must not be before runStartDate",
                ));
            }
        }
        let opens = parse_instant(&self.sale_opens_at);
        let closes = parse_instant(&self.sale_closes_at);
        if opens.is_none() {
            errors.push(FieldError::new(
                "saleOpensAt",
                "must be an RFC 3339 date-time with offset, e.g. 2026-12-01T10:00:00+09:00",
            ));
        }
        if closes.is_none() {
            errors.push(FieldError::new(
                "saleClosesAt",
                "must be an RFC 3339 date-time with offset, e.g. 2026-12-24T18:00:00+09:00",
            ));
        }
        if let (Some(o), Some(c)) = (opens, closes) {
            if c <= o {
                errors.push(FieldError::rule(
                    "saleClosesAt",
                    "must be after saleOpensAt",
                ));
            }
        }
        if let (Some(o), Some(e)) = (opens, end) {
            // Sales must open before the run is over (a day of slack covers any venue time zone).
            if o.to_offset(UtcOffset::UTC).date() > e.next_day().unwrap_or(e) {
                errors.push(FieldError::rule(
                    "saleOpensAt",
                    "must be before the end of the run",
                ));
            }
        }

        let hold_minutes = match self.hold_minutes {
            None => default_hold_minutes(),
            Some(m) => crate::seat::validate_hold_minutes("holdMinutes", m).unwrap_or_else(|e| {
                errors.push(e);
                default_hold_minutes()
            }),
        };

        let max_tickets_per_member = self.max_tickets_per_member.filter(|&m| {
            crate::ticket_limit::MAX_TICKETS_PER_MEMBER
                .check("maxTicketsPerMember", u64::from(m))
                .map_err(|e| errors.push(e))
                .is_ok()
        });

        let refund_policy = self.refund_policy.unwrap_or_default();
        errors.extend(refund_policy.validate("refundPolicy"));

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(PerformanceDetails {
            hold_minutes,
            max_tickets_per_member,
            refund_policy,
            title,
            description,
            category: self.category,
            venue,
            running_time_minutes: self.running_time_minutes,
            age_rating: self.age_rating,
            poster_url: poster_url.map(str::to_owned),
            run_start_date: start.map(|d| d.to_string()).unwrap_or_default(),
            run_end_date: end.map(|d| d.to_string()).unwrap_or_default(),
            sale_opens_at: opens.map(format_instant).unwrap_or_default(),
            sale_closes_at: closes.map(format_instant).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> serde_json::Value {
        json!({
            "title": "  The Phantom of the Opera ",
            "description": "The musical.",
            "category": "MUSICAL",
            "venue": {"name": "Charlotte Theater", "city": "Seoul"},
            "runningTimeMinutes": 150,
            "ageRating": "7+",
            "posterUrl": "https://cdn.example.com/phantom.jpg",
            "runStartDate": "2026-12-01",
            "runEndDate": "2027-02-28",
            "saleOpensAt": "2026-11-01T10:00:00+09:00",
            "saleClosesAt": "2027-02-28T18:00:00+09:00"
        })
    }

    fn input(v: serde_json::Value) -> PerformanceInput {
        serde_json::from_value(v).expect("test input deserializes")
    }

    fn fields(v: serde_json::Value) -> Vec<String> {
        input(v)
            .validate()
            .expect_err("input should be rejected")
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn valid_input_is_normalised() {
        let d = input(valid()).validate().expect("valid");
        assert_eq!(d.title, "The Phantom of the Opera");
        assert_eq!(d.sale_opens_at, "2026-11-01T01:00:00Z");
        assert_eq!(d.run_start_date, "2026-12-01");
        assert_eq!(d.age_rating, AgeRating::Age7);
    }

    #[test]
    fn every_broken_rule_is_reported_by_field() {
        let mut v = valid();
        v["title"] = json!("   ");
        v["venue"]["city"] = json!("");
        v["runningTimeMinutes"] = json!(0);
        v["posterUrl"] = json!("http://insecure.example.com/p.jpg");
        v["runStartDate"] = json!("2026-13-01");
        v["saleClosesAt"] = json!("yesterday");
        assert_eq!(
            fields(v),
            [
                "title",
                "venue.city",
                "runningTimeMinutes",
                "posterUrl",
                "runStartDate",
                "saleClosesAt"
            ]
        );
    }

    #[test]
    fn date_order_rules() {
        let mut v = valid();
        v["runEndDate"] = json!("2026-11-30");
        v["saleOpensAt"] = json!("2026-12-05T00:00:00Z");
        v["saleClosesAt"] = json!("2026-12-04T00:00:00Z");
        assert_eq!(fields(v), ["runEndDate", "saleClosesAt", "saleOpensAt"]);
    }

    #[test]
    fn a_ticket_limit_is_optional_and_bounded() {
        assert_eq!(
            input(valid())
                .validate()
                .expect("valid")
                .max_tickets_per_member,
            None
        );
        let mut v = valid();
        v["maxTicketsPerMember"] = json!(4);
        assert_eq!(
            input(v).validate().expect("valid").max_tickets_per_member,
            Some(4)
        );
        for bad in [0, 101] {
            let mut v = valid();
            v["maxTicketsPerMember"] = json!(bad);
            assert_eq!(fields(v), ["maxTicketsPerMember"]);
        }
    }

    #[test]
    fn overlong_text_is_refused() {
        let mut v = valid();
        v["title"] = json!("x".repeat(TITLE.max + 1));
        v["description"] = json!("y".repeat(DESCRIPTION.max + 1));
        assert_eq!(fields(v), ["title", "description"]);
    }

    #[test]
    fn unknown_fields_and_enum_values_fail_to_parse() {
        let mut v = valid();
        v["colour"] = json!("red");
        assert!(serde_json::from_value::<PerformanceInput>(v).is_err());
        let mut v = valid();
        v["category"] = json!("PODCAST");
        assert!(serde_json::from_value::<PerformanceInput>(v).is_err());
    }

    fn performance() -> Performance {
        let details = input(valid()).validate().expect("valid");
        Performance::new(
            "p1".into(),
            "org1".into(),
            details,
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn review_moves_pending_performances_only() {
        let mut p = performance();
        assert_eq!(p.status, PerformanceStatus::PendingApproval);
        assert!(!p.is_public());
        p.review(Review::Approve, "admin", OffsetDateTime::UNIX_EPOCH)
            .expect("pending can be approved");
        assert!(p.is_public());
        assert_eq!((p.version, p.reviewed_by.as_deref()), (2, Some("admin")));
        let again = p.review(
            Review::Reject {
                reason: "late".into(),
            },
            "admin",
            OffsetDateTime::UNIX_EPOCH,
        );
        assert_eq!(
            again,
            Err(InvalidTransition {
                from: PerformanceStatus::Approved,
                action: "rejected"
            })
        );
        assert_eq!(p.version, 2, "a refused transition changes nothing");
    }

    #[test]
    fn a_revised_rejection_goes_back_to_review() {
        let mut p = performance();
        p.review(
            Review::Reject {
                reason: "poster missing".into(),
            },
            "admin",
            OffsetDateTime::UNIX_EPOCH,
        )
        .expect("pending can be rejected");
        assert_eq!(p.rejection_reason.as_deref(), Some("poster missing"));
        let details = p.details.clone();
        p.revise(details.clone(), OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            (p.status, p.rejection_reason.clone()),
            (PerformanceStatus::PendingApproval, None)
        );
        p.review(Review::Approve, "admin", OffsetDateTime::UNIX_EPOCH)
            .expect("approve");
        p.revise(details, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(
            p.status,
            PerformanceStatus::Approved,
            "revising an approved performance keeps it listed"
        );
    }

    #[test]
    fn rejection_reasons_are_required_and_bounded() {
        assert!(rejection_reason("  ").is_err());
        assert!(rejection_reason(&"x".repeat(REJECTION_REASON_MAX + 1)).is_err());
        assert_eq!(
            rejection_reason(" fix the dates ").ok().as_deref(),
            Some("fix the dates")
        );
    }

    #[test]
    fn category_parse_takes_the_documented_spelling_only() {
        assert_eq!(Category::parse("CONCERT"), Some(Category::Concert));
        assert_eq!(Category::parse("concert"), None);
        assert_eq!(Category::parse("nope"), None);
        for c in Category::ALL {
            assert_eq!(serde_json::to_value(c).ok(), Some(json!(c.as_str())));
        }
    }
}
