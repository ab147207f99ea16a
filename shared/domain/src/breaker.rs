//! The circuit breaker in front of the card payment provider, as plain rules: when a window of recent calls
//! trips it, how long it stays open, how a few probe payments decide between closing and opening again, and
//! what a caller may do meanwhile.
//!
//! CLOSED → OPEN when, among the calls of the last `window_seconds` (and since the breaker last changed),
//! there were at least `min_calls` and at least `failure_percent` of them failed or timed out. OPEN →
//! HALF_OPEN once `cooldown_seconds` have passed; in HALF_OPEN, `probes` callers each get one provider call:
//! when they all succeed the breaker closes, and the first failure opens it again (a new cool-down). While it
//! is OPEN, and for callers beyond the probes in HALF_OPEN, a card payment does not call the provider.
//!
//! The store keeps the outcomes in time buckets spread over shards (no hot item under a rush) and the state in
//! one item written only on transitions and probes; this module decides, the store applies each decision as
//! a conditional write on the state's version, so that one caller wins each transition.

use std::fmt;

/// The breaker's settings (the stack's parameters; the defaults are the issue's: at least 20 calls, half of
/// them failing, within 30 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// How far back the window of outcomes reaches.
    pub window_seconds: u32,
    /// Fewer calls than this in the window never trip the breaker (a few failures of a quiet hour do not).
    pub min_calls: u32,
    /// The share of failed or timed-out calls, in percent, that trips it.
    pub failure_percent: u32,
    /// How long it stays OPEN before probes are let through.
    pub cooldown_seconds: u32,
    /// How many probe payments HALF_OPEN lets through; all must succeed to close it.
    pub probes: u32,
    /// A provider call that has not answered after this long is abandoned and counted as a failure.
    pub call_timeout_millis: u64,
    /// The width of one bucket of outcomes.
    pub bucket_seconds: u32,
    /// Outcome items per bucket: each takes `1 / shards` of the bucket's writes.
    pub shards: u32,
}

impl Settings {
    /// The defaults (the stack's parameters say the same).
    pub const DEFAULT: Settings = Settings {
        window_seconds: 30,
        min_calls: 20,
        failure_percent: 50,
        cooldown_seconds: 30,
        probes: 3,
        call_timeout_millis: 3_000,
        bucket_seconds: 5,
        shards: 8,
    };
}

impl Default for Settings {
    fn default() -> Self {
        Settings::DEFAULT
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    #[default]
    Closed,
    Open,
    HalfOpen,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Open => "OPEN",
            State::HalfOpen => "HALF_OPEN",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        match s {
            "CLOSED" => Some(State::Closed),
            "OPEN" => Some(State::Open),
            "HALF_OPEN" => Some(State::HalfOpen),
            _ => None,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The breaker as stored: its state, since when (epoch seconds), the probes left and passed in HALF_OPEN,
/// and its generation (`version`, one more at each transition), which every conditional write checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Breaker {
    pub state: State,
    pub since: i64,
    pub probes_left: u32,
    pub probes_passed: u32,
    pub version: u64,
}

/// Calls and failures counted in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Window {
    pub calls: u64,
    pub failures: u64,
}

impl Window {
    pub fn add(&mut self, other: Window) {
        self.calls += other.calls;
        self.failures += other.failures;
    }

    /// Whether these outcomes trip a CLOSED breaker.
    pub fn trips(&self, s: &Settings) -> bool {
        self.calls >= u64::from(s.min_calls)
            && self.failures * 100 >= self.calls * u64::from(s.failure_percent)
    }
}

/// What a caller about to charge a card may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// CLOSED: call the provider.
    Call,
    /// OPEN and cooled down: move it to HALF_OPEN (one caller wins), then ask again.
    BeginProbing,
    /// HALF_OPEN with probes left: take one (one caller per probe), call, and report how it went.
    Probe,
    /// Do not call the provider; it may be worth trying again after this many seconds.
    Refuse { retry_after: u32 },
}

impl Breaker {
    /// What a caller may do at `now` (epoch seconds).
    pub fn admit(&self, now: i64, s: &Settings) -> Admission {
        match self.state {
            State::Closed => Admission::Call,
            State::Open => {
                let reopens = self.since + i64::from(s.cooldown_seconds);
                if now >= reopens {
                    Admission::BeginProbing
                } else {
                    Admission::Refuse {
                        retry_after: u32::try_from(reopens - now).unwrap_or(u32::MAX).max(1),
                    }
                }
            }
            State::HalfOpen if self.probes_left > 0 => Admission::Probe,
            // Every probe is out and none decided within a cool-down: a prober died with its probe (a crashed
            // process, an abandoned call). Probing starts over, or the breaker would wait forever.
            State::HalfOpen if now >= self.since + i64::from(s.cooldown_seconds) => {
                Admission::BeginProbing
            }
            // Every probe is out: their outcome decides soon.
            State::HalfOpen => Admission::Refuse { retry_after: 1 },
        }
    }

    /// The breaker once opened at `now` (from CLOSED by the window, or from HALF_OPEN by a failed probe).
    pub fn opened(&self, now: i64) -> Breaker {
        Breaker {
            state: State::Open,
            since: now,
            probes_left: 0,
            probes_passed: 0,
            version: self.version + 1,
        }
    }

    /// OPEN → HALF_OPEN with `probes` to let through.
    pub fn probing(&self, now: i64, s: &Settings) -> Breaker {
        Breaker {
            state: State::HalfOpen,
            since: now,
            probes_left: s.probes.max(1),
            probes_passed: 0,
            version: self.version + 1,
        }
    }

    /// After one more probe succeeded: CLOSED when it was the last one needed.
    pub fn probe_passed(&self, now: i64, s: &Settings) -> Breaker {
        let passed = self.probes_passed + 1;
        if passed >= s.probes.max(1) {
            Breaker {
                state: State::Closed,
                since: now,
                probes_left: 0,
                probes_passed: 0,
                version: self.version + 1,
            }
        } else {
            // Not a transition: the generation stays.
            Breaker {
                probes_passed: passed,
                ..self.clone()
            }
        }
    }

    /// The first second whose outcomes count in the window at `now`: the window's start, or the last change
    /// if later (outcomes from before the breaker closed do not open it again).
    pub fn window_start(&self, now: i64, s: &Settings) -> i64 {
        (now - i64::from(s.window_seconds)).max(self.since)
    }
}

/// The bucket an outcome at `now` (epoch seconds) is counted in: its first second.
pub fn bucket_of(now: i64, s: &Settings) -> i64 {
    let width = i64::from(s.bucket_seconds.max(1));
    now.div_euclid(width) * width
}

/// The buckets whose outcomes count at `now` for a window starting at `from`, oldest first.
pub fn buckets_since(from: i64, now: i64, s: &Settings) -> Vec<i64> {
    let width = i64::from(s.bucket_seconds.max(1));
    let mut b = bucket_of(from, s);
    let mut out = Vec::new();
    while b <= now {
        out.push(b);
        b += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Settings = Settings::DEFAULT;

    #[test]
    fn the_window_trips_at_enough_calls_and_half_failing() {
        let w = |calls, failures| Window { calls, failures };
        assert!(!w(19, 19).trips(&S), "too few calls");
        assert!(w(20, 10).trips(&S));
        assert!(!w(20, 9).trips(&S));
        assert!(w(1000, 600).trips(&S));
        assert!(!w(0, 0).trips(&S));
    }

    #[test]
    fn open_refuses_until_the_cooldown_then_probes_decide() {
        let closed = Breaker::default();
        assert_eq!(closed.admit(100, &S), Admission::Call);
        let open = closed.opened(100);
        assert_eq!(open.version, 1);
        assert_eq!(open.admit(110, &S), Admission::Refuse { retry_after: 20 });
        assert_eq!(open.admit(130, &S), Admission::BeginProbing);
        let half = open.probing(130, &S);
        assert_eq!(half.admit(130, &S), Admission::Probe);
        let spent = Breaker {
            probes_left: 0,
            ..half.clone()
        };
        assert_eq!(spent.admit(131, &S), Admission::Refuse { retry_after: 1 });
        // Probes that never report (their process died) do not hold it half-open forever.
        assert_eq!(spent.admit(160, &S), Admission::BeginProbing);
        assert_eq!(spent.probing(160, &S).probes_left, S.probes);
        let one = half.probe_passed(131, &S);
        let two = one.probe_passed(131, &S);
        assert_eq!(two.state, State::HalfOpen);
        let three = two.probe_passed(132, &S);
        assert_eq!(three.state, State::Closed);
        assert_eq!(three.since, 132);
        assert_eq!(three.version, half.version + 1);
        assert_eq!(two.version, half.version, "a passed probe is no transition");
        assert_eq!(
            half.opened(131).state,
            State::Open,
            "a failed probe opens it again"
        );
    }

    #[test]
    fn outcomes_from_before_a_change_do_not_count() {
        let closed_at_100 = Breaker {
            since: 100,
            ..Breaker::default()
        };
        assert_eq!(closed_at_100.window_start(110, &S), 100);
        assert_eq!(closed_at_100.window_start(200, &S), 170);
    }

    #[test]
    fn buckets_cover_the_window() {
        assert_eq!(bucket_of(103, &S), 100);
        assert_eq!(bucket_of(-3, &S), -5);
        assert_eq!(buckets_since(92, 110, &S), vec![90, 95, 100, 105, 110]);
        assert_eq!(buckets_since(110, 110, &S), vec![110]);
    }

    #[test]
    fn states_read_back() {
        for st in [State::Closed, State::Open, State::HalfOpen] {
            assert_eq!(State::parse(st.as_str()), Some(st));
        }
        assert_eq!(State::parse("ajar"), None);
    }
}
