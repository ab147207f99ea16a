//! The waiting room's inlet (docs/waiting-room.md): a scheduled function that, for each open room, closes
//! the slots whose second is over (recording their totals, so every ticket in them has an exact place) and
//! moves the serving number up at the room's rate, within its cap of active admissions.

use crate::domain::waiting_room::{active, slot_of, to_admit, trim_history};
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
/// not both admit).
pub async fn run_room(store: &Store, room: &mut Room, now_ms: i64) -> Result<Run, AppError> {
    let mut run = Run::default();
    if now_ms < room.opens_at_ms {
        return Ok(run);
    }
    // Slots before the current second are over: 0 (the pre-queue) at the opening, then one a second.
    let current = slot_of(now_ms, room.opens_at_ms);
    while room.closed < current {
        let slot = room.closed;
        let total: u64 = store
            .slot_counts(&room.showtime_id, slot)
            .await?
            .iter()
            .sum();
        store
            .put_slot_total(&room.showtime_id, slot, total, room.positions_before)
            .await?;
        room.positions_before += total;
        room.closed += 1;
        run.slots_closed += 1;
    }
    let lifetime_ms = i64::try_from(room.settings.admission_minutes * 60_000).unwrap_or(i64::MAX);
    let elapsed = if room.last_run_ms == 0 {
        (now_ms - room.opens_at_ms).max(0)
    } else {
        (now_ms - room.last_run_ms).max(0)
    };
    let waiting = room.positions_before.saturating_sub(room.serving);
    let alive = active(room.serving, &room.history, now_ms, lifetime_ms);
    run.admitted = to_admit(
        &room.settings,
        u64::try_from(elapsed).unwrap_or(0),
        alive,
        waiting,
    );
    room.serving += run.admitted;
    room.history.push((now_ms, room.serving));
    trim_history(&mut room.history, now_ms, lifetime_ms);
    room.last_run_ms = now_ms;
    store.put_room(room).await?;
    run.serving = room.serving;
    run.waiting = waiting - run.admitted;
    Ok(run)
}

/// One inlet run over every open room.
pub async fn run_all(store: &Store, now_ms: i64) -> Result<Vec<(String, Run)>, AppError> {
    let mut done = Vec::new();
    for showtime_id in store.open_rooms().await? {
        let Some(mut room) = store.get_room(&showtime_id).await? else {
            continue;
        };
        let run = match run_room(store, &mut room, now_ms).await {
            Ok(run) => run,
            // Another run (the schedule's, or a retry) moved this room meanwhile: its turn was taken.
            Err(AppError::Conflict(_)) => continue,
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
        done.push((showtime_id, run));
    }
    Ok(done)
}

/// Runs the inlet under the Lambda runtime: each invocation (the schedule's event, or any) is one run over
/// every open room. Reads `TABLE_NAME`; no network I/O before the first invocation.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let config = crate::aws::sdk_config().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&config), table);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |_: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let store = store.clone();
            async move {
                let now =
                    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
                let runs = run_all(&store, now).await?;
                Ok::<_, lambda_runtime::Error>(serde_json::json!({
                    "rooms": runs
                        .iter()
                        .map(|(id, r)| serde_json::json!({
                            "showtimeId": id,
                            "admitted": r.admitted,
                            "serving": r.serving,
                            "waiting": r.waiting,
                        }))
                        .collect::<Vec<_>>()
                }))
            }
        },
    ))
    .await
}
