//! The circuit breaker around the card provider, shared by every container through the table (rules in
//! [`crate::domain::breaker`], items in [`crate::store::breaker`]), and the timeout on every provider call.
//!
//! A caller asks [`CircuitBreaker::admit`] before charging a card: `Ok(permit)` to call (through
//! [`CircuitBreaker::call`], which times the call out and counts its outcome), or `Err(Refused)` while the
//! provider is considered down: the caller then falls back (a hold becomes pay-later, a top-up answers 503)
//! without calling it. A declined card is an answer, not a failure; a timeout, a 5xx or a throttle is.
//!
//! Each process reads the breaker's state at most once a second, and looks at the window of outcomes at most
//! once a second after a failure, so a rush costs the state item nothing and an outage a few queries a second
//! per container until it opens.

use crate::domain::breaker::{Admission, Breaker, Settings, State};
use crate::domain::provider::ProviderError;
use crate::events::{Event, EventType};
use crate::store::{Store, StoreError};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// How long a process trusts the breaker state it read.
const STATE_TTL: Duration = Duration::from_secs(1);
/// How often a process may read the window after failures.
const WINDOW_EVERY: Duration = Duration::from_secs(1);
/// The aggregate id of the breaker's events (their correlation id).
pub const PROVIDER: &str = "payment-provider";

/// A caller may call the provider: as a CLOSED breaker's caller, or as one of HALF_OPEN's probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    Call,
    Probe { generation: u64 },
}

/// The breaker refused: the provider is not called; worth trying after `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: u32,
}

#[derive(Debug, Default)]
struct Local {
    state: Option<(Instant, Breaker)>,
    window_read: Option<Instant>,
}

/// The breaker as one process uses it (clone it freely: the clones share the process's cache).
#[derive(Clone, Debug)]
pub struct CircuitBreaker {
    store: Store,
    pub settings: Settings,
    /// `false`: admit every call (the benchmark's run without a breaker); outcomes are still counted.
    pub enabled: bool,
    local: Arc<Mutex<Local>>,
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_epoch() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

impl CircuitBreaker {
    pub fn new(store: Store, settings: Settings, enabled: bool) -> Self {
        CircuitBreaker {
            store,
            settings,
            enabled,
            local: Arc::new(Mutex::new(Local::default())),
        }
    }

    /// Settings from the stack (`BREAKER_*`, `PROVIDER_TIMEOUT_MS`; `BREAKER=off` disables it), else the
    /// defaults of [`Settings`].
    pub fn from_env(store: Store) -> Self {
        let d = Settings::default();
        let settings = Settings {
            window_seconds: env_number("BREAKER_WINDOW_SECONDS", d.window_seconds).max(1),
            min_calls: env_number("BREAKER_MIN_CALLS", d.min_calls).max(1),
            failure_percent: env_number("BREAKER_FAILURE_PERCENT", d.failure_percent).clamp(1, 100),
            cooldown_seconds: env_number("BREAKER_COOLDOWN_SECONDS", d.cooldown_seconds).max(1),
            probes: env_number("BREAKER_PROBES", d.probes).max(1),
            call_timeout_millis: env_number("PROVIDER_TIMEOUT_MS", d.call_timeout_millis).max(1),
            ..d
        };
        let enabled = std::env::var("BREAKER").as_deref() != Ok("off");
        Self::new(store, settings, enabled)
    }

    /// The breaker's state: this process's copy when under a second old, else the table's.
    pub async fn state(&self) -> Result<Breaker, StoreError> {
        if let Some((at, b)) = self.lock().state.clone() {
            if at.elapsed() < STATE_TTL {
                return Ok(b);
            }
        }
        let b = self.store.breaker(false).await?.breaker;
        self.remember(&b);
        Ok(b)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn remember(&self, b: &Breaker) {
        self.lock().state = Some((Instant::now(), b.clone()));
    }

    /// Whether a card given now would be refused, without taking anything (no probe): the hold asks this
    /// before it keeps a card for its saga; the Pay step asks [`CircuitBreaker::admit`] when it charges.
    pub async fn peek(&self) -> Result<Result<(), Refused>, StoreError> {
        if !self.enabled {
            return Ok(Ok(()));
        }
        Ok(
            match self.state().await?.admit(now_epoch(), &self.settings) {
                Admission::Refuse { retry_after } => Err(Refused { retry_after }),
                _ => Ok(()),
            },
        )
    }

    /// Whether a card may be charged now.
    pub async fn admit(&self) -> Result<Result<Permit, Refused>, StoreError> {
        if !self.enabled {
            return Ok(Ok(Permit::Call));
        }
        for _ in 0..3 {
            let b = self.state().await?;
            match b.admit(now_epoch(), &self.settings) {
                Admission::Call => return Ok(Ok(Permit::Call)),
                Admission::Refuse { retry_after } => return Ok(Err(Refused { retry_after })),
                Admission::BeginProbing => {
                    let next = b.probing(now_epoch(), &self.settings);
                    if self.store.transition_breaker(&b, &next, &[]).await? {
                        tracing::warn!(state = %next.state, "payment provider breaker: probing");
                        self.remember(&next);
                    } else {
                        // Someone else moved it: read it again.
                        self.lock().state = None;
                    }
                }
                Admission::Probe => {
                    if self.store.take_probe(b.version).await? {
                        return Ok(Ok(Permit::Probe {
                            generation: b.version,
                        }));
                    }
                    return Ok(Err(Refused { retry_after: 1 }));
                }
            }
        }
        Ok(Err(Refused { retry_after: 1 }))
    }

    /// Calls the provider under `permit` with the timeout, counts the outcome and moves the breaker when it
    /// should. A transient error or a timeout is a failure; an answer (approved, declined, invalid) is not.
    pub async fn call<T>(
        &self,
        permit: Permit,
        call: impl std::future::Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        let result = timed(self.settings.call_timeout_millis, call).await;
        let failed = matches!(result, Err(ProviderError::Transient(_)));
        if let Err(e) = self.record(permit, failed).await {
            // The payment's own outcome stands; a breaker that could not count it only sees one call less.
            tracing::warn!(error = %e, "payment provider breaker: the outcome could not be counted");
        }
        result
    }

    /// Counts one outcome under `permit` and applies what it decides.
    pub async fn record(&self, permit: Permit, failed: bool) -> Result<(), StoreError> {
        let now = now_epoch();
        self.store
            .count_provider_call(now, failed, &self.settings)
            .await?;
        if !self.enabled {
            return Ok(());
        }
        match permit {
            Permit::Probe { generation } if failed => {
                let seen = self.store.breaker(true).await?.breaker;
                if seen.version == generation && seen.state == State::HalfOpen {
                    self.open(&seen, now, "a probe payment failed").await?;
                }
            }
            Permit::Probe { generation } => {
                if let Some(b) = self.store.probe_passed(generation).await? {
                    if b.state == State::HalfOpen && b.probes_passed >= self.settings.probes {
                        let closed = Breaker {
                            state: State::Closed,
                            since: now,
                            probes_left: 0,
                            probes_passed: 0,
                            version: b.version + 1,
                        };
                        let event = self.event(EventType::PaymentProviderRecovered, &closed, None);
                        if self.store.transition_breaker(&b, &closed, &[event]).await? {
                            tracing::warn!(
                                "payment provider breaker: CLOSED, the provider recovered"
                            );
                            metric(&closed);
                            self.remember(&closed);
                        }
                    }
                }
            }
            Permit::Call if failed => {
                {
                    let mut local = self.lock();
                    if local
                        .window_read
                        .is_some_and(|at| at.elapsed() < WINDOW_EVERY)
                    {
                        return Ok(());
                    }
                    local.window_read = Some(Instant::now());
                }
                let b = self.store.breaker(true).await?.breaker;
                if b.state != State::Closed {
                    self.remember(&b);
                    return Ok(());
                }
                let window = self
                    .store
                    .provider_window(b.window_start(now, &self.settings), now, &self.settings)
                    .await?;
                if window.trips(&self.settings) {
                    let why = format!(
                        "{} of {} calls failed within {} s",
                        window.failures, window.calls, self.settings.window_seconds
                    );
                    self.open(&b, now, &why).await?;
                }
            }
            Permit::Call => {}
        }
        Ok(())
    }

    async fn open(&self, seen: &Breaker, now: i64, why: &str) -> Result<(), StoreError> {
        let opened = seen.opened(now);
        let event = self.event(EventType::PaymentProviderDegraded, &opened, Some(why));
        if self
            .store
            .transition_breaker(seen, &opened, &[event])
            .await?
        {
            tracing::warn!(reason = why, "payment provider breaker: OPEN");
            metric(&opened);
            self.remember(&opened);
        }
        Ok(())
    }

    fn event(&self, kind: EventType, b: &Breaker, why: Option<&str>) -> Event {
        let at = crate::domain::performance::format_instant(
            OffsetDateTime::from_unix_timestamp(b.since).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        let mut data = json!({"state": b.state.as_str(), "since": at, "generation": b.version});
        if let Some(why) = why {
            data["reason"] = json!(why);
            data["retryAfterSeconds"] = json!(self.settings.cooldown_seconds);
        }
        Event::keyed(kind, PROVIDER, &b.version.to_string(), "", &at, data)
    }
}

/// A provider call abandoned after `millis`: a transient failure (the same call, under its idempotency key,
/// may be made again).
pub async fn timed<T>(
    millis: u64,
    call: impl std::future::Future<Output = Result<T, ProviderError>>,
) -> Result<T, ProviderError> {
    match tokio::time::timeout(Duration::from_millis(millis), call).await {
        Ok(result) => result,
        Err(_) => Err(ProviderError::Transient(format!(
            "the payment provider did not answer within {millis} ms"
        ))),
    }
}

/// The breaker's state as a metric (CloudWatch embedded metric format): 0 CLOSED, 1 HALF_OPEN, 2 OPEN, and
/// one transition; the alarm watches it.
fn metric(b: &Breaker) {
    let level = match b.state {
        State::Closed => 0,
        State::HalfOpen => 1,
        State::Open => 2,
    };
    println!(
        "{}",
        crate::telemetry::emf(
            "Ticketing/Payments",
            &[],
            &[
                ("ProviderBreakerState", "None", json!(level)),
                ("ProviderBreakerTransitions", "Count", json!(1)),
            ],
        )
    );
}
