//! Settlement (docs/settlement.md): each money event booked in its organizer's statement (the settlement
//! consumer), a day's statements closed (the settlement machine), the payout recorded (admins), and who may
//! read which statement.

use crate::auth::Caller;
use crate::cache::TtlCache;
use crate::domain::events::{Event, EventType};
use crate::domain::performance::{format_instant, parse_instant};
use crate::domain::settlement::{
    can_pay, closable_days, closes_at, format_day, lines, parse_day, parse_statement_id,
    settlement_day, statement_id, totals, Money, MoneyKind, Origin, SettlementStatus,
};
use crate::error::AppError;
use crate::store::settlements::{Booked, Statement, StatementListing};
use crate::store::Store;
use time::{Duration, OffsetDateTime};

/// The stack's settlement settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The platform's commission of an organizer without a rate of their own, in basis points.
    pub default_rate_bps: u32,
    /// How long after its Korean midnight a day's statements close (late events still land in them).
    pub delay: Duration,
}

/// The defaults of the stack's parameters `CommissionRateBps` and `SettleDelayMinutes`.
pub const DEFAULT_RATE_BPS: u32 = 1_000;
pub const DEFAULT_DELAY_MINUTES: i64 = 120;

/// How many days back a scheduled close looks for statements still open (a missed night is caught up).
pub const LOOKBACK_DAYS: u8 = 3;

impl Settings {
    /// `COMMISSION_RATE_BPS` and `SETTLE_DELAY_MINUTES`, or their defaults.
    pub fn from_env() -> Self {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<i64>().ok());
        Settings {
            default_rate_bps: number("COMMISSION_RATE_BPS")
                .and_then(|v| u32::try_from(v).ok())
                .filter(|v| *v <= crate::domain::settlement::FULL_RATE_BPS)
                .unwrap_or(DEFAULT_RATE_BPS),
            delay: Duration::minutes(
                number("SETTLE_DELAY_MINUTES")
                    .filter(|v| *v >= 0)
                    .unwrap_or(DEFAULT_DELAY_MINUTES),
            ),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_rate_bps: DEFAULT_RATE_BPS,
            delay: Duration::minutes(DEFAULT_DELAY_MINUTES),
        }
    }
}

/// The money an event brings to a settlement, with its currency: a completed payment, a refund, a
/// cancellation's kept fee. `None` for every other event (and for a cancellation that kept nothing).
pub fn money_of(event: &Event) -> Option<(MoneyKind, u64, String)> {
    let data = &event.data;
    let (kind, amount, currency) = match event.kind {
        EventType::PaymentCompleted => (MoneyKind::Sale, &data["amount"], &data["currency"]),
        EventType::RefundIssued => (
            MoneyKind::Refund,
            &data["amount"],
            &data["payment"]["currency"],
        ),
        EventType::ReservationCancelled => (
            MoneyKind::FeeKept,
            &data["fee"],
            &data["reservation"]["currency"],
        ),
        _ => return None,
    };
    let amount = amount.as_u64().filter(|a| *a > 0)?;
    Some((kind, amount, currency.as_str()?.to_string()))
}

/// How many statements booking one event may try (its own day's, then the next open one's) before it gives
/// up and the event comes back later.
const BOOKING_HOPS: usize = 8;

/// Books `event`'s money in its organizer's statement of the event's Korean day, or, when that one is
/// closed, in the next open one as an adjustment that names where it came from. Idempotent by event id:
/// a duplicate, however late, books nothing. The statement it landed in, `None` for an event without money
/// or one booked before.
pub async fn book(
    store: &Store,
    organizers: &TtlCache<String>,
    event: &Event,
    now: OffsetDateTime,
) -> Result<Option<String>, AppError> {
    let Some((kind, amount, currency)) = money_of(event) else {
        return Ok(None);
    };
    let (performance_id, showtime_id) = match (
        event.data["reservation"]["performanceId"].as_str(),
        event.data["reservation"]["showtimeId"].as_str(),
    ) {
        (Some(p), Some(s)) => (p.to_string(), s.to_string()),
        _ => {
            let r = store
                .get_reservation(&event.correlation_id)
                .await?
                .ok_or_else(|| {
                    AppError::Corrupt(format!(
                        "event {}: no reservation {}",
                        event.event_id, event.correlation_id
                    ))
                })?;
            (r.performance_id, r.showtime_id)
        }
    };
    let organizer_id = organizer_of(store, organizers, &performance_id).await?;
    let own_day = parse_instant(&event.occurred_at)
        .map(settlement_day)
        .ok_or_else(|| AppError::Corrupt(format!("event {}: occurredAt", event.event_id)))?;
    let today = settlement_day(now);
    let booked_at = format_instant(now);
    let mut day = own_day;
    for _ in 0..BOOKING_HOPS {
        let id = statement_id(day, &currency, &organizer_id);
        let money = Money {
            event_id: event.event_id.clone(),
            performance_id: performance_id.clone(),
            showtime_id: showtime_id.clone(),
            kind,
            amount,
            adjustment_of: (day != own_day).then(|| Origin {
                event_id: event.event_id.clone(),
                day: format_day(own_day),
            }),
            booked_at: booked_at.clone(),
        };
        match store.book_money(&id, &money).await? {
            Booked::New => {
                tracing::info!(settlement_id = %id, event_id = %event.event_id, amount, kind = ?kind, "money booked");
                return Ok(Some(id));
            }
            Booked::Already => return Ok(None),
            Booked::Closed => match store.statement(&id).await? {
                // Its first money: open it, and book again.
                None => {
                    store
                        .open_statement(&Statement {
                            settlement_id: id.clone(),
                            organizer_id: organizer_id.clone(),
                            day: format_day(day),
                            currency: currency.clone(),
                            status: SettlementStatus::Open,
                            opened_at: booked_at.clone(),
                            commission_rate_bps: None,
                            closed_at: None,
                            totals: None,
                            lines: Vec::new(),
                            payout_reference: None,
                            paid_at: None,
                            paid_by: None,
                        })
                        .await?;
                }
                // Opened meanwhile by another event: book again.
                Some(st) if st.status == SettlementStatus::Open => {}
                // Closed: the next open statement takes it, as an adjustment.
                Some(_) => {
                    day = if day < today {
                        today
                    } else {
                        day.next_day().unwrap_or(day)
                    };
                }
            },
        }
    }
    Err(AppError::Busy(format!(
        "event {}: no open statement took its money; it comes back",
        event.event_id
    )))
}

/// The organizer of a performance (it never changes: kept per container).
async fn organizer_of(
    store: &Store,
    organizers: &TtlCache<String>,
    performance_id: &str,
) -> Result<String, AppError> {
    if let Some(o) = organizers.get(performance_id) {
        return Ok(o);
    }
    let p = store
        .get_performance(performance_id)
        .await?
        .ok_or_else(|| AppError::Corrupt(format!("no performance {performance_id}")))?;
    organizers.put(performance_id, p.organizer_id.clone());
    Ok(p.organizer_id)
}

/// The ids of the statements one run of the settlement machine closes, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Plan {
    pub ids: Vec<String>,
    /// Where the next page starts (`{day index}|{cursor}`); empty when there is none.
    pub cursor: String,
    pub more: bool,
}

/// How many statements one page of the settlement machine closes.
pub const CLOSE_PAGE: u32 = 50;

/// One page of the statements to close: those of `day` (or, when `None`, of every day that may close at
/// `now` and the [`LOOKBACK_DAYS`] before it) that are not closed yet; only `organizer`'s when given.
/// `force` (test stacks) closes `day` before its time.
pub async fn plan(
    store: &Store,
    settings: &Settings,
    (day, organizer, force): (Option<&str>, Option<&str>, bool),
    cursor: &str,
    now: OffsetDateTime,
) -> Result<Plan, AppError> {
    let days = match day {
        Some(raw) => {
            let d = parse_day(raw).ok_or_else(|| AppError::invalid("day", "must be YYYY-MM-DD"))?;
            if !force && closes_at(d, settings.delay) > now {
                return Err(AppError::Conflict(format!(
                    "{raw} may close from {}",
                    format_instant(closes_at(d, settings.delay))
                )));
            }
            vec![d]
        }
        None => closable_days(now, settings.delay, LOOKBACK_DAYS),
    };
    let (mut index, mut page_cursor) = match cursor.split_once('|') {
        Some((i, c)) => (
            i.parse::<usize>()
                .map_err(|_| AppError::invalid("cursor", "not a plan cursor"))?,
            (!c.is_empty()).then(|| c.to_string()),
        ),
        None => (0, None),
    };
    let mut ids = Vec::new();
    while let Some(d) = days.get(index) {
        let day = format_day(*d);
        let listing = match organizer {
            Some(o) => StatementListing::Organizer(o),
            None => StatementListing::Day(&day),
        };
        let page = store
            .list_statements(listing, (&day, &day), CLOSE_PAGE, page_cursor.as_deref())
            .await?;
        ids.extend(
            page.items
                .into_iter()
                .filter(|st| st.status == SettlementStatus::Open || st.totals.is_none())
                .filter(|st| st.status != SettlementStatus::Paid)
                .map(|st| st.settlement_id),
        );
        match page.next_cursor {
            Some(next) => {
                return Ok(Plan {
                    ids,
                    cursor: format!("{index}|{next}"),
                    more: true,
                })
            }
            None => {
                index += 1;
                page_cursor = None;
                if !ids.is_empty() && days.get(index).is_some() {
                    return Ok(Plan {
                        ids,
                        cursor: format!("{index}|"),
                        more: true,
                    });
                }
            }
        }
    }
    Ok(Plan {
        ids,
        cursor: String::new(),
        more: false,
    })
}

/// Closes statement `id`: frozen (no money is booked in it from here on), priced at its organizer's rate,
/// its lines and totals written. Closing it again computes the same figures from the same money; a paid
/// statement is left as it is. `force` (test stacks) closes it before its day may close.
pub async fn close(
    store: &Store,
    settings: &Settings,
    id: &str,
    force: bool,
    now: OffsetDateTime,
) -> Result<Statement, AppError> {
    let not_found = || AppError::NotFound {
        entity: "settlement",
        id: id.to_string(),
    };
    let (day, _, organizer_id) = parse_statement_id(id).ok_or_else(not_found)?;
    if !force && closes_at(day, settings.delay) > now {
        return Err(AppError::Conflict(format!(
            "statement {id} may close from {}",
            format_instant(closes_at(day, settings.delay))
        )));
    }
    let rate = store
        .commission_rate(organizer_id)
        .await?
        .unwrap_or(settings.default_rate_bps);
    store
        .freeze_statement(id, &format_instant(now), rate)
        .await?;
    let mut st = store.statement(id).await?.ok_or_else(not_found)?;
    if st.status == SettlementStatus::Paid {
        return Ok(st);
    }
    let money = store.statement_money(id).await?;
    let rate = st.commission_rate_bps.unwrap_or(rate);
    let lines = lines(&money, rate);
    let totals = totals(&lines);
    if store.write_closed(id, &lines, &totals).await? {
        st.lines = lines;
        st.totals = Some(totals);
        st.commission_rate_bps = Some(rate);
        tracing::info!(settlement_id = %id, net_payable = totals.net_payable, lines = st.lines.len(), "statement closed");
        Ok(st)
    } else {
        // Paid meanwhile: its figures stand.
        store.statement(id).await?.ok_or_else(not_found)
    }
}

/// Records the payout of closed statement `id` (once: a second is a 409 naming the first's reference).
pub async fn payout(
    store: &Store,
    admin: &Caller,
    id: &str,
    reference: &str,
    now: OffsetDateTime,
) -> Result<Statement, AppError> {
    let not_found = || AppError::NotFound {
        entity: "settlement",
        id: id.to_string(),
    };
    parse_statement_id(id).ok_or_else(not_found)?;
    let at = format_instant(now);
    if let Some(paid) = store
        .record_payout(id, reference, (&admin.member_id, &at))
        .await?
    {
        tracing::info!(settlement_id = %id, reference, admin_id = %admin.member_id, "payout recorded");
        return Ok(paid);
    }
    let st = store.statement(id).await?.ok_or_else(not_found)?;
    can_pay(id, st.status, st.payout_reference.as_deref())
        .map_err(|refusal| AppError::Conflict(refusal.to_string()))?;
    // Closed, but its figures are not written yet: the close is still running.
    Err(AppError::Conflict(format!(
        "statement {id} is being closed; record its payout once its figures are in"
    )))
}

/// Statement `id` as `caller` may read it: their own (an organizer's), any (an admin's); to anyone else it
/// does not exist. An open statement comes with its figures so far.
pub async fn statement_for(
    store: &Store,
    settings: &Settings,
    caller: &Caller,
    id: &str,
) -> Result<Statement, AppError> {
    let not_found = || AppError::NotFound {
        entity: "settlement",
        id: id.to_string(),
    };
    let (_, _, organizer_id) = parse_statement_id(id).ok_or_else(not_found)?;
    if !caller.is_admin() && organizer_id != caller.member_id {
        return Err(not_found());
    }
    let mut st = store.statement(id).await?.ok_or_else(not_found)?;
    if st.status == SettlementStatus::Open {
        // Its figures so far, at the rate it would close at now (nothing is written).
        let rate = store
            .commission_rate(organizer_id)
            .await?
            .unwrap_or(settings.default_rate_bps);
        st.lines = lines(&store.statement_money(id).await?, rate);
        st.totals = Some(totals(&st.lines));
        st.commission_rate_bps = Some(rate);
    }
    Ok(st)
}

/// Sets `organizer_id`'s own commission rate (an admin's act). Statements closed from now on use it.
pub async fn set_commission(
    store: &Store,
    admin: &Caller,
    organizer_id: &str,
    rate_bps: u32,
    at: &str,
) -> Result<(), AppError> {
    let member = store
        .get_member(organizer_id)
        .await?
        .ok_or_else(|| AppError::NotFound {
            entity: "organizer",
            id: organizer_id.to_string(),
        })?;
    if member.member.role == crate::domain::member::Role::User {
        return Err(AppError::unprocessable(
            "organizerId",
            "this member does not publish performances: only organizers (and admins) have a commission rate",
        ));
    }
    store
        .set_commission_rate(organizer_id, rate_bps, (&admin.member_id, at))
        .await?;
    tracing::info!(organizer_id, rate_bps, admin_id = %admin.member_id, "commission rate set");
    Ok(())
}

/// The longest span of days a listing may ask for.
pub const MAX_LISTING_DAYS: i64 = 366;

/// The days `from..=to` of a listing (`YYYY-MM-DD`, Korean days): by default the last 31 days to today.
pub fn listing_days(
    from: Option<&str>,
    to: Option<&str>,
    now: OffsetDateTime,
) -> Result<(String, String), AppError> {
    let parse = |name: &str, raw: &str| {
        parse_day(raw).ok_or_else(|| AppError::invalid(name, "must be a date, YYYY-MM-DD"))
    };
    let to = match to {
        Some(raw) => parse("to", raw)?,
        None => settlement_day(now),
    };
    let from = match from {
        Some(raw) => parse("from", raw)?,
        None => to - Duration::days(30),
    };
    if from > to {
        return Err(AppError::unprocessable("from", "must not be after to"));
    }
    if (to - from).whole_days() >= MAX_LISTING_DAYS {
        return Err(AppError::unprocessable(
            "from",
            format!("from and to may span at most {MAX_LISTING_DAYS} days"),
        ));
    }
    Ok((format_day(from), format_day(to)))
}
