//! Per-member request rates on the routes a script would hammer in a rush: holding seats and joining a
//! waiting room. Each member has a budget of requests per fixed window on each route; the store counts them
//! with one conditional write per request (`ADD n :1` only while `n < limit`), so requests sent in parallel
//! with one token cannot pass the budget together, whichever container serves them.
//!
//! A fixed window lets a member spend two budgets around a window's edge (at most twice the rate for an
//! instant); that is the price of one write per request, and a sliding count would cost a read and a write.
//! The whole API is also throttled by API Gateway (the stage's route settings in the template), which caps
//! every caller together.

use std::fmt;

/// A route with a per-member budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `POST /reservations`.
    Hold,
    /// `POST /showtimes/{showtimeId}/queue`.
    QueueJoin,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Hold => "hold",
            Route::QueueJoin => "queue-join",
        }
    }
}

/// A budget: `requests` per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub requests: u32,
    pub window_seconds: u32,
}

impl Limit {
    /// The defaults: a person holds a few times a minute and joins a queue once; 10 holds and 5 joins per
    /// 10 s leave room for retries and a change of mind, and stop a script at once.
    pub fn default_for(route: Route) -> Limit {
        match route {
            Route::Hold => Limit {
                requests: 10,
                window_seconds: 10,
            },
            Route::QueueJoin => Limit {
                requests: 5,
                window_seconds: 10,
            },
        }
    }

    /// The first second of the window `now` (epoch seconds) falls in.
    pub fn window_of(&self, now: i64) -> i64 {
        let width = i64::from(self.window_seconds.max(1));
        now.div_euclid(width) * width
    }

    /// Seconds from `now` until the next window opens (at least 1).
    pub fn retry_after(&self, now: i64) -> u32 {
        let next = self.window_of(now) + i64::from(self.window_seconds.max(1));
        u32::try_from(next - now).unwrap_or(1).max(1)
    }
}

/// A request over the member's budget on `route`: try again after `retry_after` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub route: Route,
    pub limit: Limit,
    pub retry_after: u32,
}

impl fmt::Display for Limited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too many requests: at most {} per {} s on this route for one member; try again in {} s",
            self.limit.requests, self.limit.window_seconds, self.retry_after
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_retry_after_points_at_the_next() {
        let l = Limit {
            requests: 10,
            window_seconds: 10,
        };
        assert_eq!(l.window_of(100), 100);
        assert_eq!(l.window_of(109), 100);
        assert_eq!(l.window_of(110), 110);
        assert_eq!(l.retry_after(100), 10);
        assert_eq!(l.retry_after(109), 1);
        let zero = Limit {
            requests: 1,
            window_seconds: 0,
        };
        assert_eq!(
            zero.retry_after(5),
            1,
            "a zero window is read as one second"
        );
    }

    #[test]
    fn the_refusal_names_the_budget() {
        let limited = Limited {
            route: Route::Hold,
            limit: Limit::default_for(Route::Hold),
            retry_after: 3,
        };
        assert_eq!(
            limited.to_string(),
            "too many requests: at most 10 per 10 s on this route for one member; try again in 3 s"
        );
        assert_eq!(Route::QueueJoin.as_str(), "queue-join");
    }
}
