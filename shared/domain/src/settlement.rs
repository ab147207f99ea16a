//! Settlement: what the platform owes each organizer, one statement per organizer, Korean calendar day
//! (UTC+9) and currency.
//!
//! - **Money in a statement** comes from the money events (docs/settlement.md): a completed payment is a
//!   sale (`gross`), a refund given back is a `refund`, the fee a cancellation kept is `feesKept` (it is the
//!   part of a sale that was not refunded, so it is already inside `gross − refunds`: shown, never added).
//! - **Lines** are per performance and showtime; the platform's **commission** is a rate in basis points of
//!   the line's net sales (`gross − refunds`), rounded toward zero (a refund that reverses a whole sale gives
//!   back exactly the commission the sale took); **net payable** = `gross − refunds − commission`.
//! - **States**: OPEN (money still arrives) → CLOSED (the day is over and the settle delay for late events
//!   has passed; its totals never change again) → PAID (an admin recorded the payout with its reference,
//!   once).
//! - **Late money**: an event whose day's statement is closed goes to the statement of the day it is booked
//!   on (the Korean day of its processing) as an **adjustment** line that names its origin (the event and
//!   the day it belongs to).

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset};

/// Korea Standard Time: statements follow the Korean calendar day.
pub const KST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// 100% in basis points.
pub const FULL_RATE_BPS: u32 = 10_000;

/// The Korean calendar day of an instant.
pub fn settlement_day(at: OffsetDateTime) -> Date {
    at.to_offset(KST).date()
}

/// When the statement of `day` may close: the Korean midnight that ends it, plus `delay` for late events.
pub fn closes_at(day: Date, delay: Duration) -> OffsetDateTime {
    let end = day.next_day().unwrap_or(day);
    end.with_time(Time::MIDNIGHT).assume_offset(KST) + delay
}

/// The days whose statements may close at `now` and might not be closed yet: the last closable day and the
/// `lookback` days before it, oldest first (a close that failed or was missed is caught up by a later run).
pub fn closable_days(now: OffsetDateTime, delay: Duration, lookback: u8) -> Vec<Date> {
    let mut day = settlement_day(now - delay);
    let mut days = Vec::new();
    for _ in 0..=lookback {
        let Some(previous) = day.previous_day() else {
            break;
        };
        day = previous;
        if closes_at(day, delay) <= now {
            days.push(day);
        }
    }
    days.reverse();
    days
}

/// `2026-12-06`.
pub fn format_day(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// `2026-12-06` as a date.
pub fn parse_day(raw: &str) -> Option<Date> {
    let mut parts = raw.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// A statement's id: `<day>_<currency>_<organizerId>`, so that everything of one statement is found from its
/// id alone and a day closed twice is the same statement.
pub fn statement_id(day: Date, currency: &str, organizer_id: &str) -> String {
    format!("{}_{currency}_{organizer_id}", format_day(day))
}

/// The parts of a statement id: day, currency, organizer.
pub fn parse_statement_id(id: &str) -> Option<(Date, &str, &str)> {
    let mut parts = id.splitn(3, '_');
    let day = parse_day(parts.next()?)?;
    let currency = parts.next()?;
    let organizer = parts.next()?;
    let currency_ok = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase());
    let organizer_ok = crate::ids::parse_id(organizer).is_some();
    (currency_ok && organizer_ok).then_some((day, currency, organizer))
}

/// What kind of money an event brings to a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MoneyKind {
    /// A completed payment for seats of the line's showtime.
    Sale,
    /// Money given back to the buyer.
    Refund,
    /// The fee a cancellation kept (already inside `gross − refunds`).
    FeeKept,
}

/// One event's money, as booked in a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub event_id: String,
    pub performance_id: String,
    pub showtime_id: String,
    pub kind: MoneyKind,
    pub amount: u64,
    /// Set when this money belongs to an earlier day whose statement had closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_of: Option<Origin>,
    pub booked_at: String,
}

/// The lines of a statement's money at `rate_bps`: one per performance and showtime (in that order), then
/// one per adjustment (by the day and event it came from).
pub fn lines(money: &[Money], rate_bps: u32) -> Vec<Line> {
    type Key = (Option<(String, String)>, String, String);
    let mut sums: std::collections::BTreeMap<Key, Sums> = Default::default();
    for m in money {
        let origin = m
            .adjustment_of
            .as_ref()
            .map(|o| (o.day.clone(), o.event_id.clone()));
        sums.entry((origin, m.performance_id.clone(), m.showtime_id.clone()))
            .or_default()
            .add(m.kind, m.amount);
    }
    sums.into_iter()
        .map(|((origin, performance_id, showtime_id), sums)| {
            let origin = origin.map(|(day, event_id)| Origin { event_id, day });
            Line::priced((performance_id, showtime_id), origin, sums, rate_bps)
        })
        .collect()
}

/// The sums of one line, as the consumer adds them up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sums {
    pub gross: u64,
    pub refunds: u64,
    pub fees_kept: u64,
}

impl Sums {
    pub fn add(&mut self, kind: MoneyKind, amount: u64) {
        match kind {
            MoneyKind::Sale => self.gross += amount,
            MoneyKind::Refund => self.refunds += amount,
            MoneyKind::FeeKept => self.fees_kept += amount,
        }
    }

    /// `gross − refunds`: what the buyers paid and kept paid (the fees kept included).
    pub fn net_sales(&self) -> i64 {
        i64::try_from(self.gross).unwrap_or(i64::MAX)
            - i64::try_from(self.refunds).unwrap_or(i64::MAX)
    }
}

/// The platform's commission on `net_sales` at `rate_bps`, rounded toward zero.
pub fn commission(net_sales: i64, rate_bps: u32) -> i64 {
    let scaled = i128::from(net_sales) * i128::from(rate_bps) / i128::from(FULL_RATE_BPS);
    i64::try_from(scaled).unwrap_or(if net_sales < 0 { i64::MIN } else { i64::MAX })
}

/// Where an adjustment line's money came from: an event of an earlier day whose statement had closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub event_id: String,
    /// The Korean day the money belongs to (its statement was closed when it arrived).
    pub day: String,
}

/// One line of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub performance_id: String,
    pub showtime_id: String,
    /// Present on an adjustment: money of an earlier, closed day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_of: Option<Origin>,
    pub gross: u64,
    pub refunds: u64,
    pub fees_kept: u64,
    pub commission: i64,
    pub net_payable: i64,
}

impl Line {
    /// The line of `sums` at `rate_bps`.
    pub fn priced(
        (performance_id, showtime_id): (String, String),
        adjustment_of: Option<Origin>,
        sums: Sums,
        rate_bps: u32,
    ) -> Line {
        let commission = commission(sums.net_sales(), rate_bps);
        Line {
            performance_id,
            showtime_id,
            adjustment_of,
            gross: sums.gross,
            refunds: sums.refunds,
            fees_kept: sums.fees_kept,
            commission,
            net_payable: sums.net_sales() - commission,
        }
    }
}

/// A statement's totals: the sums of its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub gross: u64,
    pub refunds: u64,
    pub fees_kept: u64,
    pub commission: i64,
    pub net_payable: i64,
}

/// The totals of `lines`.
pub fn totals(lines: &[Line]) -> Totals {
    lines.iter().fold(Totals::default(), |t, l| Totals {
        gross: t.gross + l.gross,
        refunds: t.refunds + l.refunds,
        fees_kept: t.fees_kept + l.fees_kept,
        commission: t.commission + l.commission,
        net_payable: t.net_payable + l.net_payable,
    })
}

/// A statement's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SettlementStatus {
    Open,
    Closed,
    Paid,
}

impl SettlementStatus {
    pub const ALL: [SettlementStatus; 3] = [Self::Open, Self::Closed, Self::Paid];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Closed => "CLOSED",
            Self::Paid => "PAID",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Why a payout cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayoutRefusal {
    #[error("statement {0} is still open: it can be paid once it is closed")]
    NotClosed(String),
    #[error("statement {0} was paid already (reference {1})")]
    AlreadyPaid(String, String),
}

/// Whether a statement in `status` may be paid now.
pub fn can_pay(
    id: &str,
    status: SettlementStatus,
    reference: Option<&str>,
) -> Result<(), PayoutRefusal> {
    match status {
        SettlementStatus::Closed => Ok(()),
        SettlementStatus::Open => Err(PayoutRefusal::NotClosed(id.to_string())),
        SettlementStatus::Paid => Err(PayoutRefusal::AlreadyPaid(
            id.to_string(),
            reference.unwrap_or_default().to_string(),
        )),
    }
}

/// The CSV columns of a statement's lines, in order.
pub const CSV_HEADER: &str = "settlementId,organizerId,day,currency,status,performanceId,showtimeId,adjustmentOfEventId,adjustmentOfDay,gross,refunds,feesKept,commission,netPayable";

/// One CSV field: quoted when it holds a comma, quote or line break (RFC 4180).
fn csv_field(raw: &str) -> String {
    if raw.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw.to_string()
    }
}

/// A statement's lines as CSV (RFC 4180, CRLF line ends), the header first.
pub fn to_csv(
    (id, organizer_id, day, currency, status): (&str, &str, &str, &str, SettlementStatus),
    lines: &[Line],
) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push_str("\r\n");
    for l in lines {
        let origin = l.adjustment_of.as_ref();
        let fields = [
            id.to_string(),
            organizer_id.to_string(),
            day.to_string(),
            currency.to_string(),
            status.as_str().to_string(),
            l.performance_id.clone(),
            l.showtime_id.clone(),
            origin.map(|o| o.event_id.clone()).unwrap_or_default(),
            origin.map(|o| o.day.clone()).unwrap_or_default(),
            l.gross.to_string(),
            l.refunds.to_string(),
            l.fees_kept.to_string(),
            l.commission.to_string(),
            l.net_payable.to_string(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_day_is_korean() {
        // 15:00 UTC is midnight in Seoul: the next day there.
        assert_eq!(
            format_day(settlement_day(datetime!(2026-12-06 14:59:59 UTC))),
            "2026-12-06"
        );
        assert_eq!(
            format_day(settlement_day(datetime!(2026-12-06 15:00:00 UTC))),
            "2026-12-07"
        );
    }

    #[test]
    fn a_day_closes_after_korean_midnight_and_the_delay() {
        let day = parse_day("2026-12-06").unwrap();
        assert_eq!(
            closes_at(day, Duration::hours(2)),
            datetime!(2026-12-06 17:00:00 UTC)
        );
        // Not before: at 16:59 UTC the last closable day is the one before it (and 2 more looked back on).
        let days = closable_days(datetime!(2026-12-06 16:59:00 UTC), Duration::hours(2), 2);
        assert_eq!(
            days.iter().map(|d| format_day(*d)).collect::<Vec<_>>(),
            ["2026-12-03", "2026-12-04", "2026-12-05"]
        );
        let days = closable_days(datetime!(2026-12-06 17:00:00 UTC), Duration::hours(2), 2);
        assert_eq!(
            days.iter().map(|d| format_day(*d)).collect::<Vec<_>>(),
            ["2026-12-04", "2026-12-05", "2026-12-06"]
        );
    }

    #[test]
    fn statement_ids_round_trip_and_refuse_what_they_are_not() {
        let organizer = "0b5a7d8e-2f6c-4f1a-9d3e-7c1b2a3d4e5f";
        let day = parse_day("2026-12-06").unwrap();
        let id = statement_id(day, "KRW", organizer);
        assert_eq!(id, format!("2026-12-06_KRW_{organizer}"));
        assert_eq!(parse_statement_id(&id), Some((day, "KRW", organizer)));
        assert!(
            crate::rules::SETTLEMENT_ID.matches(&id),
            "the id's pattern takes it"
        );
        for bad in [
            "2026-13-01_KRW_0b5a7d8e-2f6c-4f1a-9d3e-7c1b2a3d4e5f",
            "2026-12-06_krw_0b5a7d8e-2f6c-4f1a-9d3e-7c1b2a3d4e5f",
            "2026-12-06_KRW_nobody",
            "2026-12-06",
            "",
        ] {
            assert_eq!(parse_statement_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn commission_rounds_toward_zero_and_a_full_refund_gives_it_back() {
        assert_eq!(commission(10_005, 1_000), 1_000);
        assert_eq!(commission(-10_005, 1_000), -1_000);
        let sale = Line::priced(
            ("p".into(), "s".into()),
            None,
            Sums {
                gross: 33_333,
                ..Sums::default()
            },
            750,
        );
        let reversal = Line::priced(
            ("p".into(), "s".into()),
            None,
            Sums {
                refunds: 33_333,
                ..Sums::default()
            },
            750,
        );
        assert_eq!(sale.commission + reversal.commission, 0);
        assert_eq!(sale.net_payable + reversal.net_payable, 0);
    }

    #[test]
    fn a_line_keeps_the_fee_inside_net_sales() {
        let mut sums = Sums::default();
        for (kind, amount) in [
            (MoneyKind::Sale, 100_000),
            (MoneyKind::Refund, 90_000),
            (MoneyKind::FeeKept, 10_000),
        ] {
            sums.add(kind, amount);
        }
        let line = Line::priced(("p".into(), "s".into()), None, sums, 1_000);
        assert_eq!(sums.net_sales(), 10_000);
        assert_eq!(line.commission, 1_000);
        assert_eq!(line.net_payable, 9_000);
        let t = totals(&[line.clone(), line]);
        assert_eq!(
            (t.gross, t.refunds, t.fees_kept, t.net_payable),
            (200_000, 180_000, 20_000, 18_000)
        );
    }

    #[test]
    fn lines_group_by_showtime_then_adjustments_by_origin() {
        let money = |event: &str, show: &str, kind, amount, origin: Option<&str>| Money {
            event_id: event.into(),
            performance_id: "p".into(),
            showtime_id: show.into(),
            kind,
            amount,
            adjustment_of: origin.map(|day| Origin {
                event_id: event.into(),
                day: day.into(),
            }),
            booked_at: String::new(),
        };
        let all = [
            money("e3", "s2", MoneyKind::Sale, 300, None),
            money("e1", "s1", MoneyKind::Sale, 100, None),
            money("e9", "s1", MoneyKind::Refund, 50, Some("2026-12-04")),
            money("e2", "s1", MoneyKind::Sale, 100, None),
            money("e4", "s1", MoneyKind::Refund, 80, None),
            money("e5", "s1", MoneyKind::FeeKept, 20, None),
        ];
        let got = lines(&all, 1_000);
        let shape: Vec<_> = got
            .iter()
            .map(|l| {
                (
                    l.showtime_id.as_str(),
                    l.adjustment_of.is_some(),
                    l.gross,
                    l.refunds,
                    l.fees_kept,
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("s1", false, 200, 80, 20),
                ("s2", false, 300, 0, 0),
                ("s1", true, 0, 50, 0)
            ]
        );
        assert_eq!(got[2].net_payable, -45);
        // The order of the money does not matter.
        let mut reversed = all.to_vec();
        reversed.reverse();
        assert_eq!(lines(&reversed, 1_000), got);
    }

    #[test]
    fn payouts_happen_once_and_only_when_closed() {
        assert!(can_pay("x", SettlementStatus::Closed, None).is_ok());
        assert_eq!(
            can_pay("x", SettlementStatus::Open, None),
            Err(PayoutRefusal::NotClosed("x".into()))
        );
        assert!(matches!(
            can_pay("x", SettlementStatus::Paid, Some("wire-1")),
            Err(PayoutRefusal::AlreadyPaid(_, r)) if r == "wire-1"
        ));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let line = Line::priced(
            ("p,1".into(), "s\"2".into()),
            Some(Origin {
                event_id: "r:RefundIssued:c".into(),
                day: "2026-12-05".into(),
            }),
            Sums {
                refunds: 500,
                ..Sums::default()
            },
            0,
        );
        let csv = to_csv(
            ("id", "o", "2026-12-06", "KRW", SettlementStatus::Closed),
            &[line],
        );
        let rows: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(rows[0], CSV_HEADER);
        assert_eq!(
            rows[1],
            "id,o,2026-12-06,KRW,CLOSED,\"p,1\",\"s\"\"2\",r:RefundIssued:c,2026-12-05,0,500,0,0,-500"
        );
        assert_eq!(rows[2], "");
    }
}
