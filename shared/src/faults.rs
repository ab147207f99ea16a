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
pub async fn crash_point(store: &Store, function: &str, key: &str, point: &str) {
    match store.take_fault(function, &format!("{key}#{point}")).await {
        Ok(true) => {
            tracing::warn!(function, point, "injected crash: the process ends here");
            std::process::exit(137);
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, point, "the crash switch could not be read"),
    }
}

/// [`crash_point`] of a request function (`FAULT#api`), when [`enabled`].
pub async fn api_crash_point(store: &Store, key: &str, point: &str) {
    if enabled() {
        crash_point(store, "api", key, point).await;
    }
}
