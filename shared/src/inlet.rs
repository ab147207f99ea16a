//! The waiting room's inlet (docs/waiting-room.md): a scheduled function that, for each open room, closes
//! the slots whose second is over (recording their totals, so every ticket in them has an exact place) and
//! moves the serving number up at the room's rate, within its cap of active admissions (let in within the
//! admission lifetime, less those that finished with a purchase).

use crate::domain::waiting_room::{
    active, closable_slots, finishes_counted_after, to_admit, trim_history,
};
use crate::error::AppError;
use crate::store::waiting_room::Room;
use crate::store::Store;

/// What one run did to a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Run {
    pub slots_closed: u64,
    pub admitted: u64,
    pub serving: u64,
    pub waiting: u64,
}

/// One inlet run over `room` at `now_ms`; the room is written back (over its version: two runs at once do
/// not both admit). A run at an instant before the room's last run does nothing (clocks of two containers).
pub async fn run_room(store: &Store, room: &mut Room, now_ms: i64) -> Result<Run, AppError> {
    let mut run = Run {
        serving: room.serving,
        ..Run::default()
    };
    if now_ms < room.opens_at_ms || now_ms < room.last_run_ms {
        return Ok(run);
    }
    // Close the slots that ended a grace ago: the pre-queue at the opening, then one a second. Only the
    // seconds somebody joined in are read.
    let closable = closable_slots(now_ms, room.opens_at_ms);
    for slot in store
        .joined_slots(&room.showtime_id, room.closed, closable)
        .await?
    {
        let counts = store.slot_counts(&room.showtime_id, slot).await?;
        let total: u64 = counts.iter().sum();
        store
            .put_slot_total(&room.showtime_id, slot, &counts, room.positions_before)
            .await?;
        room.positions_before += total;
        run.slots_closed += 1;
    }
    room.closed = room.closed.max(closable);
    // An admission counts against the cap as long as its token is accepted: its lifetime and the leeway.
    let lifetime_ms = i64::try_from(room.settings.admission_minutes * 60_000).unwrap_or(i64::MAX)
        + i64::try_from(crate::auth::jwt::LEEWAY_SECONDS * 1000).unwrap_or(0);
    // The rate's budget: the time since the last run (since the opening at first), a minute at most.
    let since = if room.last_run_ms == 0 {
        room.opens_at_ms
    } else {
        room.last_run_ms.max(now_ms - 60_000)
    };
    let waiting = room.positions_before.saturating_sub(room.serving);
    // Admissions used for a purchase give their capacity back before they lapse.
    let finished = if room.serving > 0 {
        store
            .finished_after(
                &room.showtime_id,
                finishes_counted_after(now_ms, lifetime_ms),
            )
            .await?
    } else {
        0
    };
    let alive = active(room.serving, &room.history, now_ms, lifetime_ms).saturating_sub(finished);
    let elapsed = u64::try_from(now_ms - since).unwrap_or(0);
    run.admitted = to_admit(&room.settings, elapsed, alive, waiting);
    let by_rate = to_admit(&room.settings, elapsed, 0, u64::MAX);
    room.last_run_ms = if run.admitted == by_rate {
        // Held back by the rate alone: the budget's unspent fraction of a buyer carries to the next run.
        since
            + i64::try_from(run.admitted * 60_000 / room.settings.admit_per_minute.max(1))
                .unwrap_or(0)
    } else {
        now_ms
    };
    room.serving += run.admitted;
    room.history.push((now_ms, room.serving));
    trim_history(&mut room.history, now_ms, lifetime_ms);
    store.put_room(room).await?;
    run.serving = room.serving;
    run.waiting = waiting - run.admitted;
    Ok(run)
}

/// One inlet run over every open room.
pub async fn run_all(store: &Store, now_ms: i64) -> Result<Vec<(String, Run)>, AppError> {
    let mut done = Vec::new();
    for showtime_id in store.open_rooms().await? {
        if let Some(run) = run_one(store, &showtime_id, now_ms).await? {
            done.push((showtime_id, run));
        }
    }
    Ok(done)
}

/// One inlet run over one room: `None` if it has none, it retired, or another run moved it meanwhile (its
/// turn was taken).
pub async fn run_one(
    store: &Store,
    showtime_id: &str,
    now_ms: i64,
) -> Result<Option<Run>, AppError> {
    let Some(mut room) = store.get_room(showtime_id).await? else {
        return Ok(None);
    };
    if room.closes_at_ms > 0 && now_ms > room.closes_at_ms {
        // The sale is over: nothing more to let in, and nothing to pay for.
        store.retire_room(showtime_id).await?;
        tracing::info!(showtime_id, "waiting room retired");
        return Ok(None);
    }
    let run = match run_room(store, &mut room, now_ms).await {
        Ok(run) => run,
        Err(AppError::Conflict(_) | AppError::Busy(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    tracing::info!(
        showtime_id,
        admitted = run.admitted,
        serving = run.serving,
        waiting = run.waiting,
        slots_closed = run.slots_closed,
        "inlet run"
    );
    Ok(Some(run))
}

/// Runs the inlet under the Lambda runtime. EventBridge schedules at most once a minute, so each
/// invocation runs over every open room once a second for `INLET_SECONDS` (55 on AWS: positions are known
/// a grace after each second, and buyers are let in each second, not in minute-sized bursts); it returns
/// at once when no room is open, so an idle platform pays for one query a minute. Reads `TABLE_NAME`; no
/// network I/O before the first invocation.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let seconds: u64 = std::env::var("INLET_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let config = crate::aws::sdk_config().await;
    let store = Store::new(
        crate::aws::Lazy::new(&config, aws_sdk_dynamodb::Client::new),
        table,
    );
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let store = store.clone();
            // An event naming a showtime (an operator's, or a test's) runs that room once.
            let only = event.payload["showtimeId"].as_str().map(str::to_string);
            async move {
                if let Some(showtime_id) = only {
                    let run = run_one(&store, &showtime_id, now_ms()).await?;
                    return Ok(serde_json::json!({
                        "runs": 1,
                        "admitted": run.map_or(0, |r| r.admitted),
                        "serving": run.map(|r| r.serving),
                    }));
                }
                let started = std::time::Instant::now();
                let mut runs = 0u64;
                let mut admitted = 0u64;
                loop {
                    let tick = std::time::Instant::now();
                    let done = run_all(&store, now_ms()).await?;
                    runs += 1;
                    admitted += done.iter().map(|(_, r)| r.admitted).sum::<u64>();
                    if done.is_empty() || started.elapsed().as_secs() + 1 >= seconds {
                        break;
                    }
                    if let Some(rest) =
                        std::time::Duration::from_secs(1).checked_sub(tick.elapsed())
                    {
                        tokio::time::sleep(rest).await;
                    }
                }
                Ok::<_, lambda_runtime::Error>(serde_json::json!({
                    "runs": runs,
                    "admitted": admitted,
                }))
            }
        },
    ))
    .await
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
