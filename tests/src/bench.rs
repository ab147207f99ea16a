//! Helpers of the benchmark binaries (`tests/src/bin/bench_*.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

/// The length of LocalStack's log now (where a measured window starts); 0 without one.
pub fn log_len(log: Option<&str>) -> u64 {
    log.and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .unwrap_or(0)
}

/// The instant LocalStack stamped on a log line (local time, ms), if it has one.
fn stamped(line: &str) -> Option<time::PrimitiveDateTime> {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]"
    );
    time::PrimitiveDateTime::parse(line.get(..23)?, format).ok()
}

/// DynamoDB operations LocalStack logged (`LS_LOG=info` request lines) after byte `from` of `log`.
pub fn dynamodb_calls(log: &str, from: u64) -> BTreeMap<String, usize> {
    dynamodb_calls_within(log, from, None)
}

/// As [`dynamodb_calls`], counting only the lines LocalStack stamped (when it answered, local time, ms)
/// between `window.0` and `window.1`.
pub fn dynamodb_calls_within(
    log: &str,
    from: u64,
    window: Option<(time::PrimitiveDateTime, time::PrimitiveDateTime)>,
) -> BTreeMap<String, usize> {
    let mut calls = BTreeMap::new();
    let Ok(text) = std::fs::read(log) else {
        return calls;
    };
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
    for line in text.lines() {
        if let Some((start, end)) = window {
            if !stamped(line).is_some_and(|at| at >= start && at <= end) {
                continue;
            }
        }
        if let Some(op) = line
            .split("AWS dynamodb.")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            *calls.entry(op.to_string()).or_default() += 1;
        }
    }
    calls
}

/// When LocalStack first logged a line containing `needle` after byte `from` of `log` (its stamp, local
/// time, ms).
pub fn first_logged(log: &str, from: u64, needle: &str) -> Option<time::PrimitiveDateTime> {
    let text = std::fs::read(log).ok()?;
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default());
    text.lines()
        .filter(|line| line.contains(needle))
        .find_map(stamped)
}

/// Waits until LocalStack has logged no DynamoDB call for `still` (what a request set off, a saga step or
/// an event consumer, has run), at most 30 s.
pub async fn dynamodb_quiet(log: &str, still: Duration) {
    let end = std::time::Instant::now() + Duration::from_secs(30);
    // Only what was logged since the wait began is read each time.
    let from = log_len(Some(log));
    let count = || dynamodb_calls(log, from).values().sum::<usize>();
    let (mut last, mut since) = (count(), std::time::Instant::now());
    while std::time::Instant::now() < end && since.elapsed() < still {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = count();
        if now != last {
            (last, since) = (now, std::time::Instant::now());
        }
    }
}

/// `calls` per `per` unit, as `total (Op n, ...)`.
pub fn per_unit(calls: &BTreeMap<String, usize>, per: usize) -> String {
    let total: usize = calls.values().sum();
    let per = per.max(1) as f64;
    format!(
        "{:.2} ({})",
        total as f64 / per,
        calls
            .iter()
            .map(|(op, n)| format!("{op} {:.2}", *n as f64 / per))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The value of `--name N` on the command line, `default` when absent, clamped to 1..=`max`.
pub fn arg(name: &str, default: usize, max: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .clamp(1, max)
}

/// The `p`th percentile (nearest rank) of sorted durations; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
