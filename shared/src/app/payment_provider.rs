//! The payment provider as an operator sees it: the circuit breaker's state (shared by every container, in the
//! table) and the window of recent calls that decides it.

use crate::domain::breaker::State;
use crate::domain::performance::format_instant;
use crate::error::AppError;
use crate::runtime::AppState;
use serde::Serialize;
use time::OffsetDateTime;

/// The breaker around the card provider (`GET /admin/payment-provider`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// CLOSED: cards are charged. OPEN: no card is charged (holds fall back to pay-later, top-ups answer 503)
    /// until the cool-down ends. HALF_OPEN: a few probe payments decide.
    #[schema(example = "CLOSED")]
    pub state: String,
    /// When it entered this state.
    #[schema(format = DateTime)]
    pub since: String,
    /// One more at every transition.
    pub generation: u64,
    /// While OPEN: seconds until probes are let through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
    /// In HALF_OPEN: probe payments not yet taken, and those that passed.
    pub probes_left: u32,
    pub probes_passed: u32,
    /// Writes the state item has taken, ever (transitions and probes only: payments never write it).
    pub state_writes: u64,
    /// `false`: the stack runs without a breaker (every card is charged).
    pub enabled: bool,
    /// Calls and failures of the current window, as the breaker counts them.
    pub window: ProviderWindow,
}

/// The window of recent provider calls and the settings that judge it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderWindow {
    pub seconds: u32,
    pub calls: u64,
    /// Failed or timed-out calls (a declined card is an answer, not a failure).
    pub failures: u64,
    /// Fewer calls never open the breaker.
    pub min_calls: u32,
    /// The share of failures, in percent, that opens it.
    pub failure_percent: u32,
    pub cooldown_seconds: u32,
    pub probes: u32,
    /// A provider call not answered after this long is abandoned and counted as a failure.
    pub call_timeout_millis: u64,
}

/// The breaker's state, read consistently, with the current window.
pub async fn status(state: &AppState) -> Result<ProviderStatus, AppError> {
    let settings = state.breaker.settings;
    let stored = state.store.breaker(true).await?;
    let b = stored.breaker;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let window = state
        .store
        .provider_window(b.window_start(now, &settings), now, &settings)
        .await?;
    let retry_after_seconds = (b.state == State::Open)
        .then(|| u32::try_from(b.since + i64::from(settings.cooldown_seconds) - now).unwrap_or(0));
    Ok(ProviderStatus {
        state: b.state.as_str().to_string(),
        since: format_instant(
            OffsetDateTime::from_unix_timestamp(b.since).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        ),
        generation: b.version,
        retry_after_seconds,
        probes_left: b.probes_left,
        probes_passed: b.probes_passed,
        state_writes: stored.writes,
        enabled: state.breaker.enabled,
        window: ProviderWindow {
            seconds: settings.window_seconds,
            calls: window.calls,
            failures: window.failures,
            min_calls: settings.min_calls,
            failure_percent: settings.failure_percent,
            cooldown_seconds: settings.cooldown_seconds,
            probes: settings.probes,
            call_timeout_millis: settings.call_timeout_millis,
        },
    })
}
