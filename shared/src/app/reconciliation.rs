//! The nightly reconciliation (docs/reconciliation.md): every invariant the system promises, checked over the
//! whole table without reading it in one request or holding it in memory. The table is scanned in parallel
//! segments, a page at a time; each page's items are checked against what they promise (their payments,
//! seats, ledgers, statements and booked money, looked up in batches, strongly consistent), and each page's
//! result is written down; the run's report adds them up. A break found is read again before it is
//! reported, so that a sale or a cancellation that moved between the scan and the lookup is not one.

use crate::domain::performance::{format_instant, parse_instant};
use crate::domain::reconciliation::{
    expected_sums, in_flight, money_break, money_events, Break, BreakKind, Counts,
};
use crate::domain::reservation::{Reservation, ReservationStatus};
use crate::domain::seat::{SeatId, SeatState, SeatStatus};
use crate::domain::settlement::{lines, totals, MoneyKind};
use crate::error::AppError;
use crate::store::reconciliation::{PageResult, Scanned};
use crate::store::settlements::Statement;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::OffsetDateTime;

/// How a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Items per scan page.
    pub page_limit: u32,
    /// How long one call keeps reading pages before it hands on its cursor (a Lambda invocation stays well
    /// inside its timeout: a page is started only within the budget).
    pub budget: std::time::Duration,
    /// A payment changed less than this long ago may still have money events on their way to settlement:
    /// its settlement is checked by a later run.
    pub settle_grace_seconds: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            page_limit: 500,
            budget: std::time::Duration::from_secs(10),
            settle_grace_seconds: 600,
        }
    }
}

/// How many breaks a report lists (the count is always exact).
pub const REPORT_BREAKS: usize = 1_000;

/// How long a run's page records are kept.
const PAGE_RECORD_DAYS: i64 = 90;

/// Where a segment stands after one invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// `<next page number>|<scan cursor>`; empty when the segment is done.
    pub cursor: String,
    pub more: bool,
}

/// Checks pages of `segment` of `total` from `cursor` for up to [`Options::budget`], recording each page's
/// result under `run_id`.
pub async fn check_segment(
    store: &Store,
    run_id: &str,
    (segment, total): (u32, u32),
    cursor: &str,
    options: &Options,
    now: OffsetDateTime,
) -> Result<Progress, AppError> {
    let (mut page, mut start) = match cursor.split_once('|') {
        Some((p, c)) => (
            p.parse::<u32>()
                .map_err(|_| AppError::invalid("cursor", "not a reconciliation cursor"))?,
            (!c.is_empty()).then(|| c.to_string()),
        ),
        None => (0, None),
    };
    let expires = now.unix_timestamp() + PAGE_RECORD_DAYS * 86_400;
    let began = std::time::Instant::now();
    loop {
        let (items, count, next) = store
            .reconcile_page((segment, total), start.as_deref(), options.page_limit)
            .await?;
        let mut result = check_items(store, items, options, now).await?;
        result.counts.items += count;
        result.counts.calls += 1;
        result.counts.reads += count;
        store
            .record_reconcile_page(run_id, (segment, page), &result, expires)
            .await?;
        page += 1;
        match next {
            Some(next) => start = Some(next),
            None => {
                return Ok(Progress {
                    cursor: String::new(),
                    more: false,
                })
            }
        }
        if began.elapsed() >= options.budget {
            return Ok(Progress {
                cursor: format!("{page}|{}", start.unwrap_or_default()),
                more: true,
            });
        }
    }
}

/// Checks one page's items.
pub async fn check_items(
    store: &Store,
    items: Vec<Scanned>,
    options: &Options,
    now: OffsetDateTime,
) -> Result<PageResult, AppError> {
    let mut counts = Counts::default();
    let mut reservations = Vec::new();
    let mut sold = Vec::new();
    let mut breaks = Vec::new();
    for item in items {
        match item {
            Scanned::Reservation(r) => reservations.push(*r),
            Scanned::Seat {
                showtime_id,
                seat,
                state,
            } if state.status == SeatStatus::Sold => sold.push((showtime_id, seat, state)),
            Scanned::Wallet { member_id, balance } => {
                counts.wallets += 1;
                let (sum, lines) = store.ledger_sum(&member_id).await?;
                counts.calls += 1;
                counts.reads += lines;
                counts.ledger_lines += lines;
                if sum != balance {
                    breaks.push(Break {
                        kind: BreakKind::Wallet,
                        subject: member_id,
                        detail: format!("balance {balance}, its ledger adds up to {sum}"),
                    });
                }
            }
            Scanned::Statement(st) => {
                if let Some(b) = check_statement(store, &st, &mut counts).await? {
                    breaks.push(b);
                }
            }
            Scanned::Seat { .. } | Scanned::Other => {}
        }
    }
    // Each break is read again, fresh, before it is reported: what moved between the scan and the lookups
    // (a sale, a cancellation) is not one.
    let found = check_reservations(store, &reservations, options, now, &mut counts).await?;
    let flagged: Vec<String> = found.iter().map(|b| b.subject.clone()).collect();
    if !flagged.is_empty() {
        let (fresh, calls) = store.reservations_by_id(&flagged).await?;
        counts.calls += calls;
        counts.reads += fresh.len() as u64;
        let fresh: Vec<Reservation> = fresh.into_values().collect();
        let mut again = Counts::default();
        breaks.extend(check_reservations(store, &fresh, options, now, &mut again).await?);
        counts.calls += again.calls;
        counts.reads += again.reads;
    }
    counts.seats_sold += sold.len() as u64;
    let found = check_sold_seats(store, &sold, &mut counts).await?;
    if !found.is_empty() {
        let keys: Vec<(String, SeatId)> = found
            .iter()
            .map(|(show, seat, _)| (show.clone(), *seat))
            .collect();
        let (fresh, calls) = store.seat_states(&keys).await?;
        counts.calls += calls;
        counts.reads += fresh.len() as u64;
        let still: Vec<(String, SeatId, SeatState)> = fresh
            .into_iter()
            .filter(|(_, state)| state.status == SeatStatus::Sold)
            .map(|((show, seat), state)| (show, seat, state))
            .collect();
        for (show, seat, detail) in check_sold_seats(store, &still, &mut counts).await? {
            breaks.push(Break {
                kind: BreakKind::SeatWithoutReservation,
                subject: format!("{show}/{seat}"),
                detail,
            });
        }
    }
    breaks.sort();
    Ok(PageResult { counts, breaks })
}

/// The money, seats and settlement of settled reservations (those in flight are counted and left).
async fn check_reservations(
    store: &Store,
    reservations: &[Reservation],
    options: &Options,
    now: OffsetDateTime,
    counts: &mut Counts,
) -> Result<Vec<Break>, AppError> {
    if reservations.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = reservations.iter().map(|r| r.id.clone()).collect();
    let (payments, calls) = store.payments_by_reservation(&ids).await?;
    counts.calls += calls;
    counts.reads += payments.len() as u64;
    let mut breaks = Vec::new();
    let mut seats = Vec::new();
    let mut settled = Vec::new();
    for r in reservations {
        counts.reservations += 1;
        let p = payments.get(&r.id);
        if in_flight(r, p, now.unix_timestamp()) {
            counts.in_flight += 1;
            continue;
        }
        counts.payments += u64::from(p.is_some());
        breaks.extend(money_break(r, p));
        if r.status == ReservationStatus::Confirmed {
            seats.extend(r.seats.iter().map(|s| (r, SeatId::new(s.row, s.col))));
        }
        if let Some(p) = p {
            let changed = parse_instant(&p.updated_at).map(|t| (now - t).whole_seconds());
            if changed.is_some_and(|age| age >= options.settle_grace_seconds) {
                settled.push((r, p));
            }
        }
    }
    // Every seat of a CONFIRMED reservation is SOLD to it.
    let keys: Vec<(String, SeatId)> = seats
        .iter()
        .map(|(r, seat)| (r.showtime_id.clone(), *seat))
        .collect();
    let (states, calls) = store.seat_states(&keys).await?;
    counts.calls += calls;
    counts.reads += states.len() as u64;
    for (r, seat) in &seats {
        let state = states.get(&(r.showtime_id.clone(), *seat));
        let ok = state
            .is_some_and(|s| s.status == SeatStatus::Sold && s.holder.as_deref() == Some(&r.id));
        if !ok {
            breaks.push(Break {
                kind: BreakKind::SeatNotSold,
                subject: r.id.clone(),
                detail: format!(
                    "seat {seat} of showtime {} is {}",
                    r.showtime_id,
                    state
                        .map(|s| format!(
                            "{} (holder {})",
                            s.status.as_str(),
                            s.holder.as_deref().unwrap_or("none")
                        ))
                        .unwrap_or_else(|| "AVAILABLE (no item)".into())
                ),
            });
        }
    }
    // Every money event of a settled payment is booked once, for its amount.
    let events: Vec<String> = settled
        .iter()
        .flat_map(|(r, p)| money_events(r, p).into_iter().map(|(id, _)| id))
        .collect();
    counts.money_events += events.len() as u64;
    let (booked, calls) = store.booked_money(&events).await?;
    counts.calls += calls;
    counts.reads += 2 * booked.len() as u64;
    for (r, p) in settled {
        let mut sums = (0u64, 0u64, 0u64);
        let mut missing = Vec::new();
        for (id, kind) in money_events(r, p) {
            match booked.get(&id) {
                Some(m) => match kind {
                    MoneyKind::Sale => sums.0 += m.amount,
                    MoneyKind::Refund => sums.1 += m.amount,
                    MoneyKind::FeeKept => sums.2 += m.amount,
                },
                None => missing.push(id),
            }
        }
        let expected = expected_sums(r, p);
        if !missing.is_empty() || sums != expected {
            breaks.push(Break {
                kind: BreakKind::Unsettled,
                subject: r.id.clone(),
                detail: format!(
                    "booked (sales, refunds, fees) {sums:?}, the payment says {expected:?}; not booked: {}",
                    if missing.is_empty() { "none".to_string() } else { missing.join(", ") }
                ),
            });
        }
    }
    Ok(breaks)
}

/// Seats SOLD whose holder is not a CONFIRMED reservation listing them: each with what was found.
async fn check_sold_seats(
    store: &Store,
    sold: &[(String, SeatId, SeatState)],
    counts: &mut Counts,
) -> Result<Vec<(String, SeatId, String)>, AppError> {
    let holders: Vec<String> = sold
        .iter()
        .filter_map(|(_, _, s)| s.holder.clone())
        .collect();
    let (found, calls) = store.reservations_by_id(&holders).await?;
    counts.calls += calls;
    counts.reads += found.len() as u64;
    let mut broken = Vec::new();
    for (show, seat, state) in sold {
        let holder = state.holder.as_deref().and_then(|h| found.get(h));
        let why = match holder {
            None => Some(format!(
                "SOLD to {}, which does not exist",
                state.holder.as_deref().unwrap_or("nobody")
            )),
            Some(r) if r.status != ReservationStatus::Confirmed => {
                Some(format!("SOLD to {}, which is {}", r.id, r.status))
            }
            Some(r)
                if r.showtime_id != *show
                    || !r.seats.iter().any(|s| SeatId::new(s.row, s.col) == *seat) =>
            {
                Some(format!("SOLD to {}, which does not list it", r.id))
            }
            Some(_) => None,
        };
        if let Some(why) = why {
            broken.push((show.clone(), *seat, why));
        }
    }
    Ok(broken)
}

/// A closed statement adds up to the money booked in it.
async fn check_statement(
    store: &Store,
    st: &Statement,
    counts: &mut Counts,
) -> Result<Option<Break>, AppError> {
    let (Some(stored), Some(rate)) = (st.totals, st.commission_rate_bps) else {
        return Ok(None);
    };
    counts.statements += 1;
    let money = store.statement_money(&st.settlement_id).await?;
    counts.calls += 1;
    counts.reads += money.len() as u64;
    let expected = lines(&money, rate);
    let sums = totals(&expected);
    Ok((expected != st.lines || sums != stored).then(|| Break {
        kind: BreakKind::Statement,
        subject: st.settlement_id.clone(),
        detail: format!(
            "its totals say net payable {}, its {} money items add up to {}",
            stored.net_payable,
            money.len(),
            sums.net_payable
        ),
    }))
}

/// A run's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    pub counts: Counts,
    /// How many breaks were found (all of them).
    pub break_count: u64,
    /// The first [`REPORT_BREAKS`] of them, by kind and subject.
    pub breaks: Vec<Break>,
}

/// Adds up run `run_id`'s pages into its report, writes it (and as the latest), and answers it.
pub async fn finish(
    store: &Store,
    run_id: &str,
    started_at: &str,
    now: OffsetDateTime,
) -> Result<Report, AppError> {
    let pages = store.reconcile_pages(run_id).await?;
    let mut counts = Counts::default();
    let mut breaks = Vec::new();
    for page in pages {
        counts.add(&page.counts);
        breaks.extend(page.breaks);
    }
    breaks.sort();
    breaks.dedup();
    let report = Report {
        run_id: run_id.to_string(),
        started_at: started_at.to_string(),
        finished_at: format_instant(now),
        counts,
        break_count: breaks.len() as u64,
        breaks: breaks.into_iter().take(REPORT_BREAKS).collect(),
    };
    store.put_reconcile_report(run_id, &report).await?;
    Ok(report)
}

/// A whole run in this process: every segment side by side, then the report (the operator's
/// `ticketing-admin reconcile`, and the benchmark).
pub async fn run(
    store: &Store,
    run_id: &str,
    segments: u32,
    options: Options,
) -> Result<Report, AppError> {
    let started_at = format_instant(OffsetDateTime::now_utc());
    let mut tasks = Vec::new();
    for segment in 0..segments.max(1) {
        let (store, run_id) = (store.clone(), run_id.to_string());
        tasks.push(tokio::spawn(async move {
            let mut cursor = String::new();
            loop {
                let progress = check_segment(
                    &store,
                    &run_id,
                    (segment, segments.max(1)),
                    &cursor,
                    &options,
                    OffsetDateTime::now_utc(),
                )
                .await?;
                if !progress.more {
                    return Ok::<_, AppError>(());
                }
                cursor = progress.cursor;
            }
        }));
    }
    for task in tasks {
        task.await
            .map_err(|e| AppError::Dependency(format!("a segment's task failed: {e}")))??;
    }
    finish(store, run_id, &started_at, OffsetDateTime::now_utc()).await
}

/// The metric line a run logs (CloudWatch embedded metric format): breaks and items checked.
pub fn metric(report: &Report) -> serde_json::Value {
    crate::telemetry::emf(
        "Ticketing/Reconciliation",
        &[],
        &[
            (
                "ReconciliationBreaks",
                "Count",
                serde_json::json!(report.break_count),
            ),
            (
                "ItemsChecked",
                "Count",
                serde_json::json!(report.counts.items),
            ),
        ],
    )
}

/// The breaks of a report by kind, for a summary line.
pub fn by_kind(report: &Report) -> HashMap<BreakKind, usize> {
    let mut kinds = HashMap::new();
    for b in &report.breaks {
        *kinds.entry(b.kind).or_default() += 1;
    }
    kinds
}
