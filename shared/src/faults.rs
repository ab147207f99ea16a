//! Crash switches of test stacks (`FAULT_INJECTION=on`, never in production): a test arms a switch (an item
//! `FAULT#<function>`/`<key>#<point>` with `remaining = n`), and the next `n` processes that pass that point end
//! at once, as an out-of-memory kill or a lost execution environment ends a Lambda. Lambda then reports
//! `Runtime.ExitError` to whoever invoked it (Step Functions, the gateway, an event source mapping).

use crate::store::Store;
use std::sync::OnceLock;

/// Whether this process honours crash switches (`FAULT_INJECTION=on`), read once.
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("FAULT_INJECTION").as_deref() == Ok("on"))
}

/// Ends the process here if a switch `FAULT#<function>`/`<key>#<point>` is armed (taking one of its crashes).
/// A switch that cannot be read is logged and ignored.
/// A switch that also says `pause` holds the process at the point (polling, at most 20 s, under every
/// function's timeout) until the test clears `pause`, then ends it, or lets it go on when the switch says
/// `passThrough`: the test knows an attempt is under way there and can act before it answers.
pub async fn crash_point(store: &Store, function: &str, key: &str, point: &str) {
    let switch = format!("{key}#{point}");
    match store.take_crash(function, &switch).await {
        Ok(Some(taken)) => {
            if taken.pause {
                tracing::warn!(function, point, "injected pause: waiting until released");
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                while std::time::Instant::now() < deadline
                    && store.crash_paused(function, &switch).await.unwrap_or(false)
                {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
            if taken.pass_through {
                return;
            }
            tracing::warn!(function, point, "injected crash: the process ends here");
            std::process::exit(137);
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, point, "the crash switch could not be read"),
    }
}

/// [`crash_point`] of a request function (`FAULT#api`), when [`enabled`].
pub async fn api_crash_point(store: &Store, key: &str, point: &str) {
    if enabled() {
        crash_point(store, "api", key, point).await;
    }
}
